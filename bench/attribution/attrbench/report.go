package attrbench

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/impact-dev/impact/internal/model"
	"github.com/impact-dev/impact/internal/world"
)

// expectation says what a kind asks of the drafter.
func expectation(kind string) string {
	if (world.Label{Kind: kind}).Draftable() {
		return "draft"
	}
	return "no draft"
}

// WriteMarkdown writes the per-kind table, the totals and the goals.
func (r *Report) WriteMarkdown(w io.Writer) {
	t := r.Total
	first, last := int64(0), int64(0)
	if len(r.Seeds) > 0 {
		first, last = r.Seeds[0].Seed, r.Seeds[len(r.Seeds)-1].Seed
	}
	days := r.Options.World.Days
	if days <= 0 {
		days = 120
	}
	fmt.Fprintf(w, "Attribution benchmark: %d seeded worlds (seeds %d–%d, %d days each), real collectors and drafter via the fake GitHub and Datadog servers.\n\n",
		len(r.Seeds), first, last, days)
	fmt.Fprintln(w, "| label kind | labels | expected | drafted correctly | drafted wrong | missed | drafted (must not) | false wins |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|")
	for _, k := range sortedKinds(t) {
		ks := t.ByKind[k]
		if ks == nil || ks.Labels == 0 {
			continue
		}
		if expectation(k) == "draft" {
			fmt.Fprintf(w, "| %s | %d | draft | %d | %d | %d | – | %d |\n", k, ks.Labels, ks.Drafted, ks.Wrong, ks.Missed, ks.FalseWins)
		} else {
			fmt.Fprintf(w, "| %s | %d | no draft | – | – | – | %d | %d |\n", k, ks.Labels, ks.Violated, ks.FalseWins)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| seeds | labels | drafts | correct | precision | recall | false wins | not the likeliest cause | wrong PRs | wrong numbers | tiny drafted | spurious | crowded: others named |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	fmt.Fprintf(w, "| %d | %d | %d | %d | %.3f | %.3f (%d/%d) | %d | %d | %d | %d | %d | %d | %d/%d |\n",
		t.Seeds, t.Labels, t.Drafts, t.Correct(), t.Precision(), t.Recall(), t.Matched, t.Positives, t.FalseWins(), t.NotLikeliest,
		t.Verdicts[VerdictWrongPRs], t.Verdicts[VerdictWrongNumbers], t.Verdicts[VerdictTiny], t.Verdicts[VerdictSpurious],
		t.CrowdedNamed, t.CrowdedDrafted)
	fmt.Fprintln(w)
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(w, "Goals: precision ≥ %.2f — %s (%.3f); recall ≥ %.2f — %s (%.3f); false wins = %d — %s (%d); not the likeliest cause = %d — %s (%d). Wall time %.1fs.\n",
		GoalPrecision, mark(t.Precision() >= GoalPrecision), t.Precision(),
		GoalRecall, mark(t.Recall() >= GoalRecall), t.Recall(),
		GoalFalseWins, mark(t.FalseWins() <= GoalFalseWins), t.FalseWins(),
		GoalNotLikeliest, mark(t.NotLikeliest <= GoalNotLikeliest), t.NotLikeliest, r.Elapsed.Seconds())
}

// WriteSeeds writes one line per seed.
func (r *Report) WriteSeeds(w io.Writer) {
	fmt.Fprintln(w, "| seed | me | repos | metrics | PRs | labels | drafts | correct | recall | false wins | time |")
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range r.Seeds {
		sc := s.Score
		fmt.Fprintf(w, "| %d | %s | %d | %d | %d | %d | %d | %d | %d/%d | %d | %.1fs |\n",
			s.Seed, s.World.Me, len(s.World.Repos), len(s.World.Metrics), len(s.World.PRs), sc.Labels, sc.Drafts,
			sc.Correct(), sc.Matched, sc.Positives, sc.FalseWins(), s.Elapsed.Seconds())
	}
}

// WriteFailures writes up to max examples per failing label kind and per
// incorrect draft verdict: the seed, the metric, what was expected, what
// was drafted (text, PRs, numbers, confidence, evidence) or what the
// drafter reported instead.
func (r *Report) WriteFailures(w io.Writer, max int) {
	type example struct {
		seed int64
		text string
	}
	byKey := map[string][]example{}
	counts := map[string]int{}
	add := func(key string, seed int64, text string) {
		counts[key]++
		if len(byKey[key]) < max {
			byKey[key] = append(byKey[key], example{seed, text})
		}
	}
	for _, s := range r.Seeds {
		for _, o := range s.Outcomes {
			switch o.Outcome {
			case OutcomeMissed, OutcomeWrong, OutcomeViolated:
			default:
				continue
			}
			var b strings.Builder
			fmt.Fprintf(&b, "expected: %s\n", describeExpect(o.Label))
			fmt.Fprintf(&b, "label:    %s\n", o.Label.String())
			for _, p := range append(slices.Clone(o.Label.Cause), o.Label.Others...) {
				if pr, ok := s.World.PR(p); ok {
					fmt.Fprintf(&b, "          %s by @%s merged %s: %q\n", p, pr.Author, pr.MergedAt.Format("Mon 01-02 15:04"), pr.Title)
				}
			}
			if len(o.Drafts) == 0 {
				fmt.Fprintf(&b, "drafted:  nothing\n")
			}
			for _, d := range o.Drafts {
				writeDraft(&b, d, verdictOf(s, d))
			}
			if o.Note != "" {
				fmt.Fprintf(&b, "drafter:  %s\n", o.Note)
			}
			add(o.Label.Kind+" "+o.Outcome, s.Seed, b.String())
		}
		for _, v := range s.Verdicts {
			// Wrong drafts on labels that failed show under the label;
			// here: spurious drafts, and extra drafts on a label that was
			// also drafted correctly.
			if v.Verdict == VerdictCorrect || v.Label != nil && outcomeOf(s, *v.Label) != OutcomeDrafted {
				continue
			}
			var b strings.Builder
			if v.Label != nil {
				fmt.Fprintf(&b, "label:    %s (also drafted correctly)\n", v.Label.String())
			}
			writeDraft(&b, v.Draft, v)
			add("extra draft "+v.Verdict, s.Seed, b.String())
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		fmt.Fprintln(w, "No failures.")
		return
	}
	for _, k := range keys {
		fmt.Fprintf(w, "\n#### %s (%d)\n", k, counts[k])
		for _, e := range byKey[k] {
			fmt.Fprintf(w, "\nseed %d\n```\n%s```\n", e.seed, e.text)
		}
	}
}

func outcomeOf(s *SeedResult, l world.Label) string {
	for _, o := range s.Outcomes {
		if sameLabel(o.Label, l) {
			return o.Outcome
		}
	}
	return ""
}

func verdictOf(s *SeedResult, d model.Draft) DraftVerdict {
	for _, v := range s.Verdicts {
		if v.Draft.ID == d.ID {
			return v
		}
	}
	return DraftVerdict{Draft: d}
}

func describeExpect(l world.Label) string {
	if l.Draftable() {
		return fmt.Sprintf("one draft on %s crediting %s, %.4g → %.4g (±5%%)", l.Metric, strings.Join(l.Cause, ", "), l.From, l.To)
	}
	return "no draft on " + l.Metric + " for this shift"
}

func writeDraft(b *strings.Builder, d model.Draft, v DraftVerdict) {
	var prs []string
	for _, p := range d.PRs {
		prs = append(prs, fmt.Sprintf("%s#%d (@%s)", p.Repo, p.Number, p.Author))
	}
	var others []string
	for _, p := range d.Others {
		others = append(others, fmt.Sprintf("%s#%d (@%s)", p.Repo, p.Number, p.Author))
	}
	fmt.Fprintf(b, "drafted:  [%s] %s on %s crediting %s; before %.4g after %.4g (%+.1f%%); shift at %s; confidence %s; others %v\n",
		v.Verdict, d.ID, d.Metric.ID, strings.Join(prs, ", "), d.Before, d.After, 100*d.Change,
		d.ShiftAt.Format("01-02 15:04"), d.Confidence, others)
	if v.Why != "" {
		fmt.Fprintf(b, "why:      %s\n", v.Why)
	}
	fmt.Fprintf(b, "text:     %s\n", d.Text)
	for _, e := range d.Evidence {
		fmt.Fprintf(b, "evidence: %s\n", e)
	}
}
