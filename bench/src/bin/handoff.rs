//! What one hand-off between two threads costs on this machine, over a keep-alive loopback TCP
//! connection like the emulator's. This is the probe behind BENCHMARKS.md's account of what,
//! besides RSA, a query against the full emulator costs here (issue 16, target 3).
//!
//! A client thread and a server thread play ping-pong: one byte each way, `TCP_NODELAY`, as a
//! sequential client and the emulator do. Before each send, each side spins for `WORK_US`
//! microseconds, standing in for the RSA signature each side makes per query. A round trip
//! less twice the work is what its two hand-offs cost. Four placements, alternated in rounds
//! so that all of them see the same stretch of load:
//!
//! - **same CPU**: both threads pinned to one CPU; a hand-off is a context switch.
//! - **two CPUs**: client on one CPU, server on another; every hand-off wakes the other vCPU.
//! - **free**: no pinning, as `node-compare` runs.
//! - **server follows**: no pinning for the client; before each answer, the server pins itself
//!   to the CPU the client sent from (what `SO_INCOMING_CPU` would tell a real server).
//!
//! ```sh
//! cargo run --release -p wxpay-bench --bin handoff -- [WORK_US] [ROUND_TRIPS] [ROUNDS]
//! ```
//!
//! Defaults: 300 µs of work (one RSA-2048 signature here), 2,000 round trips, 5 rounds.
//! Linux only (it pins threads with `sched_setaffinity`).
#![allow(clippy::print_stdout, missing_docs)]

#[cfg(target_os = "linux")]
mod linux {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::thread;
    use std::time::{Duration, Instant};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Placement {
        SameCpu,
        TwoCpus,
        Free,
        ServerFollows,
    }

    impl Placement {
        const ALL: [Placement; 4] = [
            Placement::SameCpu,
            Placement::TwoCpus,
            Placement::Free,
            Placement::ServerFollows,
        ];

        fn name(self) -> &'static str {
            match self {
                Placement::SameCpu => "same CPU (both pinned to A)",
                Placement::TwoCpus => "two CPUs (client on A, server on B)",
                Placement::Free => "free (no pinning, as node-compare)",
                Placement::ServerFollows => "server follows the client's CPU",
            }
        }

        /// Where the client runs, given the two CPUs (A, B) the probe may use.
        fn client_cpu(self, (a, _): (usize, usize)) -> Option<usize> {
            match self {
                Placement::SameCpu | Placement::TwoCpus => Some(a),
                Placement::Free | Placement::ServerFollows => None,
            }
        }

        /// Where the server runs, given the two CPUs (A, B) the probe may use.
        fn server_cpu(self, (a, b): (usize, usize)) -> Option<usize> {
            match self {
                Placement::SameCpu => Some(a),
                Placement::TwoCpus => Some(b),
                Placement::Free | Placement::ServerFollows => None,
            }
        }
    }

    /// The CPUs this process may run on (its affinity mask), in order.
    fn allowed_cpus() -> Vec<usize> {
        // SAFETY: `set` is a plain bit set; `sched_getaffinity(0, ..)` writes at most
        // `size_of::<cpu_set_t>()` bytes of it for the calling thread, and `CPU_ISSET` reads it.
        #[allow(unsafe_code)]
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Vec::new();
            }
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
                .collect()
        }
    }

    /// Pins the calling thread to `cpu`.
    fn pin(cpu: usize) {
        // SAFETY: `set` is a plain bit set that `CPU_ZERO`/`CPU_SET` initialise, and
        // `sched_setaffinity(0, ..)` reads `size_of::<cpu_set_t>()` bytes of it for the calling thread.
        #[allow(unsafe_code)]
        let rc = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_ZERO(&mut set);
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
        };
        assert_eq!(rc, 0, "sched_setaffinity to CPU {cpu} failed");
    }

    /// The CPU the calling thread runs on.
    fn current_cpu() -> i32 {
        // SAFETY: `sched_getcpu` takes no arguments and only reads the calling thread's state.
        #[allow(unsafe_code)]
        unsafe {
            libc::sched_getcpu()
        }
    }

    fn spin(work: Duration) {
        let end = Instant::now() + work;
        while Instant::now() < end {
            std::hint::spin_loop();
        }
    }

    struct Outcome {
        /// Microseconds per round trip.
        round_trip_us: f64,
        /// Share of answers the client read on another CPU than the server wrote them from.
        client_moved: f64,
        /// Times the server re-pinned itself ("server follows" only).
        repins: usize,
    }

    fn run(
        placement: Placement,
        cpus: (usize, usize),
        work: Duration,
        round_trips: usize,
    ) -> Outcome {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        // The CPU the client last sent from, and the CPU the server last answered from.
        let client_at = Arc::new(AtomicI32::new(-1));
        let server_at = Arc::new(AtomicI32::new(-1));
        let total = round_trips + round_trips / 10;

        let server = {
            let (client_at, server_at) = (client_at.clone(), server_at.clone());
            thread::spawn(move || {
                if let Some(cpu) = placement.server_cpu(cpus) {
                    pin(cpu);
                }
                let (mut stream, _) = listener.accept().expect("accept");
                stream.set_nodelay(true).expect("nodelay");
                let mut byte = [0u8; 1];
                let mut pinned_to = -1;
                let mut repins = 0;
                for _ in 0..total {
                    stream.read_exact(&mut byte).expect("server read");
                    if placement == Placement::ServerFollows {
                        let cpu = client_at.load(Ordering::Acquire);
                        if cpu >= 0 && cpu != pinned_to {
                            pin(cpu as usize);
                            pinned_to = cpu;
                            repins += 1;
                        }
                    }
                    spin(work);
                    server_at.store(current_cpu(), Ordering::Release);
                    stream.write_all(&byte).expect("server write");
                }
                repins
            })
        };

        // The client runs on its own thread too: threads inherit their creator's affinity, and the
        // main thread stays unpinned for the next placement.
        let client = thread::spawn(move || {
            if let Some(cpu) = placement.client_cpu(cpus) {
                pin(cpu);
            }
            let mut stream = TcpStream::connect(addr).expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let mut byte = [7u8; 1];
            let mut moved = 0usize;
            let mut start = Instant::now();
            for i in 0..total {
                if i == total - round_trips {
                    // The first tenth warms up; the rest is timed.
                    start = Instant::now();
                    moved = 0;
                }
                spin(work);
                client_at.store(current_cpu(), Ordering::Release);
                stream.write_all(&byte).expect("client write");
                stream.read_exact(&mut byte).expect("client read");
                if current_cpu() != server_at.load(Ordering::Acquire) {
                    moved += 1;
                }
            }
            (start.elapsed(), moved)
        });
        let (elapsed, moved) = client.join().expect("client thread");
        let repins = server.join().expect("server thread");
        Outcome {
            round_trip_us: elapsed.as_secs_f64() * 1e6 / round_trips as f64,
            client_moved: moved as f64 / round_trips as f64,
            repins,
        }
    }

    fn median(mut xs: Vec<f64>) -> f64 {
        xs.sort_by(f64::total_cmp);
        xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
    }

    pub fn main() {
        let arg = |i: usize, default: u64| {
            std::env::args()
                .nth(i)
                .and_then(|a| a.parse().ok())
                .unwrap_or(default)
        };
        let work = Duration::from_micros(arg(1, 300));
        let round_trips = arg(2, 2000) as usize;
        let rounds = arg(3, 5) as usize;
        let allowed = allowed_cpus();
        let (Some(&a), Some(&b)) = (allowed.first(), allowed.get(1)) else {
            println!("handoff: needs two CPUs, this process may use {allowed:?}");
            return;
        };
        let cpus = (a, b);
        // Every thread of this process starts unpinned.
        let mut results: Vec<Vec<Outcome>> = Placement::ALL.iter().map(|_| Vec::new()).collect();
        for _ in 0..rounds {
            for (placement, outcomes) in Placement::ALL.iter().zip(results.iter_mut()) {
                outcomes.push(run(*placement, cpus, work, round_trips));
            }
        }
        println!(
            "{} µs of work on each side, {round_trips} round trips a round, {rounds} rounds, CPUs A = {a}, B = {b} (of {allowed:?})\n",
            work.as_micros()
        );
        println!(
            "| placement | µs per round trip, median [min–max] | hand-offs: µs per round trip | answers read on the other CPU | server re-pins per round trip |"
        );
        println!("|---|--:|--:|--:|--:|");
        let work_us = work.as_secs_f64() * 1e6;
        for (placement, outcomes) in Placement::ALL.iter().zip(&results) {
            let rt: Vec<f64> = outcomes.iter().map(|o| o.round_trip_us).collect();
            let (lo, hi) = rt
                .iter()
                .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            let mid = median(rt.clone());
            let moved = median(outcomes.iter().map(|o| o.client_moved).collect());
            let repins = median(
                outcomes
                    .iter()
                    .map(|o| o.repins as f64 / (round_trips + round_trips / 10) as f64)
                    .collect(),
            );
            println!(
                "| {} | {mid:.1} [{lo:.1}–{hi:.1}] | {:.1} | {:.0}% | {} |",
                placement.name(),
                mid - 2.0 * work_us,
                moved * 100.0,
                if *placement == Placement::ServerFollows {
                    format!("{repins:.2}")
                } else {
                    "–".into()
                }
            );
        }
    }
}

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("handoff: Linux only (it pins threads with sched_setaffinity)");
}
