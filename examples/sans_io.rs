//! The sans-io path: the core builds and signs the request and checks the response; the HTTP
//! exchange is yours (here ureq stands in for whatever client the application already has).
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use wxpay_core::api::permissions;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::{self, SigningInput};
use wxpay_core::{AuthorizationRecord, Call, Method, Nonce, PlatformKeys, Request};
use wxpay_core::{ResponseHead, ResponseHeaders, check_response};
use wxpay_emulator::{Emulator, demo, server::Server};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0")?; // stands in for WeChat Pay
    let mut signer = RsaSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL)?;
    let verifier = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM)?;
    let keys: PlatformKeys<RsaVerifier> = PlatformKeys::with_key(demo::PLATFORM_KEY_ID, verifier)?;
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
    };

    // 1. The request: target, nonce, signature, headers.
    let call = permissions::QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID)?;
    let mut target = [0u8; permissions::TARGET_CAPACITY];
    let target = call.target(&mut target)?;
    let nonce = Nonce::generate(&mut wxpay_ureq::OsRandom)?;
    let (mchid, method, body) = (demo::MCHID, Method::Get, &b""[..]);
    let input = SigningInput {
        mchid,
        method,
        target,
        body,
        timestamp: now()?,
        nonce: nonce.as_str(),
    };
    let mut authorization = [0u8; sign::AUTHORIZATION_CAPACITY];
    let authorization = sign::authorization(&mut signer, &input, &mut authorization)?;
    let request = Request {
        method,
        target,
        authorization,
        user_agent: wxpay_core::transport::USER_AGENT,
        wechatpay_serial: Some(demo::PLATFORM_KEY_ID),
        body,
    };

    // 2. Your HTTP client sends it: the target byte for byte, these headers, this body.
    let mut http = ureq::get(format!("{}{}", server.base_url(), request.target));
    for (name, value) in request.headers() {
        http = http.header(name, value);
    }
    let mut response = http.config().http_status_as_error(false).build().call()?;
    let mut headers = ResponseHeaders::default();
    for (name, value) in response.headers() {
        headers.capture(name.as_str(), value.as_bytes());
    }
    let status = response.status().as_u16();
    let raw = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()?;

    // 3. The core verifies the raw bytes (±300 s of your clock), then parses.
    let head = ResponseHead {
        status,
        headers,
        body_len: raw.len(),
    };
    // (A non-2xx answer is ClientError::Api; the transport's errors were yours, hence Infallible.)
    let verified = check_response::<_, 2, Infallible>(&keys, head, &raw, i64::try_from(now()?)?)?;
    let record: AuthorizationRecord = call.parse(verified.body)?;
    call.check(&record, mchid)?; // the answer must be for this merchant, service and code
    println!(
        "{:?} is {:?} (Request-ID {:?})",
        record.openid, record.authorization_state, verified.request_id
    );
    Ok(())
}
