//! Request authentication, as the real server does it: required headers, the
//! `WECHATPAY2-SHA256-RSA2048` authorization fields, the ±300 s window and the signature over
//! the raw method, target, timestamp, nonce and body.

use wxpay_core::Method;
use wxpay_core::sign;
use wxpay_core::verify::{self, MAX_CLOCK_SKEW_SECS, Verifier};

use crate::handlers::Answer;
use crate::{Emulator, HttpRequest};

impl Emulator {
    /// Checks headers and the request signature; on failure, the error response.
    pub(crate) fn authenticate(&self, request: &HttpRequest, now: i64) -> Result<(), Answer> {
        if request.header("User-Agent").is_none_or(str::is_empty) {
            return Err(Answer::error(
                400,
                "INVALID_REQUEST",
                "missing User-Agent header",
            ));
        }
        if request.header("Accept").is_none_or(str::is_empty) {
            return Err(Answer::error(
                400,
                "INVALID_REQUEST",
                "missing Accept header",
            ));
        }
        let sign_error = |message: &str| Answer::error(401, "SIGN_ERROR", message);
        let header = request
            .header("Authorization")
            .ok_or_else(|| sign_error("missing Authorization header"))?;
        let fields = sign::parse_authorization(header).map_err(|e| sign_error(&e.to_string()))?;
        if fields.mchid != self.mchid {
            return Err(sign_error("mchid does not match"));
        }
        if fields.serial_no != self.merchant_serial {
            return Err(sign_error(
                "serial_no names no certificate of this merchant",
            ));
        }
        let timestamp: i64 = fields
            .timestamp
            .parse()
            .map_err(|_| sign_error("timestamp is not a number"))?;
        if now.saturating_sub(timestamp).saturating_abs() > MAX_CLOCK_SKEW_SECS {
            return Err(sign_error("timestamp is outside the allowed window"));
        }
        let method = Method::parse(&request.method)
            .ok_or_else(|| Answer::error(400, "INVALID_REQUEST", "unsupported method"))?;
        let timestamp = u64::try_from(timestamp).map_err(|_| sign_error("negative timestamp"))?;
        let digest = sign::request_digest(
            method,
            &request.target,
            timestamp,
            fields.nonce_str,
            &request.body,
        );
        let valid = verify::decode_signature(fields.signature)
            .map(|sig| self.merchant_key.verify_prehash(&digest, &sig))
            .unwrap_or(false);
        if !valid {
            // As WeChat Pay does: echo what was checked, so merchants can debug signatures.
            let message_len = request.method.len()
                + request.target.len()
                + fields.timestamp.len()
                + fields.nonce_str.len()
                + request.body.len()
                + 5;
            return Err(Answer::json(
                401,
                serde_json::json!({
                    "code": "SIGN_ERROR",
                    "message": "signature does not verify",
                    "detail": { "sign_information": {
                        "method": request.method,
                        "url": request.target,
                        "sign_message_length": message_len,
                    } },
                }),
            ));
        }
        if request
            .header("Wechatpay-Serial")
            .is_some_and(|serial| serial != self.platform_key_id)
        {
            return Err(Answer::error(
                400,
                "PARAM_ERROR",
                "Wechatpay-Serial is not a key of this merchant",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use wxpay_core::crypto::rsa::RsaSigner;
    use wxpay_core::sign::{AUTHORIZATION_CAPACITY, SigningInput};

    use crate::{HttpResponse, demo};

    use super::*;

    const NOW: i64 = 1_700_000_000;
    const TARGET: &str =
        "/v3/payscore/permissions/authorization-code/1234323JKHDFE1243252?service_id=500001";

    fn signed(
        key_pem: &str,
        serial: &str,
        mchid: &str,
        timestamp: i64,
        target: &str,
    ) -> HttpRequest {
        let mut signer = RsaSigner::from_pem(key_pem, serial).expect("key");
        let mut buf = [0u8; AUTHORIZATION_CAPACITY];
        let input = SigningInput {
            mchid,
            method: Method::Get,
            target,
            body: b"",
            timestamp: u64::try_from(timestamp).expect("positive"),
            nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
        };
        let authorization = sign::authorization(&mut signer, &input, &mut buf)
            .expect("signs")
            .to_owned();
        HttpRequest {
            method: "GET".into(),
            target: target.into(),
            headers: vec![
                ("Authorization".into(), authorization),
                ("Accept".into(), "application/json".into()),
                ("User-Agent".into(), "test".into()),
            ],
            body: Vec::new(),
        }
    }

    fn demo_request() -> HttpRequest {
        signed(
            demo::MERCHANT_KEY_PEM,
            demo::MERCHANT_SERIAL,
            demo::MCHID,
            NOW,
            TARGET,
        )
    }

    fn code_of(response: &HttpResponse) -> (u16, String) {
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
        (
            response.status,
            body["code"].as_str().unwrap_or_default().to_owned(),
        )
    }

    #[test]
    fn authentication_table() {
        let emulator = Emulator::demo();
        let without = |name: &str| {
            let mut r = demo_request();
            r.headers.retain(|(n, _)| n != name);
            r
        };
        let mut tampered_target = demo_request();
        tampered_target.target = TARGET.replace("500001", "500002");
        let mut unknown_serial_header = demo_request();
        unknown_serial_header
            .headers
            .push(("Wechatpay-Serial".into(), "PUB_KEY_ID_X".into()));
        #[rustfmt::skip]
        let cases: Vec<(&str, HttpRequest, (u16, &str))> = vec![
            ("ok",                 demo_request(), (200, "")),
            ("no User-Agent",      without("User-Agent"), (400, "INVALID_REQUEST")),
            ("no Accept",          without("Accept"), (400, "INVALID_REQUEST")),
            ("no Authorization",   without("Authorization"), (401, "SIGN_ERROR")),
            ("other mchid",        signed(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL, "1230000110", NOW, TARGET), (401, "SIGN_ERROR")),
            ("other serial",       signed(demo::MERCHANT_KEY_PEM, "5DF34429A8561CBBC19AE88B111C34BE5C2ACD30", demo::MCHID, NOW, TARGET), (401, "SIGN_ERROR")),
            ("wrong key",          signed(demo::PLATFORM_KEY_PEM, demo::MERCHANT_SERIAL, demo::MCHID, NOW, TARGET), (401, "SIGN_ERROR")),
            ("301 s old",          signed(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL, demo::MCHID, NOW - 301, TARGET), (401, "SIGN_ERROR")),
            ("299 s ahead",        signed(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL, demo::MCHID, NOW + 299, TARGET), (200, "")),
            ("target changed",     tampered_target, (401, "SIGN_ERROR")),
            ("unknown key id",     unknown_serial_header, (400, "PARAM_ERROR")),
        ];
        for (name, request, (status, code)) in cases {
            let response = emulator.handle(&request, NOW);
            assert_eq!(code_of(&response), (status, code.to_owned()), "{name}");
            assert!(
                response.header("Wechatpay-Signature").is_some(),
                "{name}: signed"
            );
        }
    }
}
