//! UART0 of the MPS2 AN386 board (an Arm CMSDK APB UART at `0x4000_4000`) as an
//! `embedded_io` byte stream. QEMU connects it to a host socket with
//! `-serial tcp:127.0.0.1:PORT`, so the firmware's HTTP/1.1 bytes really go over a wire.
//!
//! Reads have a deadline: a peer that stalls for [`IDLE_LIMIT`] instructions (250 ms of
//! virtual time under `-icount shift=0`) ends the read with `TimedOut`, so a request never
//! hangs without bound. Writes wait for room in the transmit register under the same limit.
//! QEMU polls the UART registers slowly (about 40 M instructions per second of host time
//! here), so the limit is several seconds of host time: ample for the emulator's answer.

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicU32, Ordering};

use embedded_io::ErrorKind;

use crate::meter;

const BASE: usize = 0x4000_4000;
const DATA: usize = BASE;
const STATE: usize = BASE + 0x04;
const CTRL: usize = BASE + 0x08;
const BAUDDIV: usize = BASE + 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;

/// Longest wait for the peer, in instructions (250 ms of virtual time).
pub const IDLE_LIMIT: u64 = 250_000_000;
/// After the first byte of a read, how long to wait for the next one before returning what
/// has arrived (instructions).
const GAP: u64 = 20_000;

/// UART0, enabled for transmit and receive.
#[derive(Debug)]
pub struct Uart {
    /// Bytes written so far.
    pub written: usize,
    /// Bytes read so far.
    pub read: usize,
}

/// SysTick ticks spent polling a register that was not ready (waiting for the peer or for room
/// to send), over all of the UART's use.
static POLLED_TICKS: AtomicU32 = AtomicU32::new(0);

/// Instructions spent so far waiting for the UART (see [`Uart`]'s reads and writes), so that
/// the work around the stream (a TLS handshake, say) can be counted without the wait for the
/// peer.
pub fn polled() -> u64 {
    u64::from(POLLED_TICKS.load(Ordering::Relaxed)) * meter::INSTRUCTIONS_PER_TICK
}

fn reg(addr: usize) -> u32 {
    // SAFETY: a memory-mapped register of the CMSDK UART on this board, always readable.
    unsafe { read_volatile(addr as *const u32) }
}

fn set(addr: usize, value: u32) {
    // SAFETY: a memory-mapped register of the CMSDK UART on this board, always writable.
    unsafe { write_volatile(addr as *mut u32, value) }
}

impl Uart {
    /// Enables UART0 (the baud divisor matters only on hardware; QEMU requires ≥ 16).
    pub fn new() -> Self {
        set(BAUDDIV, 16);
        set(CTRL, CTRL_TX_EN | CTRL_RX_EN);
        Uart {
            written: 0,
            read: 0,
        }
    }

    /// Waits until `ready` or `limit` instructions pass; false on timeout.
    fn wait(ready: impl Fn() -> bool, limit: u64) -> bool {
        if ready() {
            return true;
        }
        let start = meter::now();
        let ready = loop {
            if ready() {
                break true;
            }
            if meter::now().saturating_sub(start) > limit {
                break false;
            }
        };
        let ticks = meter::now().saturating_sub(start) / meter::INSTRUCTIONS_PER_TICK;
        POLLED_TICKS.fetch_add(u32::try_from(ticks).unwrap_or(u32::MAX), Ordering::Relaxed);
        ready
    }
}

impl Default for Uart {
    fn default() -> Self {
        Self::new()
    }
}

impl embedded_io::ErrorType for Uart {
    type Error = ErrorKind;
}

impl embedded_io::Read for Uart {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        let rx_ready = || reg(STATE) & STATE_RX_FULL != 0;
        let mut n = 0;
        for (i, slot) in buf.iter_mut().enumerate() {
            let limit = if i == 0 { IDLE_LIMIT } else { GAP };
            if !Self::wait(rx_ready, limit) {
                break;
            }
            *slot = reg(DATA) as u8;
            n += 1;
        }
        if n == 0 && !buf.is_empty() {
            return Err(ErrorKind::TimedOut);
        }
        self.read += n;
        Ok(n)
    }
}

impl embedded_io::Write for Uart {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        for &byte in buf {
            if !Self::wait(|| reg(STATE) & STATE_TX_FULL == 0, IDLE_LIMIT) {
                return Err(ErrorKind::TimedOut);
            }
            set(DATA, u32::from(byte));
        }
        self.written += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        Ok(())
    }
}

/// The host's clock through semihosting (`SYS_TIME`), so that the request's timestamp and the
/// response's are checked against real time, as on a device with a synchronised clock.
#[derive(Debug, Clone, Copy)]
pub struct HostClock;

impl wxpay_core::Clock for HostClock {
    fn unix_seconds(&self) -> i64 {
        // SAFETY: SYS_TIME takes no argument and returns seconds since the epoch.
        let seconds = unsafe { cortex_m_semihosting::syscall!(TIME) };
        seconds as i64
    }
}
