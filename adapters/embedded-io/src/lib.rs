#![doc = include_str!("../README.md")]
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

#[cfg(all(test, feature = "log"))]
mod log_tests;
#[cfg(all(feature = "log", feature = "defmt"))]
compile_error!("wxpay-embedded-io: enable at most one of the features `log` and `defmt`");

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

    fn body_too_large(error: &Error<S::Error>) -> bool {
        matches!(error, Error::BodyTooLarge { .. })
    }

    // Never inlined: the response head (about 700 bytes of header slots) is built here and
    // returned whole. Inlined into a caller, LLVM split the head into hundreds of scalars that
    // it copied one by one through every `Result` layer: 19 KiB of code in the Cortex-M4
    // firmware (`firmware/`, variant 4: 87.9 KiB flash inlined, 68.7 KiB not).
    #[inline(never)]
    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, Self::Error> {
        if !self.reusable {
            return Err(Error::NotReusable);
        }
        wxpay_core::__log!(debug, "{} {}", request.method.as_str(), request.target);
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
                wxpay_core::__log!(
                    debug,
                    "{} {} -> {}, {} bytes, Request-ID {}",
                    request.method.as_str(),
                    request.target,
                    head.status,
                    head.body_len,
                    head.headers.request_id.as_deref().unwrap_or("-"),
                );
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
