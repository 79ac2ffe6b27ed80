#!/usr/bin/env bash
# One query per process, as a kiosk script runs it: the wxpay CLI beside the Node reference
# client (bench/node/query.mjs), against the same loopback emulator (`wxpay sandbox`), in one run.
#
#   cargo build --release -p wxpay-cli && (cd bench/node && npm ci)
#   apt-get install -y hyperfine     # optional: exact wall times (see below)
#   bash bench/cli-wall.sh            # RUNS=21 by default; WXPAY=path/to/wxpay to override
#
# The server is `$SANDBOX sandbox` (default: the same binary), so two CLI builds can be timed
# against one server. Wall time: with hyperfine installed, `hyperfine -N` (no shell between it
# and the process; 3 warm-up runs, then RUNS timed runs of each client, its median);
# without it, bash's EPOCHREALTIME around `/usr/bin/time`, which adds that program's own start
# (about 1 ms here). CPU time and maximum resident set size always come from `/usr/bin/time`
# (10 ms steps for CPU); those runs alternate wxpay, node, wxpay, node... so both see the same
# load, and each checks that the record was printed. Prints the medians. On a loaded machine,
# wall time is mostly waiting for a CPU; the CPU time is what the process itself costs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-21}
WXPAY=${WXPAY:-${CARGO_TARGET_DIR:-target}/release/wxpay}
SANDBOX=${SANDBOX:-$WXPAY}
[ -x "$WXPAY" ] || { echo "cli-wall: build $WXPAY first (cargo build --release -p wxpay-cli)" >&2; exit 2; }
[ -d bench/node/node_modules/wechatpay-axios-plugin ] || { echo "cli-wall: run npm ci in bench/node first" >&2; exit 2; }

work=$(mktemp -d)
mkdir -m 700 "$work/keys"
"$SANDBOX" sandbox --listen 127.0.0.1:0 --keys-dir "$work/keys" >"$work/sandbox.env" 2>"$work/sandbox.err" &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q '^# demo' "$work/sandbox.env" 2>/dev/null && break; sleep 0.05; done
grep -q '^# demo' "$work/sandbox.env" || { cat "$work/sandbox.err" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
. <(grep '^WXPAY_' "$work/sandbox.env")
set +a
code=1234323JKHDFE1243252
service=500001

timed() { # name, command...: appends "wall_s max_rss_kb cpu_s" to $work/<name>
  local name=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$work/one" "$@" >"$work/out" 2>"$work/err" || {
    echo "cli-wall: $name failed:" >&2; cat "$work/out" "$work/err" >&2; exit 1; }
  grep -q "$code" "$work/out" || { echo "cli-wall: $name printed no record" >&2; exit 1; }
  awk '{printf "%s %s %.3f\n", $1, $2, ($3 + $4) * 1000}' "$work/one" >>"$work/$name"
}
# /usr/bin/time reports wall time in 10 ms steps; time each run with EPOCHREALTIME as well.
clock() { # name, command...
  local name=$1 start end; shift
  start=$EPOCHREALTIME
  timed "$name" "$@"
  end=$EPOCHREALTIME
  echo "$start $end" | awk '{printf "%.3f\n", ($2 - $1) * 1000}' >>"$work/$name.ms"
}

node_query() {
  (cd bench/node && BENCH_QUERIES=1 BENCH_WARMUPS=0 BENCH_SIGNS=0 BENCH_SIGN_MESSAGE=x \
    WXPAY_AUTHORIZATION_CODE=$code WXPAY_SERVICE_ID=$service node query.mjs)
}
export -f node_query; export code service

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# One untimed run each: page cache, the emulator's connection thread.
timed warm-wxpay "$WXPAY" permissions get --authorization-code "$code" --service-id "$service"
timed warm-node bash -c node_query
for _ in $(seq "$RUNS"); do
  clock wxpay "$WXPAY" permissions get --authorization-code "$code" --service-id "$service"
  clock node bash -c node_query
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall_by="EPOCHREALTIME around /usr/bin/time"
cpu_by=""
w=$(median <"$work/wxpay.ms"); n=$(median <"$work/node.ms")
if command -v hyperfine >/dev/null; then
  wall_by="hyperfine -N, 3 warm-up runs"
  (export BENCH_QUERIES=1 BENCH_WARMUPS=0 BENCH_SIGNS=0 BENCH_SIGN_MESSAGE=x \
     WXPAY_AUTHORIZATION_CODE=$code WXPAY_SERVICE_ID=$service
   hyperfine -N --style none -w 3 -r "$RUNS" --export-json "$work/hyperfine.json" \
     "$WXPAY permissions get --authorization-code $code --service-id $service" \
     "node bench/node/query.mjs" >/dev/null)
  read -r w n wc nc < <(python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))["results"]
print(" ".join(["%.3f" % (x["median"] * 1000) for x in r]
               + ["%.2f" % ((x["user"] + x["system"]) * 1000) for x in r]))' "$work/hyperfine.json")
  cpu_by="mean user + sys, hyperfine"
else
  wc=$(cut -d' ' -f3 "$work/wxpay" | median); nc=$(cut -d' ' -f3 "$work/node" | median)
  cpu_by="median user + sys, /usr/bin/time, 10 ms steps"
fi
load=$(cut -d' ' -f1-3 /proc/loadavg)
wr=$(cut -d' ' -f2 "$work/wxpay" | median); nr=$(cut -d' ' -f2 "$work/node" | median)
echo "cli-wall: $RUNS runs each; wall time by $wall_by; load average before: $load_before, after: $load"
echo "| client (one query per process, loopback emulator) | wall, median | CPU ($cpu_by) | max RSS, median |"
echo "|---|---|---|---|"
printf '| wxpay CLI (%s) | %s ms | %s ms | %.1f MiB |\n' "$WXPAY" "$w" "$wc" "$(echo "$wr / 1024" | bc -l)"
printf '| Node reference client (bench/node/query.mjs, 1 query) | %s ms | %s ms | %.1f MiB |\n' "$n" "$nc" "$(echo "$nr / 1024" | bc -l)"
printf 'wxpay / Node: wall time %.3f×, CPU time %.3f×\n' "$(echo "$w / $n" | bc -l)" "$(echo "$wc / $nc" | bc -l)"
