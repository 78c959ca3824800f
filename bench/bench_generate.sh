#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_generate.sh - time `sparkify generate`: output MB/s at --threads 1
# and 2 (interleaved runs, median), CPU seconds per GB (robust to a busy
# machine), and peak RSS for --days 30 vs 60 (memory must stay flat).
#
#   bench/bench_generate.sh [BUILD_DIR]      (default: build)
#   env: USERS (40000) DAYS (5) REPS (3) RSS_USERS (5000) WORK (/tmp)
set -euo pipefail

BUILD=${1:-build}
USERS=${USERS:-40000}
DAYS=${DAYS:-5}
REPS=${REPS:-3}
RSS_USERS=${RSS_USERS:-5000}
WORK=$(mktemp -d "${WORK:-/tmp}/bench_generate.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# A private copy: a rebuild of the tree during the run cannot touch it.
cp "$BUILD/sparkify" "$WORK/sparkify"
EXE=$WORK/sparkify

# run NAME ARGS...: one run into a fresh folder; prints
# "wall_s user_s sys_s maxrss_kb bytes". Old trees are removed before the
# timed region (file creation right after a big rm is slow on ext4).
run() {
    local name=$1
    shift
    rm -rf "$WORK/out"
    sync
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" \
        "$EXE" generate "$WORK/out" --quiet "$@"
    local bytes
    bytes=$(du -sb --apparent-size "$WORK/out" | cut -f1)
    echo "$(cat "$WORK/time") $bytes"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "## sparkify generate: $USERS users x $DAYS days, $REPS runs each"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A walls cpus
for rep in $(seq "$REPS"); do
    for t in 1 2; do
        read -r wall user sys rss bytes < <(run "t$t" --users "$USERS" \
            --days "$DAYS" --threads "$t")
        walls[$t]+="$(awk -v b="$bytes" -v w="$wall" \
            'BEGIN {printf "%.1f", b / 1e6 / w}') "
        cpus[$t]+="$(awk -v b="$bytes" -v u="$user" -v s="$sys" \
            'BEGIN {printf "%.2f", (u + s) / (b / 1e9)}') "
        echo "run $rep threads $t: ${wall}s wall, ${user}s user, ${sys}s" \
             "sys, $((bytes / 1000000)) MB, ${rss} KB peak RSS"
    done
done
echo
echo "| threads | MB/s (median wall) | CPU s per GB (median) |"
echo "| --- | --- | --- |"
for t in 1 2; do
    echo "| $t | $(echo "${walls[$t]}" | tr ' ' '\n' | grep . | median)" \
         "| $(echo "${cpus[$t]}" | tr ' ' '\n' | grep . | median) |"
done

echo
echo "| days ($RSS_USERS users) | MB written | peak RSS (MB) |"
echo "| --- | --- | --- |"
for d in 30 60; do
    read -r wall user sys rss bytes < <(run "rss$d" --users "$RSS_USERS" \
        --days "$d" --threads 2)
    echo "| $d | $((bytes / 1000000)) | $((rss / 1024)) |"
done
