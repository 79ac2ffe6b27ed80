//! The emulator as an in-process [`Transport`]: no socket, same bytes.

use std::fmt;
use std::sync::Arc;

use wxpay_core::{Request, ResponseHead, ResponseHeaders, Transport};

use crate::{Emulator, HttpRequest, Wire, system_now};

/// Calls [`Emulator::handle`] directly. The clock is the system clock unless set.
#[derive(Debug, Clone)]
pub struct EmulatorTransport {
    emulator: Arc<Emulator>,
    now: Option<i64>,
}

/// What a real HTTP client would report for the emulator's wire faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmulatorTransportError {
    /// The body is larger than the caller's buffer.
    BodyTooLarge {
        /// Size of the whole body.
        needed: usize,
    },
    /// The connection closed before the declared `Content-Length`.
    Truncated,
}

impl fmt::Display for EmulatorTransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulatorTransportError::BodyTooLarge { needed } => {
                write!(f, "response body of {needed} bytes does not fit the buffer")
            }
            EmulatorTransportError::Truncated => f.write_str("response body truncated"),
        }
    }
}

impl std::error::Error for EmulatorTransportError {}

impl EmulatorTransport {
    /// A transport into `emulator`.
    pub fn new(emulator: Arc<Emulator>) -> Self {
        EmulatorTransport {
            emulator,
            now: None,
        }
    }

    /// Pins the emulator's clock (Unix seconds), for deterministic tests.
    pub fn with_time(mut self, now: i64) -> Self {
        self.now = Some(now);
        self
    }
}

impl Transport for EmulatorTransport {
    type Error = EmulatorTransportError;

    fn execute(
        &mut self,
        request: &Request<'_>,
        response_body: &mut [u8],
    ) -> Result<ResponseHead, Self::Error> {
        let http = HttpRequest {
            method: request.method.as_str().to_owned(),
            target: request.target.to_owned(),
            headers: request
                .headers()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: request.body.to_vec(),
        };
        let response = self
            .emulator
            .handle(&http, self.now.unwrap_or_else(system_now));
        if let Some(delay) = response.delay {
            std::thread::sleep(delay);
        }
        if response.wire == Wire::Truncated {
            return Err(EmulatorTransportError::Truncated);
        }
        let needed = response.body.len();
        response_body
            .get_mut(..needed)
            .ok_or(EmulatorTransportError::BodyTooLarge { needed })?
            .copy_from_slice(&response.body);
        let mut headers = ResponseHeaders::default();
        for (name, value) in &response.headers {
            headers.capture(name, value.as_bytes());
        }
        Ok(ResponseHead {
            status: response.status,
            headers,
            body_len: needed,
        })
    }
}
