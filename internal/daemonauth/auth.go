// Package daemonauth is how the CLI knows the daemon it talks to is the one
// that holds its store, before it sends a token or reads an answer.
//
// On a unix socket the kernel says who is listening: the peer must be this
// user (PeerUID). Over TCP anyone may have taken the port, so the daemon
// proves it can read the store's secret: a file next to the store
// (<store>.secret, mode 0600, created by the daemon), which another user
// cannot read. The CLI sends a random nonce; the daemon answers
// HMAC-SHA256(secret, nonce); the CLI checks it before anything else.
package daemonauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NonceLen is the length of a challenge in bytes (hex-encoded on the wire).
const NonceLen = 32

// SecretPath is where the secret of the store at storePath lives.
func SecretPath(storePath string) string { return storePath + ".secret" }

// Ensure returns the store's secret, creating it (32 random bytes, hex, mode
// 0600) when it does not exist yet. The daemon calls it before it listens.
// A secret file that others may read is tightened to 0600; one owned by
// another user is refused.
func Ensure(storePath string) ([]byte, error) {
	path := SecretPath(storePath)
	secret, err := Read(storePath)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("store secret %s: %w", path, err)
	}
	// Written whole to a temporary file, then linked into place: a kill at
	// any moment leaves either no secret or a whole one, never an empty
	// file that would stop the next start.
	enc := hex.EncodeToString(raw)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".impact-secret-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("store secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(enc + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("store secret: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) { // another process made it first
		return Read(storePath)
	} else if err != nil {
		return nil, fmt.Errorf("store secret: %w", err)
	}
	return []byte(enc), nil
}

// Read returns the store's secret. It fails when the file is missing,
// empty, owned by another user, or readable by others (then it is tightened
// to 0600 when this user owns it).
func Read(storePath string) ([]byte, error) {
	path := SecretPath(storePath)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store secret: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store secret: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("store secret %s: not a regular file", path)
	}
	if uid, ok := FileUID(fi); ok && uid != os.Getuid() {
		return nil, fmt.Errorf("store secret %s: owned by uid %d, not by you (uid %d)", path, uid, os.Getuid())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("store secret %s: readable by others and cannot be restricted: %w", path, err)
		}
	}
	b := make([]byte, 256)
	n, _ := f.Read(b)
	s := strings.TrimSpace(string(b[:n]))
	if len(s) < 32 {
		return nil, fmt.Errorf("store secret %s: too short or empty; remove it and restart impact serve", path)
	}
	return []byte(s), nil
}

// NewNonce returns a fresh challenge, hex-encoded.
func NewNonce() (string, error) {
	b := make([]byte, NonceLen)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// ValidNonce reports whether nonce looks like one NewNonce made.
func ValidNonce(nonce string) bool {
	b, err := hex.DecodeString(nonce)
	return err == nil && len(b) == NonceLen
}

// Proof is the daemon's answer to nonce: hex HMAC-SHA256 over a
// domain-separated message.
func Proof(secret []byte, nonce string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("impact daemon proof v1\x00"))
	m.Write([]byte(nonce))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether proof is the right answer to nonce.
func Verify(secret []byte, nonce, proof string) bool {
	return hmac.Equal([]byte(Proof(secret, nonce)), []byte(strings.ToLower(strings.TrimSpace(proof))))
}
