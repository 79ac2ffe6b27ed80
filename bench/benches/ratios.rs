//! Every figure beside its baseline, interleaved in one run; prints the table that
//! `BENCHMARKS.md` quotes. `cargo bench -p wxpay-bench --bench ratios`
//! (`WXPAY_BENCH_ROUNDS`, `WXPAY_BENCH_BATCH_MS` to change how long it measures).

#![allow(clippy::print_stdout, missing_docs)]

use std::hint::black_box;

use sha2::{Digest, Sha256};
use wxpay_bench::pair::{Pair, PairConfig, compare, human, per_sec};
use wxpay_bench::replay::ReplayServer;
use wxpay_bench::{
    Backend, NOW, Raw, emulator_alone, emulator_query, http_query, merchant_aws_lc, merchant_rsa,
    platform_keys_aws_lc, platform_keys_rsa, replay_query, request_message, signed_reply,
};
use wxpay_core::PlatformKeys;
use wxpay_core::sign::AUTHORIZATION_CAPACITY;
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, demo};
use wxpay_tests::query::{
    AcceptAll, CounterRandom, FixedSigner, Reply, accept_response, build_request,
};

/// What a row promises, checked against its pair.
#[derive(Clone, Copy)]
enum Target {
    /// Subject rate at least this fraction of the baseline rate.
    RatioAtLeast(f64),
    /// Subject at most this many nanoseconds per operation.
    AtMostNs(f64),
    /// No target: a part of the baseline, shown as its share of the baseline's time.
    Share,
    /// No target: context.
    None,
}

struct Row {
    figure: &'static str,
    baseline: &'static str,
    pair: Pair,
    target: Target,
}

fn main() {
    // `cargo test --benches` / `cargo bench --no-run` compile this; only `--bench` measures.
    if !std::env::args().any(|a| a == "--bench") {
        println!("ratios: pass --bench (cargo bench) to measure");
        return;
    }
    let cfg = PairConfig::from_env();
    let load_before = load();
    let raw = Raw::new();
    let message = request_message(NOW);
    let reply = signed_reply(NOW);
    let mut rows = Vec::new();
    let mut row = |figure, baseline, pair: Pair, target| {
        let r = Row {
            figure,
            baseline,
            pair,
            target,
        };
        eprintln!("measured: {} (ratio {:.3})", r.figure, r.pair.ratio);
        rows.push(r);
    };

    // Backends against each other: the reason for the fast backend.
    row(
        "raw sign, aws-lc-rs",
        "raw sign, rsa 0.10",
        compare(
            &cfg,
            &mut || raw.sign(Backend::AwsLc, &message),
            &mut || raw.sign(Backend::Rsa, &message),
        ),
        Target::None,
    );

    // Request build + sign vs the raw sign of the same backend.
    let mut auth = [0u8; AUTHORIZATION_CAPACITY];
    let (mut lc, mut rng) = (merchant_aws_lc(), CounterRandom(1));
    row(
        "request build + sign, aws-lc (wxpay-aws-lc)",
        "raw sign, aws-lc-rs",
        compare(
            &cfg,
            &mut || build_request(&mut lc, &mut rng, NOW as u64, &mut auth),
            &mut || raw.sign(Backend::AwsLc, &message),
        ),
        Target::RatioAtLeast(0.95),
    );
    let mut pure = merchant_rsa();
    row(
        "request build + sign, rsa (core RsaSigner)",
        "raw sign, rsa 0.10",
        compare(
            &cfg,
            &mut || build_request(&mut pure, &mut rng, NOW as u64, &mut auth),
            &mut || raw.sign(Backend::Rsa, &message),
        ),
        Target::RatioAtLeast(0.98),
    );

    // Response verify + parse vs the raw verify of the same backend.
    let lc_keys = platform_keys_aws_lc();
    let rsa_keys = platform_keys_rsa();
    row(
        "response verify + parse, aws-lc",
        "raw verify, aws-lc-rs",
        compare(
            &cfg,
            &mut || accept_response(&lc_keys, &reply, NOW).expect("verifies"),
            &mut || assert!(raw.verify(Backend::AwsLc, &reply.message, &reply.signature)),
        ),
        Target::RatioAtLeast(0.8),
    );
    row(
        "response verify + parse, rsa",
        "raw verify, rsa 0.10",
        compare(
            &cfg,
            &mut || accept_response(&rsa_keys, &reply, NOW).expect("verifies"),
            &mut || assert!(raw.verify(Backend::Rsa, &reply.message, &reply.signature)),
        ),
        Target::None,
    );

    // Everything but RSA, with fakes (0 allocations: tests/tests/zero_alloc.rs).
    let fake_reply = Reply::signed(&mut FixedSigner, NOW);
    let fake_keys: PlatformKeys<AcceptAll> =
        PlatformKeys::with_key(demo::PLATFORM_KEY_ID, AcceptAll).expect("fits");
    let raw_pair = |backend| {
        let sig = raw.sign(backend, &message);
        black_box(sig);
        assert!(raw.verify(backend, &reply.message, &reply.signature));
    };
    row(
        "non-RSA request + response work (fake signer/verifier)",
        "raw sign + raw verify, aws-lc-rs",
        compare(
            &cfg,
            &mut || {
                let n = build_request(&mut FixedSigner, &mut rng, NOW as u64, &mut auth);
                (n, accept_response(&fake_keys, &fake_reply, NOW).is_ok())
            },
            &mut || raw_pair(Backend::AwsLc),
        ),
        Target::AtMostNs(1_000.0),
    );
    // The part of that work no code can remove: the SHA-256 of the two signed messages (the
    // request message and the reply's `TIMESTAMP\nNONCE\nBODY\n`), which the core computes
    // and Signer and Verifier take as their input.
    row(
        "of which SHA-256 of the two signed messages (sha2)",
        "non-RSA request + response work (fake signer/verifier)",
        compare(
            &cfg,
            &mut || {
                (
                    Sha256::digest(black_box(&message)),
                    Sha256::digest(black_box(&fake_reply.message)),
                )
            },
            &mut || {
                let n = build_request(&mut FixedSigner, &mut rng, NOW as u64, &mut auth);
                (n, accept_response(&fake_keys, &fake_reply, NOW).is_ok())
            },
        ),
        Target::Share,
    );

    // The whole client call, in-process.
    let mut call = replay_query(Backend::AwsLc);
    row(
        "client call, in-process pre-signed reply, aws-lc",
        "raw sign + raw verify, aws-lc-rs",
        compare(&cfg, &mut call, &mut || raw_pair(Backend::AwsLc)),
        Target::None,
    );
    let mut call = replay_query(Backend::Rsa);
    row(
        "client call, in-process pre-signed reply, rsa",
        "raw sign + raw verify, rsa 0.10",
        compare(&cfg, &mut call, &mut || raw_pair(Backend::Rsa)),
        Target::None,
    );
    let mut call = emulator_query(Backend::AwsLc);
    let mut emulator = emulator_alone();
    row(
        "client call, in-process emulator, aws-lc",
        "the emulator alone (verify + sign, AWS-LC)",
        compare(&cfg, &mut call, &mut emulator),
        Target::None,
    );

    // End to end over keep-alive loopback HTTP.
    let replay = ReplayServer::start().expect("replay server");
    let mut call = http_query(Backend::AwsLc, &replay.base_url());
    row(
        "query over keep-alive HTTP, pre-signed replay server, aws-lc",
        "raw sign + raw verify, aws-lc-rs",
        compare(&cfg, &mut call, &mut || raw_pair(Backend::AwsLc)),
        Target::None,
    );
    let mut call = http_query(Backend::Rsa, &replay.base_url());
    row(
        "query over keep-alive HTTP, pre-signed replay server, rsa",
        "raw sign + raw verify, rsa 0.10",
        compare(&cfg, &mut call, &mut || raw_pair(Backend::Rsa)),
        Target::None,
    );
    let server = Server::start(std::sync::Arc::new(Emulator::demo()), "127.0.0.1:0")
        .expect("emulator listens");
    let mut call = http_query(Backend::AwsLc, &server.base_url());
    row(
        "query over keep-alive HTTP, full emulator server, aws-lc",
        "raw sign + raw verify, aws-lc-rs",
        compare(&cfg, &mut call, &mut || raw_pair(Backend::AwsLc)),
        Target::None,
    );

    println!();
    println!(
        "machine: {} ({} cores), load average {} before, {} after; {} rounds of ~{} ms batches",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from),
        load_before,
        load(),
        cfg.rounds,
        cfg.batch.as_millis()
    );
    println!();
    println!(
        "| figure | per op (rate) | baseline | per op (rate) | ratio of rates, median [IQR] | target | met |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let p = &r.pair;
        let (target, met) = match r.target {
            Target::RatioAtLeast(min) => (
                format!("≥ {min:.2}×"),
                if p.ratio >= min { "yes" } else { "NO" },
            ),
            Target::AtMostNs(max) => (
                format!("≤ {}", human(max)),
                if p.subject_ns <= max { "yes" } else { "NO" },
            ),
            Target::Share | Target::None => ("".into(), ""),
        };
        let ratio = match r.target {
            // An absolute figure or a part: its share of the baseline's time says more than a rate.
            Target::AtMostNs(_) | Target::Share => format!(
                "{:.2}% of the baseline's time",
                100.0 * p.subject_ns / p.baseline_ns
            ),
            _ => format!("{:.3}× [{:.3}–{:.3}]", p.ratio, p.ratio_q1, p.ratio_q3),
        };
        println!(
            "| {} | {} ({}) | {} | {} ({}) | {} | {} | {} |",
            r.figure,
            human(p.subject_ns),
            per_sec(p.subject_ns),
            r.baseline,
            human(p.baseline_ns),
            per_sec(p.baseline_ns),
            ratio,
            target,
            met
        );
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.into())
}
