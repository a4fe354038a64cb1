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
)

// CheckListen refuses a configuration the daemon must not serve: a TCP
// address that is not loopback without server.token. (Config validation
// catches this too; the daemon checks again because a config may be built
// in code.)
func CheckListen(sc config.ServerConfig) error {
	network, address := sc.Network()
	if network == "unix" {
		if !filepath.IsAbs(address) {
			return fmt.Errorf("server.listen %q: a unix socket needs an absolute path (unix:/path/impact.sock)", sc.Listen)
		}
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("server.listen %q: want host:port or unix:/absolute/path", sc.Listen)
	}
	if !IsLoopback(host) && sc.Token.Value() == "" {
		return fmt.Errorf("refusing to serve the API on %s without server.token: it is not a loopback address, so anyone who can reach it could read and change your drafts; set server.token (clients send it as \"Authorization: Bearer\") or listen on 127.0.0.1 or a unix socket", sc.Listen)
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
// so it is never reachable with wider permissions); a stale socket left by a
// crashed daemon is replaced, a live one is an error. The returned cleanup
// removes the socket file.
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
	if err := os.MkdirAll(dir, 0o700); err != nil {
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
