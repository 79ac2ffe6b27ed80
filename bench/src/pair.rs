//! Interleaved A/B timing: a figure and its baseline in alternating short batches.
//!
//! On a shared two-core machine the speed of both sides drifts by tens of percent over
//! seconds, as builds start and stop. Timing the subject for a while and then the baseline
//! for a while measures the drift as much as the code. Here each round times one batch of
//! each, in ABBA order, and the ratio is taken within the round; the median over rounds is
//! reported with its interquartile range. Only ratios taken this way are quoted.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct PairConfig {
    /// Rounds (each one batch of A and one of B).
    pub rounds: usize,
    /// Target duration of one batch.
    pub batch: Duration,
    /// Warm-up per side before calibration.
    pub warmup: Duration,
}

impl Default for PairConfig {
    fn default() -> Self {
        PairConfig {
            rounds: 21,
            batch: Duration::from_millis(60),
            warmup: Duration::from_millis(300),
        }
    }
}

impl PairConfig {
    /// Reads `WXPAY_BENCH_ROUNDS` and `WXPAY_BENCH_BATCH_MS` to override the defaults.
    pub fn from_env() -> Self {
        let mut cfg = PairConfig::default();
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        if let Some(rounds) = var("WXPAY_BENCH_ROUNDS") {
            cfg.rounds = usize::try_from(rounds).unwrap_or(cfg.rounds).max(1);
        }
        if let Some(ms) = var("WXPAY_BENCH_BATCH_MS") {
            cfg.batch = Duration::from_millis(ms.max(1));
        }
        cfg
    }
}

/// One measured pair.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Median time per subject operation, nanoseconds.
    pub subject_ns: f64,
    /// Median time per baseline operation, nanoseconds.
    pub baseline_ns: f64,
    /// Median over rounds of subject rate / baseline rate (= baseline time / subject time).
    pub ratio: f64,
    /// First quartile of the per-round ratios.
    pub ratio_q1: f64,
    /// Third quartile of the per-round ratios.
    pub ratio_q3: f64,
    /// Rounds measured.
    pub rounds: usize,
}

/// Nanoseconds per call of `f`, over `iters` calls.
fn batch<T>(f: &mut dyn FnMut() -> T, iters: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / iters as f64
}

/// Calls of `f` that fill about `target`.
fn calibrate<T>(f: &mut dyn FnMut() -> T, warmup: Duration, target: Duration) -> u64 {
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < warmup || calls < 3 {
        black_box(f());
        calls += 1;
    }
    let per_call = start.elapsed().as_nanos() as f64 / calls as f64;
    ((target.as_nanos() as f64 / per_call).round() as u64).max(1)
}

/// The `q` quantile (0..=1) of `values`, by nearest rank.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[rank]
}

/// Measures `subject` against `baseline`, interleaved.
pub fn compare<A, B>(
    cfg: &PairConfig,
    subject: &mut dyn FnMut() -> A,
    baseline: &mut dyn FnMut() -> B,
) -> Pair {
    let iters_a = calibrate(subject, cfg.warmup, cfg.batch / 2);
    let iters_b = calibrate(baseline, cfg.warmup, cfg.batch / 2);
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..cfg.rounds {
        let (ta, tb) = if round % 2 == 0 {
            let ta = batch(subject, iters_a);
            (ta, batch(baseline, iters_b))
        } else {
            let tb = batch(baseline, iters_b);
            (batch(subject, iters_a), tb)
        };
        a.push(ta);
        b.push(tb);
        ratios.push(tb / ta);
    }
    Pair {
        subject_ns: quantile(&a, 0.5),
        baseline_ns: quantile(&b, 0.5),
        ratio: quantile(&ratios, 0.5),
        ratio_q1: quantile(&ratios, 0.25),
        ratio_q3: quantile(&ratios, 0.75),
        rounds: cfg.rounds,
    }
}

/// A duration in ns, µs or ms, three significant figures.
pub fn human(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{:.2} ms", ns / 1_000_000.0)
    }
}

/// Operations per second for a time per operation in ns.
pub fn per_sec(ns: f64) -> String {
    format!("{:.0}/s", 1e9 / ns)
}
