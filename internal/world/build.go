package world

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/impact-dev/impact/internal/model"
)

// builder collects PRs before they get numbers. Shared by Demo and, later,
// Random.
type builder struct {
	rng *rand.Rand
	// xrng draws for the PRs added with addExtra, so that they leave
	// every draw of rng, and so the rest of the world, as it was.
	xrng  *rand.Rand
	start time.Time
	end   time.Time
	prs   []*draftPR
	// zones are spans in which ordinary (placed) PRs must not merge, per
	// repo.
	zones map[string][]span
	// quick are repos whose team keeps PRs small: their PRs are open
	// quickOpen minutes plus a share of quickSpread (the same draws that
	// give other repos' PRs one and a half hours to four days, and bots'
	// days), not days.
	quick map[string]bool
}

const quickOpen, quickSpread = 60, 120

type span struct{ from, to time.Time }

// draftPR is a PR before numbering.
type draftPR struct {
	repo, author, title, body string
	// at is the merge time, or the close time when closed is set; zero
	// means "place me" (ordinary traffic).
	at      time.Time
	closed  bool
	created time.Time
	files   []File
	number  int
	// extra: added by addExtra (draws from xrng, never rng).
	extra bool
}

func (d *draftPR) key() string { return fmt.Sprintf("%s#%d", d.repo, d.number) }

func newBuilder(seed uint64, start, end time.Time) *builder {
	return &builder{rng: seedFor(seed, "prs"), xrng: seedFor(seed, "prs-extra"), start: start, end: end, zones: map[string][]span{}}
}

// add records a PR merged (or closed, if closed) at t; t zero means the PR
// is ordinary traffic to be placed by placeOrdinary.
func (b *builder) add(repo, author string, t time.Time, closed bool, title string, files []File) *draftPR {
	d := &draftPR{repo: repo, author: author, title: title, at: t, closed: closed, files: files}
	b.prs = append(b.prs, d)
	return d
}

// addExtra records a PR merged at t and opened at created whose files
// and number draw from xrng: PRs added to a world after the fact, which
// must not move anything the rng placed (its other PRs' times, numbers
// and files). Each extra PR still takes a number in its repo in creation
// order, so PRs opened before it are numbered lower than they would be
// without it (an anchored PR keeps its number).
func (b *builder) addExtra(repo, author string, t, created time.Time, title string, specs ...string) *draftPR {
	d := &draftPR{repo: repo, author: author, title: title, at: t, created: created, files: filesFrom(b.xrng, specs), extra: true}
	b.prs = append(b.prs, d)
	return d
}

// keepClear forbids ordinary PRs to repo within d of t.
func (b *builder) keepClear(repo string, t time.Time, d time.Duration) {
	b.zones[repo] = append(b.zones[repo], span{t.Add(-d), t.Add(d)})
}

// workday returns the day daysBefore days before end at hh:mm UTC, moved
// off a weekend (Saturday → Friday, Sunday → Monday).
func workday(end time.Time, daysBefore, hh, mm int) time.Time {
	d := end.UTC().Truncate(24*time.Hour).AddDate(0, 0, -daysBefore)
	switch d.Weekday() {
	case time.Saturday:
		d = d.AddDate(0, 0, -1)
	case time.Sunday:
		d = d.AddDate(0, 0, 1)
	}
	return d.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

// nextWorkday moves t forward past a weekend.
func nextWorkday(t time.Time) time.Time {
	for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// placeOrdinary spreads the unplaced PRs of each repo, in the order they
// were added, over [from, to): weekdays, working hours (09:00–18:00 UTC),
// outside the repo's keep-clear zones and at least 45 minutes from any
// other PR of the repo.
func (b *builder) placeOrdinary(from, to time.Time) {
	byRepo := map[string][]*draftPR{}
	var repos []string
	for _, d := range b.prs {
		if d.at.IsZero() {
			if _, ok := byRepo[d.repo]; !ok {
				repos = append(repos, d.repo)
			}
			byRepo[d.repo] = append(byRepo[d.repo], d)
		}
	}
	total := to.Sub(from)
	for _, repo := range repos {
		list := byRepo[repo]
		for i, d := range list {
			target := from.Add(time.Duration((float64(i) + 0.2 + 0.6*b.rng.Float64()) / float64(len(list)) * float64(total)))
			day := target.Truncate(24 * time.Hour)
			for try := 0; ; try++ {
				if try > 400 {
					panic("world: cannot place " + d.title)
				}
				t := nextWorkday(day).Add(time.Duration(9*60+b.rng.IntN(9*60)) * time.Minute)
				if b.ok(repo, t) && t.Before(to) {
					d.at = t
					break
				}
				day = day.AddDate(0, 0, 1)
				if !day.Before(to) {
					day = from.Truncate(24 * time.Hour)
				}
			}
		}
	}
}

func (b *builder) ok(repo string, t time.Time) bool {
	for _, z := range b.zones[repo] {
		if !t.Before(z.from) && t.Before(z.to) {
			return false
		}
	}
	return b.spaced(repo, t)
}

// spaced reports whether t is at least 45 minutes from every PR of repo.
func (b *builder) spaced(repo string, t time.Time) bool {
	for _, o := range b.prs {
		if o.repo == repo && !o.at.IsZero() {
			if d := t.Sub(o.at); d < 45*time.Minute && d > -45*time.Minute {
				return false
			}
		}
	}
	return true
}

// finish gives every PR a creation time, numbers (increasing with
// creation time per repo, with gaps where issues took numbers; base[repo]
// is the first number, unless anchors pins the number of one of the repo's
// PRs, which shifts the whole repo) and turns them into model PRs and vendor info.
func (b *builder) finish(base map[string]int, anchors map[*draftPR]int) (merged, closed []model.PR, info map[string]PRInfo) {
	for _, d := range b.prs {
		if !d.created.IsZero() {
			continue
		}
		if strings.HasSuffix(d.author, "[bot]") {
			// Dependabot opens PRs early in the morning, days before
			// anyone merges them.
			c := d.at.Add(-time.Duration(24+b.rng.IntN(6*24)) * time.Hour).Truncate(24 * time.Hour)
			d.created = c.Add(time.Duration(4*60+b.rng.IntN(90)) * time.Minute)
			if b.quick[d.repo] {
				// … except where the team merges them once CI passes,
				// an hour or two after they open.
				d.created = d.at.Add(-time.Duration(quickOpen+d.created.Sub(c)/time.Minute%quickSpread) * time.Minute)
			}
		} else {
			m := time.Duration(90+b.rng.IntN(4*24*60)) * time.Minute
			if b.quick[d.repo] {
				m = quickOpen*time.Minute + (m-90*time.Minute)*quickSpread/(4*24*60)
			}
			d.created = d.at.Add(-m)
		}
		d.created = d.created.Add(time.Duration(b.rng.IntN(60)) * time.Second)
	}
	byRepo := map[string][]*draftPR{}
	for _, d := range b.prs {
		byRepo[d.repo] = append(byRepo[d.repo], d)
	}
	repos := make([]string, 0, len(byRepo))
	for repo := range byRepo {
		repos = append(repos, repo)
	}
	slices.Sort(repos)
	for _, repo := range repos {
		list := byRepo[repo]
		slices.SortStableFunc(list, func(x, y *draftPR) int { return x.created.Compare(y.created) })
		n := base[repo]
		for _, d := range list {
			d.number = n
			if d.extra {
				n += 1 + b.xrng.IntN(2)
			} else {
				n += 1 + b.rng.IntN(3)
			}
		}
		for _, d := range list {
			if want, ok := anchors[d]; ok {
				shift := want - d.number
				for _, e := range list {
					e.number += shift
				}
				break
			}
		}
	}
	info = map[string]PRInfo{}
	for _, d := range b.prs {
		p := model.PR{
			Repo:   d.repo,
			Number: d.number,
			Title:  d.title,
			URL:    fmt.Sprintf("https://github.com/%s/pull/%d", d.repo, d.number),
			Author: d.author,
			Base:   "main",
		}
		for _, f := range d.files {
			p.Files = append(p.Files, f.Filename)
		}
		p.FilesFetched = true
		rng := b.rng
		if d.extra {
			rng = b.xrng
		}
		in := PRInfo{
			CreatedAt: d.created,
			ClosedAt:  d.at,
			UpdatedAt: d.at.Add(time.Duration(1+rng.IntN(12))*time.Minute + time.Duration(rng.IntN(60))*time.Second),
			HeadRef:   headRef(d),
			HeadSHA:   sha(p.Key() + "/head"),
			Body:      d.body,
			Files:     d.files,
		}
		if in.Body == "" {
			in.Body = defaultBody(d)
		}
		info[p.Key()] = in
		if d.closed {
			closed = append(closed, p)
			continue
		}
		p.MergedAt = d.at
		p.MergeSHA = sha(p.Key() + "/merge")
		merged = append(merged, p)
	}
	sortPRs := func(ps []model.PR, at func(model.PR) time.Time) {
		slices.SortStableFunc(ps, func(x, y model.PR) int {
			if c := at(x).Compare(at(y)); c != 0 {
				return c
			}
			return strings.Compare(x.Key(), y.Key())
		})
	}
	sortPRs(merged, func(p model.PR) time.Time { return p.MergedAt })
	sortPRs(closed, func(p model.PR) time.Time { return info[p.Key()].ClosedAt })
	return merged, closed, info
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func headRef(d *draftPR) string {
	if strings.HasPrefix(d.author, "dependabot") {
		// "Bump golang.org/x/net from 0.17.0 to 0.23.0"
		f := strings.Fields(d.title)
		if len(f) >= 6 && f[0] == "Bump" {
			return "dependabot/go_modules/" + f[1] + "-" + f[len(f)-1]
		}
	}
	t := strings.ToLower(d.title)
	if i := strings.Index(t, "] "); strings.HasPrefix(t, "[") && i > 0 {
		t = t[i+2:]
	}
	if i := strings.Index(t, ": "); i > 0 && i < 20 {
		t = t[i+2:]
	}
	s := strings.Trim(nonSlug.ReplaceAllString(t, "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	return d.author + "/" + s
}

func defaultBody(d *draftPR) string {
	if strings.HasPrefix(d.author, "dependabot") {
		return "Bumps the dependency as titled.\n\nDependabot will resolve any conflicts with this PR as long as you don't alter it yourself."
	}
	return "## What\n\n" + d.title + ".\n\n## Testing\n\nUnit tests; deployed to staging."
}

// files parses compact file specs: "M path +12 -3", "A path +40", "D path -80".
// Additions/deletions left out are made up from the rng.
func (b *builder) files(specs ...string) []File { return filesFrom(b.rng, specs) }

// filesFrom is files drawing from rng.
func filesFrom(rng *rand.Rand, specs []string) []File {
	var out []File
	for _, s := range specs {
		f := strings.Fields(s)
		st := map[string]string{"A": "added", "M": "modified", "D": "removed", "R": "renamed"}[f[0]]
		file := File{Filename: f[1], Status: st}
		set := false
		for _, x := range f[2:] {
			var n int
			fmt.Sscanf(x[1:], "%d", &n)
			if x[0] == '+' {
				file.Additions = n
			} else {
				file.Deletions = n
			}
			set = true
		}
		if !set {
			switch st {
			case "added":
				file.Additions = 10 + rng.IntN(150)
			case "removed":
				file.Deletions = 10 + rng.IntN(150)
			default:
				file.Additions = 1 + rng.IntN(60)
				file.Deletions = rng.IntN(30)
			}
		}
		out = append(out, file)
	}
	return out
}
