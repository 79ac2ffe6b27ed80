#!/usr/bin/env bash
# Docs: every crate's rustdoc without a warning (broken links included), and the published
# crates as docs.rs builds them (nightly, --cfg docsrs: the feature badges from doc(cfg)).
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
# The features of [package.metadata.docs.rs] in each crate's Cargo.toml (log and defmt
# exclude each other, so not --all-features).
RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo +nightly doc --no-deps \
  -p wxpay-core -p wxpay-ureq -p wxpay-embedded-io -p wxpay-aws-lc \
  -p wxpay-embedded-io-async -p wxpay-tokio \
  --features wxpay-core/rsa,wxpay-core/callback,wxpay-core/defmt,wxpay-embedded-io/defmt \
  --features wxpay-core/certificates,wxpay-core/rsa-fixed,wxpay-core/serde
