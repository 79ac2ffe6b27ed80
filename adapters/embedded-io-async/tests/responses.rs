//! The async client against the blocking adapter's own response table (`support/cases.rs` of
//! wxpay-embedded-io, included by path): for every response, reads of 1..9 bytes and every
//! prefix must give exactly what the blocking client gives (whose outcomes that crate's tests
//! hold to the fail-closed rules), and the whole response what the table wants.

#[path = "../../embedded-io/tests/support/mod.rs"]
mod support;

mod common;

use common::exchange_async;
use support::cases::{cases, emulator_requests};
use support::*;
use wxpay_emulator::{Emulator, server};

/// The async outcome equals the blocking one for whole reads, reads of 1..=N bytes and every
/// prefix of `raw` after which the peer closes; returns the whole outcome.
fn same_as_blocking(name: &str, raw: &[u8]) -> Outcome {
    let whole = exchange_async(Peer::new(raw, &[usize::MAX]));
    assert_eq!(
        whole,
        exchange_with(Peer::new(raw, &[usize::MAX])),
        "{name}: whole"
    );
    for max in 1..=MAX_SPLIT {
        assert_eq!(
            exchange_async(Peer::cycling(raw, max)),
            exchange_with(Peer::cycling(raw, max)),
            "{name}: reads of 1..={max} bytes"
        );
    }
    for len in 0..raw.len() {
        assert_eq!(
            exchange_async(Peer::cycling(&raw[..len], 5)),
            exchange_with(Peer::cycling(&raw[..len], 5)),
            "{name}: prefix of {len} bytes"
        );
    }
    whole
}

#[test]
fn every_case_split_and_every_prefix_as_blocking() {
    for case in cases() {
        let got = same_as_blocking(case.name, &case.raw).map(|e| (e.status, e.body, e.reusable));
        assert_eq!(got, case.want, "{}", case.name);
    }
}

#[test]
fn every_emulator_response_as_blocking() {
    let emulator = Emulator::demo();
    for (name, request, must_verify) in emulator_requests() {
        let response = emulator.handle(&request, NOW);
        let mut raw = Vec::new();
        server::write_response(&mut raw, &response, false).expect("writes");
        match same_as_blocking(name, &raw) {
            Ok(got) => {
                assert_eq!((got.status, &got.body), (response.status, &response.body));
                assert_eq!(verifies(&got), must_verify, "{name}: verification");
            }
            Err(e) => assert_eq!(
                response.wire,
                wxpay_emulator::Wire::Truncated,
                "{name}: {e:?}"
            ),
        }
    }
}
