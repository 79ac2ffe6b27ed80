#!/usr/bin/env bash
# The WASM module (adapters/wasm): lint and build it for wasm32, check its size, and run the
# Node test against the emulator on 127.0.0.1. Called from .ci/run; runs alone as well.
# Needs rustup and Node 20+ (no npm packages: the test uses node:test, fetch and node:crypto).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown
# src/abi.rs (the only unsafe code) is compiled for wasm32 alone: lint it there.
cargo clippy -p wxpay-wasm --target wasm32-unknown-unknown -- -D warnings
cargo build -p wxpay-wasm --target wasm32-unknown-unknown --profile release-wasm
cargo build -p wxpay-cli # the test starts `target/debug/wxpay sandbox`

wasm=target/wasm32-unknown-unknown/release-wasm/wxpay_wasm.wasm
raw=$(wc -c <"$wasm")
gz=$(gzip -9 -c "$wasm" | wc -c)
echo "wxpay_wasm.wasm: $raw bytes raw, $gz bytes gzip -9"
# Budget: catches the two regressions seen so far (LTO lost to an rlib crate-type: 293 kB;
# relocations left uncompressed: 258 kB). Raise it in review when the module grows for a reason.
# Raised from 250 kB to 370 kB for the seven service-order calls (issue 14): 355,115 bytes raw,
# 135,392 gzip -9, against 259,167 / 103,338 with the permissions family alone.
budget=370000
if ((raw > budget)); then
  echo "wxpay_wasm.wasm is $raw bytes, over the budget of $budget (README, WASM)" >&2
  exit 1
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "the WASM test needs Node 20 or later, found $(node --version)" >&2
  exit 1
fi
node --test adapters/wasm/js/loader.test.mjs adapters/wasm/js/test.mjs
