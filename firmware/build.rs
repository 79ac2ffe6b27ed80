//! Build script, run on the host:
//!
//! 1. puts `memory.x` where cortex-m-rt's `link.x` finds it;
//! 2. prepares the fixture with the same core and adapter the device runs: the demo keys as
//!    DER, a response signed by the emulator's platform key at the device clock's time, and the
//!    exact request bytes the device must write (by running the whole client here, over a
//!    recording stream, with the same stand-in RNG, clock and keys).
//!
//! The response signature covers only timestamp, nonce and body, so it does not depend on the
//! request. PKCS#1 v1.5 is deterministic, so the device's blinded RSA signature must come out
//! byte for byte equal to the one computed here.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use base64ct::{Base64, Encoding};
use wxpay_core::api::permissions::{
    PreAuthorization, QueryByCode, QueryByOpenid, TerminateByCode, TerminateByOpenid,
};
use wxpay_core::callback::{self, ApiV3Key};
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::Signer;
use wxpay_core::verify::{self, PlatformKeys};
use wxpay_core::{AuthorizationRecord, Client, ResponseHeaders};
use wxpay_embedded_io::{HttpClient, RECOMMENDED_SCRATCH_LEN};

#[allow(dead_code)]
mod params {
    include!("src/params.rs");
}
use params::*;

const KEYS: &str = "../adapters/emulator/keys";

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    for path in ["memory.x", "src/params.rs", KEYS] {
        println!("cargo:rerun-if-changed={path}");
    }

    let merchant_pem = read(&format!("{KEYS}/merchant_key.pem"));
    let platform_pem = read(&format!("{KEYS}/platform_key.pem"));
    let platform_pub_pem = read(&format!("{KEYS}/platform_pub.pem"));
    write(&out, "merchant_key.der", &pem_to_der(&merchant_pem));
    write(&out, "platform_pub.der", &pem_to_der(&platform_pub_pem));
    write_raw_keys(
        &out,
        &pem_to_der(&merchant_pem),
        &pem_to_der(&platform_pub_pem),
    );

    // The response, signed as WeChat Pay would sign it.
    let mut platform = RsaSigner::from_pem(&platform_pem, PUB_KEY_ID).expect("platform key");
    let timestamp = NOW.to_string();
    let (response, signature) = signed_response(
        &mut platform,
        "200 OK",
        RECORD_JSON.as_bytes(),
        RESPONSE_NONCE,
    );
    write(&out, "response.http", &response);

    // The exact bytes the device must write, from the same client run here.
    let signer = RsaSigner::from_pem(&merchant_pem, MERCHANT_SERIAL)
        .expect("merchant key")
        .with_blinding(StandInRng::new(BLINDING_SEED));
    write(
        &out,
        "request_rsa.http",
        &run_client(signer, &response, &platform_pub_pem),
    );
    write(
        &out,
        "request_se.http",
        &run_client(SecureElementStub, &response, &platform_pub_pem),
    );

    // Variant 5: the four family calls, then the query by code, in that order, each answered
    // by its own signed response (the terminations with 204). The requests are recorded from
    // the same client run here; the nonces follow from the one stand-in RNG across the calls.
    let token_json = format!("{{\"apply_permissions_token\":\"{APPLY_PERMISSIONS_TOKEN}\"}}");
    let family_responses = [
        signed_response(
            &mut platform,
            "200 OK",
            token_json.as_bytes(),
            FAMILY_NONCES[0],
        )
        .0,
        signed_response(
            &mut platform,
            "200 OK",
            RECORD_JSON.as_bytes(),
            FAMILY_NONCES[1],
        )
        .0,
        signed_response(&mut platform, "204 No Content", b"", FAMILY_NONCES[2]).0,
        signed_response(&mut platform, "204 No Content", b"", FAMILY_NONCES[3]).0,
    ];
    let family_requests = run_family(&family_responses, &response, &platform_pub_pem);
    let family_files = [
        "pre_authorize",
        "by_openid",
        "terminate_by_code",
        "terminate_by_openid",
        "by_code",
    ];
    for (i, name) in family_files.iter().enumerate() {
        if let Some(reply) = family_responses.get(i) {
            write(&out, &format!("family_{name}.response.http"), reply);
        }
        write(
            &out,
            &format!("family_{name}.request.http"),
            &family_requests[i],
        );
    }

    // Variant 6: one USER_CLOSE_SERVICE callback, encrypted with the demo APIv3 key as the
    // emulator encrypts them and signed with the platform key over timestamp, nonce and body.
    let key = ApiV3Key::from_text(APIV3_KEY).expect("32-byte key");
    let mut sealed = CALLBACK_PAYLOAD.as_bytes().to_vec();
    sealed.resize(CALLBACK_PAYLOAD.len() + callback::TAG_LEN, 0);
    let sealed = callback::encrypt_in_place(
        &key,
        CALLBACK_AEAD_NONCE.as_bytes(),
        CALLBACK_ASSOCIATED_DATA.as_bytes(),
        &mut sealed,
        CALLBACK_PAYLOAD.len(),
    )
    .expect("seals")
    .to_vec();
    let callback_body = format!(
        concat!(
            r#"{{"id":"{id}","create_time":"2023-11-15T06:13:20+08:00","#,
            r#""resource_type":"encrypt-resource","event_type":"{event}","summary":"用户关闭服务","#,
            r#""resource":{{"original_type":"payscore","algorithm":"{algorithm}","#,
            r#""ciphertext":"{ciphertext}","associated_data":"{ad}","nonce":"{nonce}"}}}}"#
        ),
        id = CALLBACK_ID,
        event = callback::USER_CLOSE_SERVICE,
        algorithm = callback::ALGORITHM,
        ciphertext = Base64::encode_string(&sealed),
        ad = CALLBACK_ASSOCIATED_DATA,
        nonce = CALLBACK_AEAD_NONCE,
    );
    let callback_signature = sign_body(&mut platform, CALLBACK_NONCE, callback_body.as_bytes());
    check_callback(&platform_pub_pem, &callback_body, &callback_signature, &key);
    write(&out, "callback.json", callback_body.as_bytes());
    write(&out, "callback.sealed", &sealed);

    // Variant 8: complete a service order (answered DOING / MCH_COMPLETE, collection
    // USER_PAYING), then the USER_PAID callback carrying the DONE order. Both orders are
    // written by the core's declaration (`write_json`), the request recorded from the same
    // client run here with the secure-element stub.
    let doing = render(&service_order(false));
    let complete_response =
        signed_response(&mut platform, "200 OK", doing.as_bytes(), COMPLETE_NONCE).0;
    let complete_request = run_complete(&complete_response, &platform_pub_pem);
    write(&out, "complete.response.http", &complete_response);
    write(&out, "complete.request.http", &complete_request);
    let done = render(&service_order(true));
    let paid_body = sealed_callback(
        &key,
        callback::USER_PAID,
        "用户支付成功",
        PAID_CALLBACK_ID,
        PAID_AEAD_NONCE,
        &done,
    );
    let paid_signature = sign_body(&mut platform, PAID_CALLBACK_NONCE, paid_body.as_bytes());
    check_paid_callback(&platform_pub_pem, &paid_body, &paid_signature, &key);
    write(&out, "paid_callback.json", paid_body.as_bytes());

    let mut fixture = String::from("// Generated by build.rs: do not edit.\n");
    for (name, value) in [
        ("TIMESTAMP", timestamp.as_str()),
        ("SIGNATURE", signature.as_str()),
        ("CALLBACK_SIGNATURE", callback_signature.as_str()),
        ("PAID_CALLBACK_SIGNATURE", paid_signature.as_str()),
    ] {
        writeln!(
            fixture,
            "/// `Wechatpay-{name}` of the response.\npub const {name}: &str = {value:?};"
        )
        .expect("string");
    }
    for (name, file, doc) in [
        (
            "RESPONSE",
            "response.http",
            "The whole response the in-memory stream plays back.",
        ),
        (
            "EXPECTED_REQUEST_RSA",
            "request_rsa.http",
            "What the device must write with the RSA signer.",
        ),
        (
            "EXPECTED_REQUEST_SE",
            "request_se.http",
            "What the device must write with the secure-element stub.",
        ),
        (
            "MERCHANT_KEY_DER",
            "merchant_key.der",
            "The demo merchant key, PKCS#8 DER.",
        ),
        (
            "PLATFORM_PUB_DER",
            "platform_pub.der",
            "The emulator's platform public key, SPKI DER.",
        ),
        (
            "CALLBACK_BODY",
            "callback.json",
            "The callback's raw JSON body (signed by `CALLBACK_SIGNATURE`).",
        ),
        (
            "CALLBACK_SEALED",
            "callback.sealed",
            "The callback's `resource.ciphertext`, decoded: AES-256-GCM ciphertext and tag.",
        ),
        (
            "FAMILY_RESPONSE_PRE_AUTHORIZE",
            "family_pre_authorize.response.http",
            "Answer to the pre-authorisation: a token.",
        ),
        (
            "FAMILY_RESPONSE_BY_OPENID",
            "family_by_openid.response.http",
            "Answer to the query by openid: the record.",
        ),
        (
            "FAMILY_RESPONSE_TERMINATE_BY_CODE",
            "family_terminate_by_code.response.http",
            "Answer to the termination by code: 204, signed over an empty body.",
        ),
        (
            "FAMILY_RESPONSE_TERMINATE_BY_OPENID",
            "family_terminate_by_openid.response.http",
            "Answer to the termination by openid: 204.",
        ),
        (
            "FAMILY_REQUEST_PRE_AUTHORIZE",
            "family_pre_authorize.request.http",
            "Variant 5's pre-authorisation request (secure-element stub).",
        ),
        (
            "FAMILY_REQUEST_BY_OPENID",
            "family_by_openid.request.http",
            "Variant 5's query by openid.",
        ),
        (
            "FAMILY_REQUEST_TERMINATE_BY_CODE",
            "family_terminate_by_code.request.http",
            "Variant 5's termination by code.",
        ),
        (
            "FAMILY_REQUEST_TERMINATE_BY_OPENID",
            "family_terminate_by_openid.request.http",
            "Variant 5's termination by openid.",
        ),
        (
            "FAMILY_REQUEST_BY_CODE",
            "family_by_code.request.http",
            "Variant 5's query by code, made after the four family calls.",
        ),
        (
            "COMPLETE_RESPONSE",
            "complete.response.http",
            "Answer to variant 8's complete: the order, DOING / MCH_COMPLETE.",
        ),
        (
            "COMPLETE_REQUEST",
            "complete.request.http",
            "Variant 8's complete request (secure-element stub).",
        ),
        (
            "PAID_CALLBACK_BODY",
            "paid_callback.json",
            "The USER_PAID callback's raw JSON body (signed by `PAID_CALLBACK_SIGNATURE`).",
        ),
    ]
    .into_iter()
    .chain(
        RAW_PARTS
            .iter()
            .map(|(name, file)| (*name, *file, "A raw key component, big-endian.")),
    ) {
        writeln!(fixture, "/// {doc}\npub const {name}: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\"));").expect("string");
    }
    write(&out, "fixture.rs", fixture.as_bytes());
}

/// A response as WeChat Pay sends it, signed over timestamp, nonce and body; and the signature.
fn signed_response(
    platform: &mut RsaSigner,
    status: &str,
    body: &[u8],
    nonce: &str,
) -> (Vec<u8>, String) {
    let signature = sign_body(platform, nonce, body);
    let timestamp = NOW.to_string();
    let length = body.len().to_string();
    let with_body = !body.is_empty();
    let mut head = String::new();
    for (name, value) in [
        ("Server", "nginx"),
        ("Date", "Tue, 14 Nov 2023 22:13:20 GMT"),
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", &length),
        ("Connection", "keep-alive"),
        ("Keep-Alive", "timeout=8"),
        ("Cache-Control", "no-cache, must-revalidate"),
        ("X-Content-Type-Options", "nosniff"),
        ("Request-ID", "08F78BB5AF0610D302A5C1C2E0A7B3B5-1"),
        ("Content-Language", "zh-CN"),
        ("Wechatpay-Nonce", nonce),
        ("Wechatpay-Signature", &signature),
        ("Wechatpay-Timestamp", &timestamp),
        ("Wechatpay-Serial", PUB_KEY_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        // A 204 has neither body nor its headers.
        if with_body || !matches!(name, "Content-Type" | "Content-Length") {
            write!(head, "{name}: {value}\r\n").expect("string");
        }
    }
    let mut response = format!("HTTP/1.1 {status}\r\n{head}\r\n").into_bytes();
    response.extend_from_slice(body);
    (response, signature)
}

/// The base64 platform signature over `NOW`, `nonce` and `body`.
fn sign_body(platform: &mut RsaSigner, nonce: &str, body: &[u8]) -> String {
    let digest = verify::response_digest(&NOW.to_string(), nonce, body);
    let mut signature = [0u8; 256];
    platform
        .sign_prehash(&digest, &mut signature)
        .expect("signs");
    Base64::encode_string(&signature)
}

/// Checks on the host that the prepared callback verifies, decrypts and parses.
fn check_callback(platform_pub_pem: &str, body: &str, signature: &str, key: &ApiV3Key) {
    let platform = RsaVerifier::from_pem(platform_pub_pem).expect("platform public key");
    let keys: PlatformKeys<RsaVerifier> =
        PlatformKeys::with_key(PUB_KEY_ID, platform).expect("fits");
    let mut headers = ResponseHeaders::default();
    for (name, value) in [
        ("Wechatpay-Timestamp", NOW.to_string().as_str()),
        ("Wechatpay-Nonce", CALLBACK_NONCE),
        ("Wechatpay-Signature", signature),
        ("Wechatpay-Serial", PUB_KEY_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        headers.capture(name, value.as_bytes());
    }
    let mut work = [0u8; 1024];
    let notification =
        callback::verify_and_decrypt(&keys, &headers, body.as_bytes(), NOW, key, &mut work)
            .expect("the prepared callback verifies and decrypts on the host");
    match notification.event {
        callback::Event::UserCloseService(e) => {
            assert_eq!(e.openid.as_deref(), Some(OPENID));
        }
        other => panic!("unexpected event {other:?}"),
    }
}

/// The order of variant 8 as WeChat Pay answers complete (`paid` false: DOING /
/// MCH_COMPLETE, collection USER_PAYING) or carries it in USER_PAID (`paid`: DONE, collected
/// in one instalment).
fn service_order(paid: bool) -> DeviceOrder {
    use wxpay_core::api::serviceorder::{
        Collection, CollectionDetail, CollectionState, OrderState, PaidType, RiskFund,
        RiskFundName, StateDescription,
    };
    use wxpay_core::heapless::{String as Text, Vec as List};
    fn text<const N: usize>(value: &str) -> Text<N> {
        Text::try_from(value).expect("fits")
    }
    let complete = complete_order(OUT_ORDER_NO).expect("the complete call");
    let mut details = List::new();
    if paid {
        details
            .push(CollectionDetail {
                seq: Some(1),
                amount: ORDER_TOTAL,
                paid_type: Some(PaidType::Newton),
                paid_time: Some(text(ORDER_END_TIME)),
                transaction_id: Some(text(ORDER_TRANSACTION_ID)),
            })
            .expect("one instalment");
    }
    DeviceOrder {
        appid: text(APPID),
        mchid: text(MCHID),
        service_id: text(SERVICE_ID),
        out_order_no: text(OUT_ORDER_NO),
        service_introduction: Some(text("充电宝租借")),
        state: if paid {
            OrderState::Done
        } else {
            OrderState::Doing
        },
        state_description: (!paid).then_some(StateDescription::MchComplete),
        post_payments: complete.body.post_payments,
        post_discounts: complete.body.post_discounts,
        risk_fund: Some(RiskFund {
            name: RiskFundName::Deposit,
            amount: 9900,
            description: Some(text("充电宝押金")),
        }),
        time_range: complete.body.time_range,
        location: None,
        attach: None,
        notify_url: Some(text(NOTIFY_URL)),
        order_id: Some(text(ORDER_ID)),
        package: None,
        total_amount: Some(ORDER_TOTAL),
        need_collection: Some(true),
        openid: Some(text(OPENID)),
        collection: Some(Collection {
            state: if paid {
                CollectionState::UserPaid
            } else {
                CollectionState::UserPaying
            },
            total_amount: ORDER_TOTAL,
            paying_amount: Some(if paid { 0 } else { ORDER_TOTAL }),
            paid_amount: Some(if paid { ORDER_TOTAL } else { 0 }),
            details,
        }),
    }
}

/// The order as JSON, written by its declaration.
fn render(order: &DeviceOrder) -> String {
    let mut buf = vec![0u8; 4096];
    order.write_json(&mut buf).expect("fits").to_owned()
}

/// A callback body as WeChat Pay POSTs it: `payload` encrypted with the APIv3 key (associated
/// data `payscore`, as the emulator sends service-order callbacks) inside the envelope.
fn sealed_callback(
    key: &ApiV3Key,
    event_type: &str,
    summary: &str,
    id: &str,
    aead_nonce: &str,
    payload: &str,
) -> String {
    let mut sealed = payload.as_bytes().to_vec();
    sealed.resize(payload.len() + callback::TAG_LEN, 0);
    let sealed = callback::encrypt_in_place(
        key,
        aead_nonce.as_bytes(),
        b"payscore",
        &mut sealed,
        payload.len(),
    )
    .expect("seals")
    .to_vec();
    format!(
        concat!(
            r#"{{"id":"{id}","create_time":"2023-11-15T06:13:20+08:00","#,
            r#""resource_type":"encrypt-resource","event_type":"{event}","summary":"{summary}","#,
            r#""resource":{{"original_type":"payscore","algorithm":"{algorithm}","#,
            r#""ciphertext":"{ciphertext}","associated_data":"payscore","nonce":"{nonce}"}}}}"#
        ),
        id = id,
        event = event_type,
        summary = summary,
        algorithm = callback::ALGORITHM,
        ciphertext = Base64::encode_string(&sealed),
        nonce = aead_nonce,
    )
}

/// Checks on the host that variant 8's USER_PAID callback verifies, decrypts and parses into
/// the device's order type, DONE and collected.
fn check_paid_callback(platform_pub_pem: &str, body: &str, signature: &str, key: &ApiV3Key) {
    use wxpay_core::api::serviceorder::{CollectionState, OrderState};
    let platform = RsaVerifier::from_pem(platform_pub_pem).expect("platform public key");
    let keys: PlatformKeys<RsaVerifier> =
        PlatformKeys::with_key(PUB_KEY_ID, platform).expect("fits");
    let mut headers = ResponseHeaders::default();
    for (name, value) in [
        ("Wechatpay-Timestamp", NOW.to_string().as_str()),
        ("Wechatpay-Nonce", PAID_CALLBACK_NONCE),
        ("Wechatpay-Signature", signature),
        ("Wechatpay-Serial", PUB_KEY_ID),
        ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"),
    ] {
        headers.capture(name, value.as_bytes());
    }
    let mut work = vec![0u8; body.len()];
    let notification =
        callback::verify_and_decrypt(&keys, &headers, body.as_bytes(), NOW, key, &mut work)
            .expect("the prepared USER_PAID callback verifies and decrypts on the host");
    let callback::Event::UserPaid(event) = notification.event else {
        panic!("unexpected event {:?}", notification.event);
    };
    let order = event
        .order_with::<ORDER_PAYMENTS, ORDER_DISCOUNTS>()
        .expect("the order fits the device's capacities");
    assert_eq!(order.state, OrderState::Done);
    assert_eq!(
        order.collection.map(|c| c.state),
        Some(CollectionState::UserPaid)
    );
}

/// Runs variant 8's complete on the host over a stream that replays `response`, with the
/// secure-element stub; checks the answer and returns the request bytes.
fn run_complete(response: &[u8], platform_pub_pem: &str) -> Vec<u8> {
    use wxpay_core::api::serviceorder::{CollectionState, OrderState, StateDescription};
    let platform = RsaVerifier::from_pem(platform_pub_pem).expect("platform public key");
    let keys: PlatformKeys<RsaVerifier> =
        PlatformKeys::with_key(PUB_KEY_ID, platform).expect("fits");
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let http: HttpClient<'_, Recorder> =
        HttpClient::new(Recorder::new(response), HOST, &mut scratch);
    let mut client = Client::new(
        http,
        SecureElementStub,
        keys,
        FixedClock,
        StandInRng::new(NONCE_SEED),
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID))
    .expect("client");
    let mut body = [0u8; 2048];
    let order = client
        .call(&complete_order(OUT_ORDER_NO).expect("fits"), &mut body)
        .expect("the prepared answer to complete verifies and parses on the host");
    assert_eq!(order.state, OrderState::Doing);
    assert_eq!(order.state_description, Some(StateDescription::MchComplete));
    assert_eq!(
        order.collection.map(|c| c.state),
        Some(CollectionState::UserPaying)
    );
    std::mem::take(&mut client.transport_mut().stream_mut().written)
}

type HostClient<'s> =
    Client<HttpClient<'s, Recorder>, SecureElementStub, RsaVerifier, FixedClock, StandInRng>;

/// Runs variant 5's calls on the host, in the device's order, with the secure-element stub:
/// the four family calls answered by `family` and the query by code answered by `by_code`.
/// Returns the five requests.
fn run_family(family: &[Vec<u8>; 4], by_code: &[u8], platform_pub_pem: &str) -> Vec<Vec<u8>> {
    let platform = RsaVerifier::from_pem(platform_pub_pem).expect("platform public key");
    let keys: PlatformKeys<RsaVerifier> =
        PlatformKeys::with_key(PUB_KEY_ID, platform).expect("fits");
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let http: HttpClient<'_, Recorder> = HttpClient::new(Recorder::new(b""), HOST, &mut scratch);
    let mut client = Client::new(
        http,
        SecureElementStub,
        keys,
        FixedClock,
        StandInRng::new(NONCE_SEED),
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID))
    .expect("client");
    let mut body = [0u8; 2048];
    let mut requests = Vec::new();
    let mut next = |client: &mut HostClient<'_>, reply: &[u8]| {
        let old: Recorder = client.transport_mut().reconnect(Recorder::new(reply));
        if !old.reply.is_empty() {
            requests.push(old.written);
        }
    };
    next(&mut client, &family[0]);
    let token = client
        .call(
            &PreAuthorization::new(SERVICE_ID, APPID, NEW_AUTHORIZATION_CODE, Some(NOTIFY_URL))
                .expect("fits"),
            &mut body,
        )
        .expect("pre-authorise");
    assert_eq!(token.as_str(), APPLY_PERMISSIONS_TOKEN);
    next(&mut client, &family[1]);
    let record = client
        .call(
            &QueryByOpenid::new(OPENID, APPID, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("query by openid");
    assert_eq!(record.openid.as_deref(), Some(OPENID));
    next(&mut client, &family[2]);
    client
        .call(
            &TerminateByCode::new(AUTHORIZATION_CODE, SERVICE_ID, TERMINATE_REASON).expect("fits"),
            &mut body,
        )
        .expect("terminate by code");
    next(&mut client, &family[3]);
    client
        .call(
            &TerminateByOpenid::new(OPENID, APPID, SERVICE_ID, TERMINATE_REASON).expect("fits"),
            &mut body,
        )
        .expect("terminate by openid");
    next(&mut client, by_code);
    let record = client
        .call(
            &QueryByCode::new(AUTHORIZATION_CODE, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("query by code");
    assert_eq!(record.service_id.as_str(), SERVICE_ID);
    next(&mut client, b"-");
    assert_eq!(requests.len(), 5);
    requests
}

/// Runs the query on the host over a stream that replays `response` and records the request;
/// checks that the record comes back verified and returns the request bytes.
fn run_client<S: Signer>(signer: S, response: &[u8], platform_pub_pem: &str) -> Vec<u8> {
    let platform = RsaVerifier::from_pem(platform_pub_pem).expect("platform public key");
    let keys: PlatformKeys<RsaVerifier> =
        PlatformKeys::with_key(PUB_KEY_ID, platform).expect("fits");
    let mut scratch = [0u8; RECOMMENDED_SCRATCH_LEN];
    let stream = Recorder {
        reply: response.to_vec(),
        at: 0,
        written: Vec::new(),
    };
    let http: HttpClient<'_, Recorder> = HttpClient::new(stream, HOST, &mut scratch);
    let mut client = Client::new(
        http,
        signer,
        keys,
        FixedClock,
        StandInRng::new(NONCE_SEED),
        MCHID,
    )
    .and_then(|c| c.with_wechatpay_serial(PUB_KEY_ID))
    .expect("client");
    let mut body = [0u8; 2048];
    let record: AuthorizationRecord = client
        .call(
            &QueryByCode::new(AUTHORIZATION_CODE, SERVICE_ID).expect("fits"),
            &mut body,
        )
        .expect("the prepared response verifies and parses on the host");
    assert_eq!(
        record.authorization_code.as_deref(),
        Some(AUTHORIZATION_CODE)
    );
    std::mem::take(&mut client.transport_mut().stream_mut().written)
}

/// A stream that replays a response and keeps what is written.
struct Recorder {
    reply: Vec<u8>,
    at: usize,
    written: Vec<u8>,
}

impl Recorder {
    fn new(reply: &[u8]) -> Self {
        Recorder {
            reply: reply.to_vec(),
            at: 0,
            written: Vec::new(),
        }
    }
}

impl embedded_io::ErrorType for Recorder {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let rest = &self.reply[self.at..];
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

impl embedded_io::Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The raw big-endian key components the device is provisioned with: (constant, file).
const RAW_PARTS: &[(&str, &str)] = &[
    ("MERCHANT_N", "merchant.n"),
    ("MERCHANT_E", "merchant.e"),
    ("MERCHANT_P", "merchant.p"),
    ("MERCHANT_Q", "merchant.q"),
    ("MERCHANT_DP", "merchant.dp"),
    ("MERCHANT_DQ", "merchant.dq"),
    ("MERCHANT_QINV", "merchant.qinv"),
    ("PLATFORM_N", "platform.n"),
    ("PLATFORM_E", "platform.e"),
];

/// Splits the merchant key (PKCS#8) and the platform public key (SPKI) into raw components.
fn write_raw_keys(out: &Path, merchant_pkcs8: &[u8], platform_spki: &[u8]) {
    use pkcs1::der::Decode;
    let info = pkcs8::PrivateKeyInfoRef::from_der(merchant_pkcs8).expect("PKCS#8");
    let key = pkcs1::RsaPrivateKeyRef::from_der(info.private_key.as_bytes()).expect("PKCS#1");
    for (file, part) in [
        ("merchant.n", key.modulus),
        ("merchant.e", key.public_exponent),
        ("merchant.p", key.prime1),
        ("merchant.q", key.prime2),
        ("merchant.dp", key.exponent1),
        ("merchant.dq", key.exponent2),
        ("merchant.qinv", key.coefficient),
    ] {
        write(out, file, part.as_bytes());
    }
    let spki = pkcs8::spki::SubjectPublicKeyInfoRef::from_der(platform_spki).expect("SPKI");
    let key = pkcs1::RsaPublicKeyRef::from_der(spki.subject_public_key.as_bytes().expect("bits"))
        .expect("PKCS#1 public key");
    write(out, "platform.n", key.modulus.as_bytes());
    write(out, "platform.e", key.public_exponent.as_bytes());
}

/// The DER inside a PEM block (PKCS#8 or SPKI).
fn pem_to_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    Base64::decode_vec(&b64).expect("PEM body is base64")
}

fn read(path: &str) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
}
