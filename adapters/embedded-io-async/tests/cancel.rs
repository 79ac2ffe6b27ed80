//! Cancellation: the future of `execute` dropped at every await point, one after another. A
//! dropped exchange hands nothing back, leaves the client marked not reusable (the connection
//! holds half an exchange), and the client works again on a fresh stream.

#[path = "../../embedded-io/tests/support/mod.rs"]
mod support;

mod common;

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use common::AsyncPeer;
use support::*;
use wxpay_core::transport::AsyncTransport;
use wxpay_embedded_io_async::{Error, HttpClient, RECOMMENDED_SCRATCH_LEN};

/// Polls `fut` at most `n` times; `None` if it did not finish (it is then dropped).
fn poll_n<F: Future>(fut: F, n: usize) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    (0..n).find_map(|_| match fut.as_mut().poll(&mut cx) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    })
}

#[test]
fn dropped_at_every_await_point() {
    let wei = RECORD.find('微').expect("has 微");
    for raw in [
        signed_200(RECORD, Framing::Chunked(&[wei + 1, 9])),
        signed_200(RECORD, Framing::Length),
        signed_200(RECORD, Framing::Close),
    ] {
        let mut dropped = 0;
        for polls in 1.. {
            let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
            let mut http: HttpClient<'_, AsyncPeer> =
                HttpClient::new(AsyncPeer(Peer::cycling(&raw, 7)), HOST, &mut scratch);
            let mut body = vec![0u8; BODY_LEN];
            match poll_n(http.execute(&get_request(), &mut body), polls) {
                Some(done) => {
                    let head = done.expect("the whole exchange succeeds");
                    assert_eq!(&body[..head.body_len], RECORD.as_bytes());
                    break;
                }
                None => dropped += 1,
            }
            assert!(!http.is_reusable(), "dropped after {polls} polls");
            assert_eq!(
                embassy_futures::block_on(http.execute(&get_request(), &mut body)),
                Err(Error::NotReusable),
                "dropped after {polls} polls"
            );
            http.reconnect(AsyncPeer(Peer::cycling(&raw, 7)));
            let head = embassy_futures::block_on(http.execute(&get_request(), &mut body))
                .expect("a fresh stream works");
            let exchanged = Exchanged {
                status: head.status,
                headers: head.headers,
                body: body[..head.body_len].to_vec(),
                reusable: http.is_reusable(),
            };
            assert_eq!(exchanged.body, RECORD.as_bytes());
            assert!(verifies(&exchanged), "dropped after {polls} polls");
        }
        // Writes, the flush and every read of 1..7 bytes each were a place to drop it.
        assert!(dropped > raw.len() / 7, "only {dropped} drop points");
    }
}
