#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - the README's "run the main job": generate a month of Sparkify
# data (no cloud account needed) and run the ETL on it.
#   scripts/demo.sh [OUT]     (default: out/demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/out/demo}
exe="$root/build/sparkify"

rm -rf "$out/input" "$out/lake"
mkdir -p "$out"
echo "== sparkify generate $out/input (100 users, 30 days, seed 42)"
"$exe" generate "$out/input" --users 100 --days 30 --seed 42
echo
echo "== sparkify etl $out/input $out/lake"
"$exe" etl "$out/input" "$out/lake"
echo
echo "The lake is in $out/lake; query it, e.g.:"
echo "  .venv/bin/python -c \"import duckdb; print(duckdb.sql(\\\"select count(*) from '$out/lake/songplays/**/*.parquet'\\\"))\""
