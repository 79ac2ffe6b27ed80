#!/usr/bin/env bash
# Every published crate packages and its package builds on its own (cargo package verifies by
# compiling the unpacked .crate). The four are packaged in one call: wxpay-ureq, -embedded-io
# and -aws-lc depend on a wxpay-core version that is not on crates.io yet, and cargo (>= 1.90)
# resolves sibling crates of the same call from the packages it just made. Needs the crates.io
# index for the other dependencies. Needs a clean tree (no --allow-dirty): what is checked is
# what is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo unpacks those sibling packages under $CARGO_HOME/registry/src/-<hash>/ and reuses an
# earlier unpacking of the same version, so a second run would verify against the stale
# first one (seen with cargo 1.95): remove them first.
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/wxpay-* "${CARGO_TARGET_DIR:-target}/package"
# Verification builds the sibling packages as registry crates, which cargo never rebuilds for
# the same version: drop earlier builds of wxpay-* so this run verifies against this tree.
rm -rf "${CARGO_TARGET_DIR:-target}"/debug/.fingerprint/wxpay-* \
  "${CARGO_TARGET_DIR:-target}"/debug/deps/libwxpay_* "${CARGO_TARGET_DIR:-target}"/debug/deps/wxpay_*
cargo package -p wxpay-core -p wxpay-aws-lc -p wxpay-ureq -p wxpay-embedded-io \
  -p wxpay-embedded-io-async -p wxpay-tokio
for crate in wxpay-core wxpay-ureq wxpay-embedded-io wxpay-aws-lc wxpay-embedded-io-async wxpay-tokio; do
  files=$(cargo package -q -l --allow-dirty -p "$crate")
  for need in README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE; do
    grep -qx "$need" <<<"$files" || { echo "$crate: $need missing from the package" >&2; exit 1; }
  done
done
