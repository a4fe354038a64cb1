package root

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/impact-dev/impact/store"
)

// TestDemoNeverTouchesARealStore: `impact demo --store FILE` writes only to
// a new file or a store an earlier demo made, and never replaces FILE.yaml.
func TestDemoNeverTouchesARealStore(t *testing.T) {
	realStore := func(t *testing.T, path string) {
		st, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	}
	// What an earlier demo leaves (without the cost of a second demo run).
	demoLeft := func(t *testing.T, path string) {
		st, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.MarkDemo(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, db string)
		code  int
		want  string // in stderr
	}{
		// A new file: every test's demoStore.
		{"earlier demo store", demoLeft, 0, ""},
		{"real store", realStore, 2, "an earlier demo did not make"},
		{"not a database", func(t *testing.T, db string) { os.WriteFile(db, []byte("my notes\n"), 0o600) }, 2, "is not a demo store"},
		{"empty file", func(t *testing.T, db string) { os.WriteFile(db, nil, 0o600) }, 2, "is not a demo store"},
		{"someone's yaml beside a new store", func(t *testing.T, db string) {
			os.WriteFile(db+".yaml", []byte("me:\n  github: alice\n"), 0o600)
		}, 2, ".yaml already exists and is not this demo's config"},
		{"someone's yaml beside a demo store", func(t *testing.T, db string) {
			demoLeft(t, db)
			os.WriteFile(db+".yaml", []byte("me:\n  github: alice\n"), 0o600)
		}, 2, "never overwritten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "x.db")
			tt.setup(t, db)
			dbBefore, dbErr := os.ReadFile(db)
			yamlBefore, yamlErr := os.ReadFile(db + ".yaml")
			_, errOut, code := run(t, "demo", "--store", db)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want %d containing %q", code, errOut, tt.code, tt.want)
			}
			if code == 0 {
				if _, _, c := run(t, "--config", db+".yaml", "drafts", "list"); c != 0 {
					t.Errorf("the demo's config does not work: drafts list exit %d", c)
				}
				if yamlErr == nil {
					if after, _ := os.ReadFile(db + ".yaml"); !bytes.Equal(after, yamlBefore) {
						t.Errorf("the config changed")
					}
				}
				return
			}
			if strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("error is not one line: %q", errOut)
			}
			dbAfter, dbErr2 := os.ReadFile(db)
			if (dbErr == nil) != (dbErr2 == nil) || !bytes.Equal(dbBefore, dbAfter) {
				t.Errorf("the store was touched (existed before %v, after %v)", dbErr == nil, dbErr2 == nil)
			}
			yamlAfter, _ := os.ReadFile(db + ".yaml")
			if !bytes.Equal(yamlAfter, yamlBefore) {
				t.Errorf("the config changed:\n%s", yamlAfter)
			}
		})
	}
}
