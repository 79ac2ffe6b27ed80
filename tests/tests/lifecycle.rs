//! One record through its life against the emulator on 127.0.0.1, with its callbacks:
//! pre-authorise → bind → query by code → query by openid → terminate → UNAVAILABLE.

use base64ct::{Base64, Encoding};
use wxpay_core::api::permissions::{
    PreAuthorization, QueryByCode, QueryByOpenid, TerminateByCode, TerminateByOpenid,
};
use wxpay_core::callback::{self, ApiV3Key, CallbackError, Event};
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::{SIGNATURE_BASE64_LEN, SIGNATURE_LEN, Signer, encode_signature};
use wxpay_core::verify::response_digest;
use wxpay_core::{
    AuthorizationState, ClientError, Error, ErrorCode, PlatformKeys, Problem, ResponseHeaders,
    VerifyError,
};
use wxpay_emulator::{CallbackMessage, demo, system_now};
use wxpay_tests::Sandbox;
use wxpay_ureq::Timeouts;

const APPID: &str = demo::APPID;
const SERVICE_ID: &str = demo::SERVICE_ID;

fn platform_keys() -> PlatformKeys<RsaVerifier> {
    PlatformKeys::with_key(
        demo::PLATFORM_KEY_ID,
        RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("key"),
    )
    .expect("fits")
}

fn apiv3() -> ApiV3Key {
    ApiV3Key::from_text(demo::APIV3_KEY).expect("32 bytes")
}

fn headers_of(message: &CallbackMessage) -> ResponseHeaders {
    let mut headers = ResponseHeaders::default();
    for (name, value) in &message.headers {
        headers.capture(name, value.as_bytes());
    }
    headers
}

/// Verifies and decrypts a callback as a merchant's notify handler would.
fn open(
    message: &CallbackMessage,
    key: &ApiV3Key,
    body: &[u8],
) -> Result<(String, Option<String>, String), CallbackError> {
    let mut work = vec![0u8; body.len()];
    let n = callback::verify_and_decrypt(
        &platform_keys(),
        &headers_of(message),
        body,
        system_now(),
        key,
        &mut work,
    )?;
    let (status, openid) = match n.event {
        Event::UserOpenService(e) | Event::UserCloseService(e) => (
            e.user_service_status
                .map(|s| s.to_string())
                .unwrap_or_default(),
            e.openid.map(|s| s.to_string()),
        ),
        Event::UserConfirm(_) | Event::UserPaid(_) | Event::Other(_) => (String::new(), None),
    };
    Ok((n.event_type.to_string(), openid, status))
}

#[test]
fn a_record_through_its_life_with_callbacks() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut body = [0u8; 4096];
    let code = "LIFE-AUTH_001|*";
    let openid = "oLifeCycleUser0001";

    let token = client
        .call(
            &PreAuthorization::new(
                SERVICE_ID,
                APPID,
                code,
                Some("https://商户.example.com/notify"),
            )
            .expect("fits"),
            &mut body,
        )
        .expect("pre-authorised");
    assert_eq!(token.as_str().len(), 40);
    let record = client
        .call(
            &QueryByCode::new(code, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("query");
    assert_eq!(
        record.authorization_state,
        Some(AuthorizationState::UnbindUser)
    );
    assert_eq!(record.openid, None);

    sandbox
        .emulator
        .bind_user(code, openid, system_now())
        .expect("binds");
    let record = client
        .call(
            &QueryByCode::new(code, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("query");
    assert_eq!(
        record.authorization_state,
        Some(AuthorizationState::Available)
    );
    assert!(record.authorization_success_time.is_some());
    let by_openid = client
        .call(
            &QueryByOpenid::new(openid, APPID, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("by openid");
    assert_eq!(by_openid.authorization_code.as_deref(), Some(code));

    client
        .call(
            &TerminateByCode::new(code, SERVICE_ID, "用户要求关闭").expect("fits"),
            &mut body,
        )
        .expect("204, verified over an empty body");
    let record = client
        .call(
            &QueryByCode::new(code, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("query");
    assert_eq!(
        record.authorization_state,
        Some(AuthorizationState::Unavailable)
    );
    assert!(record.cancel_authorization_time.is_some());

    let callbacks = sandbox.emulator.callbacks();
    assert_eq!(callbacks.len(), 2);
    let opened = open(&callbacks[0], &apiv3(), &callbacks[0].body).expect("open callback");
    assert_eq!(
        opened,
        (
            callback::USER_OPEN_SERVICE.to_owned(),
            Some(openid.to_owned()),
            "USER_OPEN_SERVICE".to_owned()
        )
    );
    assert!(
        String::from_utf8_lossy(&callbacks[0].body).contains(r#""associated_data":"""#),
        "open uses empty AAD"
    );
    let closed = open(&callbacks[1], &apiv3(), &callbacks[1].body).expect("close callback");
    assert_eq!(
        closed,
        (
            callback::USER_CLOSE_SERVICE.to_owned(),
            Some(openid.to_owned()),
            "USER_CLOSE_SERVICE".to_owned()
        )
    );
}

#[test]
fn terminate_by_openid_and_error_cases() {
    let sandbox = Sandbox::start();
    let mut client = sandbox.client(Timeouts::default());
    let mut body = [0u8; 4096];
    let code = "LIFE-002";
    let openid = "oLifeCycleUser0002";
    client
        .call(
            &PreAuthorization::new(SERVICE_ID, APPID, code, None).expect("fits"),
            &mut body,
        )
        .expect("pre-authorised");

    // Pre-authorising the same code again is refused by the server.
    let again = client.call(
        &PreAuthorization::new(SERVICE_ID, APPID, code, None).expect("fits"),
        &mut body,
    );
    assert!(
        matches!(&again, Err(ClientError::Api(e)) if e.status == 400 && e.code() == ErrorCode::InvalidRequest),
        "{again:?}"
    );

    // No user yet: by openid is 404.
    let none = client.call(
        &QueryByOpenid::new(openid, APPID, SERVICE_ID).expect("fits"),
        &mut body,
    );
    assert!(matches!(&none, Err(e) if e.is_not_found()), "{none:?}");

    sandbox
        .emulator
        .bind_user(code, openid, system_now())
        .expect("binds");
    assert!(
        sandbox
            .emulator
            .bind_user(code, openid, system_now())
            .is_err(),
        "binding twice is refused"
    );

    // A reason over 50 characters is refused before anything is sent.
    let sent_before = sandbox.emulator.seen_targets().len();
    let long = "原".repeat(51);
    assert_eq!(
        TerminateByOpenid::new(openid, APPID, SERVICE_ID, &long),
        Err(Error::Invalid {
            field: "reason",
            problem: Problem::TooManyChars { max: 50 }
        })
    );
    let mut built = TerminateByOpenid::new(openid, APPID, SERVICE_ID, "ok").expect("fits");
    built.body.reason = "r"
        .repeat(51)
        .as_str()
        .try_into()
        .expect("fits in 150 bytes");
    let refused = client.call(&built, &mut body);
    assert!(
        matches!(
            refused,
            Err(ClientError::Request(Error::Invalid {
                field: "reason",
                problem: Problem::TooManyChars { max: 50 }
            }))
        ),
        "{refused:?}"
    );
    assert_eq!(
        sandbox.emulator.seen_targets().len(),
        sent_before,
        "nothing was sent"
    );

    client
        .call(
            &TerminateByOpenid::new(openid, APPID, SERVICE_ID, &"原".repeat(50)).expect("fits"),
            &mut body,
        )
        .expect("50 characters are fine");
    let record = client
        .call(
            &QueryByOpenid::new(openid, APPID, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("still found");
    assert_eq!(
        record.authorization_state,
        Some(AuthorizationState::Unavailable)
    );

    let twice = client.call(
        &TerminateByCode::new(code, SERVICE_ID, "again").expect("fits"),
        &mut body,
    );
    assert!(
        matches!(&twice, Err(ClientError::Api(e)) if e.code() == ErrorCode::InvalidOrderState),
        "{twice:?}"
    );
    let unknown = client.call(
        &TerminateByCode::new("NO-SUCH-CODE", SERVICE_ID, "x").expect("fits"),
        &mut body,
    );
    assert!(
        matches!(&unknown, Err(e) if e.is_not_found()),
        "{unknown:?}"
    );
}

/// Re-signs a modified callback body with the platform key, so the decryption step (not the
/// signature) is what must catch the damage.
fn resigned(original: &CallbackMessage, body: Vec<u8>) -> CallbackMessage {
    let mut signer =
        RsaSigner::from_pem(demo::PLATFORM_KEY_PEM, demo::PLATFORM_KEY_ID).expect("key");
    let header = |name: &str| {
        original
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let digest = response_digest(
        &header("Wechatpay-Timestamp"),
        &header("Wechatpay-Nonce"),
        &body,
    );
    let mut signature = [0u8; SIGNATURE_LEN];
    signer.sign_prehash(&digest, &mut signature).expect("signs");
    let mut b64 = [0u8; SIGNATURE_BASE64_LEN];
    let signature = encode_signature(&signature, &mut b64).to_owned();
    let mut message = original.clone();
    for (name, value) in &mut message.headers {
        if name == "Wechatpay-Signature" {
            *value = signature.clone();
        }
    }
    message.body = body;
    message
}

fn with_ciphertext(message: &CallbackMessage, edit: impl Fn(Vec<u8>) -> String) -> CallbackMessage {
    let mut envelope: serde_json::Value = serde_json::from_slice(&message.body).expect("JSON");
    let ciphertext = Base64::decode_vec(
        envelope["resource"]["ciphertext"]
            .as_str()
            .expect("ciphertext"),
    )
    .expect("base64");
    envelope["resource"]["ciphertext"] = edit(ciphertext).into();
    resigned(message, envelope.to_string().into_bytes())
}

#[test]
fn callback_error_cases() {
    let sandbox = Sandbox::start();
    sandbox
        .emulator
        .bind_user_for_test("CB-001", "oCallbackUser");
    let message = sandbox
        .emulator
        .callbacks()
        .pop()
        .expect("an open callback");
    assert!(open(&message, &apiv3(), &message.body).is_ok());

    let wrong_key = ApiV3Key::from_text("0123456789abcdef0123456789abcdef").expect("32 bytes");
    assert_eq!(
        open(&message, &wrong_key, &message.body),
        Err(CallbackError::Decrypt)
    );

    let tampered = with_ciphertext(&message, |mut c| {
        c[0] ^= 0x01;
        Base64::encode_string(&c)
    });
    assert_eq!(
        open(&tampered, &apiv3(), &tampered.body),
        Err(CallbackError::Decrypt)
    );

    let truncated = with_ciphertext(&message, |c| Base64::encode_string(&c[..10]));
    assert_eq!(
        open(&truncated, &apiv3(), &truncated.body),
        Err(CallbackError::TruncatedTag)
    );

    let shortened_tag = with_ciphertext(&message, |c| Base64::encode_string(&c[..c.len() - 1]));
    assert_eq!(
        open(&shortened_tag, &apiv3(), &shortened_tag.body),
        Err(CallbackError::Decrypt)
    );

    let bad_base64 = with_ciphertext(&message, |_| "not*base64!".to_owned());
    assert_eq!(
        open(&bad_base64, &apiv3(), &bad_base64.body),
        Err(CallbackError::BadBase64)
    );

    // A body changed without re-signing fails verification before any decryption.
    let mut forged = message.body.clone();
    forged.extend_from_slice(b" ");
    assert_eq!(
        open(&message, &apiv3(), &forged),
        Err(CallbackError::Verify(VerifyError::BadSignature))
    );
}
