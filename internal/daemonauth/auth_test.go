package daemonauth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnsureAndRead(t *testing.T) {
	store := filepath.Join(t.TempDir(), "impact.db")
	if _, err := Read(store); err == nil {
		t.Fatal("Read of a missing secret succeeded")
	}
	s1, err := Ensure(store)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(SecretPath(store))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v, want mode 0600", err, fi.Mode().Perm())
	}
	s2, err := Ensure(store)
	if err != nil || string(s1) != string(s2) {
		t.Errorf("second Ensure: %v, secret changed %v", err, string(s1) != string(s2))
	}
	// Too open: tightened on read.
	if err := os.Chmod(SecretPath(store), 0o644); err != nil {
		t.Fatal(err)
	}
	if s3, err := Read(store); err != nil || string(s3) != string(s1) {
		t.Errorf("Read: %v", err)
	}
	if fi, _ := os.Stat(SecretPath(store)); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after Read, want 0600", fi.Mode().Perm())
	}
	// Empty: an error that says what to do.
	if err := os.WriteFile(SecretPath(store), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(store); err == nil || !strings.Contains(err.Error(), "remove it") {
		t.Errorf("empty secret: %v", err)
	}
}

func TestProof(t *testing.T) {
	secret := []byte(strings.Repeat("k", 64))
	n1, _ := NewNonce()
	n2, _ := NewNonce()
	if n1 == n2 || !ValidNonce(n1) || ValidNonce("abc") || ValidNonce(strings.Repeat("zz", 32)) {
		t.Fatalf("nonces: %q %q", n1, n2)
	}
	p := Proof(secret, n1)
	for _, tt := range []struct {
		name         string
		secret       []byte
		nonce, proof string
		want         bool
	}{
		{"right", secret, n1, p, true},
		{"upper case", secret, n1, strings.ToUpper(p), true},
		{"another nonce", secret, n2, p, false},
		{"another secret", []byte(strings.Repeat("j", 64)), n1, p, false},
		{"the nonce itself", secret, n1, n1, false},
		{"empty", secret, n1, "", false},
	} {
		if got := Verify(tt.secret, tt.nonce, tt.proof); got != tt.want {
			t.Errorf("%s: Verify = %v", tt.name, got)
		}
	}
}

// TestEnsureWritesWhole: the secret appears whole (linked from a written
// temporary file), 0600, and no temporary file stays behind.
func TestEnsureWritesWhole(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "impact.db")
	s, err := Ensure(store)
	if err != nil || len(s) != 64 {
		t.Fatalf("Ensure: %q %v", s, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "impact.db.secret" {
		t.Errorf("directory holds %v, want only the secret", ents)
	}
	if fi, err := os.Stat(SecretPath(store)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("secret mode: %v %v", fi.Mode(), err)
	}
	if again, err := Ensure(store); err != nil || string(again) != string(s) {
		t.Errorf("second Ensure: %q %v", again, err)
	}
}
