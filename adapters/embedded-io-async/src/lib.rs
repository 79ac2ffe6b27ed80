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

use embedded_io_async::{Read, Write};
use wxpay_core::transport::{AsyncTransport, Request, ResponseHead};
pub use wxpay_embedded_io::{DEFAULT_MAX_HEADERS, Error, RECOMMENDED_SCRATCH_LEN, proto};

/// An async HTTP/1.1 client on one connection. See the [crate docs](crate).
///
/// `MAX_HEADERS` bounds the header lines of a response (each slot costs two slices while a
/// head is parsed).
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
    /// complete, delimited by length or chunks, without `Connection: close` or stray bytes,
    /// and its future was not dropped half way.
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

impl<S: Read + Write, const MAX_HEADERS: usize> AsyncTransport for HttpClient<'_, S, MAX_HEADERS> {
    type Error = Error<S::Error>;

    fn body_too_large(error: &Error<S::Error>) -> bool {
        matches!(error, Error::BodyTooLarge { .. })
    }

    async fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, Self::Error> {
        if !self.reusable {
            return Err(Error::NotReusable);
        }
        // Until this exchange ends cleanly (an error, or the future dropped at any await), the
        // connection is in an unknown state.
        self.reusable = false;
        let [first, second] = proto::request_bytes(self.scratch, self.host, request)?;
        write_all(&mut self.stream, first).await?;
        write_all(&mut self.stream, second).await?;
        self.stream.flush().await.map_err(Error::Io)?;
        let mut head = ResponseHead::default();
        let mut reader = proto::ResponseReader::<MAX_HEADERS>::new();
        loop {
            let buf = reader.buffer(self.scratch, response_body)?;
            let n = self.stream.read(buf).await.map_err(Error::Io)?;
            if let Some(reusable) = reader.advance(n, self.scratch, response_body, &mut head)? {
                self.reusable = reusable;
                return Ok(head);
            }
        }
    }
}

/// `write_all` without the panic on `Ok(0)` that embedded-io-async's default has.
async fn write_all<S: Write>(stream: &mut S, mut data: &[u8]) -> Result<(), Error<S::Error>> {
    while !data.is_empty() {
        let n = stream.write(data).await.map_err(Error::Io)?;
        data = data
            .get(n..)
            .filter(|_| n > 0)
            .ok_or(Error::StreamMisbehaved)?;
    }
    Ok(())
}
