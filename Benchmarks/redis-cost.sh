#!/bin/bash
# What a chat message costs Redis: two whisper-servers on one Redis and one NATS, every pair split
# across them, one loadtest per server build, all in one run so the figures compare.
# For each build: Redis commands per delivered message (all of them, sessions and matching
# included, and per command), Redis CPU per message, both servers' CPU per message, p99, lost;
# and the same two Redis figures in the steady state (a window of half the run, opened once a
# second's worth of messages went through, so connecting and matching are left out), per
# message the servers received in that window.
#
# Usage: Benchmarks/redis-cost.sh [-n RUNS] [--pairs N] [--rate R] [--seconds S] [SERVER_BINARY...]
#        (run from the project root; the default binary is the release build's whisper-server,
#         give an older build first to compare before and after in the same run)
# Needs: redis-server, nats-server, python3, and a release build of whisperctl.
set -u
PAIRS=1000 RATE=10000 SECONDS_=10 RUNS=1 BINARIES=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) RUNS=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) BINARIES+=("$1"); shift ;;
  esac
done
BIN="$(swift build -c release --show-bin-path)"
[ ${#BINARIES[@]} -gt 0 ] || BINARIES=("$BIN/whisper-server")
CTL="$BIN/whisperctl"
for b in "${BINARIES[@]}" "$CTL"; do [ -x "$b" ] || { echo "missing $b: swift build -c release" >&2; exit 1; }; done
T=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing on port $1" >&2; exit 1; }
received() { local n=0 v; for p in "$@"; do v=$(curl -fs "http://127.0.0.1:$p/metrics" | awk '/^whisper_messages_total\{type="received"\}/ {print $2}'); n=$((n + ${v:-0})); done; echo "$n"; }
wait_ready() { for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/ready" >/dev/null && return 0; sleep 0.1; done; echo "server on $1 never ready" >&2; exit 1; }
# INFO as "field value" lines: commandstats' calls per command, then the counters we compare.
redis_info() {
  redis-cli -p "$1" INFO all | tr -d '\r' | awk -F'[:,=]' '
    /^cmdstat_/ { sub("cmdstat_", "", $1); print "cmd." $1, $3 }
    /^total_commands_processed:/ { print "total", $2 }
    /^used_cpu_(sys|user):/ { cpu += $2 } END { print "cpu", cpu }'
}

echo "== $PAIRS pairs split across two servers, $RATE msg/s for ${SECONDS_} s, ${RUNS} run(s) per build"
for _ in $(seq "$RUNS"); do
  for server in "${BINARIES[@]}"; do
    rp=$(port); np=$(port); a=$(port); b=$(port)
    redis-server --port "$rp" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" >"$T/redis.log" 2>&1 & PIDS+=($!)
    nats-server -a 127.0.0.1 -p "$np" >"$T/nats.log" 2>&1 & PIDS+=($!)
    wait_port "$rp"; wait_port "$np"
    for p in $a $b; do
      REDIS_ADDR=127.0.0.1:$rp NATS_URL=nats://127.0.0.1:$np LISTEN_ADDR=127.0.0.1:$p SERVER_NAME=ws-$p \
        MAX_CONNS_PER_IP=100000 LOG_LEVEL=error "$server" >"$T/srv-$p.log" 2>&1 & PIDS+=($!)
      eval "pid_$p=$!"
    done
    wait_ready "$a"; wait_ready "$b"
    pa=$(eval echo "\$pid_$a"); pb=$(eval echo "\$pid_$b")
    redis_info "$rp" >"$T/before"; ca=$(cpu "$pa"); cb=$(cpu "$pb")
    "$CTL" loadtest --url "ws://127.0.0.1:$a/ws" --url "ws://127.0.0.1:$b/ws" --connections $((PAIRS * 2)) \
      --chatting-pairs "$PAIRS" --rate "$RATE" --duration "${SECONDS_}s" --json >"$T/report.json" 2>"$T/loadtest.err" &
    load=$!
    until [ "$(received "$a" "$b")" -ge "$RATE" ] || ! kill -0 "$load" 2>/dev/null; do sleep 0.1; done
    redis_info "$rp" >"$T/steady-before"; r1=$(received "$a" "$b")
    sleep "$(awk -v s="$SECONDS_" 'BEGIN { print s / 2 }')"
    redis_info "$rp" >"$T/steady-after"; r2=$(received "$a" "$b")
    wait "$load"
    redis_info "$rp" >"$T/after"; ca2=$(cpu "$pa"); cb2=$(cpu "$pb")
    python3 - "$T/before" "$T/after" "$T/report.json" "$tck" "$((ca2 - ca + cb2 - cb))" "$server" \
      "$T/steady-before" "$T/steady-after" "$((r2 - r1))" <<'EOF'
import json, sys
def read(path):
    return {k: float(v) for k, v in (line.split() for line in open(path) if line.strip())}
def redis_cost(before, after, messages):
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    commands = {k[4:]: v for k, v in delta.items() if k.startswith("cmd.") and v > 0 and k != "cmd.info"}
    total = delta["total"] - delta.get("cmd.info", 0)
    top = ", ".join(f"{k} {v / messages:.2f}" for k, v in sorted(commands.items(), key=lambda kv: -kv[1])[:6])
    return f"{total / messages:.2f} commands/msg ({top}); {delta['cpu'] / messages * 1e6:.2f} us CPU/msg"
report = json.load(open(sys.argv[3]))
tck, server_ticks, name = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
delivered = max(report["delivered"], 1)
steady = max(int(sys.argv[9]), 1)
p99 = (report.get("latency_ms") or {}).get("p99")
print(f"{name}: delivered {report['delivered']}, lost {report['lost']}, duplicated {report['duplicated']}, p99 {p99} ms")
print(f"  Redis: {redis_cost(read(sys.argv[1]), read(sys.argv[2]), delivered)}")
print(f"  Redis, steady state ({steady} msgs): {redis_cost(read(sys.argv[7]), read(sys.argv[8]), steady)}")
print(f"  servers: {server_ticks / tck / delivered * 1e6:.1f} us CPU/msg (both together)")
EOF
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; PIDS=()
  done
done
