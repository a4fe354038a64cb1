#!/usr/bin/env bash
# Runs the project's benchmarks and prints a results table (Markdown) for the README.
#   usage: scripts/bench.sh [extra go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
backfill=$(mktemp)
trap 'rm -f "$out" "$backfill"' EXIT

run() { # package, bench regexp, benchtime
  go test -run '^$' -bench "$2" -benchtime "$3" -benchmem "$1" "${@:4}" | tee -a "$out" >&2
}
run ./drafter/ 'BenchmarkRun$' 3x
run ./store/ 'BenchmarkBytesPerSample|BenchmarkCommitHourlyYear|BenchmarkDraftsList10k' 1x
run ./internal/cmd/drafts/ 'BenchmarkListJSONProcess' 20x
# One year of five sources from fake vendors adding 50 ms per request (about a minute).
IMPACT_BACKFILL_MD="$backfill" run ./bench/backfill/ 'BenchmarkBackfill$' 1x -timeout 10m

echo
echo "| benchmark | result | goal |"
echo "|---|---|---|"
awk '
/^BenchmarkRun/            { d=$1; sub(/-[0-9]+$/, "", d); sub(/^BenchmarkRun\/?/, "", d); if (d != "") d=" (" d ")"
                             printf "| drafter%s: 1,000 PRs × 50 hourly series × 1 year | %.2f s per run | < 2 s |\n", d, $3/1e9 }
/^BenchmarkBytesPerSample/ { for (i=1;i<=NF;i++) if ($(i+1)=="bytes/sample") printf "| store: bytes on disk per hourly sample | %s | ≤ 32 |\n", $i }
/^BenchmarkCommitHourlyYear/ { printf "| store: commit one year of hourly samples of 50 series, a day per commit | %.1f ms | — |\n", $3/1e6 }
/^BenchmarkDraftsList10k/  { printf "| store: read 10,000 drafts | %.1f ms | — |\n", $3/1e6 }
/^BenchmarkListJSONProcess/ { printf "| `impact drafts list -o json`, 10,000 drafts, whole process | %.0f ms | < 150 ms |\n", $3/1e6 }
/^BenchmarkBackfill/ {
  for (i=1;i<=NF;i++) m[$(i+1)]=$i
  printf "| collectors: one-year backfill of 5 sources, 50 ms per request | %d requests (%.2f× the minimum %d), %.0f s | ≤ 1.1× the minimum |\n", m["requests"], m["requests"]/m["min-requests"], m["min-requests"], m["backfill-s"]
  printf "| collectors: second poll, nothing new | %d requests, %d GitHub primary budget | ≤ 1 per repo/workflow/series/account; 0 |\n", m["poll2-requests"], m["poll2-github-budget"]
}
' "$out"

if [ -s "$backfill" ]; then
  echo
  cat "$backfill"
fi

# Attribution on labelled scenarios (README: Attribution on labelled
# scenarios); -check fails the script when a goal is not met.
echo
go run ./bench/attribution -seeds 100 -failures 0 -check
