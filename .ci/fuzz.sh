#!/usr/bin/env bash
# CI fuzz step (issue 4): build every cargo-fuzz target and run each for a bounded time on
# stable (`--sanitizer none`). A crash fails the run; libFuzzer leaves its input in
# fuzz/artifacts/<target>/, to be fixed and committed as a regression file (README, Fuzzing).
# FUZZ_SECONDS (default 30) sets the time per target. New inputs go to a scratch directory,
# so the committed corpus is only read.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-30}"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build --sanitizer none

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
targets="$(cargo fuzz list)"
[ -n "$targets" ] || { echo "no fuzz targets" >&2; exit 1; }
for target in $targets; do
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  if ! cargo fuzz run "$target" --sanitizer none "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target FAILED (input saved under fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  printf '%-24s %s\n' "$target" "$(grep -E '^Done [0-9]+ runs' "$log")"
done
