#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# s3-server.sh - start or stop the S3-compatible test server (s3proxy 4.0.0,
# filesystem back end, SigV4 verified) on 127.0.0.1.
#
#   scripts/s3-server.sh start PORT DIR   serve DIR/data on 127.0.0.1:PORT
#   scripts/s3-server.sh stop PORT DIR    stop the server started for DIR
#
# Credentials come from S3_SERVER_ACCESS_KEY / S3_SERVER_SECRET_KEY (else
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and go into a 0600 config file
# in DIR, never onto the command line. The pid is kept in DIR/s3proxy.pid;
# logs go to DIR/s3proxy.log. The jar comes from scripts/install-deps.sh.
set -euo pipefail

cache=${SPARKIFY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sparkify}
jar=$cache/s3proxy-4.0.0-jar-with-dependencies.jar

usage()
{
    echo "usage: $0 start|stop PORT DIR" >&2
    exit 2
}

[ $# -eq 3 ] || usage
cmd=$1
port=$2
dir=$3
pidfile=$dir/s3proxy.pid

start()
{
    local key=${S3_SERVER_ACCESS_KEY:-${AWS_ACCESS_KEY_ID:-}}
    local secret=${S3_SERVER_SECRET_KEY:-${AWS_SECRET_ACCESS_KEY:-}}
    if [ -z "$key" ] || [ -z "$secret" ]; then
        echo "s3-server: set S3_SERVER_ACCESS_KEY and S3_SERVER_SECRET_KEY" >&2
        exit 2
    fi
    if [ ! -f "$jar" ]; then
        echo "s3-server: $jar is missing: run scripts/install-deps.sh --s3" >&2
        exit 1
    fi
    mkdir -p "$dir/data"
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "s3-server: already running (pid $(cat "$pidfile"))" >&2
        exit 1
    fi
    (
        umask 077
        cat >"$dir/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$key
s3proxy.credential=$secret
jclouds.provider=filesystem
jclouds.filesystem.basedir=$dir/data
CONF
    )
    LOG_LEVEL=warn JETTY_LOG_LEVEL=warn nohup java -Xmx1g -XX:+UseSerialGC \
        -jar "$jar" --properties "$dir/s3proxy.conf" \
        >"$dir/s3proxy.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    # Ready when it answers HTTP at all (an anonymous request gets 403).
    for _ in $(seq 1 300); do
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
            return 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            echo "s3-server: exited early; see $dir/s3proxy.log" >&2
            rm -f "$pidfile"
            exit 1
        fi
        sleep 0.1
    done
    echo "s3-server: not ready after 30 s; see $dir/s3proxy.log" >&2
    stop
    exit 1
}

stop()
{
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile" "$dir/s3proxy.conf"
}

case "$cmd" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
