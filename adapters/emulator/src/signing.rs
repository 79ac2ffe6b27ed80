//! Response signing: every answer gets a `Request-ID` and the `Wechatpay-*` headers signed
//! with the platform key, bent as an injected fault says.

use std::time::Duration;

use wxpay_core::Nonce;
use wxpay_core::sign::{self, SIGNATURE_LEN, Signer};
use wxpay_core::verify::{self, SIGNTEST_PREFIX};

use crate::handlers::Answer;
use crate::{Emulator, Fault, HttpResponse, OsRandom, Wire, lock};

impl Emulator {
    /// Signs the answer (unless the fault says otherwise) and frames it.
    pub(crate) fn finish(&self, answer: Answer, fault: Option<Fault>, now: i64) -> HttpResponse {
        let mut response = HttpResponse {
            status: answer.status,
            headers: vec![
                (
                    "Content-Type".into(),
                    "application/json; charset=utf-8".into(),
                ),
                ("Request-ID".into(), random_hex(16)),
            ],
            body: answer.body,
            wire: Wire::Normal,
            delay: None,
        };
        if fault == Some(Fault::UnsignedError) {
            return response;
        }
        let headers = self.signature_headers(&response.body, fault, now);
        response.headers.extend(headers);
        match fault {
            Some(Fault::Delay(secs)) => response.delay = Some(Duration::from_secs(secs)),
            Some(Fault::TruncatedBody) => response.wire = Wire::Truncated,
            Some(Fault::ChunkedSplitUtf8) => response.wire = Wire::ChunkedSplitUtf8,
            _ => {}
        }
        response
    }

    /// `Wechatpay-*` headers signing `body` with the platform key (bent as `fault` says).
    pub(crate) fn signature_headers(
        &self,
        body: &[u8],
        fault: Option<Fault>,
        now: i64,
    ) -> Vec<(String, String)> {
        let signed_at = if fault == Some(Fault::StaleTimestamp) {
            now - 600
        } else {
            now
        };
        let timestamp = signed_at.to_string();
        let nonce = Nonce::generate(&mut OsRandom)
            .map(|n| n.to_string())
            .unwrap_or_default();
        let digest = verify::response_digest(&timestamp, &nonce, body);
        let mut signature = [0u8; SIGNATURE_LEN];
        let signed = lock(&self.platform_signer).sign_prehash(&digest, &mut signature);
        if fault == Some(Fault::BadSignature) {
            signature[0] ^= 0x01;
        }
        let mut signature = match signed {
            Ok(()) => base64(&signature),
            Err(_) => String::new(),
        };
        if fault == Some(Fault::SignTestProbe) {
            signature = format!("{SIGNTEST_PREFIX}{}", &signature[..40]);
        }
        let serial = if fault == Some(Fault::UnknownSerial) {
            "PUB_KEY_ID_0000000000000000000000000000099".to_owned()
        } else {
            self.platform_key_id.clone()
        };
        vec![
            ("Wechatpay-Timestamp".into(), timestamp),
            ("Wechatpay-Nonce".into(), nonce),
            ("Wechatpay-Signature".into(), signature),
            ("Wechatpay-Serial".into(), serial),
            ("Wechatpay-Signature-Type".into(), sign::AUTH_SCHEME.into()),
        ]
    }
}

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    if getrandom::fill(&mut raw).is_err() {
        raw.fill(0);
    }
    raw.iter().map(|b| format!("{b:02X}")).collect()
}

fn base64(bytes: &[u8; SIGNATURE_LEN]) -> String {
    use wxpay_core::sign::SIGNATURE_BASE64_LEN;
    let mut out = [0u8; SIGNATURE_BASE64_LEN];
    sign::encode_signature(bytes, &mut out).to_owned()
}
