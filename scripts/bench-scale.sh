#!/usr/bin/env bash
# How drafting cost grows with history and series (issue 14): generates
# stores of N hourly series × Y years (bench/scale gen: a level move every
# 60–180 days after a PR, 10 repos with a PR a working day each) and, each
# step in its own process (wall time and peak RSS from GNU time):
#   redraft  a full drafter pass (collect --redraft)
#   poll     an hourly poll: an hour of samples for every series, committed
#            as the Datadog collector commits them, then an incremental pass
#            (the hour lies in the open UTC day: nothing to analyse)
#   rollover the first hourly poll after midnight: the polls of the day's
#            other hours are made first (poll -to-midnight, not measured),
#            then the one that brings the day's last hour is measured; the day
#            that closed has data for every series, so every series is
#            examined (a long one only its tail, while the epoch's analysis
#            kept by the redraft holds)
# then drafts list -o json / export -f json of 100,000 drafts (whole
# process), and the daemon's memory after it drafted 200 series × 1 year
# and idled.
#
# usage: scripts/bench-scale.sh                    (RUNS=3 SPECS="50x1 200x3 ..." DIR=/tmp/x to change)
# Every figure is the median of RUNS runs (the rollovers and the redrafts of
# more than 2.5 million samples: BIG_RUNS, default 1). Linux only (/proc,
# GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
# Runs of the costly steps: a redraft of more than 2.5 million samples and
# every rollover (a rollover is a full pass's work).
BIG_RUNS=${BIG_RUNS:-1}
SPECS=${SPECS:-"50x1 50x2 50x3 50x5 200x3 1000x3"}
DIR=${DIR:-$(mktemp -d -t impact-bench-scale.XXXXXX)}
IDLE=${IDLE:-30}
mkdir -p "$DIR"
echo "== building (work in $DIR)" >&2
go build -o "$DIR/scale" ./bench/scale
go build -o "$DIR/impact" ./cmd/impact

# timed CMD...: runs it, prints "wall_s rss_mb cpu_s" (GNU time: %e, %M
# KiB, %U+%S). CPU time varies far less with the machine's load than wall
# time does.
timed() {
	local tf
	tf=$(mktemp)
	/usr/bin/time -f "%e %M %U %S" -o "$tf" "$@" >"$DIR/last.out" 2>"$DIR/last.err" || { cat "$DIR/last.err" >&2; rm -f "$tf"; return 1; }
	awk '{printf "%s %.1f %.2f\n", $1, $2/1024, $3+$4}' "$tf"
	rm -f "$tf"
}
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
# measure N CMD...: N timed runs; prints "median_wall median_rss median_cpu"
measure() {
	local n=$1 i walls="" rsss="" cpus=""
	shift
	for ((i = 0; i < n; i++)); do
		read -r w r c < <(timed "$@")
		walls+="$w"$'\n'
		rsss+="$r"$'\n'
		cpus+="$c"$'\n'
	done
	echo "$(printf '%s' "$walls" | median) $(printf '%s' "$rsss" | median) $(printf '%s' "$cpus" | median)"
}
examined() { sed -n 's/.*examined=\([0-9]*\).*/\1/p' "$DIR/last.out"; }
# reused: of the series examined, those whose analysis up to the epoch was
# kept from an earlier pass (only their tail was analysed)
reused() { sed -n 's/.*reused=\([0-9]*\).*/\1/p' "$DIR/last.out"; }

echo "| store | samples | full redraft: wall, CPU, peak RSS | hourly poll + pass: wall, CPU, peak RSS; series analysed | first poll after midnight: wall, CPU, peak RSS; series analysed |"
echo "|---|---|---|---|---|"
for spec in $SPECS; do
	n=${spec%x*}
	y=${spec#*x}
	st="$DIR/s$n-y$y"
	if [ ! -s "$st/impact.db" ]; then
		echo "== gen $n series × $y years" >&2
		"$DIR/scale" gen -series "$n" -years "$y" -dir "$st" >&2
	fi
	samples=$((n * y * 8760))
	runs=$RUNS
	[ "$samples" -gt 2500000 ] && runs=$BIG_RUNS
	echo "== $spec: redraft ×$runs" >&2
	read -r rw rr rc < <(measure "$runs" "$DIR/scale" redraft -dir "$st")
	echo "== $spec: hourly poll ×$RUNS" >&2
	read -r pw pr pc < <(measure "$RUNS" "$DIR/scale" poll -dir "$st")
	pe=$(examined)
	# The hourly polls up to the day's last hour, then the one that
	# closes the day (measured): the closed day has data for every series.
	echo "== $spec: rollover ×$BIG_RUNS" >&2
	ow="" or="" oc=""
	for ((i = 0; i < BIG_RUNS; i++)); do
		"$DIR/scale" poll -to-midnight -dir "$st" >/dev/null
		read -r w r c < <(timed "$DIR/scale" poll -dir "$st")
		ow+="$w"$'\n' or+="$r"$'\n' oc+="$c"$'\n'
	done
	ow=$(printf '%s' "$ow" | median) or=$(printf '%s' "$or" | median) oc=$(printf '%s' "$oc" | median)
	oe="$(examined) ($(reused) tail only)"
	echo "| $n series × $y y | $samples | ${rw} s, ${rc} s, ${rr} MB | ${pw} s, ${pc} s, ${pr} MB; $pe | ${ow} s, ${oc} s, ${or} MB; $oe |"
done

echo
echo "== 100,000 drafts" >&2
dd="$DIR/drafts100k"
[ -s "$dd/impact.db" ] || "$DIR/scale" drafts -n 100000 -dir "$dd" >&2
read -r lw lr lc < <(measure 5 "$DIR/impact" --config "$dd/impact.yaml" drafts list --status all -o json)
read -r ew er ec < <(measure 5 "$DIR/impact" --config "$dd/impact.yaml" export --status all -f json)
echo "| command (100,000 drafts, whole process) | wall | CPU | peak RSS |"
echo "|---|---|---|---|"
echo "| drafts list --status all -o json | ${lw} s | ${lc} s | ${lr} MB |"
echo "| export --status all -f json | ${ew} s | ${ec} s | ${er} MB |"

echo
echo "== daemon: 200 series × 1 year, a full pass, then ${IDLE}s idle" >&2
ds="$DIR/daemon-s200-y1"
rm -rf "$ds"
"$DIR/scale" gen -series 200 -years 1 -dir "$ds" >&2
"$DIR/impact" --config "$ds/impact.yaml" serve --log-format json --log-level info 2>"$ds/serve.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 600); do grep -q '"msg":"drafted"' "$ds/serve.log" 2>/dev/null && break; sleep 0.5; done
grep -q '"msg":"drafted"' "$ds/serve.log" || { echo "the daemon did not draft" >&2; cat "$ds/serve.log" >&2; exit 1; }
sleep "$IDLE"
anon=$(awk '/^RssAnon:/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
rss=$(awk '/^VmRSS:/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM:/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid" || true
trap - EXIT
pass=$(sed -n 's/.*"msg":"drafted".*"duration":\([0-9]*\).*/\1/p' "$ds/serve.log" | head -1 | awk '{printf "%.1f s", $1/1e9}')
echo "| daemon, 200 series × 1 year | value |"
echo "|---|---|"
echo "| the first pass (every series) | $pass |"
echo "| RSS idle ${IDLE}s after it: anonymous | ${anon} MB |"
echo "| RSS idle: total | ${rss} MB (peak ${hwm} MB) |"
