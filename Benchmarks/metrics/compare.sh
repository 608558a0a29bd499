#!/bin/bash
# Parse throughput of the same ~5 MB histogram-heavy exposition by whisperctl's parser, Go's expfmt
# and Python's prometheus_client, one after the other in one run.
#   Benchmarks/metrics/compare.sh            (from the project root, after swift build -c release)
# Needs: golang-go golang-github-prometheus-common-dev python3-prometheus-client (Debian).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 Benchmarks/metrics/generate.py > "$work/exposition.prom"
echo "exposition: $(wc -c < "$work/exposition.prom") bytes"
(cd Benchmarks/metrics/expfmt-timer && GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$work/expfmt-timer" .)
"$(swift build -c release --show-bin-path)/whisper-bench" metrics-parse "$work/exposition.prom" 20
"$work/expfmt-timer" "$work/exposition.prom" 10
/usr/bin/python3 Benchmarks/metrics/python-timer.py "$work/exposition.prom" 3
