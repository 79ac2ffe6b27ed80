#!/usr/bin/env python3
"""Builds the firmware variants, runs each on QEMU (mps2-an386, Cortex-M4, -icount shift=0)
and writes the size and instruction-count report.

    python3 firmware/report.py            # regenerate FIRMWARE.md
    python3 firmware/report.py --check    # build, run, print the tables; write nothing (CI)

Needs: the thumbv7em-none-eabihf target, qemu-system-arm and llvm-size (Debian: llvm). Variant 9
(`tls_query`) runs inside the emulator's `firmware_uart` test, which this script starts (cargo).
Any failed run, or a miss of a target marked as a CI budget, exits non-zero.
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGET = os.path.join(HERE, "target", "thumbv7em-none-eabihf", "release")
QEMU = [
    "qemu-system-arm", "-machine", "mps2-an386", "-cpu", "cortex-m4", "-nographic",
    "-monitor", "none", "-serial", "none",
    "-semihosting-config", "enable=on,target=native", "-icount", "shift=0", "-kernel",
]
QEMU_TIMEOUT_SECS = 120

# (bin, cargo features, what it is)
VARIANTS = [
    ("parse_only", [], "1. parse only"),
    ("verify_parse", ["rsa"], "2. verify + parse"),
    ("full_rsa", ["rsa"], "3. full client, software RSA sign + verify"),
    ("full_se", ["rsa"], "4. full client, secure-element signer"),
    ("full_se_family", ["rsa"], "5. = 4 + the rest of the permissions family"),
    ("callback", ["rsa", "callback"], "6. callback: verify + decrypt + parse"),
    ("serviceorder", ["rsa", "callback"],
     "8. service order: complete (`CompleteOrder<4, 2>`) + `USER_PAID` callback, "
     "secure-element signer"),
]

# Variant 7 (`uart_query`) is built and sized here but runs in the emulator's `firmware_uart`
# test against a live emulator (its REPORT lines give its stack; instructions are not counted:
# they would include the polling of the UART). Its row follows this variant's in the table.
UART_AFTER = "callback"
UART_TEST = ["cargo", "test", "--locked", "-p", "wxpay-emulator", "--test", "firmware_uart", "--",
             "--ignored", "--nocapture", "--exact", "firmware_queries_the_emulator_over_uart"]

# Variant 9 (`tls_query`): variant 7 inside TLS 1.3 (embedded-tls). It needs the emulator's TLS
# listener, so it runs in the emulator's `firmware_uart` test, which this script starts with the
# ELF built here; the test prints the firmware's REPORT lines (instructions without the UART
# polling, stack).
TLS_TEST = ["cargo", "test", "--locked", "-p", "wxpay-emulator", "--test", "firmware_uart", "--",
            "--ignored", "--nocapture", "--exact", "firmware_queries_the_emulator_inside_tls"]
TLS_TIMEOUT_SECS = 1800
# embedded-tls's record buffers in the TLS variant (firmware/src/tls.rs).
TLS_BUFFERS = 16_640 + 4_096

# Variants measuring the authorization-record query, which the query's targets are about.
QUERY_VARIANTS = ["parse_only", "verify_parse", "full_rsa", "full_se", "full_se_family", "callback"]

# What a feature adds: (feature, variant with it, variant without it, what the two share)
FEATURES = [
    ("permissions family: pre-authorise, query by openid, terminate by code and by openid",
     "full_se_family", "full_se", "variant 5 − variant 4"),
    ("callback: envelope, base64, AES-256-GCM, event (instead of the record parser)",
     "callback", "verify_parse", "variant 6 − variant 2"),
    ("service orders: complete (`CompleteOrder<4, 2>` → `ServiceOrder<4, 2>`), the `USER_PAID` "
     "callback and its order (instead of the record query)",
     "serviceorder", "full_se", "variant 8 − variant 4"),
]

# Further calls measured whole: (key, label)
CALLS = [
    ("pre_authorize", "pre-authorise → token"),
    ("by_openid", "query by openid → record"),
    ("terminate_by_code", "terminate by code → 204"),
    ("terminate_by_openid", "terminate by openid → 204"),
    ("aes_gcm", "AES-256-GCM decrypt alone (the callback's resource)"),
    ("user_paid", "`USER_PAID` callback: verify, decrypt, `order_into` (`ServiceOrder<4, 2>`)"),
]

PHASES = [
    ("target", "target build"),
    ("hash", "nonce + request hash"),
    ("sign", "sign (RSA-2048, or the secure-element stub)"),
    ("header", "`Authorization` header (base64, format)"),
    ("http", "HTTP/1.1 write + read"),
    ("verify", "verify: headers, base64, response hash"),
    ("rsa_verify", "RSA-2048 verify"),
    ("parse", "parse"),
    ("decrypt", "callback: envelope, base64, AES-256-GCM, event"),
]

KIB = 1024


def run(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def build():
    """Variant 1 is built without the `rsa` feature; the others with it (wxpay-core's
    fixed-size `rsa-fixed` provider). Each ELF is copied aside, since the builds write the same
    output directory."""
    out = os.path.join(HERE, "target", "variants")
    os.makedirs(out, exist_ok=True)
    elves = {}
    groups = [
        ([], ["parse_only", "calibrate"]),
        (["rsa"], ["verify_parse", "full_rsa", "full_se", "full_se_family", "uart_query"]),
        (["rsa", "callback"], ["callback", "serviceorder"]),
        (["tls"], ["tls_query"]),
    ]
    for features, bins in groups:
        cmd = ["cargo", "build", "--release", "--locked"]
        if features:
            cmd += ["--features", ",".join(features)]
        for b in bins:
            cmd += ["--bin", b]
        # The ELFs are read from firmware/target: a CARGO_TARGET_DIR from the environment
        # (the workspace's build setups export one) would put the builds elsewhere and leave
        # stale or missing files here.
        env = {k: v for k, v in os.environ.items() if k != "CARGO_TARGET_DIR"}
        run(cmd, cwd=HERE, env=env)
        for b in bins:
            elves[b] = os.path.join(out, b)
            shutil.copyfile(os.path.join(TARGET, b), elves[b])
    return elves


COMPACT_BINS = ["full_rsa", "full_se"]
COMPACT_CFG = 'sha2_backend_soft="compact"'


def build_compact():
    """Variants 3 and 4 again with sha2's compact software SHA-256 (a rolled loop instead of
    the unrolled rounds), in a target directory of their own."""
    out = os.path.join(HERE, "target", "compact")
    env = dict(os.environ, CARGO_TARGET_DIR=out,
               RUSTFLAGS=f"-C link-arg=-Tlink.x --cfg {COMPACT_CFG}")
    cmd = ["cargo", "build", "--release", "--locked", "--features", "rsa"]
    for b in COMPACT_BINS:
        cmd += ["--bin", b]
    run(cmd, cwd=HERE, env=env)
    return {b: os.path.join(out, "thumbv7em-none-eabihf", "release", b) for b in COMPACT_BINS}


DEFMT_BINS = ["full_rsa", "full_se", "full_se_family"]


def build_defmt():
    """Variants 3 to 5 again with the firmware's output as defmt frames instead of
    `core::fmt` text (feature `defmt`), in a target directory of their own."""
    out = os.path.join(HERE, "target", "defmt")
    env = dict(os.environ, CARGO_TARGET_DIR=out,
               RUSTFLAGS="-C link-arg=-Tlink.x -C link-arg=-Tdefmt.x")
    cmd = ["cargo", "build", "--release", "--locked", "--features", "rsa,defmt"]
    for b in DEFMT_BINS:
        cmd += ["--bin", b]
    run(cmd, cwd=HERE, env=env)
    return {b: os.path.join(out, "thumbv7em-none-eabihf", "release", b) for b in DEFMT_BINS}


def qemu_defmt(elf):
    """Runs a defmt build and decodes its semihosting output with `defmt-print` (the frames
    need the ELF's string table)."""
    proc = subprocess.run(QEMU + [elf], capture_output=True, timeout=QEMU_TIMEOUT_SECS)
    decoded = subprocess.run(["defmt-print", "-e", elf], input=proc.stdout,
                             capture_output=True, timeout=QEMU_TIMEOUT_SECS)
    text = decoded.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    return proc.returncode, text


def qemu(elf):
    proc = subprocess.run(QEMU + [elf], capture_output=True, text=True, timeout=QEMU_TIMEOUT_SECS)
    return proc.returncode, proc.stdout + proc.stderr


def wire_run(test, variable, elf):
    """Runs a wire variant (`uart_query`, `tls_query`) in the emulator's test `test`, with the
    ELF in the environment variable `variable` (the host build uses the environment's
    CARGO_TARGET_DIR, if any)."""
    env = dict(os.environ, **{variable: elf})
    print("+", " ".join(test), flush=True)
    proc = subprocess.run(test, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=TLS_TIMEOUT_SECS)
    return proc.returncode, proc.stdout + proc.stderr


def tls_run(elf):
    """Runs the TLS variant against the emulator's TLS listener."""
    return wire_run(TLS_TEST, "WXPAY_FIRMWARE_TLS_ELF", elf)


def sections(elf):
    text = subprocess.run(["llvm-size", "-A", "-d", elf], check=True, capture_output=True,
                          text=True).stdout
    sizes = {}
    for line in text.splitlines():
        m = re.match(r"^(\.\S+)\s+(\d+)\s+\d+", line)
        if m:
            sizes[m.group(1)] = int(m.group(2))
    return sizes


def allocator_symbols(elf):
    """Symbols of a global allocator: none may be linked (nothing here has a heap)."""
    text = subprocess.run(["llvm-nm", "--demangle", elf], check=True, capture_output=True,
                          text=True).stdout
    return [line.split()[-1] for line in text.splitlines()
            if re.search(r"__rust_alloc|__rg_alloc|__rust_no_alloc_shim|GlobalAlloc", line)]


def parse_report(output):
    values = {}
    for line in output.splitlines():
        if line.startswith("REPORT "):
            for pair in line[len("REPORT "):].split():
                key, value = pair.split("=", 1)
                values[key] = int(value)
    return values


def kib(n):
    return f"{n / KIB:.1f} KiB"


def num(n):
    return f"{n:,}"


def signed_bytes(n):
    return f"{'+' if n >= 0 else '−'}{abs(n):,} B"


def signed_kib(n):
    return f"{'+' if n >= 0 else '−'}{abs(n) / KIB:.1f} KiB"


def main():
    check = "--check" in sys.argv[1:]
    elves = build()

    code, output = qemu(elves["calibrate"])
    print(output.strip())
    if code != 0:
        sys.exit("calibration failed: the instruction counts cannot be trusted")

    compact = {}
    for name, elf in build_compact().items():
        code, output = qemu(elf)
        print(f"--- {name}, compact SHA-256 (exit {code})\n{output.strip()}")
        if code != 0:
            sys.exit(f"{name} (compact SHA-256) failed on QEMU (exit {code})")
        sizes = sections(elf)
        flash = sum(sizes.get(s, 0) for s in (".vector_table", ".text", ".rodata", ".data"))
        compact[name] = dict(flash=flash, report=parse_report(output))

    defmt = {}
    for name, elf in build_defmt().items():
        code, output = qemu_defmt(elf)
        print(f"--- {name}, defmt (exit {code})\n{output.strip()}")
        if code != 0 or "OK" not in output.splitlines():
            sys.exit(f"{name} (defmt) failed on QEMU (exit {code})")
        sizes = sections(elf)
        flash = sum(sizes.get(s, 0) for s in (".vector_table", ".text", ".rodata", ".data"))
        defmt[name] = dict(flash=flash, report=parse_report(output))

    results = {}
    for name, _, _ in VARIANTS:
        code, output = qemu(elves[name])
        print(f"--- {name} (exit {code})\n{output.strip()}")
        if code != 0:
            sys.exit(f"{name} failed on QEMU (exit {code})")
        sizes = sections(elves[name])
        report = parse_report(output)
        flash = sum(sizes.get(s, 0) for s in (".vector_table", ".text", ".rodata", ".data"))
        ram = sum(sizes.get(s, 0) for s in (".data", ".bss", ".uninit"))
        allocator = allocator_symbols(elves[name])
        if allocator:
            sys.exit(f"{name} links an allocator: {allocator[:3]}")
        results[name] = dict(sizes=sizes, report=report, flash=flash, ram=ram)
    for name in ("uart_query", "tls_query"):
        allocator = allocator_symbols(elves[name])
        if allocator:
            sys.exit(f"{name} links an allocator: {allocator[:3]}")

    code, output = wire_run(UART_TEST, "WXPAY_FIRMWARE_UART_ELF", elves["uart_query"])
    print(f"--- uart_query against the emulator (exit {code})\n"
          + "\n".join(l for l in output.splitlines() if l.startswith(("REPORT", "OK", "FAILED",
                                                                        "uart:", "test "))))
    if code != 0:
        print(output)
        sys.exit("uart_query failed against the emulator")
    uart_report = parse_report(output)

    code, output = tls_run(elves["tls_query"])
    print(f"--- tls_query against the emulator's TLS listener (exit {code})\n"
          + "\n".join(l for l in output.splitlines() if l.startswith(("REPORT", "TLS", "OK", "FAILED",
                                                                        "uart:", "test "))))
    if code != 0:
        print(output)
        sys.exit("tls_query failed against the emulator's TLS listener")
    tls_report = parse_report(output)

    lines = []
    add = lines.append
    add("# Firmware sizes and instruction counts")
    add("")
    add("Generated by `python3 firmware/report.py` (run it from the repository root after a change;")
    add("`.ci/firmware.sh` runs it with `--check`). Target `thumbv7em-none-eabihf`, `opt-level = \"s\"`,")
    add("LTO, one codegen unit, `panic = \"abort\"`; run on QEMU `mps2-an386` (Cortex-M4) with")
    add("`-icount shift=0`. Sources: `firmware/` (variants in `firmware/src/bin/`).")
    add("")
    add("## Flash and RAM")
    add("")
    add("| variant | flash | .text | .rodata | .bss + .data | stack high-water | of which outside RSA (query) |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    uart = sections(elves["uart_query"])
    uart_flash = sum(uart.get(x, 0) for x in (".vector_table", ".text", ".rodata", ".data"))
    uart_ram = sum(uart.get(x, 0) for x in (".data", ".bss", ".uninit"))
    tls = sections(elves["tls_query"])
    tls_flash = sum(tls.get(x, 0) for x in (".vector_table", ".text", ".rodata", ".data"))
    tls_ram = sum(tls.get(x, 0) for x in (".data", ".bss", ".uninit"))
    for name, _, title in VARIANTS:
        r = results[name]
        s, rep = r["sizes"], r["report"]
        add(f"| {title} | **{kib(r['flash'])}** | {kib(s.get('.text', 0))} | {kib(s.get('.rodata', 0))} "
            f"| {kib(r['ram'])} | **{num(rep['stack'])} B** | {num(rep['stack_outside_rsa'])} B |")
        if name == UART_AFTER:
            add(f"| 7. full client over UART0 to the emulator (no fixture) | **{kib(uart_flash)}** "
                f"| {kib(uart.get('.text', 0))} | {kib(uart.get('.rodata', 0))} | {kib(uart_ram)} "
                f"| **{num(uart_report['stack'])} B** | {num(uart_report['stack_query_outside_rsa'])} B |")
    add(f"| 9. = 7 inside TLS 1.3 (embedded-tls; server certificate checked against a CA) "
        f"| **{kib(tls_flash)}** | {kib(tls.get('.text', 0))} | {kib(tls.get('.rodata', 0))} "
        f"| {kib(tls_ram)} | **{num(tls_report['stack'])} B** "
        f"| {num(max(tls_report['stack_handshake'], tls_report['stack_query_outside_rsa']))} B |")
    add("")
    add("- flash = `.vector_table + .text + .rodata + .data` (from `llvm-size -A`); RAM = `.bss + .data`,")
    add("  which holds the 2 KiB scratch and 2 KiB body buffers and the keys, loaded once into statics")
    add("  (0.8 KiB for the platform key, 2 KiB for the merchant key).")
    add("- RSA is wxpay-core's `rsa-fixed` provider (crypto-bigint `U2048`/`U1024` Montgomery")
    add("  arithmetic); the keys are provisioned as raw components, so no DER parser is linked.")
    add("- Stack high-water: the stack is painted at boot and repainted at every phase boundary; the")
    add("  deepest word touched anywhere in the run (setup and key loading included) counts.")
    add("  Variants 7 and 9 make their query in one client call over a wire: their signer and verifier")
    add("  are wrapped so that each RSA operation closes the stretch outside RSA and the stack is")
    add("  repainted after it (`firmware/src/split.rs`); variant 9's figure outside RSA is the larger")
    add("  of its handshake's and its query's.")
    add("- No variant links an allocator: the firmware has no `#[global_allocator]`, so anything that")
    add("  allocates fails to link, and `report.py` also fails if an allocator symbol shows up")
    add("  (`llvm-nm`). The link proof (`tests/link-proof/`) links the whole client, software RSA")
    add("  included, over the embedded-io transport the same way.")
    add("")
    add("## Instructions per phase of one query")
    add("")
    add("SysTick runs from the board's 25 MHz clock and `-icount shift=0` makes each instruction")
    add("1 ns of virtual time, so one tick is exactly 40 instructions; every count below is exact")
    add("to that granularity and repeats run after run (`calibrate` checks a 2,000,000-instruction")
    add("loop first).")
    add("")
    cols = [n for n, _, _ in VARIANTS][::-1]
    add("| phase | " + " | ".join(f"`{c}`" for c in cols) + " |")
    add("|---|" + "---:|" * len(cols))
    for key, label in PHASES:
        cells = []
        for c in cols:
            rep = results[c]["report"]
            if f"phase.{key}" in rep:
                cells.append(num(rep[f"phase.{key}"]))
            else:
                cells.append("")
        add(f"| {label} | " + " | ".join(cells) + " |")
    add("| **total** | " + " | ".join(num(results[c]["report"]["total"]) for c in cols) + " |")
    add("| **outside RSA** | " + " | ".join(
        f"**{num(results[c]['report']['outside_rsa'])}**" for c in cols) + " |")
    add("| stack, outside RSA | " + " | ".join(
        f"{num(results[c]['report']['stack_outside_rsa'])} B" for c in cols) + " |")
    add("")
    add("`full_se_family` runs its four family calls first (below) and the query by code last, so")
    add("its column is the same query as `full_se`'s; `callback`'s last row is everything after the")
    add("RSA verification (`wxpay_core::callback::verify_and_decrypt` is one call).")
    add("`serviceorder`'s column is the service-order `complete` call (target, the")
    add("`CompleteOrder<4, 2>` body and its fee check, the `ServiceOrder<4, 2>` answer parsed")
    add("and bound to the request); its `USER_PAID` callback is measured whole below.")
    add("")

    add("## SHA-256: sha2's compact software backend")
    add("")
    add(f"Variants 3 and 4 built again with `--cfg {COMPACT_CFG}` (rolled rounds instead of")
    add("the unrolled ones) and run the same way; the tables above use the default backend.")
    add("")
    add("| variant | flash | compact | saved | outside RSA | compact | added |")
    add("|---|---:|---:|---:|---:|---:|---:|")
    for name in COMPACT_BINS:
        base, small = results[name], compact[name]
        title = next(t for n, _, t in VARIANTS if n == name)
        add(f"| {title} | {kib(base['flash'])} | **{kib(small['flash'])}** "
            f"| {signed_kib(small['flash'] - base['flash'])} | {num(base['report']['outside_rsa'])} "
            f"| **{num(small['report']['outside_rsa'])}** "
            f"| +{num(small['report']['outside_rsa'] - base['report']['outside_rsa'])} |")
    add("")

    add("## The firmware's output: defmt instead of `core::fmt`")
    add("")
    add("Variants 3 to 5 built again with the firmware's feature `defmt`: every line the firmware")
    add("prints (the record, errors, the report) is a defmt frame over semihosting, decoded on")
    add("the host by `defmt-print -e <elf>`, instead of text formatted on the device. The run")
    add("and its checks are the same (the decoded output must end in `OK`). What remains of")
    add("`core::fmt` is what the libraries use themselves.")
    add("")
    add("| variant | flash | with defmt | saved | outside RSA | with defmt |")
    add("|---|---:|---:|---:|---:|---:|")
    for name in DEFMT_BINS:
        base, small = results[name], defmt[name]
        title = next(t for n, _, t in VARIANTS if n == name)
        add(f"| {title} | {kib(base['flash'])} | **{kib(small['flash'])}** "
            f"| {signed_kib(small['flash'] - base['flash'])} "
            f"({signed_bytes(small['flash'] - base['flash'])}) "
            f"| {num(base['report']['outside_rsa'])} | {num(small['report']['outside_rsa'])} |")
    add("")

    add("## TLS 1.3 over UART0 (variant 9)")
    add("")
    add("`tls_query` runs variant 7's query inside TLS 1.3 with `embedded-tls` 0.19 (no allocator):")
    add("P-256 ECDHE, `TLS_AES_128_GCM_SHA256`. The firmware's own verifier (`firmware/src/tls.rs`,")
    add("`der`'s reader and `p256`) checks that the server sends one certificate, signed (ECDSA P-256)")
    add("by the test CA the device carries, within its dates at the host's time, naming `localhost`,")
    add("not a CA, and that the handshake's `CertificateVerify` is signed by its key.")
    add("Randomness: seeds from the host's `/dev/urandom` (semihosting) for three")
    add("ChaCha20 streams (key share, request nonces, RSA blinding). The emulator's rustls listener")
    add("(`Server::start_tls`) serves it; `report.py` runs the emulator's `firmware_uart` test for")
    add("the counts, which leave out the instructions spent polling the UART for the peer (they")
    add("vary by about 0.5 % run to run: the key share is random).")
    add("")
    add("| | variant 7 (plain) | variant 9 (TLS) | TLS adds |")
    add("|---|---:|---:|---:|")
    add(f"| flash | {kib(uart_flash)} | **{kib(tls_flash)}** | **{signed_kib(tls_flash - uart_flash)}** |")
    add(f"| .text | {kib(uart.get('.text', 0))} | {kib(tls.get('.text', 0))} "
        f"| {signed_kib(tls.get('.text', 0) - uart.get('.text', 0))} |")
    add(f"| .rodata | {kib(uart.get('.rodata', 0))} | {kib(tls.get('.rodata', 0))} "
        f"| {signed_kib(tls.get('.rodata', 0) - uart.get('.rodata', 0))} |")
    add(f"| RAM (.bss + .data) | {kib(uart_ram)} | **{kib(tls_ram)}** "
        f"| **{signed_kib(tls_ram - uart_ram)}** (record buffers: {num(TLS_BUFFERS)} B) |")
    add(f"| stack high-water: setup (entropy, loading the RSA key) | | {num(tls_report['stack_setup'])} B | |")
    add(f"| stack high-water: the TLS handshake (no RSA in it) | | **{num(tls_report['stack_handshake'])} B** | |")
    add(f"| stack high-water: the query inside TLS (RSA signing included) | | {num(tls_report['stack_query'])} B | |")
    add(f"| stack high-water: the query inside TLS, outside its RSA sign and verify | "
        f"| **{num(tls_report['stack_query_outside_rsa'])} B** | |")
    add(f"| instructions: TLS handshake | | **{num(tls_report['tls_handshake'])}** | |")
    add(f"| instructions: the query inside TLS (sign, write, read, verify, parse) | "
        f"| **{num(tls_report['tls_query'])}** | |")
    add("")
    add(f"For comparison, variant 3's same query over the in-memory stream takes")
    add(f"{num(results['full_rsa']['report']['total'])} instructions. The read buffer holds a whole "
        "TLS record (16 KiB of")
    add("plaintext), as a server need not agree to smaller records.")
    add("")

    add("## What the newer features add")
    add("")
    add("Differences between two variants built and measured in the same run. The fixture (the")
    add("prepared responses and the requests the in-memory stream compares against, or the")
    add("callback) is data a real device would not carry; each variant reports its size, and it")
    add("is taken out in the \"code\" column.")
    add("")
    add("| feature | variants | flash added | of which fixture | code and constants | .text | RAM (.bss + .data) | stack high-water |")
    add("|---|---|---:|---:|---:|---:|---:|---:|")
    for feature, a, b, what in FEATURES:
        ra, rb = results[a], results[b]
        flash = ra["flash"] - rb["flash"]
        fixture = ra["report"]["fixture"] - rb["report"]["fixture"]
        text = ra["sizes"].get(".text", 0) - rb["sizes"].get(".text", 0)
        ram = ra["ram"] - rb["ram"]
        add(f"| {feature} | {what} | **{signed_kib(flash)}** | {signed_kib(fixture)} "
            f"| **{signed_kib(flash - fixture)}** | {signed_kib(text)} | {num(ram)} B "
            f"| {num(ra['report']['stack'])} B (was {num(rb['report']['stack'])} B) |")
    add("")
    add("Each further call measured whole (SE signer stub, RSA-2048 verify of the response):")
    add("")
    add("| call | variant | instructions | outside RSA | stack |")
    add("|---|---|---:|---:|---:|")
    for key, label in CALLS:
        for name, _, _ in VARIANTS:
            rep = results[name]["report"]
            if f"call.{key}.total" in rep:
                add(f"| {label} | `{name}` | {num(rep[f'call.{key}.total'])} "
                    f"| **{num(rep[f'call.{key}.outside_rsa'])}** "
                    f"| {num(rep[f'call.{key}.stack'])} B |")
    cb = results["callback"]["report"]
    add(f"| whole callback: verify, decrypt, parse | `callback` | {num(cb['total'])} "
        f"| **{num(cb['outside_rsa'])}** | {num(cb['stack'])} B |")
    so = results["serviceorder"]["report"]
    add(f"| service-order complete → order (`CompleteOrder<4, 2>`) | `serviceorder` "
        f"| {num(so['total'])} | **{num(so['outside_rsa'])}** "
        f"| {num(max(so['stack_outside_rsa'], so['stack_rsa']))} B |")
    add("")
    add(f"`size_of` on thumbv7em (printed by `serviceorder`): `ServiceOrder<4, 2>` "
        f"{num(so['size.service_order'])} B, `CompleteOrder<4, 2>` {num(so['size.complete_order'])} B.")
    add("")

    full, se = results["full_rsa"], results["full_se"]
    rsa_variants = [r for n, r in results.items() if "phase.rsa_verify" in r["report"]]
    query = [results[n] for n in QUERY_VARIANTS]
    # Variants 1–6 and variant 7 (the same query over UART0, measured in the emulator's test).
    stack_max = max([r["report"]["stack"] for r in query] + [uart_report["stack"]])
    stack_out = max([r["report"]["stack_outside_rsa"] for r in query]
                    + [uart_report["stack_query_outside_rsa"]])
    orders = results["serviceorder"]
    verify_max = max(r["report"]["phase.rsa_verify"] for r in rsa_variants)
    sign = full["report"]["phase.sign"]
    outside = max(full["report"]["outside_rsa"], se["report"]["outside_rsa"])
    targets = [
        ("No variant links an allocator", "none", "none (checked with `llvm-nm`)", True),
        ("Full client, software sign + verify (variant 3) flash", "≤ 80 KiB",
         f"{kib(full['flash'])} (compact SHA-256: {kib(compact['full_rsa']['flash'])})",
         full["flash"] <= 80 * KIB),
        ("Secure-element variant (4) flash", "≤ 56 KiB",
         f"{kib(se['flash'])} (compact SHA-256: {kib(compact['full_se']['flash'])})",
         se["flash"] <= 56 * KIB),
        ("Stack outside RSA (variants 1–7, the query)", "≤ 8 KiB", f"{num(stack_out)} B",
         stack_out <= 8 * KIB),
        ("Stack including RSA and setup (variants 1–7)", "≤ 12 KiB", f"{num(stack_max)} B",
         stack_max <= 12 * KIB),
        ("Stack of complete + `USER_PAID` (variant 8; issue 14: reasonable for 64 KiB RAM)",
         "≤ 12 KiB, as the query", f"{num(orders['report']['stack'])} B",
         orders["report"]["stack"] <= 12 * KIB),
        ("Stack of the TLS variant (9), setup, handshake and query", "≤ 12 KiB, as every variant",
         f"{num(tls_report['stack'])} B (setup {num(tls_report['stack_setup'])} B, "
         f"the query inside TLS {num(tls_report['stack_query'])} B)",
         tls_report["stack"] <= 12 * KIB),
        ("Stack of the TLS variant (9) outside RSA: the handshake, and the query outside its "
         "sign and verify", "≤ 8 KiB, as every variant",
         f"{num(tls_report['stack_handshake'])} B and {num(tls_report['stack_query_outside_rsa'])} B",
         max(tls_report["stack_handshake"], tls_report["stack_query_outside_rsa"]) <= 8 * KIB),
        ("RSA-2048 verify (slowest variant)", "≤ 1,400,000", num(verify_max), verify_max <= 1_400_000),
        ("RSA-2048 sign, blinded (variant 3)", "≤ 50,000,000", num(sign), sign <= 50_000_000),
        ("Work per request outside RSA (variants 3 and 4)", "≤ 100,000",
         f"{num(outside)} (compact SHA-256: "
         f"{num(max(c['report']['outside_rsa'] for c in compact.values()))})",
         outside <= 100_000),
    ]
    add("## Targets")
    add("")
    add("| target | goal | measured | |")
    add("|---|---|---|---|")
    for what, goal, got, met in targets:
        add(f"| {what} | {goal} | {got} | {'met' if met else '**missed**'} |")
    add("")

    text = "\n".join(lines) + "\n"
    print(text)
    if check:
        return
    notes_marker = "<!-- notes -->"
    path = os.path.join(ROOT, "FIRMWARE.md")
    notes = ""
    if os.path.exists(path):
        old = open(path, encoding="utf-8").read()
        if notes_marker in old:
            notes = old[old.index(notes_marker):]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + ("\n" + notes if notes else ""))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
