package config

import (
	"reflect"
	"time"
)

// Defaults, Prometheus style: the loader starts from these values, so a key
// left out of the file keeps its default. A source (or list entry) starts
// from its own default when it appears in the file. None of these hold
// slices or pointers, so a plain copy is a deep copy.
var (
	// DefaultConfig is the configuration with nothing set.
	DefaultConfig = Config{
		Me:      Me{Timezone: "UTC"},
		Store:   StoreConfig{Path: "~/.local/share/impact/impact.db"},
		Server:  ServerConfig{}, // listen: DefaultListen, resolved when loading
		UI:      UIConfig{Listen: "127.0.0.1:7879"},
		Drafter: DefaultDrafterConfig,
		Digest:  DefaultDigestConfig,
		Collect: DefaultCollectConfig,
	}

	// DefaultCollectConfig is `collect:` left out: the collectors'
	// defaults (collectors.DefaultMaxResponseBytes, DefaultMaxRequests,
	// and the daemon's DefaultPollTimeout).
	DefaultCollectConfig = CollectConfig{
		MaxResponseBytes: 64 << 20,
		MaxRequests:      50_000,
		PollTimeout:      Duration(30 * time.Minute),
	}

	// DefaultMetric is where each `metrics:` entry starts.
	DefaultMetric = Metric{Category: "performance"}

	// DefaultDrafterConfig tunes the drafter when `drafter:` is left out.
	DefaultDrafterConfig = DrafterConfig{
		Window:    Duration(7 * day),
		Settle:    Duration(day),
		MinChange: 0.10,
		Alpha:     0.01,
	}

	// DefaultSMTPConfig is where `digest.smtp:` starts.
	DefaultSMTPConfig = SMTPConfig{
		Port: 587,
		TLS:  "starttls",
	}

	// DefaultDigestConfig is where `digest:` starts.
	DefaultDigestConfig = DigestConfig{
		Schedule: "0 9 * * MON",
		SMTP:     DefaultSMTPConfig,
	}
)

// Default returns a fresh copy of DefaultConfig, normalised as a loaded file
// would be ("~" in store.path expanded). It is not validated: me.github is
// still empty.
func Default() *Config {
	c := DefaultConfig
	c.normalize(LoadOptions{}.withDefaults(), nil)
	return &c
}

// Defaulter is implemented (on the pointer) by a source's list-entry types
// that start from defaults, e.g. a workflow's branch: each entry the file
// lists starts from SetDefaults, then its keys are decoded onto it.
type Defaulter interface {
	SetDefaults()
}

// defaultFor returns the starting value for a newly allocated struct of type
// t (a source, a workflow, a metric), or the zero value.
func defaultFor(t reflect.Type) reflect.Value {
	v := reflect.New(t).Elem()
	var d any
	switch t {
	case reflect.TypeFor[Metric]():
		d = DefaultMetric
	default:
		if df, ok := v.Addr().Interface().(Defaulter); ok {
			df.SetDefaults()
		}
		return v
	}
	v.Set(reflect.ValueOf(d))
	return v
}
