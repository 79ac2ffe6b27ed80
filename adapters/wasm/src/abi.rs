//! The module's ABI: plain exports and two imports, no generated glue (wasm32 only).
//!
//! Strings and bytes go in as `(ptr, len)` pairs in buffers the host got from `wxpay_alloc`
//! and frees with `wxpay_free`. Every call answers with the length of one JSON text (see
//! [`crate::json`]) that the host reads at `wxpay_out_ptr()` before the next call. Sessions
//! live in a handle table inside the module: the merchant key never leaves it.
//!
//! Imports, module `wxpay`: `now() -> f64` (Unix seconds, e.g. `Date.now() / 1000`) and
//! `random_fill(ptr, len) -> i32` (fill from a CSPRNG, e.g. `crypto.getRandomValues`; 0 on
//! success).
#![allow(unsafe_code)] // The FFI boundary; each `unsafe` block states what it relies on.

use std::sync::{Mutex, MutexGuard};

use wxpay_core::{Error, RandomSource};

use crate::{Failure, Response, Session, json};

#[link(wasm_import_module = "wxpay")]
unsafe extern "C" {
    /// Unix seconds by the host's clock.
    #[link_name = "now"]
    fn host_now() -> f64;
    /// Fills `len` bytes at `ptr` with cryptographically secure random bytes; 0 on success.
    #[link_name = "random_fill"]
    fn host_random_fill(ptr: *mut u8, len: usize) -> i32;
}

/// The host's CSPRNG.
#[derive(Debug, Clone, Copy)]
struct HostRandom;

impl RandomSource for HostRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        // SAFETY: `dest` is valid for writes of `dest.len()` bytes for the whole call.
        match unsafe { host_random_fill(dest.as_mut_ptr(), dest.len()) } {
            0 => Ok(()),
            _ => Err(Error::Random),
        }
    }
}

/// Largest clock value accepted: integers are exact in an f64 up to 2^53.
const MAX_CLOCK_SECS: f64 = 9_007_199_254_740_992.0;

fn host_now_secs() -> Result<i64, Failure> {
    // SAFETY: a plain call into the host; no memory is shared.
    let now = unsafe { host_now() };
    if now.is_finite() && (0.0..MAX_CLOCK_SECS).contains(&now) {
        Ok(now.floor() as i64)
    } else {
        Err(Error::InvalidInput {
            what: "the host clock is not a number of Unix seconds",
        }
        .into())
    }
}

struct State {
    sessions: Vec<Option<Session<HostRandom>>>,
    out: Vec<u8>,
}

static STATE: Mutex<State> = Mutex::new(State {
    sessions: Vec::new(),
    out: Vec::new(),
});

fn state() -> MutexGuard<'static, State> {
    // One thread; a poisoned lock (impossible with panic = "abort") still holds valid data.
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Stores the answer for `wxpay_out_ptr` and returns its length.
fn answer(state: &mut State, text: String) -> usize {
    state.out = text.into_bytes();
    state.out.len()
}

fn answer_with<T>(
    state: &mut State,
    result: Result<T, Failure>,
    ok: impl FnOnce(T) -> String,
) -> usize {
    let text = match result {
        Ok(value) => ok(value),
        Err(failure) => json::failure(&failure),
    };
    answer(state, text)
}

/// # Safety
/// `ptr..ptr + len` must be a live allocation from `wxpay_alloc` (or `len` must be 0).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// # Safety
/// As [`bytes`].
unsafe fn text<'a>(ptr: *const u8, len: usize) -> Result<&'a str, Failure> {
    // SAFETY: guaranteed by the caller.
    std::str::from_utf8(unsafe { bytes(ptr, len) }).map_err(|_| {
        Error::InvalidInput {
            what: "a text argument is not UTF-8",
        }
        .into()
    })
}

fn no_session() -> Failure {
    Error::InvalidInput {
        what: "no such client handle (freed, or never created)",
    }
    .into()
}

fn session(state: &mut State, handle: u32) -> Result<&mut Session<HostRandom>, Failure> {
    let index = usize::try_from(handle)
        .ok()
        .and_then(|h| h.checked_sub(1))
        .ok_or_else(no_session)?;
    state
        .sessions
        .get_mut(index)
        .and_then(Option::as_mut)
        .ok_or_else(no_session)
}

/// A buffer of `len` bytes for the host to write an argument into.
#[unsafe(no_mangle)]
pub extern "C" fn wxpay_alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast::<u8>()
}

/// Frees a buffer from [`wxpay_alloc`]; `len` must be the length it was made with.
///
/// # Safety
/// `ptr` and `len` must come from one `wxpay_alloc` call, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxpay_free(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        // SAFETY: guaranteed by the caller; this is the box `wxpay_alloc` leaked.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
    }
}

/// Where the last answer is (its length was the return value of the call).
#[unsafe(no_mangle)]
pub extern "C" fn wxpay_out_ptr() -> *const u8 {
    state().out.as_ptr()
}

/// Loads a merchant: `{"ok":{"handle":N}}`. The key stays in the module.
///
/// # Safety
/// Each `(ptr, len)` pair must be a live `wxpay_alloc` buffer (or `len` 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxpay_client_new(
    mchid: *const u8,
    mchid_len: usize,
    serial: *const u8,
    serial_len: usize,
    key_pem: *const u8,
    key_pem_len: usize,
) -> usize {
    let mut state = state();
    // SAFETY: guaranteed by the caller.
    let args = unsafe {
        (
            text(mchid, mchid_len),
            text(serial, serial_len),
            text(key_pem, key_pem_len),
        )
    };
    let made = match args {
        (Ok(mchid), Ok(serial), Ok(key_pem)) => Session::new(mchid, serial, key_pem, HostRandom),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => Err(e),
    };
    let result = made.map(|session| {
        let slot = state.sessions.iter().position(Option::is_none);
        let index = match slot {
            Some(index) => {
                if let Some(free) = state.sessions.get_mut(index) {
                    *free = Some(session);
                }
                index
            }
            None => {
                state.sessions.push(Some(session));
                state.sessions.len() - 1
            }
        };
        i64::try_from(index + 1).unwrap_or(0)
    });
    answer_with(&mut state, result, |h| json::ok_number("handle", h))
}

/// Adds a platform key (certificate serial or `PUB_KEY_ID_…`, and its public key PEM).
///
/// # Safety
/// As [`wxpay_client_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxpay_client_add_platform_key(
    handle: u32,
    serial: *const u8,
    serial_len: usize,
    pem: *const u8,
    pem_len: usize,
) -> usize {
    let mut state = state();
    let result = session(&mut state, handle).and_then(|s| {
        // SAFETY: guaranteed by the caller.
        let (serial, pem) = unsafe { (text(serial, serial_len)?, text(pem, pem_len)?) };
        s.add_platform_key(serial, pem)
    });
    answer_with(&mut state, result, |()| json::ok_number("keys", 1))
}

/// Drops a session; its private key is zeroized.
#[unsafe(no_mangle)]
pub extern "C" fn wxpay_client_free(handle: u32) -> usize {
    let mut state = state();
    let index = usize::try_from(handle).ok().and_then(|h| h.checked_sub(1));
    let freed = index
        .and_then(|i| state.sessions.get_mut(i))
        .and_then(Option::take)
        .is_some();
    answer(&mut state, json::ok_number("freed", i64::from(freed)))
}

/// Signs any request with an explicit time and nonce: the prepared request.
///
/// # Safety
/// As [`wxpay_client_new`].
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn wxpay_sign_request(
    handle: u32,
    method: *const u8,
    method_len: usize,
    target: *const u8,
    target_len: usize,
    body: *const u8,
    body_len: usize,
    timestamp: f64,
    nonce: *const u8,
    nonce_len: usize,
) -> usize {
    let mut state = state();
    let result = session(&mut state, handle).and_then(|s| {
        if !(timestamp.is_finite() && (0.0..MAX_CLOCK_SECS).contains(&timestamp))
            || timestamp.fract() != 0.0
        {
            return Err(Error::InvalidInput {
                what: "timestamp must be whole Unix seconds",
            }
            .into());
        }
        // SAFETY: guaranteed by the caller.
        let (method, target, body, nonce) = unsafe {
            (
                text(method, method_len)?,
                text(target, target_len)?,
                text(body, body_len)?,
                text(nonce, nonce_len)?,
            )
        };
        s.sign_request(method, target, body, timestamp as u64, nonce)
    });
    answer_with(&mut state, result, |p| json::prepared(&p))
}

/// Step one of the query by authorization code, at the host's time with a fresh nonce.
///
/// # Safety
/// As [`wxpay_client_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxpay_prepare_query(
    handle: u32,
    code: *const u8,
    code_len: usize,
    service_id: *const u8,
    service_id_len: usize,
) -> usize {
    let mut state = state();
    let result = session(&mut state, handle).and_then(|s| {
        // SAFETY: guaranteed by the caller.
        let (code, service_id) =
            unsafe { (text(code, code_len)?, text(service_id, service_id_len)?) };
        s.prepare_query(code, service_id, host_now_secs()?)
    });
    answer_with(&mut state, result, |p| json::prepared(&p))
}

/// Step two: status, headers (`name: value` lines) and the raw body; the verified record.
///
/// # Safety
/// As [`wxpay_client_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxpay_finish_query(
    handle: u32,
    status: u32,
    headers: *const u8,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
) -> usize {
    // SAFETY: guaranteed by the caller.
    unsafe {
        finish_with(
            handle,
            status,
            (headers, headers_len),
            (body, body_len),
            |s, response, now| s.finish_query(response, now),
            |(record, request_id)| json::record(&record, request_id.as_deref()),
        )
    }
}

/// Step one of a typed call by name (`serviceorder.create`, …; see `calls`), with its
/// arguments as JSON, at the host's time with a fresh nonce.
///
/// # Safety
/// As [`wxpay_client_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxpay_prepare_call(
    handle: u32,
    name: *const u8,
    name_len: usize,
    args: *const u8,
    args_len: usize,
) -> usize {
    let mut state = state();
    let result = session(&mut state, handle).and_then(|s| {
        // SAFETY: guaranteed by the caller.
        let (name, args) = unsafe { (text(name, name_len)?, bytes(args, args_len)) };
        s.prepare_call(name, args, host_now_secs()?)
    });
    answer_with(&mut state, result, |p| json::prepared(&p))
}

/// Step two of a typed call: status, headers (`name: value` lines) and the raw body; the
/// verified answer, bound to the request, as `{"ok":{"result":…,"requestId":…}}`.
///
/// # Safety
/// As [`wxpay_client_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wxpay_finish_call(
    handle: u32,
    status: u32,
    headers: *const u8,
    headers_len: usize,
    body: *const u8,
    body_len: usize,
) -> usize {
    // SAFETY: guaranteed by the caller.
    unsafe {
        finish_with(
            handle,
            status,
            (headers, headers_len),
            (body, body_len),
            |s, response, now| s.finish_call(response, now),
            |(rendered, request_id)| json::answer("result", &rendered, request_id.as_deref()),
        )
    }
}

/// Step two of either two-step API: the status, headers (`name: value` lines) and raw body the
/// host received, handed to `finish` at the host's time; `ok` renders its answer.
///
/// # Safety
/// `headers` and `body` point to that many readable bytes, as for [`wxpay_client_new`].
unsafe fn finish_with<T>(
    handle: u32,
    status: u32,
    (headers, headers_len): (*const u8, usize),
    (body, body_len): (*const u8, usize),
    finish: impl FnOnce(&mut Session<HostRandom>, &Response<'_>, i64) -> Result<T, Failure>,
    ok: impl FnOnce(T) -> String,
) -> usize {
    let mut state = state();
    let result = session(&mut state, handle).and_then(|s| {
        let status = u16::try_from(status).map_err(|_| Error::InvalidInput {
            what: "HTTP status out of range",
        })?;
        // SAFETY: guaranteed by the caller.
        let (headers, body) = unsafe { (text(headers, headers_len)?, bytes(body, body_len)) };
        let response = Response {
            status,
            headers,
            body,
        };
        finish(s, &response, host_now_secs()?)
    });
    answer_with(&mut state, result, ok)
}
