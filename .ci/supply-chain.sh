#!/usr/bin/env bash
# Supply chain and MSRV. cargo-deny checks licenses, bans and sources offline (deny.toml);
# advisories stay with `cargo audit` in .ci/run. Then the published crates build with the
# declared rust-version. Installs cargo-deny and the MSRV toolchain on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }

step "cargo deny: licenses, bans, sources (offline)"
# A --locked install takes a few minutes once; ~/.cargo/bin keeps it for the next run.
command -v cargo-deny >/dev/null || cargo install cargo-deny --locked
cargo deny --offline check licenses bans sources

step "MSRV: the published crates with the declared rust-version"
msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
rustup toolchain list | grep -q "^$msrv" || rustup toolchain install "$msrv" --profile minimal
# Its own target dir: artifacts of another compiler cannot be shared anyway.
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/msrv" cargo "+$msrv" check \
  -p wxpay-core -p wxpay-ureq -p wxpay-embedded-io -p wxpay-aws-lc \
  -p wxpay-embedded-io-async -p wxpay-tokio \
  --features wxpay-core/rsa,wxpay-core/callback,wxpay-core/certificates,wxpay-core/rsa-fixed \
  --features wxpay-core/serde,wxpay-ureq/log,wxpay-embedded-io/log
