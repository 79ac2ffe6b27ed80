//! The adapter over a real TCP connection on 127.0.0.1, through embedded-io-adapters' std shim
//! (`FromStd<TcpStream>`), as a firmware's TLS stream would carry it.
//!
//! `query_over_tcp` takes any address: a small scripted server in this file (exact bytes, small
//! writes), and the emulator's own loopback server, which authenticates every request.

// The core's `ClientError` carries the API error by value on purpose (no allocator).
#![allow(clippy::result_large_err)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use embedded_io_adapters::std::FromStd;
use support::*;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::verify::PlatformKeys;
use wxpay_core::{AuthorizationRecord, Client, ClientError, Clock, RandomSource};
use wxpay_embedded_io::{Error, HttpClient, RECOMMENDED_SCRATCH_LEN};

type TcpError = ClientError<Error<std::io::Error>>;

/// Sends `rounds` authorization-record queries to `addr` over one keep-alive connection,
/// signed with the demo merchant key, and returns the records verified with the demo
/// platform key.
pub fn query_over_tcp(
    addr: SocketAddr,
    clock: &dyn Clock,
    rounds: usize,
) -> Result<Vec<AuthorizationRecord>, TcpError> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let signer = RsaSigner::from_pem(MERCHANT_KEY, MERCHANT_SERIAL).expect("merchant key");
    let platform = RsaVerifier::from_pem(PLATFORM_PUB).expect("platform key");
    let keys: PlatformKeys<RsaVerifier> =
        PlatformKeys::with_key(PUB_KEY_ID, platform).expect("fits");
    let mut client = Client::new(
        HttpClient::<_>::new(FromStd::new(stream), "127.0.0.1", &mut scratch),
        signer,
        keys,
        clock,
        TestRandom,
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID))
    .expect("client");
    let mut body = [0u8; BODY_LEN];
    (0..rounds)
        .map(|_| {
            client.call(
                &wxpay_core::api::permissions::QueryByCode::new("1234323JKHDFE1243252", "500001")
                    .expect("fits"),
                &mut body,
            )
        })
        .collect()
}

/// Not a CSPRNG: good enough for test nonces.
struct TestRandom;
impl RandomSource for TestRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), wxpay_core::Error> {
        use std::hash::{BuildHasher, RandomState};
        for (i, b) in dest.iter_mut().enumerate() {
            *b = RandomState::new().hash_one(i) as u8;
        }
        Ok(())
    }
}

struct FixedClock;
impl Clock for FixedClock {
    fn unix_seconds(&self) -> i64 {
        NOW
    }
}

/// Serves one connection: for each scripted response, reads one request head, then answers
/// in small writes so the client sees the pieces arrive separately.
fn serve(responses: Vec<Vec<u8>>) -> (SocketAddr, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binds on loopback");
    let addr = listener.local_addr().expect("address");
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accepts");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        let mut request_lines = Vec::new();
        for response in responses {
            let mut first = String::new();
            reader.read_line(&mut first).expect("request line");
            request_lines.push(first.trim_end().to_owned());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("header line");
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            for piece in response.chunks(97) {
                writer.write_all(piece).expect("writes");
                writer.flush().expect("flushes");
            }
        }
        request_lines
    });
    (addr, handle)
}

/// The system clock: the emulator checks request timestamps against its own.
struct SystemNow;
impl Clock for SystemNow {
    fn unix_seconds(&self) -> i64 {
        wxpay_emulator::system_now()
    }
}

#[test]
fn queries_against_the_emulator_server_on_loopback() {
    let emulator = std::sync::Arc::new(wxpay_emulator::Emulator::demo());
    let server =
        wxpay_emulator::server::Server::start(std::sync::Arc::clone(&emulator), "127.0.0.1:0")
            .expect("emulator listens");
    let records = query_over_tcp(server.addr(), &SystemNow, 3).expect("three verified records");
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| r.authorization_code.as_deref() == Some("1234323JKHDFE1243252"))
    );
    assert_eq!(
        server.connections_accepted(),
        1,
        "one keep-alive connection"
    );
    assert_eq!(
        emulator.seen_targets(),
        vec![
            "/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001";
            3
        ]
    );
}

#[test]
fn two_queries_on_one_loopback_connection() {
    let wei = RECORD.find('微').expect("has 微");
    let (addr, server) = serve(vec![
        signed_200(RECORD, Framing::Chunked(&[wei + 1, 5])),
        signed_200(RECORD, Framing::Length),
    ]);
    let records = query_over_tcp(addr, &FixedClock, 2).expect("both queries succeed");
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.service_id == "500001"));
    let lines = server.join().expect("server thread");
    assert_eq!(
        lines,
        vec![
            "GET /v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001 HTTP/1.1";
            2
        ]
    );
}

#[test]
fn loopback_peer_closing_early_is_truncated() {
    let mut cut = signed_200(RECORD, Framing::Length);
    cut.truncate(cut.len() - 10);
    let (addr, server) = serve(vec![cut]);
    let outcome = query_over_tcp(addr, &FixedClock, 1);
    server.join().expect("server thread");
    assert!(
        matches!(outcome, Err(ClientError::Transport(Error::Truncated))),
        "{outcome:?}"
    );
}
