//! The core's async client over this transport and real TCP on 127.0.0.1, against the
//! emulator's server, which checks every request's signature: typed queries on one keep-alive
//! connection, answers verified and bound to the request by the client. The stream is std's `TcpStream` behind the async traits
//! (blocking inside, driven by a simple executor), with reads capped at a few bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use embedded_io::ErrorKind;
use wxpay_core::api::permissions;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::verify::PlatformKeys;
use wxpay_core::{Client, Clock, RandomSource};
use wxpay_embedded_io_async::{HttpClient, RECOMMENDED_SCRATCH_LEN};

const MERCHANT_KEY: &str = include_str!("../../emulator/keys/merchant_key.pem");
const PLATFORM_PUB: &str = include_str!("../../emulator/keys/platform_pub.pem");
const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000001";
const MCHID: &str = "1230000109";
const MERCHANT_SERIAL: &str = "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29";

/// A TCP stream whose reads return at most `max_read` bytes.
struct Tcp {
    stream: TcpStream,
    max_read: usize,
}

fn kind(e: std::io::Error) -> ErrorKind {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => ErrorKind::TimedOut,
        _ => ErrorKind::Other,
    }
}

impl embedded_io_async::ErrorType for Tcp {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for Tcp {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let n = buf.len().min(self.max_read);
        self.stream.read(&mut buf[..n]).map_err(kind)
    }
}

impl embedded_io_async::Write for Tcp {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.stream.write(buf).map_err(kind)
    }
    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.stream.flush().map_err(kind)
    }
}

fn connect(addr: std::net::SocketAddr, max_read: usize) -> Tcp {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    Tcp { stream, max_read }
}

/// The emulator checks request timestamps against the system clock.
struct SystemNow;
impl Clock for SystemNow {
    fn unix_seconds(&self) -> i64 {
        wxpay_emulator::system_now()
    }
}

/// Not a CSPRNG: good enough for test nonces.
struct TestRandom(u64);
impl RandomSource for TestRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), wxpay_core::Error> {
        for b in dest {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.0 >> 56) as u8;
        }
        Ok(())
    }
}

/// The core's async client over this crate's transport: typed queries, signed by the client,
/// checked by the emulator, verified and bound to the request by the client.
#[test]
fn async_client_queries_against_the_emulator_server() {
    let emulator = Arc::new(wxpay_emulator::Emulator::demo());
    let server = wxpay_emulator::server::Server::start(Arc::clone(&emulator), "127.0.0.1:0")
        .expect("emulator listens");
    for max_read in [1, 7, usize::MAX] {
        let before = server.connections_accepted();
        let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
        let signer = RsaSigner::from_pem(MERCHANT_KEY, MERCHANT_SERIAL).expect("merchant key");
        let keys: PlatformKeys<RsaVerifier> = PlatformKeys::with_key(
            PUB_KEY_ID,
            RsaVerifier::from_pem(PLATFORM_PUB).expect("platform key"),
        )
        .expect("fits");
        let mut client = Client::new(
            HttpClient::<_>::new(connect(server.addr(), max_read), "127.0.0.1", &mut scratch),
            signer,
            keys,
            SystemNow,
            TestRandom(max_read as u64),
            MCHID,
        )
        .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID))
        .expect("client");
        let query = permissions::QueryByCode::new("1234323JKHDFE1243252", "500001").expect("fits");
        for _ in 0..3 {
            let mut work = [0u8; 4096];
            let record = embassy_futures::block_on(client.call_async(&query, &mut work))
                .unwrap_or_else(|e| panic!("reads of {max_read}: {e:?}"));
            assert_eq!(
                record.authorization_code.as_deref(),
                Some("1234323JKHDFE1243252")
            );
            assert!(client.transport_mut().is_reusable(), "keep-alive");
        }
        assert_eq!(
            server.connections_accepted(),
            before + 1,
            "three queries on one connection"
        );
    }
}
