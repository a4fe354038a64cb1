package config

// The types below are the contract the rest of the code uses; loading,
// defaults, validation and the example live beside them.

// Config is the whole configuration file.
type Config struct {
	Me      Me            `yaml:"me"`
	Store   StoreConfig   `yaml:"store"`
	Server  ServerConfig  `yaml:"server"`
	UI      UIConfig      `yaml:"ui"`
	Sources Sources       `yaml:"sources"`
	Metrics []Metric      `yaml:"metrics"`
	Drafter DrafterConfig `yaml:"drafter"`
	Digest  DigestConfig  `yaml:"digest"`
	Collect CollectConfig `yaml:"collect"`
	Review  ReviewConfig  `yaml:"review"`
	Docs    DocsConfig    `yaml:"docs"`

	// File is the path the config was loaded from ("" when built in code).
	File string `yaml:"-"`

	// types are the registered sources' config types it was loaded with.
	types []SourceType
	// categories are the categories it was loaded with
	// (LoadOptions.Categories).
	categories []string
	// checkPattern is the pattern check it was loaded with
	// (LoadOptions.CheckPattern).
	checkPattern func(string) error
}

// CollectConfig bounds what a vendor can make a poll do.
type CollectConfig struct {
	// MaxResponseBytes caps each response body; default 64 MiB. A longer
	// answer fails that request with an error saying so.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
	// MaxRequests caps the requests of one poll of one source; default
	// 50000 (a vendor whose pagination never ends stops there).
	MaxRequests int `yaml:"max_requests"`
	// PollTimeout is the deadline of one poll of one source in the daemon
	// (impact serve); default 30m. What a poll stored before it stays.
	PollTimeout Duration `yaml:"poll_timeout"`
}

// Me says whose work is "mine".
type Me struct {
	// GitHub logins; a single string or a list in YAML.
	GitHub   StringList `yaml:"github"`
	Name     string     `yaml:"name"`
	Email    string     `yaml:"email"`
	Timezone string     `yaml:"timezone"` // IANA name; default UTC
}

// StoreConfig locates the bbolt file.
type StoreConfig struct {
	Path string `yaml:"path"` // "~" expanded; default ~/.local/share/impact/impact.db
}

// ServerConfig is the daemon's local API.
type ServerConfig struct {
	Listen string `yaml:"listen"` // unix:/path or host:port; default DefaultListen (a unix socket)
	Token  Secret `yaml:"token"`  // required when Listen is TCP (loopback included)
}

// UIConfig is the review page `impact serve` and `impact review` serve.
type UIConfig struct {
	// Listen is a loopback host:port; default 127.0.0.1:7879. "off"
	// disables the page in the daemon.
	Listen string `yaml:"listen"`
	// PublicURL, when set, is where the user's browser reaches the page
	// (e.g. through an SSH tunnel or a reverse proxy); the digest links
	// each draft to PublicURL/drafts/ID.
	PublicURL string `yaml:"public_url"`
}

// Metric is one `metrics:` entry.
type Metric struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Source string `yaml:"source"` // a registered source that takes metrics
	Query  string `yaml:"query"`
	// In is where the query runs when the source has several places: a
	// Honeycomb dataset, a database name under sources.sql.
	In       string   `yaml:"in"`
	Unit     string   `yaml:"unit"`   // ms, s, min, percent, count, rps, bytes, usd
	Better   string   `yaml:"better"` // lower | higher
	Repos    []string `yaml:"repos"`
	Paths    []string `yaml:"paths"`
	Category string   `yaml:"category"` // one of LoadOptions.Categories; default DefaultMetric.Category
}

// DrafterConfig tunes the drafter.
type DrafterConfig struct {
	Window    Duration `yaml:"window"`     // default 7d
	Settle    Duration `yaml:"settle"`     // default 1d
	MinChange Percent  `yaml:"min_change"` // default 10%
	Alpha     float64  `yaml:"alpha"`      // default 0.01
}

// DigestConfig is the weekly email.
type DigestConfig struct {
	Schedule string     `yaml:"schedule"` // cron, default "0 9 * * MON"
	To       []string   `yaml:"to"`
	From     string     `yaml:"from"`
	SMTP     SMTPConfig `yaml:"smtp"`
}

// SMTPConfig is the mail server.
type SMTPConfig struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"` // default 587
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	TLS      string `yaml:"tls"` // starttls | tls | none; default starttls
}

// ReviewConfig is the review cycle activity statements count over.
type ReviewConfig struct {
	// Period is half (the default: H1, H2) or quarter.
	Period string `yaml:"period"`
}

// DocsConfig says which files are documents: a merged PR of mine touching
// one counts as writing or updating it (activity statements).
type DocsConfig struct {
	// Category of the documents statement; default leadership.
	Category string    `yaml:"category"`
	Paths    []DocKind `yaml:"paths"`
}

// DocKind is one kind of document: its name ("runbook"), plural
// ("runbooks"; default name + "s") and the globs that find it.
type DocKind struct {
	Name   string   `yaml:"name"`
	Plural string   `yaml:"plural"`
	Globs  []string `yaml:"globs"`
}
