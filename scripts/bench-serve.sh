#!/usr/bin/env bash
# Benchmarks `impact serve` against local fake vendors (no accounts, no
# network beyond loopback):
#   1. resident memory (VmRSS) after a one-year backfill through the daemon
#      (`impact collect --since 365d` sent to its API, drafter included);
#   2. resident memory and CPU (utime+stime from /proc/<pid>/stat) over an
#      idle minute between polls;
#   3. the round trip of a CLI command through the API (exec, config load,
#      lock probe, HTTP request, output).
# Goals: idle RSS <= 40 MB, idle CPU < 1% of a core, CLI round trip < 50 ms.
#
# Usage: scripts/bench-serve.sh        (IDLE=60 DAYS=365 RUNS=50 to change)
# Linux only (/proc).
set -euo pipefail
cd "$(dirname "$0")/.."

IDLE=${IDLE:-60}
DAYS=${DAYS:-365}
RUNS=${RUNS:-50}

work=$(mktemp -d -t impact-bench-serve.XXXXXX)
fv_pid=""
d_pid=""
cleanup() {
	[ -n "$d_pid" ] && kill -TERM "$d_pid" 2>/dev/null && wait "$d_pid" 2>/dev/null || true
	[ -n "$fv_pid" ] && kill -TERM "$fv_pid" 2>/dev/null && wait "$fv_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== building" >&2
go build -o "$work/impact" ./cmd/impact
go build -o "$work/fakevendors" ./internal/daemon/daemontest/fakevendors

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 17878)
cfg="$work/config.yaml"
"$work/fakevendors" -days "$DAYS" -config "$cfg" -store "$work/impact.db" -listen "127.0.0.1:$port" -interval 1h >"$work/fakevendors.log" 2>&1 &
fv_pid=$!
for _ in $(seq 100); do [ -s "$cfg" ] && break; sleep 0.1; done
[ -s "$cfg" ] || { cat "$work/fakevendors.log" >&2; exit 1; }
cat "$work/fakevendors.log" >&2

impact() { "$work/impact" --config "$cfg" "$@"; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
anon_kb() { awk '/^RssAnon:/ {print $2}' "/proc/$1/status"; }
file_kb() { awk '/^RssFile:/ {print $2}' "/proc/$1/status"; }
# utime+stime in clock ticks (fields 14 and 15; the command name in
# parentheses is cut off first, since it could hold spaces).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k/1024}'; }
now_ns() { date +%s%N; }

echo "== starting the daemon" >&2
"$work/impact" --config "$cfg" serve --log-format json --log-level warn 2>"$work/serve.log" &
d_pid=$!
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
# Let the first (90-day) polls and the drafter settle.
sleep 5
rss_start=$(rss_kb "$d_pid")

echo "== one-year backfill through the daemon" >&2
t0=$(now_ns)
impact collect --since "${DAYS}d" >"$work/collect.out" 2>&1 || { cat "$work/collect.out" >&2; exit 1; }
t1=$(now_ns)
cat "$work/collect.out" >&2
sleep 5 # the daemon's own drafter pass after new data
rss_backfill=$(rss_kb "$d_pid")
hwm=$(hwm_kb "$d_pid")
samples=$(impact status -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["store"]["samples"])' 2>/dev/null || echo "?")

echo "== idle for ${IDLE}s" >&2
tck=$(getconf CLK_TCK)
c0=$(cpu_ticks "$d_pid")
sleep "$IDLE"
c1=$(cpu_ticks "$d_pid")
rss_idle=$(rss_kb "$d_pid")
anon_idle=$(anon_kb "$d_pid")
file_idle=$(file_kb "$d_pid")
cpu_pct=$(awk -v d=$((c1 - c0)) -v t="$tck" -v s="$IDLE" 'BEGIN {printf "%.2f", 100 * d / t / s}')

echo "== CLI round trips (${RUNS}x drafts list -o json, ${RUNS}x status)" >&2
rt() {
	local total=0 max=0 t a b
	for _ in $(seq "$RUNS"); do
		a=$(now_ns); impact "$@" >/dev/null; b=$(now_ns)
		t=$(((b - a) / 1000))
		total=$((total + t)); [ "$t" -gt "$max" ] && max=$t
	done
	awk -v s="$total" -v n="$RUNS" -v m="$max" 'BEGIN {printf "%.1f ms mean, %.1f ms max", s/n/1000, m/1000}'
}
rt_list=$(rt drafts list --status all -o json)
rt_status=$(rt status)
drafts=$(impact drafts list --status all -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo "?")

bin_mb=$(du -m "$work/impact" | cut -f1)
cat <<REPORT

impact serve benchmark, binary ${bin_mb} MB ($(uname -m), $(nproc) cores, $(go version | awk '{print $3}'))
| measure | value | goal |
|---|---|---|
| RSS after start and the first 90-day polls | $(mb "$rss_start") MB | |
| one-year backfill through the API (collect --since ${DAYS}d, drafter included) | $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f s", (b-a)/1e9}') | |
| RSS after the one-year backfill ($samples samples, $drafts drafts) | $(mb "$rss_backfill") MB (peak $(mb "$hwm") MB) | |
| RSS idle, after ${IDLE}s | $(mb "$rss_idle") MB ($(mb "$anon_idle") MB heap and stacks, $(mb "$file_idle") MB binary and store mapped) | ≤ 40 MB |
| CPU idle, over ${IDLE}s | ${cpu_pct}% of a core | < 1% |
| CLI round trip: drafts list --status all -o json | $rt_list | < 50 ms |
| CLI round trip: status | $rt_status | < 50 ms |
REPORT
