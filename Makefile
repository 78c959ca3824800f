# SPDX-License-Identifier: Apache-2.0
# Top-level wrapper over the CMake presets.
#   make          release CLI at build/sparkify and the shared library
#   make demo     generate sample data and run the ETL on it
#   make test     every test: release + ASan/UBSan builds, fuzz replays,
#                 interop tests (pyarrow, DuckDB, Polars, Spark)
#   make bench    benchmarks (see docs/BENCHMARKS.md)
.PHONY: all deps release dev test test-unit test-asan test-python demo \
        bench fuzz clean

all: release

deps:
	@scripts/install-deps.sh

release: deps
	@[ -f build/build.ninja ] || cmake --preset release >/dev/null
	@cmake --build build

dev: deps
	@[ -f build-dev/build.ninja ] || cmake --preset dev >/dev/null
	@cmake --build build-dev

test: release dev
	@scripts/run-tests.sh

demo: release
	@scripts/demo.sh

bench: release
	@bench/run

fuzz: deps
	@[ -f build-fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
	@cmake --build build-fuzz

clean:
	rm -rf build build-dev build-fuzz
