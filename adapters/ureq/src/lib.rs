#![doc = include_str!("../README.md")]

#[cfg(all(feature = "log", feature = "defmt"))]
compile_error!("wxpay-ureq: enable at most one of the features `log` and `defmt`");

mod host;
pub use host::{HostClient, host_client};

mod shared;
pub use shared::{ENV_VARS, SetupError, SharedClient, WORK_BUFFER_BYTES};

pub mod certificates;

use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::Agent;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use wxpay_core::crypto::rsa::{KeyError, RsaSigner, RsaVerifier};
use wxpay_core::{Clock, Error, RandomSource, Request, ResponseHead, ResponseHeaders, Transport};
use zeroize::Zeroizing;

/// The production API host.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host (the signature does not cover the host, so a retry may go here).
pub const BACKUP_BASE_URL: &str = "https://api2.mch.weixin.qq.com";
/// `User-Agent` of this adapter: the core's name and version, then this crate's.
pub const USER_AGENT: &str = concat!(
    "wxpay-core/",
    env!("CARGO_PKG_VERSION"),
    " wxpay-ureq/",
    env!("CARGO_PKG_VERSION")
);

/// Timeouts of a [`UreqTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP (and TLS) connect.
    pub connect: Duration,
    /// Waiting for the response head and each body read.
    pub read: Duration,
    /// The whole exchange.
    pub overall: Duration,
}

impl Timeouts {
    /// The same bound for connect, read and the whole call.
    pub fn all(limit: Duration) -> Self {
        Timeouts {
            connect: limit,
            read: limit,
            overall: limit,
        }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(10),
            overall: Duration::from_secs(15),
        }
    }
}

/// Why an exchange failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum UreqError {
    /// A timeout fired (connect, read or overall).
    Timeout(String),
    /// The host could not be reached.
    Connect(String),
    /// The body is larger than the caller's buffer.
    BodyTooLarge {
        /// The buffer's size.
        limit: usize,
    },
    /// The connection ended before the body was complete.
    Truncated,
    /// The base URL and target do not form a valid URI, or the base URL is not allowed
    /// (`http://` to a host that is not loopback, a query or user info in it).
    BadUrl(String),
    /// The proxy URL is not usable.
    BadProxy(String),
    /// The TLS handshake met something that is not TLS: most likely a plain-HTTP port.
    NotTls(String),
    /// The response head is ambiguous (both `Content-Length` and `Transfer-Encoding`).
    Framing(&'static str),
    /// Any other HTTP failure.
    Http(String),
    /// Any other I/O failure; chained as `source()`.
    Io(std::io::Error),
}

impl fmt::Display for UreqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UreqError::Timeout(what) => write!(f, "timed out: {what}"),
            UreqError::Connect(what) => write!(f, "cannot connect: {what}"),
            UreqError::BodyTooLarge { limit } => {
                write!(f, "response body is larger than {limit} bytes")
            }
            UreqError::Truncated => f.write_str("response body ended early (truncated)"),
            UreqError::BadUrl(what) => write!(f, "bad URL: {what}"),
            UreqError::BadProxy(what) => write!(f, "bad proxy URL: {what}"),
            UreqError::NotTls(what) => write!(
                f,
                "TLS handshake failed: the server does not speak TLS (a plain-HTTP port? \
                 http:// is allowed for loopback hosts): {what}"
            ),
            UreqError::Framing(what) => write!(f, "malformed response: {what}"),
            UreqError::Http(what) => write!(f, "HTTP error: {what}"),
            UreqError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for UreqError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UreqError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl UreqError {
    /// True for timeouts.
    pub fn is_timeout(&self) -> bool {
        matches!(self, UreqError::Timeout(_))
    }

    fn from_ureq(error: ureq::Error) -> Self {
        match error {
            ureq::Error::Timeout(which) => UreqError::Timeout(which.to_string()),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                UreqError::Connect(error.to_string())
            }
            ureq::Error::Io(io) => Self::from_io(io),
            ureq::Error::BadUri(uri) => UreqError::BadUrl(uri),
            other => Self::other(other.to_string()),
        }
    }

    fn from_io(io: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match io.kind() {
            ErrorKind::UnexpectedEof => UreqError::Truncated,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => UreqError::Timeout(io.to_string()),
            ErrorKind::ConnectionRefused => UreqError::Connect(io.to_string()),
            _ => {
                // ureq wraps its own errors (timeouts, protocol) in io::Error while reading.
                match io.downcast::<ureq::Error>() {
                    Ok(inner) => Self::from_ureq(inner),
                    Err(io) if io.to_string().contains("InvalidContentType") => {
                        UreqError::NotTls(io.to_string())
                    }
                    Err(io) => UreqError::Io(io),
                }
            }
        }
    }

    fn other(text: String) -> Self {
        // rustls met a record that is not TLS: the peer answered in plain text. (Matched on
        // the text so this crate need not name the TLS library.)
        if text.contains("InvalidContentType") {
            UreqError::NotTls(text)
        } else {
            UreqError::Http(text)
        }
    }
}

/// How long a host name's addresses are reused for new connections.
const NAME_TTL: Duration = Duration::from_secs(60);

/// ureq resolves the host before it looks in its connection pool, and its default resolver
/// starts a thread for every lookup when a timeout is set: one thread per request, even on a
/// reused keep-alive connection that never looks at the addresses (a quarter of a loopback
/// query's time in `bench/`). This resolver answers IP literals without any lookup and reuses
/// a name's addresses for [`NAME_TTL`]; they only matter when a new connection is opened.
#[derive(Debug, Default)]
struct PooledResolver {
    inner: DefaultResolver,
    last: Mutex<Option<(String, Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for PooledResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(authority) = uri.authority() else {
            return self.inner.resolve(uri, config, timeout);
        };
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let default_port = match uri.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        };
        if let (Ok(ip), Some(port)) = (
            host.parse::<IpAddr>(),
            authority.port_u16().or(default_port),
        ) {
            let mut addrs = self.inner.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{}://{}", uri.scheme_str().unwrap_or_default(), authority);
        let lock = || self.last.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((name, at, addrs)) = lock().as_ref()
            && *name == key
            && at.elapsed() < NAME_TTL
        {
            return Ok(addrs.clone());
        }
        // Not holding the lock while looking up: another thread may still use the old entry.
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *lock() = Some((key, Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

/// Largest key file [`load_key`] reads; a larger file is [`KeyFileError::TooLarge`]. An
/// RSA-4096 PKCS#8 PEM is about 3.3 kB.
pub const MAX_KEY_FILE_BYTES: usize = 64 * 1024;

/// Largest response head (status line and headers) accepted: a larger one is an error.
pub const MAX_RESPONSE_HEAD_BYTES: usize = 64 * 1024;

/// ureq's read buffer: the response head must fit whole, so one past the limit is detected as
/// too large (not as a stalled read). ureq's default is 128 KiB, zeroed on the first request:
/// every `wxpay` process paid for pages it never used.
const INPUT_BUFFER_BYTES: usize = MAX_RESPONSE_HEAD_BYTES + 1024;

/// ureq's write buffer: a request head (under 2 KiB) fits; bodies stream through it in pieces.
const OUTPUT_BUFFER_BYTES: usize = 16 * 1024;

/// True for the hosts plain `http://` may go to: `localhost`, 127.0.0.0/8 and `[::1]`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Checks a base URL before any traffic: `https://HOST[:PORT][/PATH]`, or `http://` when the
/// host is loopback; no user info, query or fragment.
pub fn check_base_url(base_url: &str) -> Result<(), UreqError> {
    let bad = |why: &str| Err(UreqError::BadUrl(format!("{base_url}: {why}")));
    let uri: Uri = match base_url.parse() {
        Ok(uri) => uri,
        Err(e) => return bad(&e.to_string()),
    };
    let Some(authority) = uri.authority() else {
        return bad("expected https://HOST");
    };
    if authority.as_str().contains('@') {
        return bad("user info is not allowed");
    }
    if authority.host().is_empty() {
        return bad("no host");
    }
    if uri.query().is_some() || base_url.contains('#') {
        return bad("a query or fragment is not allowed");
    }
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if is_loopback_host(authority.host()) => Ok(()),
        Some("http") => bad(
            "plain http:// is allowed only to loopback hosts (127.0.0.0/8, [::1], localhost); use https://",
        ),
        _ => bad("expected https://HOST"),
    }
}

/// TLS for every agent: rustls with the AWS-LC crypto provider, so the binary carries one C
/// crypto library (the AWS-LC the RSA backend already brings), not ring as well. Roots are the
/// webpki (Mozilla) set, as with ureq's default `rustls` feature.
fn tls_config() -> ureq::tls::TlsConfig {
    let aws_lc = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(aws_lc)
        .build()
}

/// The core's [`Transport`] over a ureq [`Agent`], which keeps connections alive.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: Agent,
    base_url: String,
    timeouts: Timeouts,
    /// Why the base URL is refused; then every call fails before any traffic.
    refused: Option<String>,
}

impl UreqTransport {
    /// A transport to `base_url` (e.g. [`PRODUCTION_BASE_URL`] or an emulator's
    /// `http://127.0.0.1:PORT`), without a trailing slash, and no proxy. A base URL that
    /// [`check_base_url`] refuses makes every call fail with [`UreqError::BadUrl`] before any
    /// traffic; use [`UreqTransport::checked`] to learn that at once.
    pub fn new(base_url: &str, timeouts: Timeouts) -> Self {
        UreqTransport {
            agent: agent(timeouts, None),
            base_url: base_url.trim_end_matches('/').to_owned(),
            timeouts,
            refused: check_base_url(base_url).err().map(|e| e.to_string()),
        }
    }

    /// Like [`UreqTransport::new`], but a refused base URL is an error now.
    pub fn checked(base_url: &str, timeouts: Timeouts) -> Result<Self, UreqError> {
        check_base_url(base_url)?;
        Ok(Self::new(base_url, timeouts))
    }

    /// Sends every request through the proxy at `proxy_url` (`http://HOST:PORT`, an HTTPS
    /// target is tunnelled with `CONNECT`). Without this call no proxy is used, whatever the
    /// environment says.
    pub fn with_proxy(mut self, proxy_url: &str) -> Result<Self, UreqError> {
        let proxy = ureq::Proxy::new(proxy_url)
            .map_err(|e| UreqError::BadProxy(format!("{proxy_url}: {e}")))?;
        self.agent = agent(self.timeouts, Some(proxy));
        Ok(self)
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// The agent: bounded timeouts, HTTP statuses as responses, no redirects, and a proxy only
/// when one is given (ureq's default config would read `ALL_PROXY`/`HTTPS_PROXY`).
fn agent(timeouts: Timeouts, proxy: Option<ureq::Proxy>) -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(timeouts.connect))
        .timeout_recv_response(Some(timeouts.read))
        .timeout_recv_body(Some(timeouts.read))
        .timeout_global(Some(timeouts.overall))
        .max_redirects(0)
        .max_response_header_size(MAX_RESPONSE_HEAD_BYTES)
        .input_buffer_size(INPUT_BUFFER_BYTES)
        .output_buffer_size(OUTPUT_BUFFER_BYTES)
        .proxy(proxy)
        .user_agent(USER_AGENT)
        .tls_config(tls_config())
        .build();
    Agent::with_parts(config, DefaultConnector::new(), PooledResolver::default())
}

impl Transport for UreqTransport {
    type Error = UreqError;

    fn body_too_large(error: &UreqError) -> bool {
        matches!(error, UreqError::BodyTooLarge { .. })
    }

    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, UreqError> {
        if let Some(why) = &self.refused {
            return Err(UreqError::BadUrl(why.clone()));
        }
        // The target is ASCII with only unreserved characters and %XX escapes, which `Uri`
        // keeps verbatim: it goes on the wire exactly as signed.
        let url = format!("{}{}", self.base_url, request.target);
        let uri: Uri = url
            .parse()
            .map_err(|e| UreqError::BadUrl(format!("{url}: {e}")))?;
        if uri.path_and_query().map(|pq| pq.as_str()) != Some(request.target) {
            return Err(UreqError::BadUrl(format!(
                "target would be rewritten: {url}"
            )));
        }
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(uri);
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(request.body.to_vec())
            .map_err(|e| UreqError::Http(e.to_string()))?;
        wxpay_core::__log!(debug, "{} {}", request.method.as_str(), request.target);
        let mut response = self.agent.run(http_request).map_err(UreqError::from_ureq)?;
        // RFC 9112 §6.1: a message with both is a smuggling vector; refuse it, as the
        // embedded-io adapter does.
        let has = |name: &str| response.headers().contains_key(name);
        if has("content-length") && has("transfer-encoding") {
            return Err(UreqError::Framing(
                "both Content-Length and Transfer-Encoding",
            ));
        }

        let mut headers = ResponseHeaders::default();
        for (name, value) in response.headers() {
            headers.capture(name.as_str(), value.as_bytes());
        }
        let status = response.status().as_u16();
        wxpay_core::__log!(
            debug,
            "{} {} -> {}, Request-ID {}",
            request.method.as_str(),
            request.target,
            status,
            headers.request_id.as_deref().unwrap_or("-"),
        );
        let limit = response_body.len();
        // Read one byte more than fits, so an oversized body is detected, not cut.
        let mut reader = response
            .body_mut()
            .with_config()
            .limit(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
            .reader();
        let mut len = 0;
        loop {
            if len == limit {
                let mut probe = [0u8; 1];
                return match reader.read(&mut probe).map_err(UreqError::from_io)? {
                    0 => Ok(ResponseHead {
                        status,
                        headers,
                        body_len: len,
                    }),
                    _ => Err(UreqError::BodyTooLarge { limit }),
                };
            }
            let dst = &mut response_body[len..];
            match reader.read(dst) {
                Ok(0) => {
                    return Ok(ResponseHead {
                        status,
                        headers,
                        body_len: len,
                    });
                }
                Ok(n) => len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(UreqError::from_io(e)),
            }
        }
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_seconds(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// The operating system's CSPRNG (getrandom).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(dest).map_err(|_| Error::Random)
    }
}

/// Why a key file did not load.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read.
    Read(std::io::Error),
    /// The file is larger than `limit` ([`MAX_KEY_FILE_BYTES`]) bytes: not a key.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Its content is not a usable key.
    Key(KeyError),
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::Read(e) => write!(f, "cannot read key file: {e}"),
            KeyFileError::TooLarge { limit } => {
                write!(f, "key file is larger than {limit} bytes: not a key")
            }
            KeyFileError::Key(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for KeyFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyFileError::Read(e) => Some(e),
            KeyFileError::Key(e) => Some(e),
            KeyFileError::TooLarge { .. } => None,
        }
    }
}

/// Reads at most `limit` bytes of `reader` into a zeroizing buffer; `Ok(None)` when there is
/// more (the bytes read so far are zeroized). For key files, secrets and other bounded inputs.
pub fn read_bounded(
    reader: impl Read,
    limit: usize,
) -> std::io::Result<Option<Zeroizing<Vec<u8>>>> {
    let mut bytes = Zeroizing::new(Vec::new());
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(cap).read_to_end(&mut bytes)?;
    Ok((bytes.len() <= limit).then_some(bytes))
}

/// A key file's contents: PEM text or DER bytes.
#[derive(Debug, Clone, Copy)]
pub enum KeyMaterial<'a> {
    /// Text with a `-----BEGIN` line.
    Pem(&'a str),
    /// Anything else, taken as DER.
    Der(&'a [u8]),
}

/// Reads a key file (zeroizing its bytes once parsed) and hands it to `parse`, for any
/// backend: `load_key(path, |k| match k { Pem(p) => X::from_pem(p), Der(d) => X::from_der(d) })`.
pub fn load_key<T>(
    path: &Path,
    parse: impl FnOnce(KeyMaterial<'_>) -> Result<T, KeyError>,
) -> Result<T, KeyFileError> {
    let bytes = std::fs::File::open(path)
        .and_then(|f| read_bounded(f, MAX_KEY_FILE_BYTES))
        .map_err(KeyFileError::Read)?
        .ok_or(KeyFileError::TooLarge {
            limit: MAX_KEY_FILE_BYTES,
        })?;
    let material = match std::str::from_utf8(&bytes) {
        Ok(pem) if pem.contains("-----BEGIN") => KeyMaterial::Pem(pem),
        _ => KeyMaterial::Der(&bytes),
    };
    parse(material).map_err(KeyFileError::Key)
}

/// Loads the merchant private key (PKCS#8 or PKCS#1, PEM or DER) for certificate `serial_no`
/// into the core's pure-Rust backend. The file's bytes are zeroized after parsing; the key
/// itself is zeroized on drop.
pub fn load_signer(path: &Path, serial_no: &str) -> Result<RsaSigner, KeyFileError> {
    load_key(path, |key| match key {
        KeyMaterial::Pem(pem) => RsaSigner::from_pem(pem, serial_no),
        KeyMaterial::Der(der) => RsaSigner::from_der(der, serial_no),
    })
}

/// Loads a platform public key (SPKI or PKCS#1, PEM or DER) into the core's pure-Rust backend.
pub fn load_verifier(path: &Path) -> Result<RsaVerifier, KeyFileError> {
    load_key(path, |key| match key {
        KeyMaterial::Pem(pem) => RsaVerifier::from_pem(pem),
        KeyMaterial::Der(der) => RsaVerifier::from_der(der),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_ip_literals_both_reach_the_server() {
        use std::sync::Arc;
        let server = wxpay_emulator::server::Server::start(
            Arc::new(wxpay_emulator::Emulator::demo()),
            "127.0.0.1:0",
        )
        .expect("listens");
        let port = server.addr().port();
        for base in [
            format!("http://127.0.0.1:{port}"),
            format!("http://localhost:{port}"),
        ] {
            let mut transport = UreqTransport::new(&base, Timeouts::all(Duration::from_secs(5)));
            for _ in 0..2 {
                let request = Request {
                    method: wxpay_core::Method::Get,
                    target: "/v3/payscore/permissions/authorization-code/X?service_id=1",
                    authorization: "WECHATPAY2-SHA256-RSA2048 bogus",
                    user_agent: USER_AGENT,
                    wechatpay_serial: None,
                    body: b"",
                };
                let mut body = [0u8; 4096];
                let head = transport.execute(&request, &mut body).expect(&base);
                assert_eq!(head.status, 401, "{base}");
            }
        }
    }

    /// A raw HTTP server on 127.0.0.1 that answers one connection with `answer` and hands
    /// back the bytes of the request it read.
    fn raw_server(answer: &'static [u8]) -> (String, std::thread::JoinHandle<Vec<u8>>) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let port = listener.local_addr().expect("addr").port();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accepts");
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // Up to the end of a request head, or whatever a TLS client sends first.
            while let Ok(n) = stream.read(&mut buf) {
                seen.extend_from_slice(buf.get(..n).unwrap_or_default());
                if n == 0
                    || seen.windows(4).any(|w| w == b"\r\n\r\n")
                    || seen.first() == Some(&0x16)
                {
                    break;
                }
            }
            let _ = stream.write_all(answer);
            let _ = stream.flush();
            seen
        });
        (format!("127.0.0.1:{port}"), handle)
    }

    fn get(base: &str) -> (Result<ResponseHead, UreqError>, Vec<u8>) {
        let request = Request {
            method: wxpay_core::Method::Get,
            target: "/v3/x",
            authorization: "WECHATPAY2-SHA256-RSA2048 bogus",
            user_agent: USER_AGENT,
            wechatpay_serial: None,
            body: b"",
        };
        let mut body = [0u8; 256];
        let mut transport = UreqTransport::new(base, Timeouts::all(Duration::from_secs(30)));
        let result = transport.execute(&request, &mut body);
        let len = result.as_ref().map_or(0, |h| h.body_len);
        (result, body.get(..len).unwrap_or_default().to_vec())
    }

    /// A `200` whose head is `len` bytes long (padded with one header), with body `{}`.
    fn answer_with_head_of(len: usize) -> &'static [u8] {
        let fixed = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: \r\n\r\n".len();
        let pad = "a".repeat(len - fixed);
        let text = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: {pad}\r\n\r\n{{}}");
        Box::leak(text.into_bytes().into_boxed_slice())
    }

    #[test]
    fn response_heads_up_to_the_limit() {
        #[rustfmt::skip]
        let cases: &[(usize, bool)] = &[
            (1_000,                       true),
            (MAX_RESPONSE_HEAD_BYTES,     true),
            (MAX_RESPONSE_HEAD_BYTES + 1, false),
            (INPUT_BUFFER_BYTES + 4096,   false),
        ];
        for (len, ok) in cases {
            let (base, server) = raw_server(answer_with_head_of(*len));
            let (result, body) = get(&format!("http://{base}"));
            server.join().expect("server");
            match (ok, result) {
                (true, Ok(head)) => assert_eq!((head.status, &body[..]), (200, &b"{}"[..])),
                (false, Err(e)) => assert!(e.to_string().contains("header"), "{len}: {e}"),
                (_, other) => panic!("{len}: {other:?}"),
            }
        }
    }

    /// A request body far larger than the write buffer arrives whole.
    #[test]
    fn request_bodies_stream_through_the_write_buffer() {
        use std::io::{BufRead, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accepts");
            let mut reader = std::io::BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("head");
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().expect("length");
                }
            }
            let mut body = vec![0u8; length];
            reader.read_exact(&mut body).expect("body");
            let mut stream = reader.into_inner();
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                .expect("answers");
            body
        });
        let sent: Vec<u8> = (0..5 * OUTPUT_BUFFER_BYTES + 7)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        let request = Request {
            method: wxpay_core::Method::Post,
            target: "/v3/x",
            authorization: "WECHATPAY2-SHA256-RSA2048 bogus",
            user_agent: USER_AGENT,
            wechatpay_serial: None,
            body: &sent,
        };
        let mut transport = UreqTransport::new(
            &format!("http://127.0.0.1:{port}"),
            Timeouts::all(Duration::from_secs(30)),
        );
        let head = transport.execute(&request, &mut [0u8; 16]).expect("sends");
        assert_eq!(head.status, 204);
        assert_eq!(server.join().expect("server"), sent);
    }

    #[test]
    fn plain_http_only_to_loopback() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("https://api.mch.weixin.qq.com",  true),
            ("https://192.0.2.1:8443",         true),
            ("http://127.0.0.1:8787",          true),
            ("http://127.9.8.7",               true),
            ("http://[::1]:8787",              true),
            ("http://localhost:8787",          true),
            ("http://LOCALHOST",               true),
            ("http://api.mch.weixin.qq.com",   false),
            ("http://192.0.2.1:8787",          false),
            ("http://[::2]:8787",              false),
            ("http://localhost.example.com",   false),
            ("http://127.0.0.1@192.0.2.1",     false),
            ("https://user@api.mch.weixin.qq.com", false),
            ("https://api.mch.weixin.qq.com?x=1", false),
            ("ftp://127.0.0.1",                false),
            ("127.0.0.1:8787",                 false),
            ("htp:/x",                         false),
            ("",                               false),
        ];
        for (url, allowed) in cases {
            assert_eq!(check_base_url(url).is_ok(), *allowed, "{url}");
            let checked = UreqTransport::checked(url, Timeouts::default());
            assert_eq!(checked.is_ok(), *allowed, "{url}");
            if !allowed {
                // Built anyway: it refuses every call before any traffic.
                let (result, _) = get(url);
                assert!(
                    matches!(result, Err(UreqError::BadUrl(_))),
                    "{url}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn redirects_are_not_followed() {
        let target = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        target.set_nonblocking(true).expect("nonblocking");
        let answer = format!(
            "HTTP/1.1 302 Found\r\nLocation: http://{}/v3/y\r\nContent-Length: 0\r\n\r\n",
            target.local_addr().expect("addr")
        );
        let (addr, server) = raw_server(Box::leak(answer.into_boxed_str()).as_bytes());
        let (result, _) = get(&format!("http://{addr}"));
        assert_eq!(result.expect("the 302 itself").status, 302);
        server.join().expect("server");
        assert!(
            matches!(target.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "the redirect target was contacted"
        );
    }

    #[test]
    fn content_length_with_transfer_encoding_is_refused() {
        let (addr, server) = raw_server(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        );
        let (result, _) = get(&format!("http://{addr}"));
        assert!(matches!(result, Err(UreqError::Framing(_))), "{result:?}");
        server.join().expect("server");
        // Either alone is fine.
        for answer in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ] {
            let (addr, server) = raw_server(answer);
            let (result, body) = get(&format!("http://{addr}"));
            assert_eq!(result.expect("200").status, 200);
            assert_eq!(body, b"hello");
            server.join().expect("server");
        }
    }

    #[test]
    fn tls_to_a_plain_http_port_says_so() {
        // What a plain-HTTP server answers to a ClientHello: a 400 in plain text.
        let (addr, server) = raw_server(
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        let (result, _) = get(&format!("https://{addr}"));
        let seen = server.join().expect("server");
        assert_eq!(seen.first(), Some(&0x16), "a TLS handshake record was sent");
        let error = result.expect_err("not TLS");
        assert!(matches!(error, UreqError::NotTls(_)), "{error:?}");
        assert!(error.to_string().contains("plain-HTTP port"), "{error}");
    }

    #[test]
    fn key_files_are_bounded() {
        let path = std::env::temp_dir().join(format!("wxpay-ureq-big-key-{}", std::process::id()));
        std::fs::write(&path, vec![b'A'; MAX_KEY_FILE_BYTES + 1]).expect("writes");
        let result = load_verifier(&path);
        let _ = std::fs::remove_file(&path);
        assert!(
            matches!(
                result,
                Err(KeyFileError::TooLarge {
                    limit: MAX_KEY_FILE_BYTES
                })
            ),
            "{result:?}"
        );
        #[rustfmt::skip]
        let cases: &[(usize, usize, bool)] = &[
            (0, 0, true), (3, 3, true), (3, 4, true), (4, 3, false), (100_000, 10, false),
        ];
        for (len, limit, fits) in cases {
            let read = read_bounded(&vec![7u8; *len][..], *limit).expect("reads");
            assert_eq!(
                read.map(|b| b.len()),
                fits.then_some(*len),
                "{len} / {limit}"
            );
        }
    }

    #[test]
    fn errors_chain_their_source() {
        use std::error::Error as _;
        let io = || std::io::Error::other("disk on fire");
        #[rustfmt::skip]
        let cases: &[(&dyn std::error::Error, Option<&str>)] = &[
            (&UreqError::Io(io()),                      Some("disk on fire")),
            (&UreqError::Truncated,                     None),
            (&KeyFileError::Read(io()),                 Some("disk on fire")),
            (&KeyFileError::Key(KeyError::Unreadable),         Some(&KeyError::Unreadable.to_string())),
            (&KeyFileError::TooLarge { limit: 1 },      None),
        ];
        for (error, source) in cases {
            assert_eq!(
                error.source().map(|s| s.to_string()).as_deref(),
                *source,
                "{error}"
            );
        }
    }

    #[test]
    fn user_agent_names_core_and_adapter() {
        assert!(USER_AGENT.starts_with("wxpay-core/"));
        assert!(USER_AGENT.contains(" wxpay-ureq/"));
    }
}
