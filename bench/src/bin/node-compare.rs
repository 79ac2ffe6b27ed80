//! wxpay against the Node SDK the seed comes from (`wechatpay-axios-plugin`), same keys, same
//! message, same query, same emulator, one run.
//!
//! ```sh
//! (cd bench/node && npm ci)
//! cargo run --release -p wxpay-bench --bin node-compare
//! ```
//!
//! It serves the emulator and the pre-signed replay server on 127.0.0.1, writes the demo key
//! files, checks that the Node SDK's requests pass the emulator's authentication and that its
//! verifier accepts the answers, then alternates rounds. In each, wxpay (AWS-LC backend, as
//! the CLI) runs N/2 sequential keep-alive queries, then `node bench/node/query.mjs` signs the
//! request message and runs N queries against the same server, timing its own loops, then
//! wxpay runs N/2 more (A B A, so both sides see the same stretch of load). The ratio is taken
//! per round; the median is printed with the range. `BENCH_ROUNDS` and `BENCH_QUERIES`
//! override the defaults.
//!
//! The full emulator runs twice a round: as shipped, signing ahead for a connection that polls
//! (`Emulator::set_presigning`), and with that off, every answer signed after its request.
//! Beside the second, the same exchange with RSA alone, measured right before and right after
//! that row's wxpay/Node bracket and averaged: `rsa_ping_pong`, a one-byte loopback ping-pong in which each side does only the RSA of a
//! query (one AWS-LC sign and one verify). Its ratio to the Node SDK's rate there is what a
//! client that added nothing to the protocol's RSA would reach against such a server.
//!
//! Last, the sandbox's throughput: two client threads (each its own keep-alive connection and
//! AWS-LC client, every answer verified) against the emulator as it ships (AWS-LC, no global
//! lock), and in the same rounds against an emulator built the old way (`Emulator::new` with
//! one `rsa` 0.10 signer, which serialises signing as the old global lock did).

#![allow(clippy::print_stdout, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use wxpay_bench::pair::{human, quantile};
use wxpay_bench::replay::ReplayServer;
use wxpay_bench::{Backend, Raw, http_query, request_message, rsa_ping_pong};
use wxpay_core::crypto::rsa::{RsaSigner, RsaVerifier};
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, StoredRecord, demo, system_now};

struct Files {
    private_key: PathBuf,
    platform_public_key: PathBuf,
}

fn write_keys() -> Files {
    let dir = std::env::temp_dir().join(format!("wxpay-node-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, pem: &str| {
        let path = dir.join(name);
        std::fs::write(&path, pem).expect("key file");
        path
    };
    Files {
        private_key: write("merchant_key.pem", demo::MERCHANT_KEY_PEM),
        platform_public_key: write("platform_pub.pem", demo::PLATFORM_PUB_PEM),
    }
}

/// One run of the Node script; its JSON line.
fn node(
    dir: &Path,
    files: &Files,
    base_url: &str,
    queries: usize,
    signs: usize,
) -> Result<serde_json::Value, String> {
    let message = String::from_utf8(request_message(system_now())).expect("ASCII");
    let out = Command::new("node")
        .arg("query.mjs")
        .current_dir(dir)
        .env("WXPAY_BASE_URL", base_url)
        .env("WXPAY_MCHID", demo::MCHID)
        .env("WXPAY_SERIAL", demo::MERCHANT_SERIAL)
        .env("WXPAY_PRIVATE_KEY", &files.private_key)
        .env("WXPAY_PLATFORM_PUBLIC_KEY", &files.platform_public_key)
        .env("WXPAY_PLATFORM_SERIAL", demo::PLATFORM_KEY_ID)
        .env("BENCH_QUERIES", queries.to_string())
        .env("BENCH_SIGNS", signs.to_string())
        .env("BENCH_SIGN_MESSAGE", message)
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "node failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("node printed no JSON: {e}"))
}

fn number(v: &serde_json::Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

/// wxpay: seconds for `queries` sequential calls (after a short warm-up).
fn wxpay_secs(query: &mut dyn FnMut() -> wxpay_core::AuthorizationRecord, queries: usize) -> f64 {
    for _ in 0..queries.min(20) {
        query();
    }
    let start = Instant::now();
    for _ in 0..queries {
        query();
    }
    start.elapsed().as_secs_f64()
}

/// wxpay: queries per second over `queries` sequential calls (after a warm-up).
fn wxpay_qps(query: &mut dyn FnMut() -> wxpay_core::AuthorizationRecord, queries: usize) -> f64 {
    queries as f64 / wxpay_secs(query, queries)
}

/// Runs `node` between two halves of wxpay's queries (A B A), so that both see the same
/// stretch of machine load; returns wxpay's queries per second and node's JSON line.
fn bracketed(
    query: &mut dyn FnMut() -> wxpay_core::AuthorizationRecord,
    queries: usize,
    node: impl FnOnce() -> Result<serde_json::Value, String>,
) -> Result<(f64, serde_json::Value), String> {
    let half = (queries / 2).max(1);
    let before = wxpay_secs(query, half);
    let theirs = node()?;
    let after = wxpay_secs(query, half);
    Ok(((2 * half) as f64 / (before + after), theirs))
}

/// wxpay: raw AWS-LC signs per second of the same message, for about `secs`.
fn wxpay_signs(raw: &Raw, secs: f64) -> f64 {
    let message = request_message(system_now());
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        std::hint::black_box(raw.sign(Backend::AwsLc, &message));
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Verified queries per second from `threads` client threads sharing `base_url`, each running
/// `queries` keep-alive queries on its own connection.
fn threaded_qps(base_url: &str, threads: usize, queries: usize) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut query = http_query(Backend::AwsLc, base_url);
                for _ in 0..queries {
                    std::hint::black_box(query());
                }
            });
        }
    });
    (threads * queries) as f64 / start.elapsed().as_secs_f64()
}

/// The emulator as it was before issue 16: `rsa` 0.10 to verify and one `rsa` signer that every
/// connection waits for, with the demo record.
fn rsa_single_signer_emulator() -> Emulator {
    let emulator = Emulator::new(
        demo::MCHID,
        demo::MERCHANT_SERIAL,
        RsaVerifier::from_pem(demo::MERCHANT_PUB_PEM).expect("demo key"),
        demo::PLATFORM_KEY_ID,
        RsaSigner::from_pem(demo::PLATFORM_KEY_PEM, demo::PLATFORM_KEY_ID).expect("demo key"),
    );
    // It signed every answer after its request.
    emulator.set_presigning(false);
    emulator.insert_record(StoredRecord {
        service_id: demo::SERVICE_ID.to_owned(),
        appid: demo::APPID.to_owned(),
        openid: Some(demo::OPENID.to_owned()),
        authorization_code: demo::AUTHORIZATION_CODE.to_owned(),
        authorization_state: "AVAILABLE".to_owned(),
        notify_url: Some("https://api.test.com/payscore/notify".to_owned()),
        authorization_success_time: Some("2015-05-20T13:29:35+08:00".to_owned()),
        cancel_authorization_time: None,
    });
    emulator
}

struct Series {
    wxpay: Vec<f64>,
    node: Vec<f64>,
    ratio: Vec<f64>,
}

impl Series {
    fn new() -> Self {
        Series {
            wxpay: Vec::new(),
            node: Vec::new(),
            ratio: Vec::new(),
        }
    }
    fn push(&mut self, wxpay: f64, node: f64) {
        self.wxpay.push(wxpay);
        self.node.push(node);
        self.ratio.push(wxpay / node);
    }
    fn row(&self, what: &str, unit: &str) -> String {
        format!(
            "| {what} | {:.0} {unit} | {:.0} {unit} | {:.2}× [{:.2}–{:.2}] |",
            quantile(&self.wxpay, 0.5),
            quantile(&self.node, 0.5),
            quantile(&self.ratio, 0.5),
            quantile(&self.ratio, 0.0),
            quantile(&self.ratio, 1.0),
        )
    }
}

fn main() -> ExitCode {
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = var("BENCH_ROUNDS", 5).max(1);
    let queries = var("BENCH_QUERIES", 1000).max(1);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    if !dir.join("node_modules/wechatpay-axios-plugin").exists() {
        eprintln!(
            "node-compare: run `npm ci` in {} first (needs node and npm)",
            dir.display()
        );
        return ExitCode::from(2);
    }
    let files = write_keys();
    let emulator = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0").expect("listens");
    let replay = ReplayServer::start().expect("listens");
    // The shipped emulator with signing ahead off: every answer signed after its request.
    let signing_after = Arc::new(Emulator::demo());
    signing_after.set_presigning(false);
    let signing_after = Server::start(signing_after, "127.0.0.1:0").expect("listens");
    let old_emulator =
        Server::start(Arc::new(rsa_single_signer_emulator()), "127.0.0.1:0").expect("listens");
    let raw = Raw::new();

    // The Node SDK's requests must pass the real emulator, and its verifier accept the answer.
    let check = match node(&dir, &files, &emulator.base_url(), 3, 10) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("node-compare: the Node SDK fails against the emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let versions = format!(
        "{}, node {}",
        check["sdk"].as_str().unwrap_or("?"),
        check["node"].as_str().unwrap_or("?")
    );
    eprintln!("node-compare: {versions} passes the emulator; measuring {rounds} rounds");

    let (mut sign, mut replay_q, mut emulator_q, mut rsa_q) =
        (Series::new(), Series::new(), Series::new(), Series::new());
    // The emulator signing every answer after its request, and RSA alone (`rsa_ping_pong`)
    // beside the Node SDK's rate against it.
    let (mut after_q, mut floor) = (Series::new(), Series::new());
    // Sandbox throughput: the shipped emulator (`wxpay`) beside the old one (`node` column).
    let mut sandbox = Series::new();
    let emulator_queries = (queries / 5).max(1);
    let mut lc_replay = http_query(Backend::AwsLc, &replay.base_url());
    let mut rsa_replay = http_query(Backend::Rsa, &replay.base_url());
    let mut lc_emulator = http_query(Backend::AwsLc, &emulator.base_url());
    let mut lc_signing_after = http_query(Backend::AwsLc, &signing_after.base_url());
    for round in 0..rounds {
        let signs_before = wxpay_signs(&raw, 0.25);
        let ours_rsa = wxpay_qps(&mut rsa_replay, queries / 2);
        let (ours, theirs) = match bracketed(&mut lc_replay, queries, || {
            node(&dir, &files, &replay.base_url(), queries, 2000)
        }) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("node-compare: {e}");
                return ExitCode::FAILURE;
            }
        };
        let ours_rsa = (ours_rsa + wxpay_qps(&mut rsa_replay, queries / 2)) / 2.0;
        let signs = (signs_before + wxpay_signs(&raw, 0.25)) / 2.0;
        replay_q.push(ours, number(&theirs, "qps"));
        rsa_q.push(ours_rsa, number(&theirs, "qps"));
        sign.push(signs, number(&theirs, "sign_per_sec"));

        let (ours, theirs) = match bracketed(&mut lc_emulator, emulator_queries, || {
            node(&dir, &files, &emulator.base_url(), emulator_queries, 10)
        }) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("node-compare: {e}");
                return ExitCode::FAILURE;
            }
        };
        emulator_q.push(ours, number(&theirs, "qps"));
        // Signing ahead off, with RSA alone right before and right after: floor, wxpay, Node,
        // wxpay, floor (each floor run is 100 round trips by default, under 0.1 s).
        let floor_before = rsa_ping_pong(emulator_queries / 2);
        let (ours, theirs) = match bracketed(&mut lc_signing_after, emulator_queries, || {
            node(
                &dir,
                &files,
                &signing_after.base_url(),
                emulator_queries,
                10,
            )
        }) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("node-compare: {e}");
                return ExitCode::FAILURE;
            }
        };
        after_q.push(ours, number(&theirs, "qps"));
        let floor_after = rsa_ping_pong(emulator_queries / 2);
        floor.push((floor_before + floor_after) / 2.0, number(&theirs, "qps"));
        // A B A again: the old emulator between two halves of the shipped one's run.
        let now_before = threaded_qps(&emulator.base_url(), 2, emulator_queries / 2);
        let old = threaded_qps(&old_emulator.base_url(), 2, emulator_queries / 2);
        let now_after = threaded_qps(&emulator.base_url(), 2, emulator_queries / 2);
        sandbox.push((now_before + now_after) / 2.0, old);
        eprintln!(
            "round {}: replay {:.0} vs {:.0} q/s, emulator {:.0} vs {:.0} q/s, signing after \
             {:.0} vs {:.0} q/s (RSA alone {:.0}/s), 2 threads {:.0} vs old emulator {:.0} q/s",
            round + 1,
            replay_q.wxpay[round],
            replay_q.node[round],
            emulator_q.wxpay[round],
            emulator_q.node[round],
            after_q.wxpay[round],
            after_q.node[round],
            floor.wxpay[round],
            sandbox.wxpay[round],
            sandbox.node[round]
        );
    }

    println!();
    println!(
        "wxpay (wxpay-aws-lc over wxpay-ureq, as the CLI) vs {versions}; {rounds} rounds, \
         {queries} queries a round ({emulator_queries} against the full emulator); \
         median [min–max] of per-round ratios"
    );
    println!();
    println!("| figure | wxpay | Node SDK | wxpay / Node |");
    println!("|---|---|---|---|");
    println!(
        "{}",
        sign.row(
            "RSA sign of the same request message (raw aws-lc-rs vs Rsa.sign)",
            "/s"
        )
    );
    println!(
        "{}",
        replay_q.row(
            "queries per second, keep-alive loopback, pre-signed replay server",
            "q/s"
        )
    );
    println!(
        "{}",
        rsa_q.row("same, wxpay on the pure-Rust rsa backend instead", "q/s")
    );
    println!(
        "{}",
        emulator_q.row(
            "queries per second, keep-alive loopback, full emulator as shipped (AWS-LC; signs ahead for a polling connection)",
            "q/s"
        )
    );
    println!(
        "{}",
        after_q.row(
            "same, the emulator signing every answer after its request (signing ahead off)",
            "q/s"
        )
    );
    println!(
        "{}",
        floor.row(
            "that exchange with RSA alone: a one-byte loopback ping-pong, each side one AWS-LC sign + one verify (left: round trips/s; right: the Node SDK's q/s in the row above)",
            "/s"
        )
    );
    println!();
    println!(
        "| sandbox throughput, 2 client threads, every answer verified | emulator as shipped (AWS-LC, no global lock) | old emulator (rsa 0.10, one signer) | ratio |"
    );
    println!("|---|---|---|---|");
    println!(
        "{}",
        sandbox.row("verified queries per second, keep-alive loopback", "q/s")
    );
    println!();
    println!(
        "one wxpay query against the replay server: {}",
        human(1e9 / quantile(&replay_q.wxpay, 0.5))
    );
    ExitCode::SUCCESS
}
