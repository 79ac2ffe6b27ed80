//! The signing vectors (`tests/vectors/vectors.json`) through the AWS-LC backend: every
//! request signature byte for byte, every response verdict; and the same bytes as the core's
//! pure-Rust `rsa` backend for any digest.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use wxpay_aws_lc::{AwsLcSigner, AwsLcVerifier, KeyError};
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::{SigningInput, authorization, parse_authorization};
use wxpay_core::verify::{PlatformKeys, verify_response};
use wxpay_core::{Method, ResponseHeaders, Signer, Verifier};
use wxpay_ureq::KeyMaterial::{Der, Pem};
use wxpay_ureq::load_key;

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("tests/vectors/vectors.json");
    serde_json::from_str(&text).expect("vectors.json is JSON")
}

fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().expect(key)
}

#[test]
fn request_vectors_byte_for_byte() {
    let all = vectors();
    let keys = &all["keys"];
    let mut signer = AwsLcSigner::from_pem(
        s(keys, "merchant_private_key_pem"),
        s(keys, "merchant_serial"),
    )
    .expect("merchant key loads");
    let cases = all["request_vectors"].as_array().expect("request_vectors");
    assert_eq!(cases.len(), 7);
    for v in cases {
        let name = s(v, "name");
        let input = SigningInput {
            mchid: s(keys, "mchid"),
            method: Method::parse(s(v, "method")).expect("method"),
            target: s(v, "path_with_query"),
            body: s(v, "body").as_bytes(),
            timestamp: s(v, "timestamp").parse().expect("timestamp"),
            nonce: s(v, "nonce"),
        };
        let mut buf = [0u8; wxpay_core::sign::AUTHORIZATION_CAPACITY];
        let header = authorization(&mut signer, &input, &mut buf).expect("signs");
        let ours = parse_authorization(header).expect("parses");
        assert_eq!(ours.signature, s(v, "signature"), "{name}: signature");
        for peer in ["authorization_node", "authorization_python"] {
            assert_eq!(parse_authorization(s(v, peer)), Ok(ours), "{name}: {peer}");
        }
    }
}

#[test]
fn response_vectors_verdicts() {
    let all = vectors();
    let keys = &all["keys"];
    let platform =
        AwsLcVerifier::from_pem(s(keys, "platform_public_key_pem")).expect("platform key loads");
    let set: PlatformKeys<AwsLcVerifier> =
        PlatformKeys::with_key(s(keys, "platform_serial"), platform).expect("fits");
    let cases = all["response_vectors"]
        .as_array()
        .expect("response_vectors");
    assert_eq!(cases.len(), 8);
    for v in cases {
        let mut headers = ResponseHeaders::default();
        headers.capture("Wechatpay-Timestamp", s(v, "timestamp").as_bytes());
        headers.capture("Wechatpay-Nonce", s(v, "nonce").as_bytes());
        headers.capture("Wechatpay-Signature", s(v, "signature").as_bytes());
        headers.capture("Wechatpay-Serial", s(v, "serial").as_bytes());
        headers.capture("Wechatpay-Signature-Type", b"WECHATPAY2-SHA256-RSA2048");
        let verdict = verify_response(&set, &headers, s(v, "body").as_bytes(), 1_554_208_460);
        assert_eq!(
            verdict.is_ok(),
            v["expect_valid"].as_bool().expect("bool"),
            "{}: {verdict:?}",
            s(v, "name")
        );
    }
}

#[test]
fn same_bytes_as_the_rsa_backend_and_cross_verifies() {
    let all = vectors();
    let keys = &all["keys"];
    let pem = s(keys, "merchant_private_key_pem");
    let public = s(keys, "merchant_public_key_pem");
    let mut fast = AwsLcSigner::from_pem(pem, "S").expect("loads");
    let mut pure = RsaSigner::from_pem(pem, "S").expect("loads");
    let fast_verifier = AwsLcVerifier::from_pem(public).expect("loads");
    let pure_verifier = RsaVerifier::from_pem(public).expect("loads");
    for seed in 0u8..16 {
        let digest: [u8; 32] = core::array::from_fn(|i| seed.wrapping_mul(37) ^ i as u8);
        let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
        fast.sign_prehash(&digest, &mut a).expect("signs");
        pure.sign_prehash(&digest, &mut b).expect("signs");
        assert_eq!(a, b, "digest {seed}");
        assert!(fast_verifier.verify_prehash(&digest, &b));
        assert!(pure_verifier.verify_prehash(&digest, &a));
        let mut other = digest;
        other[31] ^= 1;
        assert!(!fast_verifier.verify_prehash(&other, &a));
        let mut flipped = a;
        flipped[0] ^= 0x80;
        assert!(!fast_verifier.verify_prehash(&digest, &flipped));
    }
}

#[test]
fn key_formats_sizes_and_redaction() {
    let all = vectors();
    let keys = &all["keys"];
    let pkcs8_pem = s(keys, "merchant_private_key_pem");
    let signer = AwsLcSigner::from_pem(pkcs8_pem, "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29")
        .expect("pkcs8");
    let debug = format!("{signer:?}");
    assert!(
        debug.contains("<redacted>") && !debug.contains("MII"),
        "{debug}"
    );

    // PKCS#1 PEM and DER of the same key sign identically.
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::PrivateKey::from_pkcs8_pem(pkcs8_pem).expect("pkcs8");
    let pkcs1_pem = key
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .expect("encodes");
    let pkcs1_der = key.to_pkcs1_der().expect("encodes");
    let digest = [1u8; 32];
    let mut want = [0u8; 256];
    AwsLcSigner::from_pem(pkcs8_pem, "S")
        .expect("pkcs8")
        .sign_prehash(&digest, &mut want)
        .expect("signs");
    for mut signer in [
        AwsLcSigner::from_pem(&pkcs1_pem, "S").expect("pkcs1 pem"),
        AwsLcSigner::from_der(pkcs1_der.as_bytes(), "S").expect("pkcs1 der"),
    ] {
        let mut got = [0u8; 256];
        signer.sign_prehash(&digest, &mut got).expect("signs");
        assert_eq!(got, want);
    }

    // Public keys: SPKI PEM, PKCS#1 PEM and DER.
    let public = rsa::PublicKey::from(&key);
    let pkcs1_pub = public
        .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
        .expect("encodes");
    for verifier in [
        AwsLcVerifier::from_pem(s(keys, "merchant_public_key_pem")).expect("spki"),
        AwsLcVerifier::from_pem(&pkcs1_pub).expect("pkcs1 pem"),
        AwsLcVerifier::from_der(public.to_pkcs1_der().expect("der").as_bytes()).expect("der"),
    ] {
        assert!(verifier.verify_prehash(&digest, &want));
    }

    // Failures.
    assert_eq!(
        AwsLcSigner::from_pem("nonsense", "S").err(),
        Some(KeyError::Unreadable)
    );
    assert_eq!(
        AwsLcSigner::from_pem(pkcs8_pem, "").err(),
        Some(KeyError::BadSerial)
    );
    assert_eq!(
        AwsLcSigner::from_pem(pkcs8_pem, &"A".repeat(65)).err(),
        Some(KeyError::BadSerial)
    );
    assert!(AwsLcVerifier::from_pem(pkcs8_pem).is_err());
    assert!(AwsLcSigner::from_pem(s(keys, "merchant_public_key_pem"), "S").is_err());

    let big = RsaKeyPair::generate(KeySize::Rsa3072).expect("generates");
    let big_pkcs8 = big.as_der().expect("pkcs8");
    assert_eq!(
        AwsLcSigner::from_der(big_pkcs8.as_ref(), "S").err(),
        Some(KeyError::WrongSize)
    );
    assert_eq!(
        AwsLcVerifier::from_der(big.public_key().as_ref()).err(),
        Some(KeyError::WrongSize)
    );
}

#[test]
fn key_files() {
    let all = vectors();
    let keys = &all["keys"];
    let dir = std::env::temp_dir().join(format!("wxpay-aws-lc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let private = dir.join("key.pem");
    let public = dir.join("pub.pem");
    std::fs::write(&private, s(keys, "merchant_private_key_pem")).expect("writes");
    std::fs::write(&public, s(keys, "merchant_public_key_pem")).expect("writes");
    let load_signer = |path: &std::path::Path| {
        load_key(path, |key| match key {
            Pem(pem) => AwsLcSigner::from_pem(pem, "S"),
            Der(der) => AwsLcSigner::from_der(der, "S"),
        })
    };
    let mut signer = load_signer(&private).expect("loads");
    let verifier = load_key(&public, |key| match key {
        Pem(pem) => AwsLcVerifier::from_pem(pem),
        Der(der) => AwsLcVerifier::from_der(der),
    })
    .expect("loads");
    let mut sig = [0u8; 256];
    signer.sign_prehash(&[9; 32], &mut sig).expect("signs");
    assert!(verifier.verify_prehash(&[9; 32], &sig));
    assert!(load_signer(&dir.join("missing.pem")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
