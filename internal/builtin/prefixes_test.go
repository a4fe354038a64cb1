package builtin_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/impact-dev/impact/collectors/all"
	"github.com/impact-dev/impact/internal/builtin"
)

// TestIDsReserved: every built-in series id starts with a prefix its
// source reserves (collectors.Source's SeriesPrefixes, the one list that
// config validation and `impact wins --metric` read), and every reserved
// prefix has a series here.
func TestIDsReserved(t *testing.T) {
	prefixes := all.Registry().SeriesPrefixes()
	ids := []string{
		builtin.PrefixIncidents, builtin.IDPagesToMe, builtin.PrefixMTTR, builtin.PrefixMTTA,
		builtin.PrefixCIDuration, builtin.PrefixCIQueue, builtin.PrefixSuccessRate,
		builtin.PrefixDeployFrequency, builtin.PrefixLeadTime, builtin.PrefixChangeFailure, builtin.PrefixTimeToRestore,
		builtin.IDReviewsGiven, builtin.IDAuthorsReviewed, builtin.IDReviewResponse,
	}
	used := map[string]bool{}
	for _, id := range ids {
		i := slices.IndexFunc(prefixes, func(p string) bool { return strings.HasPrefix(id, p) })
		if i < 0 {
			t.Errorf("built-in series %q is not under any registered source's prefix %v", id, prefixes)
			continue
		}
		used[prefixes[i]] = true
	}
	for _, p := range prefixes {
		if !used[p] {
			t.Errorf("prefix %q is reserved but no built-in series uses it", p)
		}
	}
}
