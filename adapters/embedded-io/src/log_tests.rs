//! With feature `log`: what a request logs, and that no secret is in it.

use std::string::String;
use std::sync::Mutex;
use std::vec::Vec;
use std::{format, vec};

use wxpay_core::transport::{Method, Request, Transport};

use crate::HttpClient;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LINES
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

/// A peer that answers `reply` and discards what is written.
struct Canned(&'static [u8]);
impl embedded_io::ErrorType for Canned {
    type Error = embedded_io::ErrorKind;
}
impl embedded_io::Read for Canned {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
impl embedded_io::Write for Canned {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn a_request_logs_method_target_status_and_request_id_only() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let signature = "c2lnbmF0dXJlLXNlY3JldA==";
    let authorization = format!(
        "WECHATPAY2-SHA256-RSA2048 mchid=\"1230000109\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\"{signature}\",timestamp=\"1554208460\",serial_no=\"5DF3\""
    );
    let reply = b"HTTP/1.1 404 Not Found\r\nRequest-ID: 08F7\r\nContent-Length: 2\r\n\r\n{}";
    let mut scratch = vec![0u8; crate::RECOMMENDED_SCRATCH_LEN];
    let mut http: HttpClient<'_, Canned> = HttpClient::new(Canned(reply), "h", &mut scratch);
    let request = Request {
        method: Method::Post,
        target: "/v3/payscore/permissions",
        authorization: &authorization,
        user_agent: "ua",
        wechatpay_serial: None,
        body: b"{\"secret_body\":1}",
    };
    http.execute(&request, &mut [0u8; 64]).unwrap();
    let lines = LINES.lock().unwrap().clone();
    assert_eq!(
        lines,
        [
            "DEBUG POST /v3/payscore/permissions",
            "DEBUG POST /v3/payscore/permissions -> 404, 2 bytes, Request-ID 08F7",
        ]
    );
    for secret in [signature, "593BEC0C", "WECHATPAY2", "secret_body"] {
        assert!(lines.iter().all(|l| !l.contains(secret)), "{secret} logged");
    }
}
