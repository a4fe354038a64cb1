package server

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/impact-dev/impact/config"
	"github.com/impact-dev/impact/internal/daemonauth"
)

// CheckListen refuses a configuration the daemon must not serve: any TCP
// address (loopback included: every local user can connect to it) without
// server.token. (Config validation catches this too; the daemon checks
// again because a config may be built in code.)
func CheckListen(sc config.ServerConfig) error {
	network, address := sc.Network()
	if network == "unix" {
		if !filepath.IsAbs(address) {
			return fmt.Errorf("server.listen %q: a unix socket needs an absolute path (unix:/path/impact.sock)", sc.Listen)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(address); err != nil {
		return fmt.Errorf("server.listen %q: want host:port or unix:/absolute/path", sc.Listen)
	}
	if sc.Token.Value() == "" {
		return fmt.Errorf("refusing to serve the API on %s without server.token: every local user can connect to a TCP port, loopback included, and could read and change your drafts; set server.token (clients send it as \"Authorization: Bearer\") or leave server.listen out to use the default unix socket", sc.Listen)
	}
	return nil
}

// IsLoopback reports whether host (a name or an IP) is this machine only.
// An empty host (":7878") means every interface, which is not loopback.
func IsLoopback(host string) bool {
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen opens the API's listener. A unix socket is created with mode
// 0600 (bound under a temporary name, restricted, then renamed into place,
// so it is never reachable with wider permissions) in a directory that
// must belong to this user; a directory named "impact" (the default's,
// $XDG_RUNTIME_DIR/impact) is created or tightened to mode 0700. A stale
// socket left by a crashed daemon is replaced, a live one is an error. The
// returned cleanup removes the socket file.
func Listen(ctx context.Context, sc config.ServerConfig) (net.Listener, func(), error) {
	if err := CheckListen(sc); err != nil {
		return nil, nil, err
	}
	network, address := sc.Network()
	if network != "unix" {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", address)
		if err != nil {
			return nil, nil, fmt.Errorf("server.listen %s: %w", sc.Listen, err)
		}
		return ln, func() {}, nil
	}

	if fi, err := os.Lstat(address); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, nil, fmt.Errorf("server.listen %s: %s exists and is not a socket", sc.Listen, address)
		}
		c, err := net.DialTimeout("unix", address, time.Second)
		if err == nil {
			c.Close()
			return nil, nil, fmt.Errorf("server.listen %s: another process is listening on %s", sc.Listen, address)
		}
		if err := os.Remove(address); err != nil {
			return nil, nil, fmt.Errorf("server.listen %s: removing the stale socket: %w", sc.Listen, err)
		}
	}
	dir := filepath.Dir(address)
	if err := privateDir(dir); err != nil {
		return nil, nil, fmt.Errorf("server.listen %s: %w", sc.Listen, err)
	}
	tmp := filepath.Join(dir, "."+filepath.Base(address)+"."+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", tmp)
	if err != nil {
		return nil, nil, fmt.Errorf("server.listen %s: %w", sc.Listen, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	err = os.Chmod(tmp, 0o600)
	if err == nil {
		err = os.Rename(tmp, address)
	}
	if err != nil {
		ln.Close()
		_ = os.Remove(tmp)
		return nil, nil, fmt.Errorf("server.listen %s: could not create the socket with mode 0600: %w", sc.Listen, err)
	}
	return ln, func() { _ = os.Remove(address) }, nil
}

// privateDir makes sure dir exists and belongs to this user. A directory of
// the daemon's own (named "impact" or "impact-…", as the default's is) is
// kept at mode 0700; another directory the user chose (say /tmp) is left as it is, as
// the socket's own mode keeps other users out.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if uid, ok := daemonauth.FileUID(fi); ok && uid != os.Getuid() && uid != 0 {
		return fmt.Errorf("the socket's directory %s belongs to uid %d, not to you (uid %d)", dir, uid, os.Getuid())
	}
	if base := filepath.Base(dir); (base == "impact" || strings.HasPrefix(base, "impact-")) && fi.Mode().Perm() != 0o700 {
		if uid, ok := daemonauth.FileUID(fi); ok && uid != os.Getuid() {
			return fmt.Errorf("the socket's directory %s belongs to uid %d, not to you (uid %d)", dir, uid, os.Getuid())
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("making the socket's directory %s private (0700): %w", dir, err)
		}
	}
	return nil
}
