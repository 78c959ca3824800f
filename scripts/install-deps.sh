#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# install-deps.sh - install everything sparkify needs on a fresh Debian 12
# machine: Debian packages (as root) and a Python venv for the interop tests.
# Idempotent and quick when everything is already present.
#
#   scripts/install-deps.sh            Debian packages + Python venv
#   scripts/install-deps.sh --apt      Debian packages only
#   scripts/install-deps.sh --python   Python venv only
#   scripts/install-deps.sh --s3       S3 test server (s3proxy jar) only
#   scripts/install-deps.sh --spark    S3A jars for pyspark only
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${SPARKIFY_VENV:-$root/.venv}

apt_packages=(
    build-essential cmake ninja-build pkg-config clang llvm libclang-rt-14-dev
    libsnappy-dev libzstd-dev zlib1g-dev libssl-dev libcmocka-dev
    libsimdjson-dev libcurl4-openssl-dev libexpat1-dev
    python3-venv valgrind time
)

# Python packages for interop tests, peers in the benchmarks and the Spark
# adapter; pinned so that every machine runs the same readers.
py_packages=(
    "pytest==9.2.0"
    "pyarrow==26.0.1"
    "duckdb==2.0.0"
    "polars==2.1.0"
    "pyspark==4.3.0"
    "pandas==2.3.3" # pyspark's mapInArrow requires it
)

install_apt()
{
    local missing=()
    for p in "${apt_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "install-deps: apt-get install ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

install_python()
{
    local stamp="$venv/.sparkify-deps"
    local want
    want=$(printf '%s\n' "${py_packages[@]}")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    echo "install-deps: pip install into $venv" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        "${py_packages[@]}"
    printf '%s\n' "$want" >"$stamp"
}

# The S3 test server: s3proxy 4.0.0 from Maven Central (9.6 s cold here,
# against 153 s to build versitygw v1.7.0), cached outside the repository.
s3proxy_jar=${SPARKIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparkify}/s3proxy-4.0.0-jar-with-dependencies.jar
install_s3_server()
{
    [ -f "$s3proxy_jar" ] && return 0
    echo "install-deps: s3proxy 4.0.0 from Maven Central" >&2
    mvn -q dependency:copy \
        -Dartifact=org.gaul:s3proxy:4.0.0:jar:jar-with-dependencies \
        -DoutputDirectory="$(dirname "$s3proxy_jar")" >/dev/null
}

case "${1:-all}" in
--apt) install_apt ;;
--python) install_python ;;
--s3) install_s3_server ;;
--spark) "$root/scripts/spark-env.sh" jars ;;
all) install_apt; install_python; install_s3_server
    "$root/scripts/spark-env.sh" jars ;;
*) echo "usage: $0 [--apt|--python|--s3|--spark]" >&2; exit 2 ;;
esac
