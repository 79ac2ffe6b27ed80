#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wxpay_tests::fuzz_harness::serviceorder_body_roundtrip(data));
