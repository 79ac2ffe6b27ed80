//! Checks the meter before any figure is trusted: a loop of exactly 2,000,000 instructions
//! (1,000,000 × `subs` + `bne`) must measure 2,000,000 instructions, give or take the
//! meter's granularity and the few instructions around the loop. Fails otherwise, e.g. if a
//! QEMU release changed the SysTick clock or `-icount` was left out.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use wxpay_firmware::meter::{self, INSTRUCTIONS_PER_TICK};
use wxpay_firmware::say;
use wxpay_firmware::{boot, exit, stack};

const ITERATIONS: u32 = 1_000_000;

#[entry]
fn main() -> ! {
    stack::paint();
    boot();
    let expected = 2 * u64::from(ITERATIONS);
    let start = meter::now();
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!("1:", "subs {0}, #1", "bne 1b", inout(reg) ITERATIONS => _, options(nomem, nostack));
    }
    let measured = meter::now() - start;
    let ok = measured >= expected && measured <= expected + 2 * INSTRUCTIONS_PER_TICK;
    say!(
        "calibration: {} instructions measured as {} ({})",
        expected,
        measured,
        if ok { "OK" } else { "FAILED" }
    );
    exit(ok)
}
