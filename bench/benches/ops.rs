//! Criterion figures for each step of a query, per backend, each group beside its raw
//! baseline. Ratios quoted in BENCHMARKS.md come from the interleaved `ratios` bench; these
//! give the per-step breakdown with criterion's confidence intervals.
//!
//! `cargo bench -p wxpay-bench --bench ops` (add `-- --quick` for a short run).

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use wxpay_bench::replay::ReplayServer;
use wxpay_bench::{
    Backend, NONCE, NOW, Raw, emulator_alone, emulator_query, http_query, http_query_without_rsa,
    merchant_aws_lc, merchant_rsa, platform_keys_aws_lc, platform_keys_rsa, replay_query,
    request_message, signed_reply, target,
};
use wxpay_core::Call;
use wxpay_core::api::permissions;
use wxpay_core::sign::{self, AUTHORIZATION_CAPACITY, SigningInput};
use wxpay_core::verify::{self, PlatformKeys};
use wxpay_core::{AuthorizationRecord, Method, Nonce, ResponseHeaders};
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, demo};
use wxpay_tests::query::{
    AcceptAll, CounterRandom, FixedSigner, Reply, accept_response, build_request,
};

fn non_rsa(c: &mut Criterion) {
    let mut g = c.benchmark_group("non_rsa");
    let target = target();
    let reply = Reply::signed(&mut FixedSigner, NOW);
    let keys: PlatformKeys<AcceptAll> =
        PlatformKeys::with_key(demo::PLATFORM_KEY_ID, AcceptAll).expect("fits");
    let mut rng = CounterRandom(1);
    let mut auth = [0u8; AUTHORIZATION_CAPACITY];
    let mut headers = ResponseHeaders::default();
    for (name, value) in &reply.headers {
        headers.capture(name, value.as_bytes());
    }
    let ts = NOW.to_string();

    g.bench_function("nonce", |b| b.iter(|| Nonce::generate(&mut rng)));
    g.bench_function("target", |b| {
        b.iter(|| {
            let mut buf = [0u8; permissions::TARGET_CAPACITY];
            permissions::QueryByCode::new(black_box(demo::AUTHORIZATION_CODE), demo::SERVICE_ID)
                .and_then(|call| call.target(&mut buf).map(str::len))
        })
    });
    g.bench_function("request_digest", |b| {
        b.iter(|| sign::request_digest(Method::Get, black_box(&target), NOW as u64, NONCE, b""))
    });
    g.bench_function("header (digest + fake sign + base64)", |b| {
        b.iter(|| {
            sign::authorization(
                &mut FixedSigner,
                &SigningInput {
                    mchid: demo::MCHID,
                    method: Method::Get,
                    target: black_box(&target),
                    body: b"",
                    timestamp: NOW as u64,
                    nonce: NONCE,
                },
                &mut auth,
            )
            .map(str::len)
        })
    });
    let sig = [0xA5u8; wxpay_core::sign::SIGNATURE_LEN];
    g.bench_function("encode signature (base64)", |b| {
        b.iter(|| {
            let mut out = [0u8; wxpay_core::sign::SIGNATURE_BASE64_LEN];
            sign::encode_signature(black_box(&sig), &mut out).len()
        })
    });
    g.bench_function("capture response headers", |b| {
        b.iter(|| {
            let mut h = ResponseHeaders::default();
            for (name, value) in &reply.headers {
                h.capture(name, value.as_bytes());
            }
            h
        })
    });
    g.bench_function("decode signature (base64)", |b| {
        b.iter(|| verify::decode_signature(black_box(headers.signature.as_deref().unwrap_or(""))))
    });
    g.bench_function("response_digest", |b| {
        b.iter(|| verify::response_digest(black_box(&ts), NONCE, &reply.body))
    });
    g.bench_function("verify_response (fake verifier)", |b| {
        b.iter(|| verify::verify_response(&keys, black_box(&headers), &reply.body, NOW))
    });
    g.bench_function("parse record", |b| {
        b.iter(|| AuthorizationRecord::from_json(black_box(&reply.body)))
    });
    g.bench_function("request side (build_request)", |b| {
        b.iter(|| build_request(&mut FixedSigner, &mut rng, NOW as u64, &mut auth))
    });
    g.bench_function("response side (accept_response)", |b| {
        b.iter(|| accept_response(&keys, black_box(&reply), NOW).is_ok())
    });
    g.bench_function("request + response", |b| {
        b.iter(|| {
            let n = build_request(&mut FixedSigner, &mut rng, NOW as u64, &mut auth);
            (n, accept_response(&keys, black_box(&reply), NOW).is_ok())
        })
    });
    g.finish();
}

fn sign(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign");
    let raw = Raw::new();
    let message = request_message(NOW);
    let mut rng = CounterRandom(1);
    let mut auth = [0u8; AUTHORIZATION_CAPACITY];
    let (mut lc, mut pure) = (merchant_aws_lc(), merchant_rsa());
    g.bench_function("raw aws-lc-rs", |b| {
        b.iter(|| raw.sign(Backend::AwsLc, black_box(&message)))
    });
    g.bench_function("build_request aws-lc", |b| {
        b.iter(|| build_request(&mut lc, &mut rng, NOW as u64, &mut auth))
    });
    g.bench_function("raw rsa", |b| {
        b.iter(|| raw.sign(Backend::Rsa, black_box(&message)))
    });
    g.bench_function("build_request rsa", |b| {
        b.iter(|| build_request(&mut pure, &mut rng, NOW as u64, &mut auth))
    });
    g.finish();
}

fn verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify");
    let raw = Raw::new();
    let reply = signed_reply(NOW);
    let (lc, pure) = (platform_keys_aws_lc(), platform_keys_rsa());
    g.bench_function("raw aws-lc-rs", |b| {
        b.iter(|| raw.verify(Backend::AwsLc, black_box(&reply.message), &reply.signature))
    });
    g.bench_function("accept_response aws-lc", |b| {
        b.iter(|| accept_response(&lc, black_box(&reply), NOW).is_ok())
    });
    g.bench_function("raw rsa", |b| {
        b.iter(|| raw.verify(Backend::Rsa, black_box(&reply.message), &reply.signature))
    });
    g.bench_function("accept_response rsa", |b| {
        b.iter(|| accept_response(&pure, black_box(&reply), NOW).is_ok())
    });
    g.finish();
}

fn client(c: &mut Criterion) {
    let mut g = c.benchmark_group("client");
    for (name, backend) in [("aws-lc", Backend::AwsLc), ("rsa", Backend::Rsa)] {
        let mut call = replay_query(backend);
        g.bench_function(format!("in-process pre-signed {name}"), |b| {
            b.iter(&mut call)
        });
    }
    let mut emulator = emulator_alone();
    g.bench_function("emulator alone", |b| b.iter(&mut emulator));
    for (name, backend) in [("aws-lc", Backend::AwsLc), ("rsa", Backend::Rsa)] {
        let mut call = emulator_query(backend);
        g.bench_function(format!("in-process emulator {name}"), |b| b.iter(&mut call));
    }
    g.finish();
}

fn e2e(c: &mut Criterion) {
    let mut g = c.benchmark_group("e2e_http");
    let replay = ReplayServer::start().expect("replay server");
    let server = Server::start(std::sync::Arc::new(Emulator::demo()), "127.0.0.1:0")
        .expect("emulator listens");
    for (name, backend) in [("aws-lc", Backend::AwsLc), ("rsa", Backend::Rsa)] {
        let mut call = http_query(backend, &replay.base_url());
        g.bench_function(format!("replay server {name}"), |b| b.iter(&mut call));
    }
    let mut call = http_query_without_rsa(&replay.base_url());
    g.bench_function("replay server, no RSA (transport + loopback)", |b| {
        b.iter(&mut call)
    });
    let mut call = http_query(Backend::AwsLc, &server.base_url());
    g.bench_function("emulator server aws-lc", |b| b.iter(&mut call));
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = non_rsa, sign, verify, client, e2e
}
criterion_main!(benches);
