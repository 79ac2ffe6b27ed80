#!/usr/bin/env bash
# Firmware: build the Cortex-M4 example (nine variants), run each on QEMU mps2-an386 with
# semihosting, fail on any error, and print the size and instruction-count report. Also builds
# the core (software RSA included) and the embedded-io adapter for Cortex-M0+ and RISC-V, and
# links the no-allocator proof for all three targets.
# Installs what it needs on a fresh machine: qemu-system-arm and llvm (llvm-size, llvm-nm) by
# apt-get (and gcc-multilib, to run the RSA tests with 32-bit limbs on i686), the
# thumbv7em-none-eabihf, thumbv6m-none-eabi, riscv32imc-unknown-none-elf and
# i686-unknown-linux-gnu targets by rustup.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s (%ss)\n' "$*" "$SECONDS"; }

step "firmware: tools"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
missing=()
command -v qemu-system-arm >/dev/null || missing+=(qemu-system-arm)
command -v llvm-size >/dev/null || missing+=(llvm)
command -v python3 >/dev/null || missing+=(python3)
[ -e /usr/lib32/crtn.o ] || missing+=(gcc-multilib)
if [ "${#missing[@]}" -gt 0 ]; then
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
qemu-system-arm --version | head -1
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imc-unknown-none-elf i686-unknown-linux-gnu
# report.py decodes the defmt builds' output with defmt-print (about 4 minutes to build).
command -v defmt-print >/dev/null || cargo install defmt-print --version 1.2.0 --locked

step "firmware: format and clippy"
(
  cd firmware
  cargo fmt -- --check
  cargo clippy --release --locked --bin parse_only --bin calibrate -- -D warnings
  cargo clippy --release --locked --features rsa,callback --bins -- -D warnings
  cargo clippy --release --locked --features rsa,callback,defmt --bins -- -D warnings
  cargo clippy --release --locked --features rsa,callback,tls --bins -- -D warnings
)

step "core: the fixed-size RSA provider (rsa-fixed), with 64-bit and with 32-bit limbs"
cargo test --locked -p wxpay-core --features rsa-fixed --lib crypto::
# The same tests with 32-bit limbs (the firmware's word size): the Montgomery kernel and the
# exponentiations against crypto-bigint and the rsa crate, on i686.
cargo test --locked -p wxpay-core --features rsa-fixed --lib --target i686-unknown-linux-gnu crypto::
cargo clippy --locked -p wxpay-core --all-targets --features rsa-fixed -- -D warnings

step "firmware: core + embedded-io with software RSA for Cortex-M0+ and RISC-V"
for target in thumbv6m-none-eabi riscv32imc-unknown-none-elf; do
  cargo build --release --locked -p wxpay-core -p wxpay-embedded-io \
    --features wxpay-core/rsa-fixed,wxpay-core/callback --target "$target"
done

step "firmware: no-allocator link proof (Cortex-M4, Cortex-M0+, RISC-V)"
(
  cd tests/link-proof
  cargo clippy --release --locked -- -D warnings
  for target in thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imc-unknown-none-elf; do
    cargo build --release --locked --target "$target"
  done
)

step "firmware: build, run every variant on QEMU, report"
# Variant 9 (tls_query) runs inside the emulator's firmware_uart test, which report.py starts.
timeout 1800 python3 firmware/report.py --check

step "firmware: the query over UART0 to the emulator (QEMU -serial tcp:127.0.0.1:PORT), plain and in TLS 1.3"
# report.py built firmware/target/thumbv7em-none-eabihf/release/{uart_query,tls_query}. The TLS
# cases: the emulator's TLS listener with the test CA's certificate (the device must succeed),
# with a self-signed one and the plain port (the device must fail, no request getting through).
timeout 900 cargo test --locked -p wxpay-emulator --test firmware_uart -- --ignored
