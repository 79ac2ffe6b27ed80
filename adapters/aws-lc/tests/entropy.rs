//! The AWS-LC this workspace builds seeds its DRBG from the OS instead of CPU jitter
//! (`.cargo/config.toml`: `AWS_LC_SYS_NO_JITTER_ENTROPY`). That must change nothing a
//! signature depends on: RSA blinding stays on for keys loaded the way aws-lc-rs loads them,
//! signatures are the same bytes as the pure-Rust backend's (PKCS#1 v1.5 is deterministic,
//! so blinding randomness never shows in the output), and the DRBG still gives fresh bytes.

// The blinding check reads a flag through AWS-LC's C API; nothing else here is unsafe.
#![allow(unsafe_code)]

use wxpay_aws_lc::AwsLcSigner;
use wxpay_core::Signer;
use wxpay_core::crypto::rsa::RsaSigner;
use wxpay_core::sign::SIGNATURE_LEN;

const KEY_PEM: &str = include_str!("../../emulator/keys/merchant_key.pem");
const SERIAL: &str = "5DF34429A8561CBBC19AE88B111C34BE5C2ACD29";

#[test]
fn keys_loaded_like_aws_lc_rs_loads_them_are_blinded() {
    let (label, der) = pem_rfc7468::decode_vec(KEY_PEM.trim().as_bytes()).expect("PEM");
    assert_eq!(label, "PRIVATE KEY");
    // aws-lc-rs's RsaKeyPair::from_pkcs8 parses with EVP_parse_private_key, as here.
    // SAFETY: `cbs` points into `der`, which outlives it; `pkey` is checked for null, only
    // read through AWS-LC's accessors, and freed once.
    let blinding = unsafe {
        let mut cbs = std::mem::zeroed::<aws_lc_sys::CBS>();
        aws_lc_sys::CBS_init(&mut cbs, der.as_ptr(), der.len());
        let pkey = aws_lc_sys::EVP_parse_private_key(&mut cbs);
        assert!(!pkey.is_null(), "key parses");
        let rsa = aws_lc_sys::EVP_PKEY_get0_RSA(pkey);
        let on = !rsa.is_null() && aws_lc_sys::RSA_blinding_on(rsa, std::ptr::null_mut()) == 1;
        aws_lc_sys::EVP_PKEY_free(pkey);
        on
    };
    assert!(blinding, "RSA_FLAG_NO_BLINDING must not be set");
}

#[test]
fn signatures_are_the_pure_rust_backends_bytes() {
    let mut fast = AwsLcSigner::from_pem(KEY_PEM, SERIAL).expect("key");
    let mut reference = RsaSigner::from_pem(KEY_PEM, SERIAL).expect("key");
    // The first signature is the one the old jitter seeding delayed: check it and later ones.
    for fill in [0u8, 1, 0x5a, 0xff] {
        let digest = [fill; 32];
        let (mut ours, mut theirs) = ([0u8; SIGNATURE_LEN], [0u8; SIGNATURE_LEN]);
        fast.sign_prehash(&digest, &mut ours).expect("AWS-LC signs");
        reference
            .sign_prehash(&digest, &mut theirs)
            .expect("rsa signs");
        assert_eq!(ours, theirs, "digest of {fill:#04x}");
    }
}

#[test]
fn the_drbg_gives_fresh_bytes() {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let random = SystemRandom::new();
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    random.fill(&mut a).expect("DRBG");
    random.fill(&mut b).expect("DRBG");
    assert_ne!(a, b);
    assert_ne!(a, [0u8; 32]);
}
