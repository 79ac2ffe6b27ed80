#!/usr/bin/env bash
# A fresh `git clone` of this repository (HEAD, committed files only) in a temp dir with nothing
# beside it (no ../shared), then the README's test command there. Proves the tests are
# self-contained; then the README's main command. The build reuses this checkout's target dir (CARGO_TARGET_DIR) to save time.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$repo" "$tmp/wxpay"
cd "$tmp/wxpay"
test ! -e ../shared
cargo test --workspace
out=$(cargo run -q -p wxpay-cli -- --sandbox permissions get --authorization-code 1234323JKHDFE1243252 --service-id 500001)
grep -q '"authorization_code":"1234323JKHDFE1243252"' <<<"$out"
