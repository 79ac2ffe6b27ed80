//! Queries per second of the async path (wxpay-tokio) with 1, 8 and 64 calls in flight,
//! beside the blocking path (wxpay-ureq, one client per thread) and the Node SDK
//! (`bench/node/concurrent.mjs`, one client with C sockets), all against the pre-signed replay
//! server on 127.0.0.1, in one run.
//!
//! ```sh
//! (cd bench/node && npm ci)
//! cargo run --release -p wxpay-bench --bin async-qps
//! ```
//!
//! Every query is the whole call: sign with AWS-LC, send over keep-alive HTTP/1.1, verify the
//! answer's signature, parse the record and bind it to the request: `Client::call_async` for
//! the async side (one client per task, all around clones of one transport), `Client::call` for
//! the blocking side. Each path is first checked against the real emulator, which
//! authenticates requests. Rounds alternate the three clients; the medians over rounds are
//! printed with their range. `BENCH_ROUNDS` (default 3) and `BENCH_QUERIES` (per measurement,
//! default 2000) override the defaults; without `node_modules` the Node column is skipped.

#![allow(clippy::print_stdout, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Instant;

use wxpay_aws_lc::{AwsLcSigner, AwsLcVerifier};
use wxpay_bench::pair::quantile;
use wxpay_bench::replay::ReplayServer;
use wxpay_bench::{Backend, http_query, merchant_aws_lc, platform_keys_aws_lc, query_call};
use wxpay_core::api::permissions::QueryByCode;
use wxpay_core::{AuthorizationRecord, Client};
use wxpay_emulator::server::Server;
use wxpay_emulator::{Emulator, demo};
use wxpay_tokio::{Timeouts, TokioTransport};
use wxpay_ureq::{OsRandom, SystemClock};

const CONCURRENCY: [usize; 3] = [1, 8, 64];

/// One task's client: the core's async client over a clone of the shared transport.
struct AsyncQuery {
    client: Client<TokioTransport, AwsLcSigner, AwsLcVerifier, SystemClock, OsRandom>,
    call: QueryByCode,
}

impl AsyncQuery {
    fn new(transport: TokioTransport) -> Self {
        let client = Client::new(
            transport,
            merchant_aws_lc(),
            platform_keys_aws_lc(),
            SystemClock,
            OsRandom,
            demo::MCHID,
        )
        .and_then(|c| c.with_wechatpay_serial(demo::PLATFORM_KEY_ID))
        .expect("client builds")
        .with_user_agent(wxpay_tokio::USER_AGENT);
        AsyncQuery {
            client,
            call: query_call(),
        }
    }

    async fn run(&mut self) -> AuthorizationRecord {
        let mut work = [0u8; 4096];
        let record = self
            .client
            .call_async(&self.call, &mut work)
            .await
            .unwrap_or_else(|e| panic!("async query: {e:?}"));
        assert_eq!(record.service_id, demo::SERVICE_ID);
        record
    }
}

/// Seconds for `total` async queries from `tasks` tasks sharing one transport (after each
/// task's warm-up query).
fn async_secs(rt: &tokio::runtime::Runtime, base_url: &str, tasks: usize, total: usize) -> f64 {
    let transport = TokioTransport::new(base_url, Timeouts::default()).expect("loopback transport");
    rt.block_on(async move {
        let mut queries: Vec<AsyncQuery> = (0..tasks)
            .map(|_| AsyncQuery::new(transport.clone()))
            .collect();
        for q in &mut queries {
            q.run().await;
        }
        let left = Arc::new(AtomicUsize::new(total));
        let start = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for mut q in queries {
            let left = Arc::clone(&left);
            set.spawn(async move {
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    std::hint::black_box(q.run().await);
                }
            });
        }
        while let Some(done) = set.join_next().await {
            done.expect("task");
        }
        start.elapsed().as_secs_f64()
    })
}

/// Seconds for `total` blocking queries from `threads` threads, each with its own client.
/// The clock starts when the first thread passes the barrier (the main thread may be
/// scheduled long after the workers on a small machine).
fn blocking_secs(base_url: &str, threads: usize, total: usize) -> f64 {
    let left = AtomicUsize::new(total);
    let ready = Barrier::new(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut query = http_query(Backend::AwsLc, base_url);
                    query();
                    ready.wait();
                    let start = Instant::now();
                    while left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        std::hint::black_box(query());
                    }
                    start
                })
            })
            .collect();
        let starts: Vec<Instant> = workers
            .into_iter()
            .map(|w| w.join().expect("thread"))
            .collect();
        let start = starts.into_iter().min().expect("at least one thread");
        start.elapsed().as_secs_f64()
    })
}

struct Files {
    private_key: PathBuf,
    platform_public_key: PathBuf,
}

fn write_keys() -> Files {
    let dir = std::env::temp_dir().join(format!("wxpay-async-qps-{}", std::process::id()));
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

/// Node's queries per second, and its JSON line.
fn node(
    dir: &Path,
    files: &Files,
    base_url: &str,
    concurrency: usize,
    queries: usize,
) -> Result<serde_json::Value, String> {
    let out = Command::new("node")
        .arg("concurrent.mjs")
        .current_dir(dir)
        .env("WXPAY_BASE_URL", base_url)
        .env("WXPAY_MCHID", demo::MCHID)
        .env("WXPAY_SERIAL", demo::MERCHANT_SERIAL)
        .env("WXPAY_PRIVATE_KEY", &files.private_key)
        .env("WXPAY_PLATFORM_PUBLIC_KEY", &files.platform_public_key)
        .env("WXPAY_PLATFORM_SERIAL", demo::PLATFORM_KEY_ID)
        .env("BENCH_QUERIES", queries.to_string())
        .env("BENCH_CONCURRENCY", concurrency.to_string())
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

fn median_range(values: &[f64]) -> String {
    if values.is_empty() {
        return "–".to_owned();
    }
    format!(
        "{:.0} [{:.0}–{:.0}]",
        quantile(values, 0.5),
        quantile(values, 0.0),
        quantile(values, 1.0)
    )
}

fn main() -> ExitCode {
    let var = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = var("BENCH_ROUNDS", 3).max(1);
    let queries = var("BENCH_QUERIES", 2000).max(64);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("node");
    let with_node = dir.join("node_modules/wechatpay-axios-plugin").exists();
    if !with_node {
        eprintln!(
            "async-qps: no Node column: run `npm ci` in {} first",
            dir.display()
        );
    }
    let files = write_keys();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    // Every path must pass the real emulator's authentication and verify its answers.
    let emulator = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0").expect("listens");
    async_secs(&rt, &emulator.base_url(), 2, 4);
    blocking_secs(&emulator.base_url(), 2, 4);
    let versions = if with_node {
        match node(&dir, &files, &emulator.base_url(), 2, 4) {
            Ok(v) => format!(
                "{}, node {}",
                v["sdk"].as_str().unwrap_or("?"),
                v["node"].as_str().unwrap_or("?")
            ),
            Err(e) => {
                eprintln!("async-qps: the Node SDK fails against the emulator: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        String::new()
    };
    drop(emulator);

    let replay = ReplayServer::start().expect("listens");
    let base = replay.base_url();
    // Per concurrency: (async, blocking, node) queries per second, one entry per round.
    let mut results = vec![(Vec::new(), Vec::new(), Vec::new()); CONCURRENCY.len()];
    let mut single_thread = vec![Vec::new(); CONCURRENCY.len()];
    for round in 1..=rounds {
        for (i, &c) in CONCURRENCY.iter().enumerate() {
            let a = queries as f64 / async_secs(&rt, &base, c, queries);
            let b = queries as f64 / blocking_secs(&base, c, queries);
            let s1 = queries as f64 / async_secs(&single, &base, c, queries);
            single_thread[i].push(s1);
            results[i].0.push(a);
            results[i].1.push(b);
            let n = if with_node {
                match node(&dir, &files, &base, c, queries) {
                    Ok(v) => v["qps"].as_f64().unwrap_or(f64::NAN),
                    Err(e) => {
                        eprintln!("async-qps: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                f64::NAN
            };
            if with_node {
                results[i].2.push(n);
            }
            eprintln!(
                "round {round}, {c:>2} in flight: async {a:.0} (current-thread {s1:.0}), blocking {b:.0}, node {n:.0} q/s"
            );
        }
    }

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!(
        "queries per second against the pre-signed replay server on 127.0.0.1 ({cores} cores; \
         async on a multi-thread tokio runtime, one worker per core, and on a current-thread one); {rounds} rounds of {queries} queries per cell; \
         median [min–max] over rounds, ratios per round{}",
        if with_node {
            format!("; Node: {versions}")
        } else {
            String::new()
        }
    );
    println!();
    println!(
        "| in flight | async (wxpay-tokio, one shared pool) | async, current-thread runtime | blocking (wxpay-ureq, a client per thread) | Node SDK (one client, C sockets) | async / blocking | async / Node |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (i, c) in CONCURRENCY.iter().enumerate() {
        let (a, b, n) = &results[i];
        // The ratio is taken per round (both sides saw the same stretch of load), then the
        // median over rounds, with the range.
        let ratio = |x: &[f64], y: &[f64]| {
            if y.is_empty() {
                return "–".to_owned();
            }
            let per_round: Vec<f64> = x.iter().zip(y).map(|(x, y)| x / y).collect();
            format!(
                "{:.2}× [{:.2}–{:.2}]",
                quantile(&per_round, 0.5),
                quantile(&per_round, 0.0),
                quantile(&per_round, 1.0)
            )
        };
        println!(
            "| {c} | {} | {} | {} | {} | {} | {} |",
            median_range(a),
            median_range(&single_thread[i]),
            median_range(b),
            median_range(n),
            ratio(a, b),
            ratio(a, n)
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!();
    println!(
        "load average at the end: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    ExitCode::SUCCESS
}
