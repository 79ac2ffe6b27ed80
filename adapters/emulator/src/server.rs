//! The emulator as a loopback HTTP/1.1 server with keep-alive: one thread per connection, at
//! most [`MAX_CONNECTIONS`] at once (past that it answers 503 and closes). It binds loopback
//! addresses only, and answers a TLS handshake (or any malformed head) with a plain 400, so a
//! client that speaks TLS to it fails at once instead of waiting for a timeout.
//!
//! [`Server::start_tls`] serves the same requests inside TLS (rustls on AWS-LC), for clients
//! that check the server's certificate against a test CA (the firmware's `tls_query`).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::signing::Presigned;
use crate::{Emulator, HttpRequest, HttpResponse, Wire, system_now};

/// Largest request head accepted.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once by [`Server::start`]; one more is answered 503 and closed.
pub const MAX_CONNECTIONS: usize = 64;
/// The first byte of a TLS record carrying a handshake (a ClientHello).
const TLS_HANDSHAKE: u8 = 0x16;

/// Decrements the count of open connections when the connection's thread ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running server; it stops when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` (use port 0 for any free port) and serves `emulator`, at most
    /// [`MAX_CONNECTIONS`] connections at once. An address that is not loopback is refused
    /// before anything is bound.
    pub fn start(emulator: Arc<Emulator>, addr: &str) -> io::Result<Server> {
        Self::start_with_limit(emulator, addr, MAX_CONNECTIONS)
    }

    /// [`Server::start`] with another cap on open connections.
    pub fn start_with_limit(
        emulator: Arc<Emulator>,
        addr: &str,
        max_connections: usize,
    ) -> io::Result<Server> {
        Self::listen(emulator, addr, max_connections, None)
    }

    /// [`Server::start`] inside TLS: every accepted connection is a rustls server connection
    /// with `config` (see [`tls_config`]), and the requests inside it are served as on the
    /// plain port. A failed handshake closes the connection before any request is read.
    /// Connections past [`MAX_CONNECTIONS`] are closed without an answer.
    pub fn start_tls(
        emulator: Arc<Emulator>,
        addr: &str,
        config: Arc<rustls::ServerConfig>,
    ) -> io::Result<Server> {
        Self::listen(emulator, addr, MAX_CONNECTIONS, Some(config))
    }

    fn listen(
        emulator: Arc<Emulator>,
        addr: &str,
        max_connections: usize,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> io::Result<Server> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        if addrs.is_empty() || !addrs.iter().all(|a| a.ip().is_loopback()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the emulator listens on loopback addresses only",
            ));
        }
        let listener = TcpListener::bind(addrs.as_slice())?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let open = Arc::new(AtomicUsize::new(0));
        let accept = thread::Builder::new()
            .name("wxpay-emulator-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    counter.fetch_add(1, Ordering::SeqCst);
                    if open.load(Ordering::SeqCst) >= max_connections {
                        if tls.is_none() {
                            let _ = refuse(stream, 503, "too many connections");
                        }
                        continue;
                    }
                    open.fetch_add(1, Ordering::SeqCst);
                    let slot = Slot(Arc::clone(&open));
                    let emulator = Arc::clone(&emulator);
                    let tls = tls.clone();
                    let _ = thread::Builder::new()
                        .name("wxpay-emulator-conn".into())
                        .spawn(move || {
                            let _slot = slot;
                            let _ = match tls {
                                None => serve_connection(&emulator, stream),
                                Some(config) => serve_tls_connection(&emulator, stream, config),
                            };
                        });
                }
            })?;
        Ok(Server {
            addr,
            stop,
            connections,
            accept: Some(accept),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far (keep-alive shows as fewer connections than requests).
    pub fn connections_accepted(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `http://ADDR`, the base URL for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// A connection the request loop serves: plain TCP, or TCP inside rustls.
trait Connection: Read + Write {
    /// Plain TCP: a first byte that starts a TLS handshake is refused with a hint.
    const PLAIN: bool;
    /// The underlying socket.
    fn socket(&self) -> &TcpStream;
    /// Ends the connection's sending side cleanly (TLS: `close_notify` first).
    fn finish(&mut self) -> io::Result<()>;
}

impl Connection for TcpStream {
    const PLAIN: bool = true;
    fn socket(&self) -> &TcpStream {
        self
    }
    fn finish(&mut self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}

impl Connection for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    const PLAIN: bool = false;
    fn socket(&self) -> &TcpStream {
        &self.sock
    }
    fn finish(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush()?;
        self.sock.shutdown(std::net::Shutdown::Write)
    }
}

fn serve_connection(emulator: &Emulator, stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    serve(emulator, stream)
}

fn serve_tls_connection(
    emulator: &Emulator,
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let connection = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    serve(emulator, rustls::StreamOwned::new(connection, stream))
}

/// What a connection keeps between requests to sign ahead for a client that polls (see
/// [`Emulator::set_presigning`]).
#[derive(Debug, Default)]
struct Ahead {
    /// The body of the last 200 answer to an API request with no fault injected.
    last_body: Option<Vec<u8>>,
    /// Headers signing that body again, for the next request.
    presigned: Option<Presigned>,
}

impl Ahead {
    /// After `response` went out: a second identical 200 answer in a row is signed ahead.
    /// `plain`: it answered an API request (not a test hook) with no fault injected.
    fn after(&mut self, emulator: &Emulator, plain: bool, response: &HttpResponse) {
        if !plain || response.status != 200 {
            self.last_body = None;
            return;
        }
        if self.last_body.as_deref() == Some(response.body.as_slice()) {
            self.presigned = emulator.presign(&response.body, system_now());
        } else {
            self.last_body = Some(response.body.clone());
        }
    }
}

/// The request loop, the same for plain and TLS connections. Responses are written through
/// the reader's stream (its buffer holds only bytes read ahead).
fn serve<S: Connection>(emulator: &Emulator, stream: S) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut ahead = Ahead::default();
    loop {
        match reader.fill_buf()?.first() {
            None => return Ok(()),
            Some(&TLS_HANDSHAKE) if S::PLAIN => {
                return refuse(
                    reader.into_inner(),
                    400,
                    "this is a plain-HTTP port: use http://, not https://",
                );
            }
            Some(_) => {}
        }
        let (request, keep_alive) = match read_request(&mut reader) {
            Ok(Some(read)) => read,
            Ok(None) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return refuse(reader.into_inner(), 400, &e.to_string());
            }
            Err(e) => return Err(e),
        };
        let presigned = ahead.presigned.take();
        let (response, plain) = emulator.handle_presigned(&request, system_now(), presigned);
        if let Some(delay) = response.delay {
            thread::sleep(delay);
        }
        let close = !keep_alive || response.wire == Wire::Truncated;
        write_response(reader.get_mut(), &response, close)?;
        if close {
            // TLS: `close_notify`, so the client can tell the end from a truncation.
            if !S::PLAIN {
                reader.get_mut().finish()?;
            }
            return Ok(());
        }
        // The answer is out: sign the next one now, while the client prepares its request.
        ahead.after(emulator, plain, &response);
    }
}

/// Answers `status` with an unsigned JSON error and closes the connection.
fn refuse(mut stream: impl Connection, status: u16, message: &str) -> io::Result<()> {
    let code = if status == 503 {
        "SERVICE_UNAVAILABLE"
    } else {
        "INVALID_REQUEST"
    };
    let body = format!(r#"{{"code":"{code}","message":"{message}"}}"#);
    stream
        .socket()
        .set_write_timeout(Some(Duration::from_secs(1)))?;
    write!(
        stream,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    )?;
    stream.flush()?;
    stream.finish()
}

/// A TLS 1.3-only server configuration (AWS-LC) presenting `cert_chain_pem` (the server's
/// certificate first, PEM) with the PKCS#8 key `key_pem`, for [`Server::start_tls`].
pub fn tls_config(cert_chain_pem: &[u8], key_pem: &[u8]) -> io::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"))
    };
    let chain = CertificateDer::pem_slice_iter(cert_chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("certificate chain", &e))?;
    if chain.is_empty() {
        return Err(invalid("certificate chain", &"no certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| invalid("private key", &e))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .map_err(|e| invalid("TLS versions", &e))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| invalid("certificate and key", &e))?;
    Ok(Arc::new(config))
}

/// Reads one request; `None` at a clean end of the connection.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<(HttpRequest, bool)>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = reader
            .take(MAX_HEAD_BYTES as u64)
            .read_until(b'\n', &mut head)?;
        if n == 0 {
            return Ok(None);
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
        if head.len() > MAX_HEAD_BYTES || head.len() == before {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
    let mut storage = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut storage);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed request head",
            ));
        }
    }
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut request = HttpRequest {
        method: parsed.method.unwrap_or_default().to_owned(),
        target: parsed.path.unwrap_or_default().to_owned(),
        headers,
        body: Vec::new(),
    };
    let length: usize = request
        .header("Content-Length")
        .map(|v| v.trim().parse())
        .transpose()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "request body too large",
        ));
    }
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    let keep_alive = !request
        .header("Connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    Ok(Some((request, keep_alive)))
}

/// Status-line reason phrases for the codes the emulator uses.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes the response bytes exactly as [`HttpResponse::wire`] says.
pub fn write_response(
    out: &mut impl Write,
    response: &HttpResponse,
    close: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = &response.body;
    if response.wire == Wire::ChunkedSplitUtf8 {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else if response.status != 204 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    // Head and body leave in one write: on a `TCP_NODELAY` socket two writes are two segments,
    // and the client wakes up twice for one answer.
    let mut wire = head.into_bytes();
    match response.wire {
        Wire::Normal => {
            wire.extend_from_slice(body);
            out.write_all(&wire)?;
        }
        Wire::Truncated => {
            wire.extend_from_slice(&body[..body.len() / 2]);
            out.write_all(&wire)?;
        }
        Wire::ChunkedSplitUtf8 => {
            out.write_all(&wire)?;
            // Split one byte into the first multi-byte character past the middle.
            let middle = body.len() / 2;
            let split = (middle..body.len())
                .find(|&i| body[i] >= 0xC0)
                .map_or(middle, |i| i + 1);
            for chunk in [&body[..split], &body[split..]] {
                if !chunk.is_empty() {
                    out.write_all(format!("{:X}\r\n", chunk.len()).as_bytes())?;
                    out.write_all(chunk)?;
                    out.write_all(b"\r\n")?;
                }
            }
            out.write_all(b"0\r\n\r\n")?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(mut stream: TcpStream) -> String {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    }

    #[test]
    fn only_loopback_addresses_are_bound() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("127.0.0.1:0", true), ("localhost:0", true),
            ("0.0.0.0:0", false), ("[::]:0", false), ("192.0.2.1:0", false),
        ];
        for (addr, ok) in cases {
            let started = Server::start(Arc::new(Emulator::demo()), addr);
            assert_eq!(started.is_ok(), *ok, "{addr}: {started:?}");
            if let Err(e) = started {
                assert_eq!(
                    e.kind(),
                    io::ErrorKind::InvalidInput,
                    "{addr}: refused before binding"
                );
            }
        }
    }

    #[test]
    fn connections_past_the_cap_get_503() {
        let server = Server::start_with_limit(Arc::new(Emulator::demo()), "127.0.0.1:0", 1)
            .expect("listens");
        // The first connection holds the only slot (kept open, idle).
        let first = TcpStream::connect(server.addr()).expect("connects");
        let second = TcpStream::connect(server.addr()).expect("connects");
        let answer = read_all(second);
        assert!(
            answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{answer}"
        );
        assert!(answer.contains("SERVICE_UNAVAILABLE"), "{answer}");
        // Once the first one closes, its slot is free again.
        drop(first);
        let mut third = TcpStream::connect(server.addr()).expect("connects");
        let mut answer;
        loop {
            third
                .write_all(b"GET /v3/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .expect("writes");
            answer = read_all(third);
            if !answer.starts_with("HTTP/1.1 503") {
                break;
            }
            // The first connection's thread has not seen the close yet.
            std::thread::yield_now();
            third = TcpStream::connect(server.addr()).expect("connects");
        }
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
        assert!(server.connections_accepted() >= 3);
    }

    #[test]
    fn tls_and_garbage_get_a_plain_400() {
        let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0").expect("listens");
        #[rustfmt::skip]
        let cases: &[(&[u8], &str)] = &[
            (&[0x16, 0x03, 0x01, 0x00, 0x40, 0x01], "plain-HTTP port"),
            (b"\x00\x01 nonsense\r\n\r\n",        "malformed request head"),
        ];
        for (bytes, needle) in cases {
            let mut stream = TcpStream::connect(server.addr()).expect("connects");
            stream.write_all(bytes).expect("writes");
            let answer = read_all(stream);
            assert!(
                answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
                "{answer}"
            );
            assert!(answer.contains(needle), "{answer}");
        }
    }

    const CA: &[u8] = include_bytes!("../tests/tls/test-ca.pem");
    const SERVER: &[u8] = include_bytes!("../tests/tls/test-server.pem");
    const SERVER_KEY: &[u8] = include_bytes!("../tests/tls/test-server.key.pem");
    const ROGUE: &[u8] = include_bytes!("../tests/tls/test-rogue.pem");
    const ROGUE_KEY: &[u8] = include_bytes!("../tests/tls/test-rogue.key.pem");

    /// A rustls client trusting only the test CA, over a fresh connection to `server`.
    fn tls_client(server: &Server) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(CA).expect("the CA's PEM"))
            .expect("the CA");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = "localhost".try_into().expect("a server name");
        let connection =
            rustls::ClientConnection::new(Arc::new(config), name).expect("a client connection");
        let socket = TcpStream::connect(server.addr()).expect("connects");
        rustls::StreamOwned::new(connection, socket)
    }

    #[test]
    fn the_tls_listener_serves_the_same_requests_inside_tls() {
        let config = tls_config(SERVER, SERVER_KEY).expect("the test certificate and key");
        let server =
            Server::start_tls(Arc::new(Emulator::demo()), "127.0.0.1:0", config).expect("listens");
        let mut tls = tls_client(&server);
        tls.write_all(b"GET /v3/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("writes inside TLS");
        let mut answer = String::new();
        tls.read_to_string(&mut answer)
            .expect("reads to close_notify");
        // Not a client's request: the emulator's signed refusal, inside TLS.
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(answer.contains("missing User-Agent header"), "{answer}");
        assert_eq!(server.connections_accepted(), 1);
    }

    #[test]
    fn a_certificate_from_another_ca_fails_the_handshake() {
        let config = tls_config(ROGUE, ROGUE_KEY).expect("the rogue certificate and key");
        let emulator = Arc::new(Emulator::demo());
        let server =
            Server::start_tls(Arc::clone(&emulator), "127.0.0.1:0", config).expect("listens");
        let mut tls = tls_client(&server);
        let written = tls.write_all(b"GET /v3/x HTTP/1.1\r\nHost: x\r\n\r\n");
        let error = written.expect_err("the client refuses the certificate");
        assert!(error.to_string().contains("UnknownIssuer"), "{error}");
        assert!(emulator.seen_targets().is_empty());
    }

    #[test]
    fn tls_config_refuses_what_is_not_a_certificate_and_key() {
        #[rustfmt::skip]
        let cases: &[(&[u8], &[u8], &str)] = &[
            (b"",     SERVER_KEY, "no certificate"),
            (SERVER,  b"",        "private key"),
            (SERVER,  ROGUE_KEY,  "certificate and key"),
        ];
        for (chain, key, needle) in cases {
            let error = tls_config(chain, key).expect_err("refused");
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
            assert!(error.to_string().contains(needle), "{needle}: {error}");
        }
    }

    /// One keep-alive answer: status, headers, body (by `Content-Length`).
    fn read_answer(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut line = String::new();
        reader.read_line(&mut line).expect("status line");
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut headers = Vec::new();
        loop {
            line.clear();
            reader.read_line(&mut line).expect("header line");
            match line.trim_end().split_once(": ") {
                Some((name, value)) => headers.push((name.to_owned(), value.to_owned())),
                None => break,
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "Content-Length")
            .and_then(|(_, v)| v.parse().ok())
            .expect("Content-Length");
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).expect("body");
        (status, headers, body)
    }

    /// A client polling one record on one keep-alive connection. With signing ahead on, the
    /// answers from the third on can go out with signatures made ahead; on or off, every
    /// answer verifies with the platform key and no nonce repeats.
    #[test]
    fn a_polling_connection_gets_verified_answers_with_fresh_nonces() {
        use wxpay_core::Method;
        use wxpay_core::crypto::rsa::RsaSigner;
        use wxpay_core::sign::{self, AUTHORIZATION_CAPACITY, SigningInput};

        use crate::demo;
        use crate::signing::tests::platform_signed;

        const POLLS: usize = 8;
        let target =
            "/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001";
        let mut signer =
            RsaSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("key");
        let mut buf = [0u8; AUTHORIZATION_CAPACITY];
        let input = SigningInput {
            mchid: demo::MCHID,
            method: Method::Get,
            target,
            body: b"",
            timestamp: u64::try_from(system_now()).expect("after 1970"),
            nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
        };
        let authorization = sign::authorization(&mut signer, &input, &mut buf).expect("signs");
        // The emulator does not refuse a repeated request nonce, so one signed request polls.
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n\
             Accept: application/json\r\nUser-Agent: test\r\n\r\n"
        );
        for presigning in [true, false] {
            let emulator = Arc::new(Emulator::demo());
            emulator.set_presigning(presigning);
            let server = Server::start(emulator.clone(), "127.0.0.1:0").expect("listens");
            let mut stream = TcpStream::connect(server.addr()).expect("connects");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut nonces = std::collections::HashSet::new();
            for poll in 0..POLLS {
                let sent_at = system_now();
                stream.write_all(request.as_bytes()).expect("writes");
                let (status, headers, body) = read_answer(&mut reader);
                let answered_at = system_now();
                assert_eq!(status, 200, "poll {poll}");
                let value = |name: &str| {
                    headers
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                        .expect(name)
                };
                assert!(platform_signed(&headers, &body), "poll {poll}");
                // Made ahead or not, signed in the second the request was handled in.
                let signed_at: i64 = value("Wechatpay-Timestamp").parse().expect("seconds");
                assert!(
                    (sent_at..=answered_at).contains(&signed_at),
                    "poll {poll}: signed at {signed_at}, asked at {sent_at}, answered at {answered_at}"
                );
                assert!(
                    nonces.insert(value("Wechatpay-Nonce")),
                    "poll {poll}: nonce repeated"
                );
            }
            let ahead = emulator.presigned_answers();
            if presigning {
                // The first two are signed after their request; a later one misses only if it
                // is sent in another second than its signature was made.
                assert!(
                    (1..=POLLS - 2).contains(&ahead),
                    "{ahead} answers signed ahead"
                );
            } else {
                assert_eq!(ahead, 0);
            }
        }
    }
}
