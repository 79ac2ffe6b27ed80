//! Variant 1: parse the record from a response body; no verification, no HTTP, no heap.
#![no_std]
#![no_main]

use core::hint::black_box;

use cortex_m_rt::entry;
use wxpay_core::AuthorizationRecord;
use wxpay_firmware::meter::{Event, Meter};
use wxpay_firmware::params::RECORD_JSON;
use wxpay_firmware::{PARSE_PHASES, boot, fail, report, stack};

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    let meter = Meter::new();
    let body = black_box(RECORD_JSON.as_bytes());
    meter.mark(Event::Start);
    let record = AuthorizationRecord::from_json(body);
    meter.mark(Event::End);
    let Ok(record) = record else { fail("parse") };
    report(
        "parse_only",
        "parse only",
        &meter,
        PARSE_PHASES,
        Some(&record),
        None,
        &[],
        RECORD_JSON.len(),
    )
}
