//! The heap the `rsa` crate needs, behind a wrapper that counts allocations and the peak of
//! bytes in use. Without the `rsa` feature there is no allocator at all and every count is 0.

#[cfg(feature = "rsa")]
mod counting {
    use core::alloc::{GlobalAlloc, Layout};
    use core::mem::MaybeUninit;
    use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    use embedded_alloc::LlffHeap;

    /// Size of the heap arena (in `.bss`). The measured peak is in FIRMWARE.md.
    pub const ARENA_LEN: usize = 16 * 1024;

    static mut ARENA: [MaybeUninit<u8>; ARENA_LEN] = [MaybeUninit::uninit(); ARENA_LEN];

    struct Counting {
        heap: LlffHeap,
        allocations: AtomicU32,
        in_use: AtomicUsize,
        peak: AtomicUsize,
    }

    #[global_allocator]
    static HEAP: Counting = Counting {
        heap: LlffHeap::empty(),
        allocations: AtomicU32::new(0),
        in_use: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    };

    // SAFETY: every call is forwarded to the heap unchanged; the wrapper only counts.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded with the caller's layout.
            let ptr = unsafe { self.heap.alloc(layout) };
            if !ptr.is_null() {
                self.allocations.fetch_add(1, Ordering::Relaxed);
                let now = self.in_use.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
                self.peak.fetch_max(now, Ordering::Relaxed);
            }
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.in_use.fetch_sub(layout.size(), Ordering::Relaxed);
            // SAFETY: forwarded with the caller's pointer and layout.
            unsafe { self.heap.dealloc(ptr, layout) }
        }
    }

    /// Hands the arena to the heap. Call once, before anything allocates.
    pub fn init() {
        // SAFETY: called once at boot; the arena is used by nothing else.
        unsafe {
            HEAP.heap
                .init(core::ptr::addr_of_mut!(ARENA) as usize, ARENA_LEN)
        }
    }

    /// Allocations so far.
    pub fn allocations() -> u32 {
        HEAP.allocations.load(Ordering::Relaxed)
    }

    /// Bytes in use now.
    pub fn in_use() -> usize {
        HEAP.in_use.load(Ordering::Relaxed)
    }

    /// Highest bytes in use so far.
    pub fn peak() -> usize {
        HEAP.peak.load(Ordering::Relaxed)
    }

    /// Restarts the peak from what is in use now.
    pub fn reset_peak() {
        HEAP.peak.store(in_use(), Ordering::Relaxed);
    }
}

#[cfg(feature = "rsa")]
pub use counting::*;

/// No heap in this build.
#[cfg(not(feature = "rsa"))]
pub const ARENA_LEN: usize = 0;

/// No heap in this build.
#[cfg(not(feature = "rsa"))]
pub fn init() {}

/// Allocations so far (none without a heap).
#[cfg(not(feature = "rsa"))]
pub fn allocations() -> u32 {
    0
}

/// Bytes in use now (none without a heap).
#[cfg(not(feature = "rsa"))]
pub fn in_use() -> usize {
    0
}

/// Highest bytes in use so far (none without a heap).
#[cfg(not(feature = "rsa"))]
pub fn peak() -> usize {
    0
}

/// Nothing to reset without a heap.
#[cfg(not(feature = "rsa"))]
pub fn reset_peak() {}
