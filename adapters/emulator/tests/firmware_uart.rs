//! The firmware's UART variant (`firmware/src/bin/uart_query.rs`) on QEMU against this
//! emulator: QEMU connects the board's UART0 to the emulator's listener
//! (`-serial tcp:127.0.0.1:PORT`), and the device signs, sends, reads, verifies and parses
//! over that byte stream.
//!
//! The TLS variant (`firmware/src/bin/tls_query.rs`) does the same inside TLS 1.3 against the
//! emulator's TLS listener with the test certificate (`tests/tls/`), and must refuse a server
//! whose certificate the test CA did not sign, or that does not speak TLS.
//!
//! Needs `qemu-system-arm` and the ELFs, so it is ignored by default; `.ci/firmware.sh` builds
//! the ELFs and runs them with `cargo test -p wxpay-emulator --test firmware_uart -- --ignored`.
//! `WXPAY_FIRMWARE_UART_ELF` and `WXPAY_FIRMWARE_TLS_ELF` override the ELFs' paths.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use wxpay_emulator::server::{Server, tls_config};
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
    let emulator = Arc::new(Emulator::demo());
    let mut record = emulator
        .record(demo::AUTHORIZATION_CODE)
        .expect("the demo record");
    record.authorization_code = FIRMWARE_CODE.to_owned();
    emulator.insert_record(record);
    let server = Server::start(Arc::clone(&emulator), "127.0.0.1:0").expect("listens");

    let (status, output) = run_qemu(&elf(), &server.addr().to_string());
    assert!(status.success(), "the firmware failed: {output}");
    assert!(output.lines().any(|l| l == "OK"), "{output}");
    assert!(
        output.contains(&format!("authorization_code         {FIRMWARE_CODE}")),
        "{output}"
    );
    assert_eq!(emulator.seen_targets(), [FIRMWARE_TARGET.to_owned()]);
    assert_eq!(server.connections_accepted(), 1);
}

/// The ELF: `WXPAY_FIRMWARE_UART_ELF`, or where `report.py` builds it.
fn elf() -> String {
    firmware_elf("WXPAY_FIRMWARE_UART_ELF", "uart_query", "rsa")
}

/// The TLS variant's ELF: `WXPAY_FIRMWARE_TLS_ELF`, or where `report.py` builds it.
fn tls_elf() -> String {
    firmware_elf("WXPAY_FIRMWARE_TLS_ELF", "tls_query", "tls")
}

fn firmware_elf(variable: &str, bin: &str, features: &str) -> String {
    let elf = std::env::var(variable).unwrap_or_else(|_| {
        format!(
            "{}/../../firmware/target/thumbv7em-none-eabihf/release/{bin}",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    assert!(
        std::path::Path::new(&elf).exists(),
        "{elf}: build it with `cd firmware && cargo build --release --features {features} --bin {bin}`"
    );
    elf
}

const TEST_SERVER: &[u8] = include_bytes!("tls/test-server.pem");
const TEST_SERVER_KEY: &[u8] = include_bytes!("tls/test-server.key.pem");
const ROGUE_SERVER: &[u8] = include_bytes!("tls/test-rogue.pem");
const ROGUE_SERVER_KEY: &[u8] = include_bytes!("tls/test-rogue.key.pem");
const OTHER_HOST: &[u8] = include_bytes!("tls/test-other-host.pem");
const OTHER_HOST_KEY: &[u8] = include_bytes!("tls/test-other-host.key.pem");
const EXPIRED: &[u8] = include_bytes!("tls/test-expired.pem");
const EXPIRED_KEY: &[u8] = include_bytes!("tls/test-expired.key.pem");
/// A `localhost` leaf signed with the other-host certificate's (public) key, sent with that
/// certificate as its intermediate: every link verifies, but the intermediate is no CA.
const FORGED_CHAIN: &[u8] = include_bytes!("tls/test-forged-chain.pem");
const FORGED_KEY: &[u8] = include_bytes!("tls/test-forged.key.pem");
/// `localhost` certificates with one flaw each, all with the same test key: signed by the test
/// CA with ecdsa-with-SHA384; signed by the test CA but `CA:TRUE`; signed by the test CA with an
/// unknown critical extension; issued in the test CA's name but signed by another key.
const SHA384: &[u8] = include_bytes!("tls/test-sha384.pem");
const CA_LEAF: &[u8] = include_bytes!("tls/test-ca-leaf.pem");
const CRITICAL: &[u8] = include_bytes!("tls/test-critical.pem");
const IMPOSTOR: &[u8] = include_bytes!("tls/test-impostor.pem");
const REFUSED_KEY: &[u8] = include_bytes!("tls/test-refused.key.pem");

/// The emulator with the firmware's record in it.
fn firmware_emulator() -> Arc<Emulator> {
    let emulator = Arc::new(Emulator::demo());
    let mut record = emulator
        .record(demo::AUTHORIZATION_CODE)
        .expect("the demo record");
    record.authorization_code = FIRMWARE_CODE.to_owned();
    emulator.insert_record(record);
    emulator
}

/// The `REPORT key=value` lines of the TLS variant, printed for `report.py` and the reader.
fn report_value(output: &str, key: &str) -> u64 {
    output
        .lines()
        .find_map(|l| l.strip_prefix(&format!("REPORT {key}=")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no REPORT {key}: {output}"))
}

#[test]
#[ignore = "needs qemu-system-arm and the firmware's tls_query ELF; run by .ci/firmware.sh"]
fn firmware_queries_the_emulator_inside_tls() {
    let emulator = firmware_emulator();
    let config = tls_config(TEST_SERVER, TEST_SERVER_KEY).expect("the test certificate");
    let server = Server::start_tls(Arc::clone(&emulator), "127.0.0.1:0", config).expect("listens");

    let (status, output) = run_qemu(&tls_elf(), &server.addr().to_string());
    assert!(status.success(), "the firmware failed: {output}");
    assert!(output.lines().any(|l| l == "OK"), "{output}");
    assert!(
        output.contains("certificate checked against the test CA"),
        "{output}"
    );
    assert!(
        output.contains(&format!("authorization_code         {FIRMWARE_CODE}")),
        "{output}"
    );
    assert_eq!(emulator.seen_targets(), [FIRMWARE_TARGET.to_owned()]);
    assert_eq!(server.connections_accepted(), 1);
    let (handshake, query) = (
        report_value(&output, "tls_handshake"),
        report_value(&output, "tls_query"),
    );
    eprintln!("TLS instructions: handshake {handshake}, query {query} (UART polling left out)");
    assert!(handshake > 0 && query > 0, "{output}");
}

/// A server the device must not talk to: a certificate the test CA did not sign, one it signed
/// for another host or that has expired, a leaf signed by a certificate the CA issued to
/// someone else, one signed with another algorithm, a CA certificate, one with a critical
/// extension the device does not know, one in the CA's name signed by another key, or no TLS
/// at all. The handshake fails, the run ends with an error, and no
/// request reaches the emulator.
#[test]
#[ignore = "needs qemu-system-arm and the firmware's tls_query ELF; run by .ci/firmware.sh"]
fn firmware_refuses_a_server_it_cannot_authenticate() {
    // (case, the listener's certificate and key or None for the plain listener, the error)
    #[rustfmt::skip]
    let cases: [(&str, Option<(&[u8], &[u8])>, &str); 9] = [
        ("self-signed, not from the test CA", Some((ROGUE_SERVER, ROGUE_SERVER_KEY)),
         "FAILED: TLS: certificate refused"),
        ("from the test CA, another host",    Some((OTHER_HOST, OTHER_HOST_KEY)),
         "FAILED: TLS: certificate refused"),
        ("from the test CA, expired",         Some((EXPIRED, EXPIRED_KEY)),
         "FAILED: TLS: certificate refused"),
        ("signed by a non-CA the CA issued",  Some((FORGED_CHAIN, FORGED_KEY)),
         "FAILED: TLS: certificate refused"),
        ("from the test CA, ECDSA with SHA-384", Some((SHA384, REFUSED_KEY)),
         "FAILED: TLS: certificate refused"),
        ("from the test CA, CA:TRUE",         Some((CA_LEAF, REFUSED_KEY)),
         "FAILED: TLS: certificate refused"),
        ("from the test CA, unknown critical extension", Some((CRITICAL, REFUSED_KEY)),
         "FAILED: TLS: certificate refused"),
        ("the test CA's name, another key",   Some((IMPOSTOR, REFUSED_KEY)),
         "FAILED: TLS: certificate refused"),
        // The plain port answers the ClientHello with a plain-HTTP 400.
        ("plain HTTP, no TLS",                None, "FAILED: TLS: "),
    ];
    let elf = tls_elf();
    for (name, certificate, failure) in cases {
        let emulator = firmware_emulator();
        let server = match certificate {
            Some((chain, key)) => {
                let config = tls_config(chain, key).expect("a certificate");
                Server::start_tls(Arc::clone(&emulator), "127.0.0.1:0", config)
            }
            None => Server::start(Arc::clone(&emulator), "127.0.0.1:0"),
        }
        .expect("listens");
        let (status, output) = run_qemu(&elf, &server.addr().to_string());
        assert!(
            !status.success(),
            "{name}: the firmware succeeded: {output}"
        );
        assert!(output.contains(failure), "{name}: {output}");
        assert!(!output.lines().any(|l| l == "OK"), "{name}: {output}");
        assert!(
            emulator.seen_targets().is_empty(),
            "{name}: a request got through"
        );
    }
}

/// Runs the firmware with UART0 connected to `addr`; its exit status and output.
fn run_qemu(elf: &str, addr: &str) -> (ExitStatus, String) {
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
            &format!("tcp:{addr}"),
            "-kernel",
            elf,
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
    (status, output)
}

/// A peer that reads the request head, answers `reply`, and then stalls (keeps the connection
/// open and silent) until QEMU is gone.
fn hostile_peer(reply: &'static [u8]) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listens");
    let addr = listener.local_addr().expect("address").to_string();
    let peer = thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
            head.push(byte[0]);
        }
        let _ = stream.write_all(reply);
        // Stall: hold the connection until the device gives up and QEMU closes it.
        let _ = stream.read_to_end(&mut Vec::new());
    });
    (addr, peer)
}

/// A stalled, truncated or oversized answer ends the request with an error (the UART's
/// read deadline or the HTTP reader's limits), never a hang or a partial success.
#[test]
#[ignore = "needs qemu-system-arm and the firmware's uart_query ELF; run by .ci/firmware.sh"]
fn firmware_fails_cleanly_on_a_hostile_stream() {
    // (case, peer's reply, the error class the firmware must report)
    let cases: [(&str, &'static [u8], &str); 3] = [
        ("stalled before the status line", b"", "FAILED: transport"),
        (
            "truncated body",
            b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{\"service_id\":\"5000",
            "FAILED: transport",
        ),
        (
            "oversized body",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n{\"service_id\":",
            "FAILED: response larger than the buffer",
        ),
    ];
    let elf = elf();
    for (name, reply, failure) in cases {
        let (addr, peer) = hostile_peer(reply);
        let (status, output) = run_qemu(&elf, &addr);
        assert!(
            !status.success(),
            "{name}: the firmware succeeded: {output}"
        );
        assert!(output.contains(failure), "{name}: {output}");
        assert!(!output.lines().any(|l| l == "OK"), "{name}: {output}");
        peer.join().expect("peer thread");
    }
}
