//! Logging the embedded way: through `log` (feature `log`), through `defmt` (feature `defmt`),
//! or not at all. At most one of the two: enabling both is a compile error, as in smoltcp.
//!
//! What is logged is what a request does (method, target, status, `Request-ID`, sizes, the
//! kind of a failure), never a key, a signature, a nonce or the `Authorization` header.
//!
//! [`__log!`](crate::__log) is exported (hidden) so the adapters log the same way. Its `cfg`s
//! are evaluated in the crate that expands it: each crate logs through its own `log`/`defmt`
//! feature and needs `log`/`defmt` as a direct dependency for it (`defmt`'s macros cannot be
//! re-exported). Arguments must implement `Display` (for `log`) and `defmt::Format` (for
//! `defmt`): `&str`, integers and the error enums do.

#[cfg(all(feature = "log", feature = "defmt"))]
compile_error!("wxpay-core: enable at most one of the features `log` and `defmt`");

/// Logs at `$level` (`error`, `warn`, `info`, `debug`, `trace`) through the expanding
/// crate's `log` or `defmt` feature; with neither, only borrows the arguments. The format
/// string may use `{}` only (the subset both back ends share).
#[doc(hidden)]
#[macro_export]
macro_rules! __log {
    ($level:ident, $fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "log")]
        ::log::$level!($fmt $(, $arg)*);
        #[cfg(feature = "defmt")]
        ::defmt::$level!($fmt $(, $arg)*);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        {
            $(let _ = &$arg;)*
        }
    }};
}

/// `log_debug!` inside the core: a request's steps.
#[allow(unused_macros)] // call sites: the client (being rewritten)
macro_rules! log_debug {
    ($($t:tt)*) => { $crate::__log!(debug, $($t)*) };
}
/// `log_warn!` inside the core: a refused response.
#[allow(unused_macros)] // call sites: the client (being rewritten)
macro_rules! log_warn {
    ($($t:tt)*) => { $crate::__log!(warn, $($t)*) };
}
#[allow(unused_imports)]
pub(crate) use {log_debug, log_warn};

#[cfg(all(test, feature = "log"))]
mod tests {
    use std::string::{String, ToString};
    use std::sync::Mutex;
    use std::vec::Vec;

    use crate::VerifyError;

    /// Every record logged by this test binary, as `LEVEL message`.
    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Capture;
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let line = format!("{} {}", record.level(), record.args());
            LINES.lock().unwrap().push(line);
        }
        fn flush(&self) {}
    }

    #[test]
    fn macros_log_through_the_log_facade() {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        let cases: &[(fn(), &str)] = &[
            (|| log_debug!("{} {}", "GET", "/v3/x"), "DEBUG GET /v3/x"),
            (
                || log_warn!("refused: {}", VerifyError::BadSignature),
                "WARN refused: signature does not match",
            ),
            (
                || crate::__log!(info, "status {}", 404u16),
                "INFO status 404",
            ),
        ];
        for (log_it, want) in cases {
            log_it();
            assert_eq!(LINES.lock().unwrap().pop().unwrap(), want.to_string());
        }
    }
}
