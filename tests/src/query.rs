//! The work of one authorization-record query minus the network, split where RSA sits.
//!
//! The zero-allocation test (`tests/zero_alloc.rs`) and the benchmarks (`bench/`) both call
//! these functions, so the code proven allocation-free is the code that is timed. With the
//! fakes below ([`FixedSigner`](crate::query::FixedSigner),
//! [`AcceptAll`](crate::query::AcceptAll), [`CounterRandom`](crate::query::CounterRandom)) no
//! RSA runs at all; with a real backend the same functions are "request build + sign" and "response verify + parse".

use std::convert::Infallible;

use wxpay_core::Call;
use wxpay_core::api::permissions;
use wxpay_core::sign::{
    self, AUTHORIZATION_CAPACITY, SIGNATURE_BASE64_LEN, SIGNATURE_LEN, Sha256Digest, Signer,
    SigningInput,
};
use wxpay_core::transport::USER_AGENT;
use wxpay_core::verify::{self, PlatformKeys, Verifier};
use wxpay_core::{
    AuthorizationRecord, ClientError, Error, Method, Nonce, RandomSource, Request, ResponseHeaders,
};
use wxpay_emulator::demo;

/// The response body: the demo record as the emulator serves it (about 330 bytes).
pub const RECORD_BODY: &str = concat!(
    r#"{"service_id":"500001","appid":"wxd678efh567hg6787","mchid":"1230000109","#,
    r#""openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","authorization_code":"1234323JKHDFE1243252","#,
    r#""authorization_state":"AVAILABLE","notify_url":"https://api.test.com/payscore/notify","#,
    r#""authorization_success_time":"2015-05-20T13:29:35+08:00"}"#
);

/// The response nonce.
pub const REPLY_NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

/// A signer that writes a fixed signature: no RSA, no allocation.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedSigner;

impl Signer for FixedSigner {
    type Error = Infallible;
    fn serial_no(&self) -> &str {
        demo::MERCHANT_SERIAL
    }
    fn sign_prehash(
        &mut self,
        digest: &Sha256Digest,
        out: &mut [u8; SIGNATURE_LEN],
    ) -> Result<(), Infallible> {
        // The digest, then filler: depends on the digest, so it cannot be optimised away.
        let (head, tail) = out.split_at_mut(digest.len());
        head.copy_from_slice(digest);
        tail.fill(0x5A);
        Ok(())
    }
}

/// A verifier that accepts what [`FixedSigner`] wrote over the same digest.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl Verifier for AcceptAll {
    fn verify_prehash(&self, digest: &Sha256Digest, signature: &[u8; SIGNATURE_LEN]) -> bool {
        // One slice comparison (memcmp), not a loop a byte a step: the fake stands in for RSA
        // and should cost next to nothing in the non-RSA figure it is used to measure.
        const FILLER: [u8; SIGNATURE_LEN - 32] = [0x5A; SIGNATURE_LEN - 32];
        signature.starts_with(digest) && signature[digest.len()..] == FILLER
    }
}

/// A deterministic, allocation-free stand-in for the OS CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct CounterRandom(pub u64);

impl RandomSource for CounterRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        // A 64-bit LCG, eight bytes a step.
        for chunk in dest.chunks_mut(8) {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let bytes = self.0.to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

/// One response as a transport hands it over: header name/value pairs and the raw body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Headers as received (the `Wechatpay-*` set and `Request-ID`).
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// The signed message `TIMESTAMP\nNONCE\nBODY\n`, for raw baselines.
    pub message: Vec<u8>,
    /// The signature bytes, for raw baselines.
    pub signature: [u8; SIGNATURE_LEN],
}

impl Reply {
    /// The demo record signed at `timestamp` by `platform` (a real key, or [`FixedSigner`]).
    pub fn signed<S: Signer>(platform: &mut S, timestamp: i64) -> Reply {
        let ts = timestamp.to_string();
        let body = RECORD_BODY.as_bytes().to_vec();
        let digest = verify::response_digest(&ts, REPLY_NONCE, &body);
        let mut signature = [0u8; SIGNATURE_LEN];
        platform
            .sign_prehash(&digest, &mut signature)
            .expect("platform signs");
        let mut b64 = [0u8; SIGNATURE_BASE64_LEN];
        let encoded = sign::encode_signature(&signature, &mut b64).to_owned();
        let message = [ts.as_bytes(), REPLY_NONCE.as_bytes(), &body, b""].join(&b'\n');
        Reply {
            headers: vec![
                (
                    "Request-ID".into(),
                    "08F78BB5AF0610BC69AC1D1A3E2D0B8E".into(),
                ),
                ("Wechatpay-Nonce".into(), REPLY_NONCE.into()),
                ("Wechatpay-Signature".into(), encoded),
                ("Wechatpay-Timestamp".into(), ts),
                ("Wechatpay-Serial".into(), demo::PLATFORM_KEY_ID.into()),
                ("Wechatpay-Signature-Type".into(), sign::AUTH_SCHEME.into()),
            ],
            body,
            message,
            signature,
        }
    }
}

/// The request side of a query: nonce, target, digest, signature, `Authorization` header,
/// and the request's header list. Returns the bytes of headers a transport would send.
pub fn build_request<S: Signer, R: RandomSource>(
    signer: &mut S,
    random: &mut R,
    now: u64,
    authorization: &mut [u8; AUTHORIZATION_CAPACITY],
) -> Result<usize, Error> {
    let nonce = Nonce::generate(random)?;
    let mut target = [0u8; permissions::TARGET_CAPACITY];
    let target = permissions::QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID)?
        .target(&mut target)?;
    let header = sign::authorization(
        signer,
        &SigningInput {
            mchid: demo::MCHID,
            method: Method::Get,
            target,
            body: b"",
            timestamp: now,
            nonce: nonce.as_str(),
        },
        authorization,
    )?;
    let request = Request {
        method: Method::Get,
        target,
        authorization: header,
        user_agent: USER_AGENT,
        wechatpay_serial: Some(demo::PLATFORM_KEY_ID),
        body: b"",
    };
    Ok(request.headers().map(|(n, v)| n.len() + v.len()).sum())
}

/// The response side of a query: capture headers, verify (window, serial, raw-body digest,
/// signature), then parse the verified body.
pub fn accept_response<V: Verifier>(
    keys: &PlatformKeys<V>,
    reply: &Reply,
    now: i64,
) -> Result<AuthorizationRecord, ClientError<Infallible>> {
    let mut headers = ResponseHeaders::default();
    for (name, value) in &reply.headers {
        headers.capture(name, value.as_bytes());
    }
    if let Err(error) = verify::verify_response(keys, &headers, &reply.body, now) {
        return Err(ClientError::Verify {
            error,
            request_id: headers.request_id,
        });
    }
    AuthorizationRecord::from_json(&reply.body).map_err(|error| ClientError::Parse {
        error,
        request_id: headers.request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fakes agree with each other and nothing else: a flipped byte anywhere is refused.
    #[test]
    fn accept_all_accepts_only_what_fixed_signer_wrote() {
        let digest: Sha256Digest = core::array::from_fn(|i| i as u8);
        let mut signature = [0u8; SIGNATURE_LEN];
        FixedSigner
            .sign_prehash(&digest, &mut signature)
            .expect("infallible");
        assert!(AcceptAll.verify_prehash(&digest, &signature));
        for flipped in [0, 31, 32, 100, SIGNATURE_LEN - 1] {
            let mut bad = signature;
            bad[flipped] ^= 1;
            assert!(!AcceptAll.verify_prehash(&digest, &bad), "byte {flipped}");
        }
    }
}
