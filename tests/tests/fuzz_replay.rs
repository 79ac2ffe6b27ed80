//! Replays every committed fuzz input on stable, under `cargo test`: the seed corpora
//! (`fuzz/corpus/<target>/`) and the crashes found once (`fuzz/artifacts/<target>/`), through the
//! same harness functions the fuzz targets call. A crash fixed once stays fixed.

use std::io::Write;
use std::path::Path;

use wxpay_tests::fuzz_harness;

/// Every fuzz target, by its name in `fuzz/Cargo.toml`.
const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("record", fuzz_harness::record),
    ("api_error", fuzz_harness::api_error),
    ("verify", fuzz_harness::verify),
    ("target_roundtrip", fuzz_harness::target_roundtrip),
    (
        "authorization_roundtrip",
        fuzz_harness::authorization_roundtrip,
    ),
    ("callback", fuzz_harness::callback),
    ("callback_payload", fuzz_harness::callback_payload),
    ("http_response", fuzz_harness::http_response),
    ("json_writer", fuzz_harness::json_writer),
    ("certificates", fuzz_harness::certificates),
    ("certificate", fuzz_harness::certificate),
    ("serviceorder_record", fuzz_harness::serviceorder_record),
    (
        "serviceorder_body_roundtrip",
        fuzz_harness::serviceorder_body_roundtrip,
    ),
    ("serviceorder_callback", fuzz_harness::serviceorder_callback),
    ("rsa_fixed", fuzz_harness::rsa_fixed),
];

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn replay_corpora_and_artifacts() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut total = 0;
    let mut report = String::new();
    for (target, harness) in TARGETS {
        let corpus = files_in(&fuzz.join("corpus").join(target));
        let artifacts = files_in(&fuzz.join("artifacts").join(target));
        assert!(!corpus.is_empty(), "no seed corpus for {target}");
        for file in corpus.iter().chain(&artifacts) {
            let data = std::fs::read(file).expect("readable corpus file");
            // A panic names the file, so the failing input is easy to find.
            let outcome = std::panic::catch_unwind(|| harness(&data));
            assert!(outcome.is_ok(), "{target}: {} panicked", file.display());
        }
        report.push_str(&format!(
            "  {target}: {} corpus + {} artifact files\n",
            corpus.len(),
            artifacts.len()
        ));
        total += corpus.len() + artifacts.len();
    }
    // Written past the test harness's output capture, so every `cargo test` shows the count.
    let _ = writeln!(
        std::io::stderr(),
        "fuzz replay: {total} files replayed\n{report}"
    );
    assert!(total > 0);
}

/// The seeds reach what they are meant to reach: marker-signed responses get past the
/// signature check (so the body parsers run), real RSA signatures and probes do not.
#[test]
fn verify_seeds_get_past_the_signature_check() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/verify");
    let verdict = |name: &str| {
        let data = std::fs::read(corpus.join(name)).expect("seed exists");
        let message = fuzz_harness::split_message(&data);
        wxpay_core::verify::verify_response(
            &fuzz_harness::marker_keys(),
            &message.headers,
            message.body,
            fuzz_harness::FUZZ_NOW,
        )
    };
    use wxpay_core::VerifyError;
    #[rustfmt::skip]
    let cases: &[(&str, Result<(), VerifyError>)] = &[
        ("seed-marker-resp-ok",             Ok(())),
        ("seed-marker-resp-pretty-printed", Ok(())),
        ("seed-marker-204",                 Ok(())),
        ("seed-lowercase-padded",           Ok(())),
        ("seed-skew-300",                   Ok(())),
        ("seed-vector-resp-ok",             Err(VerifyError::BadSignature)),
        ("seed-reject-serial",              Err(VerifyError::BadSignature)),
        ("seed-unknown-serial",             Err(VerifyError::UnknownSerial)),
        ("seed-probe",                      Err(VerifyError::SignatureProbe)),
        ("seed-skew-301",                   Err(VerifyError::ClockSkew { skew_secs: -301 })),
        ("seed-short-signature",            Err(VerifyError::MalformedSignature)),
        ("seed-error-unsigned",             Err(VerifyError::MissingHeader { name: "Wechatpay-Timestamp" })),
    ];
    for (name, want) in cases {
        assert_eq!(verdict(name), *want, "{name}");
    }
}

/// The RSA seeds reach both sides of the comparison: the valid signature verifies (so the
/// harness compares two `true`s, not only refusals), each broken one is refused for its own
/// reason, and the key seeds load (the merchant key in both encodings signs in the harness).
#[test]
fn rsa_fixed_seeds_reach_both_verdicts() {
    use wxpay_core::crypto::rsa_fixed::{FixedRsaSigner, FixedRsaVerifier, SignatureError};
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/rsa_fixed");
    let seed = |name: &str| std::fs::read(corpus.join(name)).expect("seed exists");
    let platform = FixedRsaVerifier::from_der(&seed("seed-key-platform-spki")[1..]).expect("loads");
    #[rustfmt::skip]
    let cases: &[(&str, Result<(), SignatureError>)] = &[
        ("seed-sig-valid",   Ok(())),
        ("seed-sig-flipped", Err(SignatureError::BadPadding)),
        ("seed-sig-zero",    Err(SignatureError::BadPadding)),
        ("seed-sig-short",   Err(SignatureError::WrongLength)),
        ("seed-sig-long",    Err(SignatureError::WrongLength)),
        ("seed-sig-modulus", Err(SignatureError::NotBelowModulus)),
    ];
    for (name, want) in cases {
        let data = seed(name);
        let (digest, signature) = data[1..].split_first_chunk::<32>().expect("a digest");
        assert_eq!(platform.check(digest, signature), *want, "{name}");
    }
    for name in ["seed-key-merchant-pkcs8", "seed-key-merchant-pkcs1"] {
        assert!(
            FixedRsaSigner::from_der(&seed(name)[1..], "S").is_ok(),
            "{name}"
        );
    }
    assert!(FixedRsaSigner::from_der(&seed("seed-key-not-der")[1..], "S").is_err());
}

/// Every target in `fuzz/fuzz_targets/` is replayed here, so a new one cannot be left out.
#[test]
fn every_fuzz_target_is_replayed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/fuzz_targets");
    let mut on_disk: Vec<String> = files_in(&dir)
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(String::from))
        .collect();
    let mut listed: Vec<String> = TARGETS.iter().map(|(t, _)| String::from(*t)).collect();
    on_disk.sort();
    listed.sort();
    assert_eq!(listed, on_disk);
}

/// The callback seeds reach what they are meant to: the envelopes `make_seeds.py` encrypted
/// with the harness's APIv3 key get through verification and decryption to the payload.
#[test]
fn callback_seeds_get_past_the_decryption() {
    use wxpay_core::ParseError;
    use wxpay_core::callback::{self, ApiV3Key, CallbackError, Event};
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/callback");
    let key = ApiV3Key::from_text(fuzz_harness::FUZZ_APIV3_KEY).expect("32 bytes");
    let outcome = |name: &str| {
        let data = std::fs::read(corpus.join(name)).expect("seed exists");
        let message = fuzz_harness::split_message(&data);
        let mut work = vec![0u8; message.body.len()];
        callback::verify_and_decrypt(
            &fuzz_harness::marker_keys(),
            &message.headers,
            message.body,
            fuzz_harness::FUZZ_NOW,
            &key,
            &mut work,
        )
        .map(|n| match n.event {
            Event::UserOpenService(_) => "open",
            Event::UserCloseService(_) => "close",
            Event::UserConfirm(_) => "confirm",
            Event::UserPaid(_) => "paid",
            Event::Other(_) => "other",
        })
    };
    let payload = |e| Err(CallbackError::Payload(e));
    #[rustfmt::skip]
    let cases: &[(&str, Result<&str, CallbackError>)] = &[
        ("seed-open",                   Ok("open")),
        ("seed-close",                  Ok("close")),
        // These seeds were made when USER_CONFIRM / USER_PAID were unknown event types; now
        // their payload must be a JSON object (parsed into an order on demand).
        ("seed-other-event",            Ok("confirm")),
        ("seed-other-event-not-json",   payload(ParseError::NotAnObject)),
        ("seed-aad-certificate",        Ok("open")),
        ("seed-aad-null",               Ok("open")),
        ("seed-escaped-ciphertext",     Ok("close")),
        ("seed-unicode-escaped-fields", Ok("open")),
        ("seed-pretty",                 Ok("open")),
        ("seed-payload-at-capacity",    Ok("open")),
        ("seed-skew-300",               Ok("open")),
        ("seed-duplicate-ciphertext",   Err(CallbackError::Envelope(ParseError::DuplicateField { field: "ciphertext" }))),
        ("seed-duplicate-resource",     Err(CallbackError::Envelope(ParseError::DuplicateField { field: "resource" }))),
        ("seed-payload-duplicate",      payload(ParseError::DuplicateField { field: "openid" })),
        ("seed-payload-too-long",       payload(ParseError::FieldTooLong { field: "appid", max: 32 })),
        ("seed-payload-empty",          payload(ParseError::NotAnObject)),
        ("seed-aad-mismatch",           Err(CallbackError::Decrypt)),
        ("seed-wrong-key",              Err(CallbackError::Decrypt)),
        ("seed-tampered",               Err(CallbackError::Decrypt)),
        ("seed-truncated-tag",          Err(CallbackError::TruncatedTag)),
        ("seed-unpadded-base64",        Err(CallbackError::BadBase64)),
        ("seed-short-nonce",            Err(CallbackError::BadNonce)),
        ("seed-long-nonce",             Err(CallbackError::BadNonce)),
        ("seed-other-algorithm",        Err(CallbackError::UnsupportedAlgorithm)),
        ("seed-skew-301",               Err(CallbackError::Verify(wxpay_core::VerifyError::ClockSkew { skew_secs: 301 }))),
    ];
    for (name, want) in cases {
        assert_eq!(outcome(name), *want, "{name}");
    }
}

/// The certificates seeds reach the end: the good ones decrypt, parse and verify (held key
/// and bootstrap), the spoiled ones stop where they are meant to.
#[test]
fn certificates_seeds_reach_what_they_are_meant_to() {
    use std::convert::Infallible;
    use wxpay_core::api::certificates::{CertificateProblem, DownloadError, check_download};
    use wxpay_core::callback::ApiV3Key;
    use wxpay_core::transport::ResponseHead;
    use wxpay_core::verify::PlatformKeys;

    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/certificates");
    let outcome = |name: &str| {
        let data = std::fs::read(corpus.join(name)).expect("seed exists");
        let message = fuzz_harness::split_message(&data);
        let head = ResponseHead {
            status: message.status,
            headers: message.headers.clone(),
            body_len: message.body.len(),
        };
        let key = ApiV3Key::from_text(fuzz_harness::FUZZ_APIV3_KEY).expect("32 bytes");
        let held: PlatformKeys<fuzz_harness::MarkerKey, 2> = PlatformKeys::with_key(
            fuzz_harness::FUZZ_SERIAL,
            <fuzz_harness::MarkerKey as wxpay_core::certificate::FromRsaPublicKey>::from_rsa_public_key(&[1; 256], &[1, 0, 1])
                .expect("key"),
        )
        .expect("fits");
        let (mut work, mut out) = (vec![0u8; 16384], vec![0u8; 16384]);
        check_download::<_, 2, 4, Infallible>(
            &head,
            message.body,
            fuzz_harness::CERTIFICATES_NOW,
            &key,
            &held,
            &mut work,
            &mut out,
        )
        .map(|c| c.len())
    };
    assert_eq!(outcome("seed-bootstrap"), Ok(2));
    assert_eq!(outcome("seed-held"), Ok(2));
    assert_eq!(outcome("seed-empty-aad"), Ok(1));
    assert!(matches!(
        outcome("seed-tampered"),
        Err(DownloadError::Certificate {
            problem: CertificateProblem::Decrypt(_),
            ..
        })
    ));
    assert!(matches!(
        outcome("seed-mismatch"),
        Err(DownloadError::Certificate {
            problem: CertificateProblem::SerialMismatch { .. },
            ..
        })
    ));
    assert!(matches!(
        outcome("seed-not-exists"),
        Err(DownloadError::NoPlatformCertificates(_))
    ));
}

/// The service-order seeds reach what they are meant to: callbacks get through decryption to
/// the order (or the named refusal), and bodies read strictly as the request they are.
#[test]
fn serviceorder_seeds_reach_their_parsers() {
    use wxpay_core::api::serviceorder::{CompleteBody, CreateOrder, ModifyBody};
    use wxpay_core::callback::{self, ApiV3Key, CallbackError, Event};
    use wxpay_core::model::Record;
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let read = |target: &str, name: &str| {
        std::fs::read(fuzz.join(target).join(name)).expect("seed exists")
    };
    let key = ApiV3Key::from_text(fuzz_harness::FUZZ_APIV3_KEY).expect("32 bytes");
    let event = |name: &str| {
        let data = read("serviceorder_callback", name);
        let message = fuzz_harness::split_message(&data);
        let mut work = vec![0u8; message.body.len()];
        callback::verify_and_decrypt(
            &fuzz_harness::marker_keys(),
            &message.headers,
            message.body,
            fuzz_harness::FUZZ_NOW,
            &key,
            &mut work,
        )
        .map(|n| {
            let (kind, event) = match n.event {
                Event::UserConfirm(e) => ("confirm", e),
                Event::UserPaid(e) => ("paid", e),
                _ => return String::from("other"),
            };
            match event.order() {
                Ok(o) => format!("{kind} {} {}", o.out_order_no, o.post_payments.len()),
                Err(e) => format!("{kind} {e:?}"),
            }
        })
    };
    #[rustfmt::skip]
    let callbacks: &[(&str, Result<&str, CallbackError>)] = &[
        ("seed-confirm",                Ok("confirm RENT-0002 1")),
        ("seed-paid",                   Ok("paid RENT-0001 1")),
        ("seed-paid-empty-aad",         Ok("paid RENT-0001 1")),
        ("seed-confirm-three-payments", Ok("confirm o 3")),
        ("seed-confirm-minimal",        Ok("confirm o 0")),
        ("seed-confirm-pretty",         Ok("confirm RENT-0002 1")),
        ("seed-paid-over-capacity",     Ok(r#"paid TooMany { field: "post_payments", max: 100 }"#)),
        ("seed-confirm-missing-state",  Ok(r#"confirm MissingField { field: "state" }"#)),
        ("seed-paid-duplicate",         Ok(r#"paid DuplicateField { field: "state" }"#)),
        ("seed-paid-aad-mismatch",      Err(CallbackError::Decrypt)),
    ];
    for (name, want) in callbacks {
        assert_eq!(event(name), want.map(String::from), "{name}");
    }

    // Which body reads strictly and validates: create, complete, modify.
    let strict = |name: &str| {
        let data = read("serviceorder_body_roundtrip", name);
        let ok = |r: Result<(), wxpay_core::Error>| r.is_ok();
        (
            CreateOrder::<100, 30>::from_json_strict(&data).is_ok_and(|b| ok(b.validate())),
            CompleteBody::<100, 30>::from_json_strict(&data).is_ok_and(|b| ok(b.validate())),
            ModifyBody::<100, 30>::from_json_strict(&data).is_ok_and(|b| ok(b.validate())),
        )
    };
    #[rustfmt::skip]
    let bodies: &[(&str, (bool, bool, bool))] = &[
        ("seed-create",                       (true,  false, false)),
        ("seed-create-full",                  (true,  false, false)),
        ("seed-create-dates",                 (true,  false, false)),
        ("seed-create-introduction-at-limit", (true,  false, false)),
        ("seed-create-long-introduction",     (false, false, false)),
        ("seed-create-bad-date",              (false, false, false)),
        ("seed-create-unknown-field",         (false, false, false)),
        ("seed-complete",                     (false, true,  false)),
        ("seed-complete-many",                (false, true,  false)),
        ("seed-complete-too-many",            (false, false, false)),
        ("seed-modify",                       (false, false, true)),
        ("seed-modify-long-reason",           (false, false, false)),
    ];
    for (name, want) in bodies {
        assert_eq!(strict(name), *want, "{name}");
    }
}
