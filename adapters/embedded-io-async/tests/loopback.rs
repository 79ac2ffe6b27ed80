//! The async client over real TCP on 127.0.0.1 against the emulator's server, which checks
//! every request's signature: signed queries on one keep-alive connection, answers verified
//! with the core's `check_response`. The stream is std's `TcpStream` behind the async traits
//! (blocking inside, driven by a simple executor), with reads capped at a few bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use embedded_io::ErrorKind;
use wxpay_core::api::permissions;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::{self, AUTHORIZATION_CAPACITY, SigningInput};
use wxpay_core::transport::{AsyncTransport, Method, Request, USER_AGENT};
use wxpay_core::verify::PlatformKeys;
use wxpay_core::{ClientError, check_response};
use wxpay_embedded_io_async::{Error, HttpClient, RECOMMENDED_SCRATCH_LEN};

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

#[test]
fn signed_queries_against_the_emulator_server() {
    let emulator = Arc::new(wxpay_emulator::Emulator::demo());
    let server = wxpay_emulator::server::Server::start(Arc::clone(&emulator), "127.0.0.1:0")
        .expect("emulator listens");
    let mut signer = RsaSigner::from_pem(MERCHANT_KEY, MERCHANT_SERIAL).expect("merchant key");
    let keys: PlatformKeys<RsaVerifier> = PlatformKeys::with_key(
        PUB_KEY_ID,
        RsaVerifier::from_pem(PLATFORM_PUB).expect("platform key"),
    )
    .expect("fits");
    let mut target_buf = [0u8; permissions::TARGET_CAPACITY];
    let target = permissions::target_by_code(&mut target_buf, "1234323JKHDFE1243252", "500001")
        .expect("target");

    for max_read in [1, 7, usize::MAX] {
        let before = server.connections_accepted();
        let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
        let mut http: HttpClient<'_, Tcp> =
            HttpClient::new(connect(server.addr(), max_read), "127.0.0.1", &mut scratch);
        for round in 0..3 {
            let now = wxpay_emulator::system_now();
            let nonce = format!("ASYNC{max_read:08}{round:04}{now:015}");
            let nonce = &nonce[nonce.len() - 32..];
            let mut auth = [0u8; AUTHORIZATION_CAPACITY];
            let authorization = sign::authorization(
                &mut signer,
                &SigningInput {
                    mchid: MCHID,
                    method: Method::Get,
                    target,
                    body: b"",
                    timestamp: now as u64,
                    nonce,
                },
                &mut auth,
            )
            .expect("signs");
            let request = Request {
                method: Method::Get,
                target,
                authorization,
                user_agent: USER_AGENT,
                wechatpay_serial: Some(PUB_KEY_ID),
                body: b"",
            };
            let mut body = [0u8; 2048];
            let head =
                embassy_futures::block_on(http.execute(&request, &mut body)).expect("exchange");
            let len = head.body_len;
            let verified = check_response::<_, 2, Error<ErrorKind>>(&keys, head, &body[..len], now);
            let verified = match verified {
                Ok(v) => v,
                Err(ClientError::Api(e)) => panic!("API error: {e:?}"),
                Err(e) => panic!("{e:?}"),
            };
            assert_eq!(verified.status, 200);
            let text = std::str::from_utf8(verified.body).expect("UTF-8");
            assert!(
                text.contains("\"authorization_code\":\"1234323JKHDFE1243252\""),
                "{text}"
            );
            assert!(http.is_reusable(), "keep-alive");
        }
        assert_eq!(
            server.connections_accepted(),
            before + 1,
            "three queries on one connection"
        );
    }
}
