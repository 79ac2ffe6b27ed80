//! The async twin's side of the shared test support: the blocking crate's scripted `Peer`
//! behind the async traits, with a pending poll before every read and write, so that every
//! await of the client is a real suspension point.
#![allow(dead_code)]

use embedded_io::ErrorKind;
use wxpay_core::transport::AsyncTransport;
use wxpay_embedded_io_async::{HttpClient, RECOMMENDED_SCRATCH_LEN};

use crate::support::{BODY_LEN, Exchanged, HOST, Outcome, Peer, get_request};

/// [`Peer`] as an `embedded-io-async` stream that yields once before each operation.
#[derive(Debug)]
pub struct AsyncPeer(pub Peer);

impl embedded_io_async::ErrorType for AsyncPeer {
    type Error = ErrorKind;
}

impl embedded_io_async::Read for AsyncPeer {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        embassy_futures::yield_now().await;
        embedded_io::Read::read(&mut self.0, buf)
    }
}

impl embedded_io_async::Write for AsyncPeer {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        embassy_futures::yield_now().await;
        embedded_io::Write::write(&mut self.0, buf)
    }
    async fn flush(&mut self) -> Result<(), ErrorKind> {
        embassy_futures::yield_now().await;
        Ok(())
    }
}

/// Sends one GET to `peer` through the async client and reads the answer: the twin of
/// `support::exchange_with`.
pub fn exchange_async(peer: Peer) -> Outcome {
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let mut http: HttpClient<'_, AsyncPeer> = HttpClient::new(AsyncPeer(peer), HOST, &mut scratch);
    let mut body = vec![0u8; BODY_LEN];
    let head = embassy_futures::block_on(http.execute(&get_request(), &mut body))?;
    body.truncate(head.body_len);
    Ok(Exchanged {
        status: head.status,
        headers: head.headers,
        body,
        reusable: http.is_reusable(),
    })
}
