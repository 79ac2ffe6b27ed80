//! The ureq transport and the core client against the emulator's HTTP server on 127.0.0.1.

use std::time::{Duration, Instant};

use wxpay_core::api::permissions::{BY_CODE_PATH, QueryByCode};
use wxpay_core::{
    AuthorizationRecord, AuthorizationState, ClientError, ErrorCode, Method, ParseError,
    TargetBuilder, VerifyError,
};
use wxpay_emulator::demo;
use wxpay_tests::Sandbox;
use wxpay_ureq::{Timeouts, UreqError};

const BODY_BUFFER: usize = 4096;

#[test]
fn happy_path_and_keep_alive() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut body = [0u8; BODY_BUFFER];
    for _ in 0..3 {
        let record = client
            .call(
                &QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID).expect("fits"),
                &mut body,
            )
            .expect("verified record");
        assert_eq!(record.mchid, demo::MCHID);
        assert_eq!(
            record.authorization_state,
            Some(AuthorizationState::Available)
        );
        assert_eq!(
            record.openid.as_deref(),
            Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
        );
    }
    assert_eq!(
        sandbox.server.connections_accepted(),
        1,
        "three requests, one connection"
    );
}

/// Codes with `| * / ? # %`, a space and CJK go out as one segment, byte for byte as signed,
/// and the emulator decodes each back to the code (it found the record by it).
#[test]
fn awkward_codes_are_one_segment_sent_as_signed() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("a|b*c",        "/v3/payscore/permissions/authorization-code/a%7Cb%2Ac?service_id=500001"),
        ("a/b?c#d%e f",  "/v3/payscore/permissions/authorization-code/a%2Fb%3Fc%23d%25e%20f?service_id=500001"),
        ("授权码-001",    "/v3/payscore/permissions/authorization-code/%E6%8E%88%E6%9D%83%E7%A0%81-001?service_id=500001"),
        ("PCT+a/b=c d",  "/v3/payscore/permissions/authorization-code/PCT%2Ba%2Fb%3Dc%20d?service_id=500001"),
    ];
    for (code, wire) in cases {
        // Outside the documented charset: the typed call refuses it before signing ...
        let typed = QueryByCode::new(code, demo::SERVICE_ID).expect("fits");
        let mut body = [0u8; BODY_BUFFER];
        if *code != "a|b*c" {
            assert!(matches!(
                client.call(&typed, &mut body),
                Err(ClientError::Request(wxpay_core::Error::Invalid {
                    field: "authorization_code",
                    ..
                }))
            ));
        }
        // ... and `Client::send` (the escape hatch) still encodes it as one exact segment.
        let mut target = [0u8; 512];
        let target = TargetBuilder::new(&mut target, BY_CODE_PATH)
            .segment(code)
            .query("service_id", demo::SERVICE_ID)
            .finish()
            .expect("target");
        let verified = client
            .send(Method::Get, target, b"", &mut body)
            .expect(code);
        let record = AuthorizationRecord::from_json(verified.body).expect(code);
        assert_eq!(record.authorization_code.as_deref(), Some(*code));
        assert_eq!(
            sandbox.emulator.seen_targets().last().map(String::as_str),
            Some(*wire),
            "{code}"
        );
    }
}

fn query(sandbox: &Sandbox, code: &str, timeouts: Timeouts) -> Result<(), ClientError<UreqError>> {
    let mut client = sandbox.client(timeouts);
    let mut body = [0u8; BODY_BUFFER];
    client
        .call(
            &QueryByCode::new(code, demo::SERVICE_ID).expect("fits"),
            &mut body,
        )
        .map(|_| ())
}

#[test]
fn failures_table() {
    let sandbox = Sandbox::start();
    type Check = fn(&ClientError<UreqError>) -> bool;
    #[rustfmt::skip]
    let cases: &[(&str, Check)] = &[
        ("NEVER_AUTHORISED",          |e| e.is_not_found() && e.request_id().is_some()),
        ("FAULT_SYSTEM_ERROR",        |e| matches!(e, ClientError::Api(a) if a.status == 500 && a.code() == ErrorCode::SystemError && a.signature_verified)),
        ("FAULT_UNSIGNED_ERROR",      |e| matches!(e, ClientError::Api(a) if a.status == 503 && a.code() == ErrorCode::ServiceUnavailable && !a.signature_verified)),
        ("FAULT_BAD_SIGNATURE",       |e| matches!(e, ClientError::Verify { error: VerifyError::BadSignature, request_id: Some(_) })),
        ("FAULT_UNKNOWN_SERIAL",      |e| matches!(e, ClientError::Verify { error: VerifyError::UnknownSerial, .. })),
        ("FAULT_STALE_TIMESTAMP",     |e| matches!(e, ClientError::Verify { error: VerifyError::ClockSkew { skew_secs: 595..=605 }, .. })),
        ("FAULT_SIGNTEST_PROBE",      |e| matches!(e, ClientError::Verify { error: VerifyError::SignatureProbe, .. })),
        ("FAULT_OVERSIZE_FIELD",      |e| matches!(e, ClientError::Parse { error: ParseError::FieldTooLong { field: "openid", max: 128 }, .. })),
        ("FAULT_NON_JSON_BODY",       |e| matches!(e, ClientError::Parse { error: ParseError::Syntax { offset: 0 }, .. })),
        ("FAULT_TRUNCATED_BODY",      |e| matches!(e, ClientError::Transport(UreqError::Truncated))),
    ];
    for (code, check) in cases {
        let outcome = query(&sandbox, code, Timeouts::default());
        assert!(
            matches!(&outcome, Err(e) if check(e)),
            "{code}: {outcome:?}"
        );
    }
}

#[test]
fn chunked_body_split_inside_a_utf8_character() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut body = [0u8; BODY_BUFFER];
    let record = client
        .call(
            &QueryByCode::new("FAULT_CHUNKED_SPLIT_UTF8", demo::SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("chunked body verifies and parses");
    assert_eq!(
        record.notify_url.as_deref(),
        Some("https://商户.example.com/支付分/通知/回调")
    );
}

#[test]
fn body_larger_than_the_buffer_is_an_error_not_a_truncation() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    // Room for the target, not for the answer.
    let mut small = [0u8; 160];
    let outcome = client.call(
        &wxpay_core::api::permissions::QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID)
            .expect("fits"),
        &mut small,
    );
    assert!(
        matches!(
            outcome,
            Err(ClientError::ResponseTooLarge { capacity }) if capacity < 160
        ),
        "{outcome:?}"
    );
}

#[test]
fn slow_server_times_out_in_time() {
    let sandbox = Sandbox::start();
    let started = Instant::now();
    let outcome = query(
        &sandbox,
        "FAULT_DELAY_5",
        Timeouts::all(Duration::from_secs(2)),
    );
    let elapsed = started.elapsed();
    assert!(
        matches!(&outcome, Err(ClientError::Transport(e)) if e.is_timeout()),
        "{outcome:?}"
    );
    // Generous upper bound for a loaded 2-core machine; the point is "well before 5 s".
    assert!(
        elapsed < Duration::from_millis(4500),
        "gave up after {elapsed:?}"
    );
}

#[test]
fn connection_refused_is_a_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    *client.transport_mut() =
        wxpay_ureq::UreqTransport::new(&format!("http://127.0.0.1:{port}"), Timeouts::default());
    let mut body = [0u8; BODY_BUFFER];
    let outcome = client.call(&QueryByCode::new("x", "1").expect("fits"), &mut body);
    assert!(
        matches!(outcome, Err(ClientError::Transport(UreqError::Connect(_)))),
        "{outcome:?}"
    );
}
