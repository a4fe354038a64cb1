//go:build !linux && !darwin

package daemonauth

import (
	"fmt"
	"net"
	"os"
)

// PeerUID is the owner of the socket file c is connected to (the platform
// has no peer credentials this package reads).
func PeerUID(c *net.UnixConn) (int, error) {
	path := c.RemoteAddr().String()
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	uid, ok := FileUID(fi)
	if !ok {
		return 0, fmt.Errorf("cannot tell who owns %s", path)
	}
	return uid, nil
}
