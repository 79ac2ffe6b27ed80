#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wxpay_tests::fuzz_harness::rsa_fixed(data));
