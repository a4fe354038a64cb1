// Command impact turns the numbers behind backend work into quantified
// accomplishment statements. main only wires the CLI; the commands live in
// internal/cmd.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/impact-dev/impact/internal/cmd/root"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := root.Main(ctx, root.NewFactory(), os.Args[1:])
	stop()
	os.Exit(code)
}
