//! std transport for `wxpay-core` over [ureq] 3.
//!
//! - [`UreqTransport`]: the core's [`Transport`] with connection reuse, connect/read/overall
//!   timeouts, the request target sent byte for byte as signed, and bodies read into the
//!   caller's bounded buffer (a larger body is an error, never a truncation).
//! - [`SystemClock`] and [`OsRandom`]: the host's clock and CSPRNG for the core's traits.
//! - [`load_signer`] and [`load_verifier`]: PEM key files (PKCS#8 or PKCS#1; SPKI or PKCS#1),
//!   read into zeroizing buffers.

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
    /// The base URL and target do not form a valid URI.
    BadUrl(String),
    /// Any other HTTP or I/O failure.
    Http(String),
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
            UreqError::Http(what) => write!(f, "HTTP error: {what}"),
        }
    }
}

impl std::error::Error for UreqError {}

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
            other => UreqError::Http(other.to_string()),
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
                    Err(io) => UreqError::Http(io.to_string()),
                }
            }
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
}

impl UreqTransport {
    /// A transport to `base_url` (e.g. [`PRODUCTION_BASE_URL`] or an emulator's
    /// `http://127.0.0.1:PORT`), without a trailing slash.
    pub fn new(base_url: &str, timeouts: Timeouts) -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeouts.connect))
            .timeout_recv_response(Some(timeouts.read))
            .timeout_recv_body(Some(timeouts.read))
            .timeout_global(Some(timeouts.overall))
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .tls_config(tls_config())
            .build();
        UreqTransport {
            agent: Agent::with_parts(config, DefaultConnector::new(), PooledResolver::default()),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

impl Transport for UreqTransport {
    type Error = UreqError;

    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, UreqError> {
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
        let mut response = self.agent.run(http_request).map_err(UreqError::from_ureq)?;

        let mut headers = ResponseHeaders::default();
        for (name, value) in response.headers() {
            headers.capture(name.as_str(), value.as_bytes());
        }
        let status = response.status().as_u16();
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
pub enum KeyFileError {
    /// The file could not be read.
    Read(std::io::Error),
    /// Its content is not a usable key.
    Key(KeyError),
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::Read(e) => write!(f, "cannot read key file: {e}"),
            KeyFileError::Key(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for KeyFileError {}

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
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(KeyFileError::Read)?;
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

    #[test]
    fn user_agent_names_core_and_adapter() {
        assert!(USER_AGENT.starts_with("wxpay-core/"));
        assert!(USER_AGENT.contains(" wxpay-ureq/"));
    }
}
