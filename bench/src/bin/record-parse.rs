//! Parses the demo authorization record N times (argument, default 100,000): a fixed workload
//! for counting instructions, which load on a shared machine does not move.
//!
//! `cargo build --profile bench -p wxpay-bench --bin record-parse` (the profile `ratios` runs:
//! no LTO, unlike `release`), then
//! `valgrind --tool=cachegrind --cache-sim=no target/release/record-parse 1000` and again with
//! `11000`: the difference over 10,000 is the instructions per parse (BENCHMARKS.md, issue 11).
#![allow(clippy::print_stdout)]

use std::hint::black_box;

use wxpay_core::AuthorizationRecord;

const RECORD: &str = r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109","openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","authorization_code":"1234323JKHDFE1243252","authorization_state":"AVAILABLE","notify_url":"https://api.test.com/payscore/notify","authorization_success_time":"2015-05-20T13:29:35+08:00"}"#;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let parsed = (0..n)
        .filter(|_| AuthorizationRecord::from_json(black_box(RECORD.as_bytes())).is_ok())
        .count();
    println!("{parsed} of {n} parsed");
}
