//! Property tests for the builders (issue 4): no input panics, and `BufferTooSmall { needed }`
//! is exact: a retry with `needed` bytes succeeds and one byte fewer fails the same way. Then
//! sign → verify round trips with a real RSA-2048 key (the emulator's fixed demo pair).
//!
//! Seeds are fixed and case counts modest, so runs are deterministic and fast in debug builds.

use base64ct::{Base64, Encoding};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use wxpay_core::Call;
use wxpay_core::api::permissions;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::path::TargetBuilder;
use wxpay_core::sign::{self, Sha256Digest, Signer, SigningInput};
use wxpay_core::verify::{self, PlatformKeys, Verifier};
use wxpay_core::{Error, Method, ResponseHeaders, VerifyError};

const PLATFORM_KEY_PEM: &str = include_str!("../../adapters/emulator/keys/platform_key.pem");
const PLATFORM_PUB_PEM: &str = include_str!("../../adapters/emulator/keys/platform_pub.pem");
const PLATFORM_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000001";

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5EED),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Any text, biased towards what needs encoding: reserved ASCII, CJK, and 4-byte characters
/// (which the builder refuses).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._~-]{0,12}",
        "[ -~]{0,24}",
        "[a-z|*/?&=% 授权码]{0,16}",
        any::<String>().prop_map(|s| s.chars().take(20).collect()),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Get),
        Just(Method::Post),
        Just(Method::Put),
        Just(Method::Patch),
        Just(Method::Delete),
    ]
}

/// Checks that a builder's answer for a `size`-byte buffer agrees with its answers for buffers
/// of exactly the size it needs and of one byte fewer.
fn assert_exact(size: usize, build: impl Fn(&mut [u8]) -> Result<String, Error>) {
    let first = build(&mut vec![0u8; size]);
    let needed = match &first {
        Ok(out) => {
            assert!(out.len() <= size);
            out.len()
        }
        Err(Error::BufferTooSmall { needed }) => {
            assert!(*needed > size, "{needed} reported for a {size}-byte buffer");
            *needed
        }
        Err(refused) => {
            // A refusal does not depend on the buffer.
            assert_eq!(build(&mut vec![0u8; 4096]), Err(*refused));
            return;
        }
    };
    let exact = build(&mut vec![0u8; needed]);
    assert_eq!(exact.as_ref().map(String::len), Ok(needed));
    if let Ok(first) = &first {
        assert_eq!(exact.as_ref(), Ok(first));
    }
    if needed > 0 {
        assert_eq!(
            build(&mut vec![0u8; needed - 1]),
            Err(Error::BufferTooSmall { needed })
        );
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn query_by_code_target_is_exact(code in text(), service_id in text(), size in 0usize..200) {
        if let Ok(call) = permissions::QueryByCode::new(&code, &service_id) {
            assert_exact(size, |buf| call.target(buf).map(String::from));
        }
    }

    #[test]
    fn target_builder_is_exact(
        segments in prop::collection::vec(text(), 0..4),
        query in prop::collection::vec((text(), text()), 0..4),
        size in 0usize..300,
    ) {
        assert_exact(size, |buf| {
            let mut b = TargetBuilder::new(buf, "/v3/payscore/permissions");
            for s in &segments {
                b = b.segment(s);
            }
            for (k, v) in &query {
                b = b.query(k, v);
            }
            b.finish().map(String::from)
        });
    }

    #[test]
    fn authorization_is_exact(
        mchid in prop_oneof!["[0-9]{1,34}", text()],
        serial in prop_oneof!["[0-9A-F]{40}", "PUB_KEY_ID_[0-9]{20,60}", text()],
        nonce in prop_oneof!["[A-Za-z0-9]{32}", "[A-Za-z0-9]{300,400}", text()],
        timestamp in any::<u64>(),
        method in method(),
        target in text(),
        body in prop::collection::vec(any::<u8>(), 0..64),
        size in 0usize..700,
    ) {
        struct Fixed<'a>(&'a str);
        impl Signer for Fixed<'_> {
            type Error = ();
            fn serial_no(&self) -> &str {
                self.0
            }
            fn sign_prehash(&mut self, d: &Sha256Digest, out: &mut [u8; 256]) -> Result<(), ()> {
                out.fill(d[0]);
                Ok(())
            }
        }
        let input = SigningInput { mchid: &mchid, method, target: &target, body: &body, timestamp, nonce: &nonce };
        assert_exact(size, |buf| {
            sign::authorization(&mut Fixed(&serial), &input, buf).map(String::from)
        });
    }
}

fn rsa_pair() -> (RsaSigner, PlatformKeys<RsaVerifier>) {
    let signer = RsaSigner::from_pem(PLATFORM_KEY_PEM, PLATFORM_KEY_ID).expect("demo key loads");
    let verifier = RsaVerifier::from_pem(PLATFORM_PUB_PEM).expect("demo public key loads");
    let keys = PlatformKeys::with_key(PLATFORM_KEY_ID, verifier).expect("one key fits");
    (signer, keys)
}

proptest! {
    // Each case signs twice with RSA-2048 in a debug build: keep the count small.
    #![proptest_config(config(12))]

    /// A request signed by `authorization` verifies with the public key, over the digest a
    /// server recomputes from the parsed header; another body does not.
    #[test]
    fn request_signature_round_trips(
        method in method(),
        target in "/v3/[a-z%0-9A-F/]{0,40}(\\?[a-z_]{1,10}=[0-9A-Za-z%]{0,20})?",
        body in prop::collection::vec(any::<u8>(), 0..200),
        timestamp in 0u64..4_000_000_000,
        nonce in "[A-Za-z0-9]{32}",
    ) {
        let (mut signer, keys) = rsa_pair();
        let input = SigningInput { mchid: "1230000109", method, target: &target, body: &body, timestamp, nonce: &nonce };
        let mut buf = [0u8; sign::AUTHORIZATION_CAPACITY];
        let header = sign::authorization(&mut signer, &input, &mut buf).expect("signs");
        let fields = sign::parse_authorization(header).expect("parses back");
        prop_assert_eq!(fields.serial_no, PLATFORM_KEY_ID);
        let signature = verify::decode_signature(fields.signature).expect("256 bytes of base64");
        let ts: u64 = fields.timestamp.parse().expect("decimal");
        let key = keys.get(fields.serial_no).expect("known serial");
        let digest = sign::request_digest(method, &target, ts, fields.nonce_str, &body);
        prop_assert!(key.verify_prehash(&digest, &signature));
        let mut other = body.clone();
        other.push(b'\n');
        let digest = sign::request_digest(method, &target, ts, fields.nonce_str, &other);
        prop_assert!(!key.verify_prehash(&digest, &signature));
    }

    /// A response signed with the platform key passes `verify_response` at its own time and
    /// anywhere within the window; a changed body, or a clock outside the window, fails.
    #[test]
    fn response_signature_round_trips(
        body in prop::collection::vec(any::<u8>(), 0..200),
        timestamp in 1_000_000_000i64..4_000_000_000,
        nonce in "[A-Za-z0-9]{32}",
        skew in -300i64..=300,
    ) {
        let (mut signer, keys) = rsa_pair();
        let ts = timestamp.to_string();
        let mut signature = [0u8; 256];
        signer
            .sign_prehash(&verify::response_digest(&ts, &nonce, &body), &mut signature)
            .expect("signs");
        let mut b64 = [0u8; sign::SIGNATURE_BASE64_LEN];
        let b64 = Base64::encode(&signature, &mut b64).expect("fits");
        let mut headers = ResponseHeaders::default();
        headers.capture("Wechatpay-Timestamp", ts.as_bytes());
        headers.capture("wechatpay-nonce", nonce.as_bytes());
        headers.capture("Wechatpay-Signature", b64.as_bytes());
        headers.capture("WECHATPAY-SERIAL", PLATFORM_KEY_ID.as_bytes());
        prop_assert_eq!(verify::verify_response(&keys, &headers, &body, timestamp + skew), Ok(()));
        let mut tampered = body.clone();
        tampered.push(b' ');
        prop_assert_eq!(
            verify::verify_response(&keys, &headers, &tampered, timestamp),
            Err(VerifyError::BadSignature)
        );
        prop_assert_eq!(
            verify::verify_response(&keys, &headers, &body, timestamp + 301),
            Err(VerifyError::ClockSkew { skew_secs: 301 })
        );
    }
}
