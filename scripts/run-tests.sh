#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run-tests.sh - every test of the project, in order of cost:
#   1. unit tests and fuzz-corpus replays of the release build (ctest)
#   2. the same under ASan + UBSan (the dev preset)
#   3. Python tests (interop with pyarrow, DuckDB, Polars, Spark; the CLI
#      end to end) against the release build
# Run through `make test`, which builds both presets first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${SPARKIFY_VENV:-$root/.venv}
jobs=$(nproc)

echo "== ctest: release build"
ctest --preset release -j "$jobs"

echo "== ctest: ASan + UBSan build"
ctest --preset dev -j "$jobs"

echo "== pytest: interop and end-to-end"
export SPARKIFY_BUILD="$root/build"
export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}"
# Spark's Python workers must run the venv's interpreter (pyarrow, the
# adapter), not whatever python3 comes first on PATH.
export PYSPARK_PYTHON="$venv/bin/python" PYSPARK_DRIVER_PYTHON="$venv/bin/python"
# The driver JVM's class archive (python/sparkify_spark/cds.py), made once
# per JVM and pyspark (~25 s; instant when present): every Spark session of
# the tests starts with it, and test_cds.py checks that it maps. A speed-up,
# not a gate: without it the sessions start the slow way (and say why).
"$venv/bin/python" -m sparkify_spark.cds ||
    echo "run-tests: no class archive (see above); Spark starts without it" >&2
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
rc=$?
set -e
# pytest's 5 means "no tests collected": that is a broken suite here.
if [ "$rc" -eq 5 ]; then
    echo "run-tests: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
