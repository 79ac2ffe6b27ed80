//! Stack high-water mark: paint the free stack with a pattern, and later find the deepest word
//! that no longer holds it. Only a window below the stack top is painted, so repainting at
//! every phase boundary (see [`crate::meter::Meter::mark`]) stays cheap; a stack that uses the
//! whole window reports [`WINDOW`] (and the report flags it).

use core::ptr;

const PAINT: u32 = 0xA5A5_5A5A;
/// Bytes below the stack top that are painted and scanned.
pub const WINDOW: usize = 64 * 1024;
/// Words left unpainted below the painter's own stack pointer.
const MARGIN_WORDS: usize = 16;

unsafe extern "C" {
    /// Top of the stack (cortex-m-rt: end of RAM).
    static _stack_start: u32;
    /// Lowest address the stack may reach (cortex-m-rt: end of `.bss`/`.uninit`).
    static _stack_end: u32;
}

fn bounds() -> (usize, usize) {
    // Only the addresses of these linker symbols are used, never their contents.
    let end = ptr::addr_of!(_stack_end) as usize;
    let top = ptr::addr_of!(_stack_start) as usize;
    (end.max(top.saturating_sub(WINDOW)), top)
}

/// Paints the unused stack below the caller. Call first thing in `main`, then whenever a
/// measurement should start afresh.
#[inline(never)]
pub fn paint() {
    let (bottom, _) = bounds();
    let sp = cortex_m::register::msp::read() as usize;
    let mut at = bottom;
    while at + 4 * MARGIN_WORDS < sp {
        // SAFETY: `at` lies between the end of the statics and below the live stack, word
        // aligned (cortex-m-rt aligns `_stack_end` to 4); nothing else uses that memory.
        unsafe { ptr::write_volatile(at as *mut u32, PAINT) };
        at += 4;
    }
}

/// Bytes of stack used (from the top) at the deepest point since the last [`paint`].
#[inline(never)]
pub fn high_water() -> usize {
    let (bottom, top) = bounds();
    let mut at = bottom;
    // SAFETY: reads of RAM between the statics and the stack top, word aligned.
    while at < top && unsafe { ptr::read_volatile(at as *const u32) } == PAINT {
        at += 4;
    }
    top - at
}
