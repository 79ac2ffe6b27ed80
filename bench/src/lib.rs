//! Shared pieces of wxpay's benchmarks (see `BENCHMARKS.md` at the repository root).
//!
//! - [`Raw`]: the raw RSA operations of each backend, the baselines every figure is paired with.
//! - [`ReplayTransport`] and [`replay::ReplayServer`]: a pre-signed reply, in-process and over
//!   loopback HTTP, so that the client, not the emulator, is what is timed.
//! - [`pair`]: an interleaved A/B timer. The machine is shared and noisy, so a figure and its
//!   baseline are measured in alternating short batches and only their ratio is trusted.
//!
//! The non-RSA query work itself lives in [`wxpay_tests::query`], where a counting allocator
//! proves it allocation-free.

#![allow(clippy::print_stdout, missing_docs)]

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::Verifier as _;
use rsa::{Pkcs1v15Sign, PrivateKey, PublicKey};
use sha2::{Digest, Sha256};
use wxpay_aws_lc::{AwsLcSigner, AwsLcVerifier};
use wxpay_core::Call;
use wxpay_core::api::permissions;
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_core::sign::SIGNATURE_LEN;
use wxpay_core::{
    AuthorizationRecord, Client, Clock, Method, PlatformKeys, RandomSource, Request, ResponseHead,
    ResponseHeaders, Signer, Transport, Verifier,
};
use wxpay_emulator::{Emulator, EmulatorTransport, demo};
use wxpay_tests::query::Reply;
use wxpay_ureq::{OsRandom, SystemClock, Timeouts, UreqTransport};

pub mod pair;
pub mod replay;

/// The fixed clock of in-process benchmarks (Unix seconds).
pub const NOW: i64 = 1_700_000_000;
/// The request nonce of the raw baselines.
pub const NONCE: &str = "593BEC0C930BF1AFEB40B4A08C8FB242";

/// The merchant key on the pure-Rust backend.
pub fn merchant_rsa() -> RsaSigner {
    RsaSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("demo key")
}

/// The merchant key on the AWS-LC backend.
pub fn merchant_aws_lc() -> AwsLcSigner {
    AwsLcSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL).expect("demo key")
}

/// The emulator's platform key, to sign replies.
pub fn platform_signer() -> RsaSigner {
    RsaSigner::from_pem(demo::PLATFORM_KEY_PEM, demo::PLATFORM_KEY_ID).expect("demo key")
}

/// The platform key set on the pure-Rust backend.
pub fn platform_keys_rsa() -> PlatformKeys<RsaVerifier> {
    let key = RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("demo key");
    PlatformKeys::with_key(demo::PLATFORM_KEY_ID, key).expect("fits")
}

/// The platform key set on the AWS-LC backend.
pub fn platform_keys_aws_lc() -> PlatformKeys<AwsLcVerifier> {
    let key = AwsLcVerifier::from_pem(demo::PLATFORM_PUB_PEM).expect("demo key");
    PlatformKeys::with_key(demo::PLATFORM_KEY_ID, key).expect("fits")
}

/// The demo record reply, signed by the platform key at `timestamp`.
pub fn signed_reply(timestamp: i64) -> Reply {
    Reply::signed(&mut platform_signer(), timestamp)
}

/// The demo query's target.
pub fn target() -> String {
    let mut buf = [0u8; permissions::TARGET_CAPACITY];
    query_call().target(&mut buf).expect("target").to_owned()
}

/// The demo query as a typed call.
pub fn query_call() -> permissions::QueryByCode {
    permissions::QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID).expect("fits")
}

/// The signed request message of the demo query: `GET\nTARGET\nTIMESTAMP\nNONCE\n\n`.
pub fn request_message(timestamp: i64) -> Vec<u8> {
    format!("GET\n{}\n{timestamp}\n{NONCE}\n\n", target()).into_bytes()
}

/// Which RSA implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The core's pure-Rust `rsa` 0.10 (firmware default).
    Rsa,
    /// AWS-LC through `wxpay-aws-lc` (host default).
    AwsLc,
}

/// The raw RSA operations of both backends, as their own crates expose them: sign the merchant
/// request message, verify the platform's reply. These are the baselines.
pub struct Raw {
    rsa_key: PrivateKey,
    rsa_platform: VerifyingKey<Sha256>,
    lc_key: RsaKeyPair,
    lc_platform: ParsedPublicKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Raw { .. }")
    }
}

impl Default for Raw {
    fn default() -> Self {
        Raw::new()
    }
}

impl Raw {
    pub fn new() -> Raw {
        let rsa_key = PrivateKey::from_pkcs8_pem(demo::MERCHANT_KEY_PEM).expect("demo key");
        let rsa_platform = VerifyingKey::new(
            PublicKey::from_public_key_pem(demo::PLATFORM_PUB_PEM).expect("demo key"),
        );
        let der = |pem: &str| {
            let (_, der) = pem_rfc7468::decode_vec(pem.as_bytes()).expect("pem");
            der
        };
        let lc_key = RsaKeyPair::from_pkcs8(&der(demo::MERCHANT_KEY_PEM)).expect("demo key");
        let lc_platform =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der(demo::PLATFORM_PUB_PEM))
                .expect("demo key");
        Raw {
            rsa_key,
            rsa_platform,
            lc_key,
            lc_platform,
            rng: SystemRandom::new(),
        }
    }

    /// Signs `message` with the merchant key: hash, pad, exponentiate.
    pub fn sign(&self, backend: Backend, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let mut out = [0u8; SIGNATURE_LEN];
        match backend {
            Backend::Rsa => {
                // Unblinded, as `RsaSigner` signs: the same arithmetic.
                let sig = self
                    .rsa_key
                    .sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                    .expect("signs");
                out.copy_from_slice(&sig);
            }
            Backend::AwsLc => self
                .lc_key
                .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut out)
                .expect("signs"),
        }
        out
    }

    /// Verifies `signature` over `message` with the platform key.
    pub fn verify(&self, backend: Backend, message: &[u8], signature: &[u8]) -> bool {
        match backend {
            Backend::Rsa => Signature::try_from(signature)
                .is_ok_and(|sig| self.rsa_platform.verify(message, &sig).is_ok()),
            Backend::AwsLc => self.lc_platform.verify_sig(message, signature).is_ok(),
        }
    }
}

/// A fixed clock.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn unix_seconds(&self) -> i64 {
        self.0
    }
}

/// An in-process transport that hands back one pre-signed reply: the client is all that runs.
#[derive(Debug, Clone)]
pub struct ReplayTransport {
    reply: Reply,
}

impl ReplayTransport {
    pub fn new(reply: Reply) -> Self {
        ReplayTransport { reply }
    }
}

impl Transport for ReplayTransport {
    type Error = &'static str;

    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, &'static str> {
        std::hint::black_box(request);
        let body = &self.reply.body;
        response_body
            .get_mut(..body.len())
            .ok_or("body too large")?
            .copy_from_slice(body);
        let mut headers = ResponseHeaders::default();
        for (name, value) in &self.reply.headers {
            headers.capture(name, value.as_bytes());
        }
        Ok(ResponseHead {
            status: 200,
            headers,
            body_len: body.len(),
        })
    }
}

/// Builds a client in public-key mode for the demo merchant.
pub fn client<T: Transport, S: Signer, V: Verifier, C: Clock, R: RandomSource>(
    transport: T,
    signer: S,
    keys: PlatformKeys<V>,
    clock: C,
    random: R,
) -> Client<T, S, V, C, R> {
    Client::new(transport, signer, keys, clock, random, demo::MCHID)
        .and_then(|c| c.with_wechatpay_serial(demo::PLATFORM_KEY_ID))
        .expect("client builds")
        .with_user_agent(wxpay_ureq::USER_AGENT)
}

/// One demo query; panics unless the record comes back verified.
pub fn query<T: Transport, S: Signer, V: Verifier, C: Clock, R: RandomSource>(
    client: &mut Client<T, S, V, C, R>,
) -> AuthorizationRecord {
    let mut body = [0u8; 2048];
    let record = client
        .call(&query_call(), &mut body)
        .unwrap_or_else(|e| panic!("query failed: {e:?}"));
    assert_eq!(record.service_id, demo::SERVICE_ID);
    record
}

/// A query function, boxed so benchmarks can pick a backend at run time.
pub type QueryFn = Box<dyn FnMut() -> AuthorizationRecord>;

/// The whole client call against an in-process pre-signed reply.
pub fn replay_query(backend: Backend) -> QueryFn {
    let transport = ReplayTransport::new(signed_reply(NOW));
    match backend {
        Backend::Rsa => {
            let mut c = client(
                transport,
                merchant_rsa(),
                platform_keys_rsa(),
                FixedClock(NOW),
                OsRandom,
            );
            Box::new(move || query(&mut c))
        }
        Backend::AwsLc => {
            let mut c = client(
                transport,
                merchant_aws_lc(),
                platform_keys_aws_lc(),
                FixedClock(NOW),
                OsRandom,
            );
            Box::new(move || query(&mut c))
        }
    }
}

/// The whole client call through the in-process emulator (which verifies and signs too).
pub fn emulator_query(backend: Backend) -> QueryFn {
    let transport = EmulatorTransport::new(Arc::new(Emulator::demo())).with_time(NOW);
    match backend {
        Backend::Rsa => {
            let mut c = client(
                transport,
                merchant_rsa(),
                platform_keys_rsa(),
                FixedClock(NOW),
                OsRandom,
            );
            Box::new(move || query(&mut c))
        }
        Backend::AwsLc => {
            let mut c = client(
                transport,
                merchant_aws_lc(),
                platform_keys_aws_lc(),
                FixedClock(NOW),
                OsRandom,
            );
            Box::new(move || query(&mut c))
        }
    }
}

/// The whole client call over keep-alive HTTP/1.1 to `base_url` (loopback), with the system
/// clock and OS nonces, as the CLI runs.
pub fn http_query(backend: Backend, base_url: &str) -> QueryFn {
    let transport = UreqTransport::new(base_url, Timeouts::default());
    match backend {
        Backend::Rsa => {
            let mut c = client(
                transport,
                merchant_rsa(),
                platform_keys_rsa(),
                SystemClock,
                OsRandom,
            );
            Box::new(move || query(&mut c))
        }
        Backend::AwsLc => {
            let mut c = client(
                transport,
                merchant_aws_lc(),
                platform_keys_aws_lc(),
                SystemClock,
                OsRandom,
            );
            Box::new(move || query(&mut c))
        }
    }
}

/// Accepts every signature: to time a transport with no RSA on either side. Benchmarks only.
#[derive(Debug, Clone, Copy)]
pub struct TrustAll;

impl Verifier for TrustAll {
    fn verify_prehash(&self, _: &wxpay_core::sign::Sha256Digest, _: &[u8; SIGNATURE_LEN]) -> bool {
        true
    }
}

/// The client call over keep-alive HTTP with a fake signer and [`TrustAll`]: what the
/// transport, the loopback round trip and the server cost, without RSA.
pub fn http_query_without_rsa(base_url: &str) -> QueryFn {
    let keys = PlatformKeys::with_key(demo::PLATFORM_KEY_ID, TrustAll).expect("fits");
    let mut c = client(
        UreqTransport::new(base_url, Timeouts::default()),
        wxpay_tests::query::FixedSigner,
        keys,
        SystemClock,
        OsRandom,
    );
    Box::new(move || query(&mut c))
}

/// The emulator's own cost for one query: authenticate a pre-signed request (RSA verify),
/// look the record up, serialise and sign the answer (RSA sign, AWS-LC by default).
pub fn emulator_alone() -> impl FnMut() -> usize {
    use wxpay_core::sign::{self, AUTHORIZATION_CAPACITY, SigningInput};
    let emulator = Emulator::demo();
    let target = target();
    let mut buf = [0u8; AUTHORIZATION_CAPACITY];
    let authorization = sign::authorization(
        &mut merchant_aws_lc(),
        &SigningInput {
            mchid: demo::MCHID,
            method: Method::Get,
            target: &target,
            body: b"",
            timestamp: NOW as u64,
            nonce: NONCE,
        },
        &mut buf,
    )
    .expect("signs")
    .to_owned();
    let request = wxpay_emulator::HttpRequest {
        method: "GET".into(),
        target,
        headers: vec![
            ("Authorization".into(), authorization),
            ("Accept".into(), "application/json".into()),
            ("User-Agent".into(), wxpay_ureq::USER_AGENT.into()),
            ("Wechatpay-Serial".into(), demo::PLATFORM_KEY_ID.into()),
        ],
        body: Vec::new(),
    };
    move || {
        let response = emulator.handle(&request, NOW);
        assert_eq!(response.status, 200);
        response.body.len()
    }
}

/// A query against the full emulator with RSA alone, in round trips per second: a one-byte
/// ping-pong over one keep-alive loopback connection (`TCP_NODELAY`, as the emulator) in which
/// each side does only its RSA. The client signs the request message and verifies the reply,
/// the server verifies and signs, all with AWS-LC; no HTTP, JSON, headers or allocation.
/// Every query against the emulator does this work in this order, so it is the rate of a
/// client and server that added nothing to the protocol's RSA. On a shared VM one run of real
/// queries can still beat one run of this: compare runs taken right next to each other.
/// `round_trips` (at least one) are timed after a tenth as many (at least one) warm up.
pub fn rsa_ping_pong(round_trips: usize) -> f64 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    let round_trips = round_trips.max(1);
    // Both sides check the platform's signature of the demo reply: the server's check of a
    // merchant signature costs the same (RSA-2048, e = 65537).
    let reply = signed_reply(NOW);
    let message = request_message(NOW);
    let warm = (round_trips / 10).max(1);
    let total = warm + round_trips;
    // One side's work for one message: a sign and a verify, each checked.
    let side = |raw: &Raw| {
        std::hint::black_box(raw.sign(Backend::AwsLc, &message));
        assert!(raw.verify(Backend::AwsLc, &reply.message, &reply.signature));
    };
    // Everything that can fail before the exchange happens here, before the server thread
    // exists; once it does, a panic on either side closes its end and the other's next read
    // fails, so a failure ends the run instead of hanging it.
    let (server_raw, client_raw) = (Raw::new(), Raw::new());
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let mut client = TcpStream::connect(listener.local_addr().expect("local address"))
        .expect("connect (the listen backlog accepts it)");
    client.set_nodelay(true).expect("nodelay");
    let (mut server, _) = listener.accept().expect("accept");
    server.set_nodelay(true).expect("nodelay");
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut byte = [0u8; 1];
            for _ in 0..total {
                server.read_exact(&mut byte).expect("server reads");
                side(&server_raw);
                server.write_all(&byte).expect("server writes");
            }
        });
        let mut byte = [1u8; 1];
        let mut start = std::time::Instant::now();
        for i in 0..total {
            if i == warm {
                start = std::time::Instant::now();
            }
            side(&client_raw);
            client.write_all(&byte).expect("client writes");
            client.read_exact(&mut byte).expect("client reads");
        }
        round_trips as f64 / start.elapsed().as_secs_f64()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both sides' signatures are made and checked (a failed check panics in the server or the
    /// client thread), and the rate comes back finite.
    #[test]
    fn rsa_ping_pong_completes_every_round_trip() {
        let rate = rsa_ping_pong(10);
        assert!(rate.is_finite() && rate > 0.0, "{rate}");
    }
}
