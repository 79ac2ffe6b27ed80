//! Every response in the table goes through reads of 1..N bytes and through every prefix of
//! itself (see `support::check_response`), and must give the expected outcome. The table is
//! `support/cases.rs`, shared with the async twin's tests.
//!
//! `emulator_responses` does the same for every kind of response `wxpay-emulator` produces,
//! byte for byte as its HTTP server writes them.

mod support;

use support::cases::*;
use support::*;
use wxpay_embedded_io::Error;
use wxpay_emulator::{Emulator, Wire, server};

#[test]
fn every_case_split_and_every_prefix() {
    for case in cases() {
        let stray_tail = case.name.starts_with("stray");
        let got = check_response(case.name, &case.raw, stray_tail)
            .map(|e| (e.status, e.body, e.reusable));
        assert_eq!(got, case.want, "{}", case.name);
    }
}

#[test]
fn signed_cases_verify_whole() {
    for name in [
        "200 length",
        "200 chunked, split UTF-8",
        "200 until close",
        "204 terminate",
    ] {
        let case = cases()
            .iter()
            .find(|c| c.name == name)
            .expect("case exists");
        let got = exchange_with(Peer::new(&case.raw, &[usize::MAX])).expect(name);
        assert!(verifies(&got), "{name}");
        assert_eq!(
            got.headers.request_id.as_deref(),
            Some("08F78BB5AF0610D302A5C1C2E0A7B3B5")
        );
    }
}

#[test]
fn emulator_responses() {
    let emulator = Emulator::demo();
    for (name, request, must_verify) in emulator_requests() {
        let response = emulator.handle(&request, NOW);
        let mut raw = Vec::new();
        server::write_response(&mut raw, &response, false).expect("writes");
        let got = check_response(name, &raw, false);
        if response.wire == Wire::Truncated {
            assert_eq!(got, Err(Error::Truncated), "{name}");
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            (got.status, &got.body),
            (response.status, &response.body),
            "{name}"
        );
        assert!(got.reusable, "{name}: keep-alive after a complete response");
        assert_eq!(verifies(&got), must_verify, "{name}: verification");
    }
}
