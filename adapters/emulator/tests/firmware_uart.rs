//! The firmware's UART variant (`firmware/src/bin/uart_query.rs`) on QEMU against this
//! emulator: QEMU connects the board's UART0 to the emulator's listener
//! (`-serial tcp:127.0.0.1:PORT`), and the device signs, sends, reads, verifies and parses
//! over that byte stream.
//!
//! Needs `qemu-system-arm` and the ELF, so it is ignored by default; `.ci/firmware.sh` builds
//! the ELF and runs it with `cargo test -p wxpay-emulator --test firmware_uart -- --ignored`.
//! `WXPAY_FIRMWARE_UART_ELF` overrides the ELF's path.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, demo};

/// The firmware's authorization code (`firmware/src/params.rs`): `|` and `*` cross the wire
/// percent-encoded.
const FIRMWARE_CODE: &str = "1234323JKHDFE|1243252*";
/// The target the device must request.
const FIRMWARE_TARGET: &str =
    "/v3/payscore/permissions/authorization-code/1234323JKHDFE%7C1243252%2A?service_id=500001";
/// QEMU is killed after this long (a watchdog against a hang, not a timing check).
const WATCHDOG: Duration = Duration::from_secs(600);

#[test]
#[ignore = "needs qemu-system-arm and the firmware's uart_query ELF; run by .ci/firmware.sh"]
fn firmware_queries_the_emulator_over_uart() {
    let elf = std::env::var("WXPAY_FIRMWARE_UART_ELF").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../firmware/target/thumbv7em-none-eabihf/release/uart_query"
        )
        .to_owned()
    });
    assert!(
        std::path::Path::new(&elf).exists(),
        "{elf}: build it with `cd firmware && cargo build --release --features rsa --bin uart_query`"
    );
    let emulator = Arc::new(Emulator::demo());
    let mut record = emulator
        .record(demo::AUTHORIZATION_CODE)
        .expect("the demo record");
    record.authorization_code = FIRMWARE_CODE.to_owned();
    emulator.insert_record(record);
    let server = Server::start(Arc::clone(&emulator), "127.0.0.1:0").expect("listens");

    let mut qemu = Command::new("qemu-system-arm")
        .args([
            "-machine",
            "mps2-an386",
            "-cpu",
            "cortex-m4",
            "-nographic",
            "-monitor",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
            "-icount",
            "shift=0",
            "-serial",
            &format!("tcp:{}", server.addr()),
            "-kernel",
            &elf,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-arm starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = qemu.try_wait().expect("waits") {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = qemu.kill();
            panic!("QEMU still running after {WATCHDOG:?}");
        }
        thread::sleep(Duration::from_millis(100));
    };
    let mut output = String::new();
    for pipe in [
        qemu.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
        qemu.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut pipe = pipe;
        pipe.read_to_string(&mut output).expect("reads QEMU output");
    }
    eprintln!("{output}");
    assert!(status.success(), "the firmware failed: {output}");
    assert!(output.lines().any(|l| l == "OK"), "{output}");
    assert!(
        output.contains(&format!("authorization_code         {FIRMWARE_CODE}")),
        "{output}"
    );
    assert_eq!(emulator.seen_targets(), [FIRMWARE_TARGET.to_owned()]);
    assert_eq!(server.connections_accepted(), 1);
}
