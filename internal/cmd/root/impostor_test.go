package root

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/impact-dev/impact/internal/backend"
	"github.com/impact-dev/impact/internal/daemonauth"
	"github.com/impact-dev/impact/store"
)

// TestCLIRefusesAnImpostorDaemon: while the store is held (a slow collect),
// another user listening on server.listen gets neither the token nor a
// chance to have its drafts printed: the CLI exits 1 saying why.
func TestCLIRefusesAnImpostorDaemon(t *testing.T) {
	const token = "cli-token-not-for-impostors"
	var mu sync.Mutex
	var seen []string
	imp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case backend.PathHello:
			io.WriteString(w, `{"proof":"`+strings.Repeat("0", 64)+`"}`)
		case backend.PathInfo:
			io.WriteString(w, `{"store":"`+r.URL.Query().Get("x")+`"}`)
		default:
			io.WriteString(w, `[{"id":"fake0001","status":"pending","text":"IMPOSTOR DRAFT"}]`)
		}
	}))
	defer imp.Close()

	for _, withSecret := range []bool{true, false} {
		dir := t.TempDir()
		db := filepath.Join(dir, "impact.db")
		cfgPath := filepath.Join(dir, "config.yaml")
		yml := "me: {github: alice}\nstore: {path: " + db + "}\nserver: {listen: \"" + imp.Listener.Addr().String() + "\", token: " + token + "}\n"
		if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
			t.Fatal(err)
		}
		if withSecret { // a daemon ran on this store before
			if _, err := daemonauth.Ensure(db); err != nil {
				t.Fatal(err)
			}
		}
		st, err := store.Open(db, store.Options{Now: func() time.Time { return demoEnd }})
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"drafts", "list"}, {"export", "-f", "json"}, {"status"}} {
			out, errOut, code := run(t, append([]string{"--config", cfgPath}, args...)...)
			if code == 0 || !strings.Contains(errOut, "refusing to talk to the daemon at "+imp.Listener.Addr().String()) {
				t.Errorf("secret %v, %v: exit %d, stderr %q", withSecret, args, code, errOut)
			}
			if strings.Contains(out+errOut, "IMPOSTOR") || strings.Contains(out+errOut, "fake0001") {
				t.Errorf("secret %v, %v: the impostor's data was printed:\n%s%s", withSecret, args, out, errOut)
			}
		}
		st.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if strings.Contains(s, token) || !strings.HasPrefix(s, backend.PathHello+" ") {
			t.Errorf("the impostor received %q", s)
		}
	}
}
