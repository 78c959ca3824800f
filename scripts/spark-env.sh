#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# spark-env.sh - S3A jars for the pip pyspark and a local standalone Spark
# cluster (1 master + 2 workers on 127.0.0.1) for the Spark tests and bench.
#
#   scripts/spark-env.sh jars     fetch hadoop-aws (the Hadoop version pyspark
#                                 bundles), the AWS SDK v2 bundle it declares,
#                                 analyticsaccelerator-s3 and
#                                 spark-hadoop-cloud into a cache with Maven
#                                 and link them into pyspark/jars (idempotent;
#                                 instant when present)
#   scripts/spark-env.sh start    start the cluster; prints SPARK_MASTER_URL=...
#   scripts/spark-env.sh stop     stop it by its saved pids
#   scripts/spark-env.sh status   exit 0 when the master answers
#
# Environment: SPARKIFY_VENV (default .venv), SPARKIFY_SPARK_DIR (state:
# logs, pids, worker dirs; default /tmp/sparkify-spark-$UID),
# SPARKIFY_JAR_CACHE (default ~/.cache/sparkify/jars), SPARK_MASTER_PORT
# (7077), SPARK_MASTER_WEBUI_PORT (8080), SPARKIFY_WORKERS (2).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv=${SPARKIFY_VENV:-$root/.venv}
state=${SPARKIFY_SPARK_DIR:-/tmp/sparkify-spark-$(id -u)}
cache=${SPARKIFY_JAR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparkify/jars}
port=${SPARK_MASTER_PORT:-7077}
webui=${SPARK_MASTER_WEBUI_PORT:-8080}
n_workers=${SPARKIFY_WORKERS:-2}

spark_home()
{
    "$venv/bin/python" -c \
        'import os, pyspark; print(os.path.dirname(pyspark.__file__))'
}

# Resolve one Maven artifact (g:a:v[:packaging]) into $cache, quietly.
mvn_copy()
{
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && mvn -q -B dependency:copy -Dartifact="$1" \
        -DoutputDirectory="$cache" -Dmdep.overWriteIfNewer=false \
        >"$tmp/log" 2>&1) || {
        cat "$tmp/log" >&2
        rm -rf "$tmp"
        echo "spark-env: cannot fetch $1" >&2
        return 1
    }
    rm -rf "$tmp"
}

# Print the value of <$2> from pom file $1.
pom_prop()
{
    sed -n "s:.*<$2>\\([^<]*\\)</$2>.*:\\1:p" "$1" | head -n 1
}

cmd_jars()
{
    local home jars hadoop spark sdk aac want j
    home=$(spark_home)
    jars="$home/jars"
    hadoop=$(basename "$(ls "$jars"/hadoop-client-api-*.jar)" .jar)
    hadoop=${hadoop#hadoop-client-api-}
    spark=$(basename "$(ls "$jars"/spark-core_2.13-*.jar)" .jar)
    spark=${spark#spark-core_2.13-}
    mkdir -p "$cache"
    # Versions the hadoop-aws build declares live in hadoop-project's pom.
    [ -f "$cache/hadoop-project-$hadoop.pom" ] ||
        mvn_copy "org.apache.hadoop:hadoop-project:$hadoop:pom"
    sdk=$(pom_prop "$cache/hadoop-project-$hadoop.pom" aws-java-sdk-v2.version)
    aac=$(pom_prop "$cache/hadoop-project-$hadoop.pom" \
        amazon-s3-analyticsaccelerator-s3.version)
    want=("org.apache.hadoop:hadoop-aws:$hadoop"
        "software.amazon.awssdk:bundle:$sdk"
        "org.apache.spark:spark-hadoop-cloud_2.13:$spark")
    [ -z "$aac" ] || want+=(
        "software.amazon.s3.analyticsaccelerator:analyticsaccelerator-s3:$aac")
    # Maven Central may lag behind PyPI for spark-hadoop-cloud: fall back
    # to its newest release of the same major version (the committer
    # classes have been stable across 4.x).
    if [ -f "$cache/spark-hadoop-cloud.$spark" ]; then
        want[2]=$(cat "$cache/spark-hadoop-cloud.$spark")
    elif ! [ -f "$cache/spark-hadoop-cloud_2.13-$spark.jar" ] &&
        ! mvn_copy "org.apache.spark:spark-hadoop-cloud_2.13:$spark" \
            2>/dev/null; then
        local rel
        rel=$(cloud_release)
        [ "${rel%%.*}" = "${spark%%.*}" ] || {
            echo "spark-env: no spark-hadoop-cloud for Spark $spark" >&2
            return 1
        }
        echo "spark-env: spark-hadoop-cloud $spark is not on Maven" \
            "Central; using $rel" >&2
        want[2]="org.apache.spark:spark-hadoop-cloud_2.13:$rel"
        echo "${want[2]}" >"$cache/spark-hadoop-cloud.$spark"
    fi
    for j in "${want[@]}"; do
        IFS=: read -r _ a v <<<"$j"
        [ -f "$cache/$a-$v.jar" ] || {
            echo "spark-env: fetching $j" >&2
            mvn_copy "$j"
        }
        [ -e "$jars/$a-$v.jar" ] || ln -sf "$cache/$a-$v.jar" "$jars/$a-$v.jar"
    done
}

# Print the newest released version of spark-hadoop-cloud_2.13.
cloud_release()
{
    local tmp m2
    tmp=$(mktemp -d)
    (cd "$tmp" && mvn -q -B dependency:get -Dtransitive=false \
        -Dartifact=org.apache.spark:spark-hadoop-cloud_2.13:RELEASE:pom \
        >/dev/null 2>&1) || true
    rm -rf "$tmp"
    m2=${MAVEN_REPO:-$HOME/.m2/repository}
    sed -n 's:.*<release>\([^<]*\)</release>.*:\1:p' \
        "$m2"/org/apache/spark/spark-hadoop-cloud_2.13/maven-metadata-*.xml |
        sort -V | tail -n 1
}

cmd_start()
{
    local home i py
    home=$(spark_home)
    py="$venv/bin/python"
    if cmd_status 2>/dev/null; then
        echo "SPARK_MASTER_URL=spark://127.0.0.1:$port"
        return 0
    fi
    mkdir -p "$state/logs" "$state/pids" "$state/work"
    export SPARK_HOME="$home" SPARK_LOCAL_IP=127.0.0.1
    export SPARK_LOG_DIR="$state/logs" SPARK_PID_DIR="$state/pids"
    export SPARK_WORKER_DIR="$state/work" SPARK_IDENT_STRING=sparkify
    export PYSPARK_PYTHON="$py" PYSPARK_DRIVER_PYTHON="$py"
    export SPARK_MASTER_HOST=127.0.0.1
    export SPARK_DAEMON_MEMORY=512m
    "$home/sbin/spark-daemon.sh" start org.apache.spark.deploy.master.Master \
        1 --host 127.0.0.1 --port "$port" --webui-port "$webui" >/dev/null
    for i in $(seq 1 "$n_workers"); do
        "$home/sbin/spark-daemon.sh" start \
            org.apache.spark.deploy.worker.Worker "$i" \
            --host 127.0.0.1 --webui-port 0 --cores 1 --memory 2g \
            --work-dir "$state/work/$i" "spark://127.0.0.1:$port" >/dev/null
    done
    # Ready when every worker has registered with the master.
    for i in $(seq 1 120); do
        if [ "$(alive_workers)" -ge "$n_workers" ]; then
            echo "SPARK_MASTER_URL=spark://127.0.0.1:$port"
            return 0
        fi
        sleep 0.5
    done
    echo "spark-env: cluster did not come up; logs in $state/logs" >&2
    cmd_stop
    return 1
}

# Number of ALIVE workers the master's JSON endpoint reports, or 0.
alive_workers()
{
    "$venv/bin/python" - "$webui" <<'EOF' 2>/dev/null || echo 0
import json, sys, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/json/"
with urllib.request.urlopen(url, timeout=2) as r:
    doc = json.load(r)
print(sum(1 for w in doc.get("workers", []) if w.get("state") == "ALIVE"))
EOF
}

cmd_status()
{
    [ "$(alive_workers)" -ge 1 ]
}

cmd_stop()
{
    local f pid i
    [ -d "$state/pids" ] || return 0
    for f in "$state"/pids/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for i in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$f"
    done
}

case "${1:-}" in
jars) cmd_jars ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*) echo "usage: $0 jars|start|stop|status" >&2; exit 2 ;;
esac
