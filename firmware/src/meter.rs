//! Instruction counts from SysTick.
//!
//! QEMU's DWT cycle counter reads 0. Under `-icount shift=0` every instruction advances the
//! virtual clock by exactly 1 ns, and SysTick runs from the 25 MHz system clock of the MPS2
//! board, so one tick is exactly [`INSTRUCTIONS_PER_TICK`] instructions: counts are exact to
//! that granularity and repeat run after run. The 24-bit counter wraps every 0.67 s of virtual
//! time; an exception counts the wraps.

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use cortex_m_rt::exception;

/// 1 ns per instruction (`-icount shift=0`) over a 40 ns SysTick period (25 MHz).
pub const INSTRUCTIONS_PER_TICK: u64 = 40;

const RELOAD: u32 = 0x00FF_FFFF;

static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

/// Starts SysTick as a free-running counter. Call once, early.
pub fn start(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_counter();
    // Loading the reload value into the cleared counter can pend a SysTick that is not a wrap:
    // wait for the load, drop that event, and only then count wraps.
    while SYST::get_current() == 0 {}
    let _ = syst.has_wrapped();
    SCB::clear_pendst();
    WRAPS.store(0, Ordering::Relaxed);
    syst.enable_interrupt();
}

/// Instructions since [`start`] (at SysTick granularity).
pub fn now() -> u64 {
    let ticks = cortex_m::interrupt::free(|_| {
        let mut wraps = u64::from(WRAPS.load(Ordering::Relaxed));
        let current = SYST::get_current();
        // Wrapped, but the exception has not run yet: the count restarted from the top.
        if SCB::is_pendst_pending() && current > RELOAD / 2 {
            wraps += 1;
        }
        wraps * (u64::from(RELOAD) + 1) + u64::from(RELOAD - current)
    });
    ticks * INSTRUCTIONS_PER_TICK
}

/// The points of a query the meter records, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Before the query.
    Start,
    /// The client read the clock (first: after building the target; second: after the
    /// response arrived).
    Clock,
    /// Signer called with the request digest.
    SignStart,
    /// Signer returned.
    SignEnd,
    /// Transport called.
    TransportStart,
    /// Transport returned.
    TransportEnd,
    /// Verifier called with the response digest.
    VerifyStart,
    /// Verifier returned.
    VerifyEnd,
    /// After the query (record parsed).
    End,
}

const CAPACITY: usize = 16;

/// What is known at one event.
#[derive(Debug, Clone, Copy)]
struct Sample {
    event: Event,
    /// Instructions, not counting the meter's own stack probes.
    instructions: u64,
    /// Deepest stack (bytes from the top) since the previous event.
    stack: usize,
}

/// Work of a stretch of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Instructions executed.
    pub instructions: u64,
    /// Deepest stack reached, in bytes from the top (slightly over for shallow stretches: the
    /// probe's own frame counts).
    pub stack: usize,
}

/// A timeline of events with the instruction count and the stack depth
/// at each. Each mark repaints the stack, so every stretch gets its own high-water mark; the
/// repainting is left out of the instruction counts.
#[derive(Debug)]
pub struct Meter {
    events: [Cell<Sample>; CAPACITY],
    len: Cell<usize>,
    /// Instructions spent in the meter's stack probes, subtracted from every reading.
    probes: Cell<u64>,
    /// Deepest stack before the first event of the timelines forgotten by [`Meter::clear`].
    setup: Cell<usize>,
}

impl Default for Meter {
    fn default() -> Self {
        Self::new()
    }
}

impl Meter {
    /// An empty timeline.
    pub const fn new() -> Self {
        Meter {
            events: [const {
                Cell::new(Sample {
                    event: Event::Start,
                    instructions: 0,
                    stack: 0,
                })
            }; CAPACITY],
            len: Cell::new(0),
            probes: Cell::new(0),
            setup: Cell::new(0),
        }
    }

    /// Records `event` now. Costs a few dozen instructions, charged to the phases around it;
    /// the stack probe after the reading is not charged.
    #[inline(never)]
    pub fn mark(&self, event: Event) {
        let at = now();
        let sample = Sample {
            event,
            instructions: at - self.probes.get(),
            stack: crate::stack::high_water(),
        };
        if let Some(slot) = self.events.get(self.len.get()) {
            slot.set(sample);
            self.len.set(self.len.get() + 1);
        }
        crate::stack::paint();
        self.probes.set(self.probes.get() + (now() - at));
    }

    /// Forgets the recorded events, to measure another query on the same timeline. The stack
    /// reached before the first event is kept for [`Meter::setup_stack`].
    pub fn clear(&self) {
        self.setup.set(self.setup_stack());
        self.len.set(0);
    }

    fn samples(&self) -> impl Iterator<Item = (usize, Sample)> + '_ {
        self.events
            .iter()
            .take(self.len.get())
            .map(Cell::get)
            .enumerate()
    }

    /// Position and sample of the `nth` (0-based) occurrence of `event`.
    fn find(&self, event: Event, nth: usize) -> Option<(usize, Sample)> {
        self.samples().filter(|(_, s)| s.event == event).nth(nth)
    }

    /// Work between two recorded events.
    pub fn between(&self, from: (Event, usize), to: (Event, usize)) -> Option<Work> {
        let (i, a) = self.find(from.0, from.1)?;
        let (j, b) = self.find(to.0, to.1)?;
        let stack = self
            .samples()
            .filter(|(k, _)| *k > i && *k <= j)
            .map(|(_, s)| s.stack)
            .max()?;
        Some(Work {
            instructions: b.instructions.checked_sub(a.instructions)?,
            stack,
        })
    }

    /// Deepest stack up to the first event: the setup before the measured work (and, after
    /// [`Meter::clear`], before each first event since, which covers the setup of the run).
    pub fn setup_stack(&self) -> usize {
        self.samples()
            .next()
            .map_or(0, |(_, s)| s.stack)
            .max(self.setup.get())
    }
}

/// One phase of a query for the report.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Name as printed.
    pub name: &'static str,
    /// Key as parsed by the report script.
    pub key: &'static str,
    /// Whether it is an RSA private- or public-key operation (excluded from "work outside RSA").
    pub rsa: bool,
    /// Start event (and which occurrence).
    pub from: (Event, usize),
    /// End event.
    pub to: (Event, usize),
}

/// Phases of the full client, in order. The wrappers in [`crate::timed`] record the events.
pub const CLIENT_PHASES: &[Phase] = &[
    Phase {
        name: "target build",
        key: "target",
        rsa: false,
        from: (Event::Start, 0),
        to: (Event::Clock, 0),
    },
    Phase {
        name: "nonce + request hash",
        key: "hash",
        rsa: false,
        from: (Event::Clock, 0),
        to: (Event::SignStart, 0),
    },
    Phase {
        name: "sign",
        key: "sign",
        rsa: true,
        from: (Event::SignStart, 0),
        to: (Event::SignEnd, 0),
    },
    Phase {
        name: "Authorization header",
        key: "header",
        rsa: false,
        from: (Event::SignEnd, 0),
        to: (Event::TransportStart, 0),
    },
    Phase {
        name: "HTTP write + read",
        key: "http",
        rsa: false,
        from: (Event::TransportStart, 0),
        to: (Event::TransportEnd, 0),
    },
    Phase {
        name: "verify: headers, base64, hash",
        key: "verify",
        rsa: false,
        from: (Event::TransportEnd, 0),
        to: (Event::VerifyStart, 0),
    },
    Phase {
        name: "RSA verify",
        key: "rsa_verify",
        rsa: true,
        from: (Event::VerifyStart, 0),
        to: (Event::VerifyEnd, 0),
    },
    Phase {
        name: "parse",
        key: "parse",
        rsa: false,
        from: (Event::VerifyEnd, 0),
        to: (Event::End, 0),
    },
];
