//! The non-RSA request + response work of one query N times (argument, default 100,000), with
//! the fakes of `wxpay_tests::query` (no RSA at all): the figure `ratios` times as "non-RSA
//! request + response work", as a fixed workload for counting instructions, which load on a
//! shared machine does not move.
//!
//! `cargo build --profile bench -p wxpay-bench --bin non-rsa`, then
//! `valgrind --tool=cachegrind --cache-sim=no target/release/non-rsa 1000` and again with
//! `11000`: the difference over 10,000 is the instructions per query (BENCHMARKS.md).
#![allow(clippy::print_stdout)]

use std::hint::black_box;

use wxpay_bench::NOW;
use wxpay_core::PlatformKeys;
use wxpay_core::sign::AUTHORIZATION_CAPACITY;
use wxpay_emulator::demo;
use wxpay_tests::query::{
    AcceptAll, CounterRandom, FixedSigner, Reply, accept_response, build_request,
};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let reply = Reply::signed(&mut FixedSigner, NOW);
    let keys: PlatformKeys<AcceptAll> =
        PlatformKeys::with_key(demo::PLATFORM_KEY_ID, AcceptAll).expect("one key fits");
    let mut random = CounterRandom(1);
    let mut authorization = [0u8; AUTHORIZATION_CAPACITY];
    let mut accepted = 0usize;
    for _ in 0..n {
        let sent = build_request(
            &mut FixedSigner,
            &mut random,
            NOW as u64,
            &mut authorization,
        );
        black_box(sent.expect("the request builds"));
        if accept_response(&keys, black_box(&reply), NOW).is_ok() {
            accepted += 1;
        }
    }
    println!("{accepted} of {n} answers accepted");
}
