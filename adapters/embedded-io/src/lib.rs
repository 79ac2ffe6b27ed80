//! HTTP/1.1 for [`wxpay-core`](wxpay_core) over any blocking [`embedded_io`] stream.
//!
//! [`HttpClient`] implements the core's [`Transport`] on a stream the caller supplies, usually
//! TLS from the caller's own stack. It is `#![no_std]` and allocation-free: the request head is
//! written into a caller-provided scratch buffer, the response head is parsed (by `httparse`)
//! from the same buffer, and the body lands in the buffer the core passes to
//! [`Transport::execute`]. Everything is bounded:
//!
//! | limit | set by | error |
//! |---|---|---|
//! | request head | scratch buffer length | [`Error::RequestTooLarge`] (with the size needed) |
//! | response head, trailers | scratch buffer length | [`Error::HeadTooLarge`] |
//! | header lines | `MAX_HEADERS` (const generic, default 32) | [`Error::TooManyHeaders`] |
//! | body | the core's body buffer | [`Error::BodyTooLarge`] |
//! | chunk-size line | 256 bytes | [`Error::MalformedChunk`] |
//!
//! Bodies may be delimited by `Content-Length`, by `Transfer-Encoding: chunked` (a chunk may
//! end anywhere, also inside a UTF-8 character) or by the peer closing the connection. Reads
//! may return any number of bytes, one at a time included. A response that is cut short is
//! [`Error::Truncated`], never a partial success; a close-delimited body cannot be told apart
//! from a shorter one at this layer, which is one reason the core verifies every body's
//! signature before it is used.
//!
//! ```
//! use wxpay_core::transport::{Method, Request, Transport, USER_AGENT};
//! use wxpay_embedded_io::HttpClient;
//!
//! /// A canned peer: what the client writes is kept, the reply is read back.
//! struct Canned { reply: &'static [u8], written: Vec<u8> }
//! impl embedded_io::ErrorType for Canned { type Error = embedded_io::ErrorKind; }
//! impl embedded_io::Read for Canned {
//!     fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
//!         let n = buf.len().min(self.reply.len());
//!         buf[..n].copy_from_slice(&self.reply[..n]);
//!         self.reply = &self.reply[n..];
//!         Ok(n)
//!     }
//! }
//! impl embedded_io::Write for Canned {
//!     fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
//!         self.written.extend_from_slice(buf);
//!         Ok(buf.len())
//!     }
//!     fn flush(&mut self) -> Result<(), Self::Error> { Ok(()) }
//! }
//!
//! let stream = Canned {
//!     reply: b"HTTP/1.1 200 OK\r\nRequest-ID: 08F7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
//!     written: Vec::new(),
//! };
//! let mut scratch = [0u8; wxpay_embedded_io::RECOMMENDED_SCRATCH_LEN];
//! let mut http: HttpClient<'_, Canned> = HttpClient::new(stream, "api.mch.weixin.qq.com", &mut scratch);
//! let request = Request {
//!     method: Method::Get,
//!     target: "/v3/payscore/permissions/authorization-code/X?service_id=500001",
//!     authorization: "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",...",
//!     user_agent: USER_AGENT,
//!     wechatpay_serial: Some("PUB_KEY_ID_0114232134912410000000000000001"),
//!     body: b"",
//! };
//! let mut body = [0u8; 2048];
//! let head = http.execute(&request, &mut body)?;
//! assert_eq!((head.status, &body[..head.body_len]), (200, &b"{}"[..]));
//! assert_eq!(head.headers.request_id.as_deref(), Some("08F7"));
//! assert!(http.is_reusable());
//! assert!(http.stream_mut().written.starts_with(
//!     b"GET /v3/payscore/permissions/authorization-code/X?service_id=500001 HTTP/1.1\r\nHost: api.mch.weixin.qq.com\r\n"));
//! # Ok::<(), wxpay_embedded_io::Error<embedded_io::ErrorKind>>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable
    )
)]

#[cfg(test)]
#[macro_use]
extern crate std;

mod chunked;
mod error;
mod request;
mod response;

pub use error::Error;
pub use request::write_request_head;

/// The sans-io HTTP/1.1 steps of [`HttpClient`], for clients that drive them over another kind
/// of stream (the async twin `wxpay-embedded-io-async` does): the request bytes to write, and
/// a response reader that is told what was read. No I/O, no allocation.
pub mod proto {
    pub use crate::request::{request_bytes, write_request_head};
    pub use crate::response::ResponseReader;
}

use embedded_io::{Read, Write};
use wxpay_core::transport::{Request, ResponseHead, Transport};

/// Default size of the header table: response header lines beyond it are
/// [`Error::TooManyHeaders`]. WeChat Pay sends about 15.
pub const DEFAULT_MAX_HEADERS: usize = 32;

/// A scratch buffer of this size holds any request this crate's core builds (about 1.2 KiB
/// with the longest target) and WeChat Pay's response heads (about 1 KiB, a third of it the
/// signature).
pub const RECOMMENDED_SCRATCH_LEN: usize = 2048;

/// An HTTP/1.1 client on one connection. See the [crate docs](crate).
///
/// `MAX_HEADERS` bounds the header lines of a response (each slot costs two slices of stack
/// while a head is parsed).
#[derive(Debug)]
pub struct HttpClient<'a, S, const MAX_HEADERS: usize = DEFAULT_MAX_HEADERS> {
    stream: S,
    host: &'a str,
    scratch: &'a mut [u8],
    reusable: bool,
}

impl<'a, S, const MAX_HEADERS: usize> HttpClient<'a, S, MAX_HEADERS> {
    /// A client that sends `Host: host` over `stream`, a fresh connection. `scratch` holds the
    /// request head while it is written and the response head while it is read; its length is
    /// the limit of both (see [`RECOMMENDED_SCRATCH_LEN`]).
    pub fn new(stream: S, host: &'a str, scratch: &'a mut [u8]) -> Self {
        HttpClient {
            stream,
            host,
            scratch,
            reusable: true,
        }
    }

    /// True when the next request may go over the same connection: the last response was
    /// complete, delimited by length or chunks, without `Connection: close` or stray bytes.
    pub fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// Replaces the connection with a fresh one and hands back the old one, for the caller to
    /// close.
    pub fn reconnect(&mut self, stream: S) -> S {
        self.reusable = true;
        core::mem::replace(&mut self.stream, stream)
    }

    /// The stream, e.g. to set a timeout.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Gives back the stream.
    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Read + Write, const MAX_HEADERS: usize> Transport for HttpClient<'_, S, MAX_HEADERS> {
    type Error = Error<S::Error>;

    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, Self::Error> {
        if !self.reusable {
            return Err(Error::NotReusable);
        }
        // Until this exchange ends cleanly, the connection is in an unknown state.
        self.reusable = false;
        let [first, second] = proto::request_bytes(self.scratch, self.host, request)?;
        write_all(&mut self.stream, first)?;
        write_all(&mut self.stream, second)?;
        self.stream.flush().map_err(Error::Io)?;
        let mut head = ResponseHead::default();
        let mut reader = proto::ResponseReader::<MAX_HEADERS>::new();
        loop {
            let buf = reader.buffer(self.scratch, response_body)?;
            let n = read_some(&mut self.stream, buf)?;
            if let Some(reusable) = reader.advance(n, self.scratch, response_body, &mut head)? {
                self.reusable = reusable;
                return Ok(head);
            }
        }
    }
}

/// `write_all` without the panic on `Ok(0)` that embedded-io's default has.
fn write_all<S: Write>(stream: &mut S, mut data: &[u8]) -> Result<(), Error<S::Error>> {
    while !data.is_empty() {
        let n = stream.write(data).map_err(Error::Io)?;
        data = data
            .get(n..)
            .filter(|_| n > 0)
            .ok_or(Error::StreamMisbehaved)?;
    }
    Ok(())
}

/// One `read`, checked against the contract.
fn read_some<S: Read>(stream: &mut S, buf: &mut [u8]) -> Result<usize, Error<S::Error>> {
    let n = stream.read(buf).map_err(Error::Io)?;
    if n > buf.len() {
        Err(Error::StreamMisbehaved)
    } else {
        Ok(n)
    }
}
