// Command attribution runs the labelled-scenario attribution benchmark
// (bench/attribution/attrbench) and prints Markdown: a per-kind table, the totals
// against the goals, and, with -failures, examples of every failure.
//
//	go run ./bench/attribution -seeds 20
//
// It exits 1 when a goal is not met and -check is given.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/impact-dev/impact/bench/attribution/attrbench"
	"github.com/impact-dev/impact/internal/world"
)

func main() {
	seeds := flag.Int("seeds", 20, "number of seeded worlds")
	first := flag.Int64("first", 1, "first seed")
	parallel := flag.Int("parallel", 0, "seeds run at once (default GOMAXPROCS)")
	days := flag.Int("days", 0, "days of history per world (default 120)")
	failures := flag.Int("failures", 3, "failure examples per failing kind (0: none)")
	perSeed := flag.Bool("per-seed", false, "also print one line per seed")
	check := flag.Bool("check", false, "exit 1 when a goal is not met")
	flag.Parse()
	if *seeds <= 0 {
		fmt.Fprintln(os.Stderr, "attribution: -seeds must be positive")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := attrbench.Run(ctx, attrbench.Options{
		Seeds:    attrbench.Seeds(*first, *seeds),
		World:    world.RandomOptions{Days: *days},
		Parallel: *parallel,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "attribution:", err)
		os.Exit(1)
	}
	rep.WriteMarkdown(os.Stdout)
	if *perSeed {
		fmt.Println()
		rep.WriteSeeds(os.Stdout)
	}
	if *failures > 0 {
		fmt.Println()
		fmt.Println("### Failures")
		rep.WriteFailures(os.Stdout, *failures)
	}
	if ok, _ := rep.Total.Met(); !ok && *check {
		os.Exit(1)
	}
}
