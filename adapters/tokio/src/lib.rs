#![doc = include_str!("../README.md")]

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::time::Instant;
use wxpay_core::transport::{AsyncTransport, Request, ResponseHead, ResponseHeaders};

mod shared;
pub use shared::{ENV_VARS, MAX_KEY_FILE_BYTES, SetupError, SharedClient, WORK_BUFFER_BYTES};

/// The production API host.
pub const PRODUCTION_BASE_URL: &str = "https://api.mch.weixin.qq.com";
/// The backup host (the signature does not cover the host, so a retry may go here).
pub const BACKUP_BASE_URL: &str = "https://api2.mch.weixin.qq.com";
/// `User-Agent` of this adapter: the core's name and version, then this crate's.
pub const USER_AGENT: &str = concat!(
    "wxpay-core/",
    env!("CARGO_PKG_VERSION"),
    " wxpay-tokio/",
    env!("CARGO_PKG_VERSION")
);

/// Largest response head (status line and headers) read; a larger one is an HTTP error.
pub const MAX_HEAD_LEN: usize = 64 * 1024;

/// Timeouts of a [`TokioTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect (TLS setup counts against `read` and `overall`).
    pub connect: Duration,
    /// Waiting for the response head, and for each body frame.
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

/// Why an exchange (or building a transport) failed. No variant carries a partial answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokioError {
    /// A timeout fired: `"connect"`, `"read"` or `"overall"`.
    Timeout(&'static str),
    /// The host (or the proxy) could not be reached.
    Connect(String),
    /// The body is larger than the caller's buffer.
    BodyTooLarge {
        /// The buffer's size.
        limit: usize,
    },
    /// The connection ended before the body was complete.
    Truncated,
    /// The base URL or the target is not usable, or the base URL is not allowed (`http://`
    /// to a host that is not loopback, user info or a path in it): refused before any traffic.
    BadUrl(String),
    /// The proxy URL is not usable.
    BadProxy(String),
    /// The TLS handshake met something that is not TLS: most likely a plain-HTTP port.
    NotTls(String),
    /// The response head is ambiguous or its framing untrusted (both `Content-Length` and
    /// `Transfer-Encoding`, or a transfer coding other than `chunked`).
    Framing(&'static str),
    /// Any other HTTP, TLS or I/O failure.
    Http(String),
}

impl fmt::Display for TokioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokioError::Timeout(what) => write!(f, "timed out: {what}"),
            TokioError::Connect(what) => write!(f, "cannot connect: {what}"),
            TokioError::BodyTooLarge { limit } => {
                write!(f, "response body is larger than {limit} bytes")
            }
            TokioError::Truncated => f.write_str("response body ended early (truncated)"),
            TokioError::BadUrl(what) => write!(f, "bad URL: {what}"),
            TokioError::BadProxy(what) => write!(f, "bad proxy URL: {what}"),
            TokioError::NotTls(what) => write!(
                f,
                "TLS handshake failed: the server does not speak TLS (a plain-HTTP port? \
                 http:// is allowed for loopback hosts): {what}"
            ),
            TokioError::Framing(what) => write!(f, "malformed response: {what}"),
            TokioError::Http(what) => write!(f, "HTTP error: {what}"),
        }
    }
}

impl StdError for TokioError {}

impl TokioError {
    /// True for timeouts.
    pub fn is_timeout(&self) -> bool {
        matches!(self, TokioError::Timeout(_))
    }

    /// Maps a hyper or hyper-util error by what is in its chain of sources.
    fn classify(error: &(dyn StdError + 'static), connect: bool) -> Self {
        let mut source: Option<&(dyn StdError + 'static)> = Some(error);
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::TimedOut if connect => {
                        return TokioError::Timeout("connect");
                    }
                    std::io::ErrorKind::UnexpectedEof if !connect => {
                        return TokioError::Truncated;
                    }
                    _ => {}
                }
            }
            source = e.source();
        }
        let text = chain(error);
        // rustls met a record that is not TLS: the peer answered in plain text.
        if text.contains("InvalidContentType") {
            return TokioError::NotTls(text);
        }
        if connect {
            TokioError::Connect(text)
        } else {
            TokioError::Http(text)
        }
    }
}

/// An error and its sources on one line.
fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// True for the hosts plain `http://` may go to: 127.0.0.0/8, `::1` and `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => v6 == Ipv6Addr::LOCALHOST,
        Err(_) => false,
    }
}

/// Checks a base or proxy URL against the policy: `https://`, or `http://` to loopback.
fn check_url(url: &str, what: &str) -> Result<Uri, TokioError> {
    let uri: Uri = url
        .parse()
        .map_err(|e| TokioError::BadUrl(format!("{what} {url}: {e}")))?;
    let host = uri
        .host()
        .ok_or_else(|| TokioError::BadUrl(format!("{what} {url}: no host")))?;
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(TokioError::BadUrl(format!(
            "{what} {url}: credentials in the URL are not supported"
        )));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if is_loopback_host(host) => Ok(uri),
        Some("http") => Err(TokioError::BadUrl(format!(
            "{url}: plain http:// is allowed only to loopback hosts (127.0.0.0/8, [::1], localhost); use https://"
        ))),
        _ => Err(TokioError::BadUrl(format!(
            "{what} {url}: only https:// (or http:// to loopback)"
        ))),
    }
}

type BoxError = Box<dyn StdError + Send + Sync>;

/// TCP straight to the host, or through an explicitly configured HTTP CONNECT proxy.
#[derive(Debug, Clone)]
enum Route {
    Direct(HttpConnector),
    Proxy(Tunnel<HttpConnector>),
}

impl tower_service::Service<Uri> for Route {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            Route::Direct(c) => c.poll_ready(cx).map_err(Into::into),
            Route::Proxy(c) => c.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        match self {
            Route::Direct(c) => {
                let connecting = c.call(uri);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
            Route::Proxy(c) => {
                let connecting = c.call(uri);
                Box::pin(async move { connecting.await.map_err(Into::into) })
            }
        }
    }
}

/// Builds a [`TokioTransport`] with more than the defaults.
#[derive(Debug, Clone)]
pub struct Builder {
    base_url: String,
    timeouts: Timeouts,
    proxy: Option<String>,
    pool_idle: Duration,
    pool_max_idle_per_host: usize,
}

impl Builder {
    /// Timeouts (default: [`Timeouts::default`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sends every request through this HTTP proxy (`http://host:port`), as an HTTP CONNECT
    /// tunnel: TLS still runs end to end to the API host. Without this call no proxy is used,
    /// whatever the environment says.
    pub fn proxy(mut self, url: &str) -> Self {
        self.proxy = Some(url.to_owned());
        self
    }

    /// How long an idle keep-alive connection is kept (default 60 s).
    pub fn pool_idle_timeout(mut self, idle: Duration) -> Self {
        self.pool_idle = idle;
        self
    }

    /// Most idle connections kept per host (default 64).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Checks the URLs against the transport policy and builds the transport. Must run inside
    /// a tokio runtime only when requests are sent, not here.
    pub fn build(self) -> Result<TokioTransport, TokioError> {
        let base_url = self.base_url.trim_end_matches('/');
        let base = check_url(base_url, "base URL")?;
        if base.path() != "/" || base.query().is_some() {
            return Err(TokioError::BadUrl(format!(
                "base URL {base_url}: no path or query (the target brings its own)"
            )));
        }
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(self.timeouts.connect));
        let route = match &self.proxy {
            None => Route::Direct(tcp),
            Some(proxy) => {
                let proxy_uri: Uri = proxy
                    .parse()
                    .map_err(|e| TokioError::BadProxy(format!("{proxy}: {e}")))?;
                let plain = proxy_uri.scheme_str() == Some("http")
                    && proxy_uri.host().is_some()
                    && !proxy_uri
                        .authority()
                        .is_some_and(|a| a.as_str().contains('@'));
                if !plain {
                    return Err(TokioError::BadProxy(format!(
                        "{proxy}: only http://host:port proxies (CONNECT tunnels) without credentials"
                    )));
                }
                // The tunnel carries TLS end to end; plain http:// must not leave the machine.
                if base.scheme_str() != Some("https") {
                    return Err(TokioError::BadProxy(format!(
                        "{proxy}: a proxy carries only https:// traffic, not {base_url}"
                    )));
                }
                Route::Proxy(Tunnel::new(proxy_uri, tcp))
            }
        };
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(provider)
            .map_err(|e| TokioError::Http(format!("TLS setup: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(route);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .http1_max_buf_size(MAX_HEAD_LEN)
            // Header names as the core spells them (`Wechatpay-Serial`), as wxpay-ureq sends.
            .http1_title_case_headers(true)
            .build(https);
        Ok(TokioTransport {
            client,
            base_url: Arc::from(base_url),
            timeouts: self.timeouts,
        })
    }
}

/// The core's [`AsyncTransport`] on hyper's pooled client. Clones share the pool.
#[derive(Clone)]
pub struct TokioTransport {
    client: Client<HttpsConnector<Route>, Full<Bytes>>,
    base_url: Arc<str>,
    timeouts: Timeouts,
}

impl fmt::Debug for TokioTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioTransport")
            .field("base_url", &self.base_url)
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

impl TokioTransport {
    /// A transport to `base_url` (e.g. [`PRODUCTION_BASE_URL`] or an emulator's
    /// `http://127.0.0.1:PORT`) without a proxy. A plain `http://` URL to a host that is not
    /// loopback is [`TokioError::BadUrl`].
    pub fn new(base_url: &str, timeouts: Timeouts) -> Result<Self, TokioError> {
        Self::builder(base_url).timeouts(timeouts).build()
    }

    /// A [`Builder`] for a proxy or pool settings.
    pub fn builder(base_url: &str) -> Builder {
        Builder {
            base_url: base_url.to_owned(),
            timeouts: Timeouts::default(),
            proxy: None,
            pool_idle: Duration::from_secs(60),
            pool_max_idle_per_host: 64,
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// One exchange, as [`AsyncTransport::execute`], from a shared reference: any number of
    /// calls may run at once on one transport.
    pub async fn send(
        &self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, TokioError> {
        let deadline = Instant::now() + self.timeouts.overall;
        // The target is ASCII with only unreserved characters and %XX escapes, which `Uri`
        // keeps verbatim: it goes on the wire exactly as signed.
        let url = format!("{}{}", self.base_url, request.target);
        let uri: Uri = url
            .parse()
            .map_err(|e| TokioError::BadUrl(format!("{url}: {e}")))?;
        if uri.path_and_query().map(|pq| pq.as_str()) != Some(request.target) {
            return Err(TokioError::BadUrl(format!(
                "target would be rewritten: {url}"
            )));
        }
        let mut builder = hyper::Request::builder()
            .method(request.method.as_str())
            .uri(uri);
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let http_request = builder
            .body(Full::new(Bytes::copy_from_slice(request.body)))
            .map_err(|e| TokioError::Http(e.to_string()))?;

        let response = self
            .within(deadline, self.client.request(http_request))
            .await?
            .map_err(|e| TokioError::classify(&e, e.is_connect()))?;

        let headers = response.headers();
        let chunked = match headers.get_all(TRANSFER_ENCODING).iter().count() {
            0 => false,
            1 => headers
                .get(TRANSFER_ENCODING)
                .is_some_and(|v| v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"chunked")),
            _ => return Err(TokioError::Framing("Transfer-Encoding repeated")),
        };
        let has_length = headers.contains_key(CONTENT_LENGTH);
        if headers.contains_key(TRANSFER_ENCODING) {
            if has_length {
                return Err(TokioError::Framing(
                    "both Content-Length and Transfer-Encoding",
                ));
            }
            if !chunked {
                return Err(TokioError::Framing("a transfer coding other than chunked"));
            }
        }
        let limit = response_body.len();
        let announced = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if announced.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
            return Err(TokioError::BodyTooLarge { limit });
        }
        let mut captured = ResponseHeaders::default();
        for (name, value) in headers {
            captured.capture(name.as_str(), value.as_bytes());
        }
        let status = response.status().as_u16();

        let mut body = response.into_body();
        let mut len = 0;
        while let Some(frame) = self.within(deadline, body.frame()).await? {
            let frame = frame.map_err(|e| TokioError::classify(&e, false))?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers: nothing signed lives there
            };
            let end = len + data.len();
            let dst = response_body
                .get_mut(len..end)
                .ok_or(TokioError::BodyTooLarge { limit })?;
            dst.copy_from_slice(&data);
            len = end;
        }
        Ok(ResponseHead {
            status,
            headers: captured,
            body_len: len,
        })
    }

    /// Runs `step` within the read timeout and what is left of the overall one.
    async fn within<F: Future>(&self, deadline: Instant, step: F) -> Result<F::Output, TokioError> {
        let read_deadline = Instant::now() + self.timeouts.read;
        let (at, which) = if read_deadline < deadline {
            (read_deadline, "read")
        } else {
            (deadline, "overall")
        };
        tokio::time::timeout_at(at, step)
            .await
            .map_err(|_| TokioError::Timeout(which))
    }
}

impl AsyncTransport for TokioTransport {
    type Error = TokioError;

    fn body_too_large(error: &TokioError) -> bool {
        matches!(error, TokioError::BodyTooLarge { .. })
    }

    async fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, TokioError> {
        self.send(request, response_body).await
    }
}

/// A shared reference is a transport too: a client holding `&TokioTransport` (or one behind
/// an `Arc`) calls without exclusive access, so one call never waits for another.
impl AsyncTransport for &TokioTransport {
    type Error = TokioError;

    fn body_too_large(error: &TokioError) -> bool {
        matches!(error, TokioError::BodyTooLarge { .. })
    }

    async fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, TokioError> {
        self.send(request, response_body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        #[rustfmt::skip]
        let cases: &[(&str, bool)] = &[
            ("127.0.0.1", true), ("127.1.2.3", true), ("127.255.255.255", true),
            ("localhost", true), ("LocalHost", true), ("[::1]", true), ("::1", true),
            ("128.0.0.1", false), ("10.0.0.1", false), ("0.0.0.0", false), ("[::]", false),
            ("[::ffff:127.0.0.1]", false), ("localhost.example", false), ("example.com", false),
            ("api.mch.weixin.qq.com", false),
        ];
        for (host, want) in cases {
            assert_eq!(is_loopback_host(host), *want, "{host}");
        }
    }

    #[test]
    fn url_policy() {
        type Want = Result<(), fn(&TokioError) -> bool>;
        #[rustfmt::skip]
        let cases: &[(&str, Want)] = &[
            ("https://api.mch.weixin.qq.com",  Ok(())),
            ("https://api.mch.weixin.qq.com/", Ok(())),
            ("http://127.0.0.1:8080",          Ok(())),
            ("http://localhost:1",             Ok(())),
            ("http://[::1]:1",                 Ok(())),
            ("http://api.mch.weixin.qq.com",   Err(|e| matches!(e, TokioError::BadUrl(_)))),
            ("http://10.0.0.1:80",             Err(|e| matches!(e, TokioError::BadUrl(_)))),
            ("ftp://127.0.0.1",                Err(|e| matches!(e, TokioError::BadUrl(_)))),
            ("https://api.mch.weixin.qq.com/v3", Err(|e| matches!(e, TokioError::BadUrl(_)))),
            ("https://user:pw@api.mch.weixin.qq.com", Err(|e| matches!(e, TokioError::BadUrl(_)))),
            ("not a url",                      Err(|e| matches!(e, TokioError::BadUrl(_)))),
        ];
        for (url, want) in cases {
            let got = TokioTransport::new(url, Timeouts::default());
            match (got, want) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err(is)) => assert!(is(&e), "{url}: {e:?}"),
                (got, _) => panic!("{url}: {got:?}"),
            }
        }
        let proxied = |proxy: &str| {
            TokioTransport::builder("https://api.mch.weixin.qq.com")
                .proxy(proxy)
                .build()
        };
        assert!(proxied("http://127.0.0.1:3128").is_ok());
        assert!(proxied("http://proxy.example:3128").is_ok());
        for bad in [
            "https://127.0.0.1:3128",
            "http://u:p@proxy.example:3128",
            "proxy:3128",
        ] {
            assert!(
                matches!(proxied(bad), Err(TokioError::BadProxy(_))),
                "{bad}"
            );
        }
        let plain_through_proxy = TokioTransport::builder("http://127.0.0.1:1")
            .proxy("http://127.0.0.1:3128")
            .build();
        assert!(matches!(plain_through_proxy, Err(TokioError::BadProxy(_))));
    }

    #[test]
    fn shareable() {
        fn send_sync_clone<T: Send + Sync + Clone + 'static>() {}
        send_sync_clone::<TokioTransport>();
    }
}
