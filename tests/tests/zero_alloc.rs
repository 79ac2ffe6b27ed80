//! The non-RSA work of a query allocates nothing on the host: target, nonce, request digest,
//! `Authorization` header (fake signer), response headers, verify digest (fake verifier) and
//! parse. A counting global allocator (this test binary's own) proves it; no timing here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use wxpay_core::sign::AUTHORIZATION_CAPACITY;
use wxpay_core::{AuthorizationState, PlatformKeys};
use wxpay_emulator::demo;
use wxpay_tests::query::{
    AcceptAll, CounterRandom, FixedSigner, Reply, accept_response, build_request,
};

thread_local! {
    /// Counting is per thread, so the test harness's own threads do not interfere.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: forwards every call to the system allocator unchanged; the thread-locals are
// const-initialised `Cell`s without destructors, so touching them never allocates.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn count() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let out = std::hint::black_box(f());
    COUNTING.with(|on| on.set(false));
    (out, ALLOCATIONS.with(Cell::get))
}

const NOW: i64 = 1_700_000_000;

#[test]
fn the_counter_sees_allocations() {
    let (v, n) = allocations(|| vec![1u8; 16]);
    assert_eq!((v.len(), n), (16, 1));
}

#[test]
fn non_rsa_query_work_allocates_nothing() {
    // Setup may allocate: the reply as a transport would have received it, the key set.
    let reply = Reply::signed(&mut FixedSigner, NOW);
    let keys: PlatformKeys<AcceptAll> =
        PlatformKeys::with_key(demo::PLATFORM_KEY_ID, AcceptAll).expect("fits");
    let mut signer = FixedSigner;
    let mut random = CounterRandom(7);
    let mut authorization = [0u8; AUTHORIZATION_CAPACITY];

    let ((sent, record), n) = allocations(|| {
        let sent = build_request(&mut signer, &mut random, NOW as u64, &mut authorization);
        let record = accept_response(&keys, &reply, NOW);
        (sent, record)
    });
    assert_eq!(
        n, 0,
        "allocations in target + digest + header + verify + parse"
    );
    assert!(sent.expect("request builds") > 500);
    let record = record.expect("verifies and parses");
    assert_eq!(
        record.authorization_code.as_deref(),
        Some(demo::AUTHORIZATION_CODE)
    );
    assert_eq!(
        record.authorization_state,
        Some(AuthorizationState::Available)
    );

    // A failing path allocates nothing either: a tampered body is refused without a heap.
    let mut tampered = reply.clone();
    tampered.body[2] ^= 1;
    let (refused, n) = allocations(|| accept_response(&keys, &tampered, NOW));
    assert_eq!(n, 0);
    assert!(refused.is_err());
}
