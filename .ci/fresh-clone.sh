#!/usr/bin/env bash
# A fresh `git clone` of this repository (HEAD, committed files only) in a temp dir with nothing
# beside it (no ../shared), then the README's test command there. Proves the tests are
# self-contained; then the README's main command. It builds in a target dir of its own
# (target/fresh-clone): cargo names workspace artifacts by their path relative to the
# workspace, so a shared dir would hand this checkout test binaries whose CARGO_MANIFEST_DIR
# points into the deleted clone.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}/fresh-clone
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone -q "$repo" "$tmp/wxpay"
cd "$tmp/wxpay"
test ! -e ../shared
cargo test --workspace
out=$(cargo run -q -p wxpay-cli -- --sandbox permissions get --authorization-code 1234323JKHDFE1243252 --service-id 500001)
grep -q '"authorization_code":"1234323JKHDFE1243252"' <<<"$out"
