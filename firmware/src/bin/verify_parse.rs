//! Variant 2: verify a response's signature (RSA-2048) and parse the record; no HTTP, no
//! signing.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use wxpay_core::verify::{PlatformKeys, verify_response};
use wxpay_core::{AuthorizationRecord, ResponseHeaders};
use wxpay_firmware::meter::{Event, Meter};
use wxpay_firmware::params::{NOW, PUB_KEY_ID, RECORD_JSON, RESPONSE_NONCE};
use wxpay_firmware::timed::TimedVerifier;
use wxpay_firmware::{VERIFY_PARSE_PHASES, boot, fail, fixture, report, stack};

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    let meter = Meter::new();
    let Some(verifier) = wxpay_firmware::keys::platform() else {
        fail("platform public key")
    };
    let inner = TimedVerifier {
        inner: verifier,
        meter: &meter,
    };
    let Ok(keys) = PlatformKeys::<_, 2>::with_key(PUB_KEY_ID, inner) else {
        fail("platform key set")
    };
    let body = black_box(RECORD_JSON.as_bytes());

    meter.mark(Event::Start);
    let mut headers = ResponseHeaders::default();
    for (name, value) in [
        ("Wechatpay-Timestamp", fixture::TIMESTAMP),
        ("Wechatpay-Nonce", RESPONSE_NONCE),
        ("Wechatpay-Signature", fixture::SIGNATURE),
        ("Wechatpay-Serial", PUB_KEY_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        headers.capture(name, black_box(value.as_bytes()));
    }
    if verify_response(&keys, &headers, body, NOW).is_err() {
        fail("signature did not verify");
    }
    let record = AuthorizationRecord::from_json(body);
    meter.mark(Event::End);
    let Ok(record) = record else { fail("parse") };
    report(
        "verify_parse",
        "verify + parse",
        &meter,
        VERIFY_PARSE_PHASES,
        Some(&record),
        None,
        &[],
        RECORD_JSON.len() + fixture::SIGNATURE.len() + fixture::TIMESTAMP.len(),
    )
}
