// Package version reports the binary's version.
package version

import "runtime/debug"

// Version is set at build time with -ldflags "-X github.com/impact-dev/impact/internal/version.Version=v1.2.3".
var Version = ""

// String returns the version, falling back to the module build info or "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// UserAgent is what collectors send to vendors.
func UserAgent() string { return "impact/" + String() + " (+https://github.com/impact-dev/impact)" }
