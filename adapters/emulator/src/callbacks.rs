//! Callbacks the emulator sends when a user opens or closes the service, confirms a service
//! order or has paid it: encrypted with the
//! APIv3 key (AEAD_AES_256_GCM) and signed with the platform key, as WeChat Pay does.
//!
//! Every callback is kept in memory ([`Emulator::callbacks`]), written to a directory when one
//! is set ([`Emulator::set_callback_dir`]: `<n>-<id>.headers` as `Name: value` lines and
//! `<n>-<id>.json`), and POSTed to `notify_url` when that is a loopback `http://` URL.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use base64ct::{Base64, Encoding};
use wxpay_core::callback;
use wxpay_core::model::text;
use wxpay_core::time::{BEIJING_OFFSET_MINUTES, DateTime};

use crate::handlers::{beijing_rfc3339, random_alnum, render};
use crate::{Emulator, StoredRecord, lock};

/// One callback as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackMessage {
    /// `PAYSCORE.USER_OPEN_SERVICE`, `PAYSCORE.USER_CLOSE_SERVICE`, `PAYSCORE.USER_CONFIRM`
    /// or `PAYSCORE.USER_PAID`.
    pub event_type: String,
    /// Where WeChat Pay would POST it.
    pub notify_url: Option<String>,
    /// The `Wechatpay-*` headers.
    pub headers: Vec<(String, String)>,
    /// The raw JSON body.
    pub body: Vec<u8>,
}

impl CallbackMessage {
    /// The headers as `Name: value` lines, as `wxpay notify verify-decrypt` reads them.
    pub fn headers_text(&self) -> String {
        self.headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}\n"))
            .collect()
    }
}

impl Emulator {
    /// Every callback sent so far, oldest first.
    pub fn callbacks(&self) -> Vec<CallbackMessage> {
        lock(&self.callbacks).clone()
    }

    /// Also writes each callback into `dir` (`None` to stop).
    pub fn set_callback_dir(&self, dir: Option<PathBuf>) {
        *lock(&self.callback_dir) = dir;
    }

    /// Builds, keeps and delivers one callback for `record`.
    pub(crate) fn emit_callback(&self, event_type: &str, record: &StoredRecord, now: i64) {
        let status = event_type.trim_start_matches("PAYSCORE.");
        let at = DateTime::from_unix_seconds(now, BEIJING_OFFSET_MINUTES);
        let compact = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            at.year, at.month, at.day, at.hour, at.minute, at.second
        );
        // Stored records come from validated requests; a value that does not fit its declared
        // capacity is never sent cut: no callback is sent.
        let Ok(event) = user_service_event(&self.mchid, record, status, &compact) else {
            return;
        };
        let rendered = render(&event);
        let Ok(payload) = String::from_utf8(rendered.body) else {
            return;
        };
        if rendered.status != 200 {
            return;
        }
        // Open events carry empty associated data, close events "payscore": both occur.
        let associated_data = if event_type == callback::USER_OPEN_SERVICE {
            ""
        } else {
            "payscore"
        };
        let summary = if status == "USER_OPEN_SERVICE" {
            "用户开启服务"
        } else {
            "用户关闭服务"
        };
        self.send_callback(
            event_type,
            summary,
            associated_data,
            &payload,
            record.notify_url.clone(),
            now,
        );
    }

    /// Encrypts `payload`, signs the envelope, keeps it, writes it to the callback directory
    /// and POSTs it to a loopback `notify_url`: the machinery every callback goes through.
    pub(crate) fn send_callback(
        &self,
        event_type: &str,
        summary: &str,
        associated_data: &str,
        payload: &str,
        notify_url: Option<String>,
        now: i64,
    ) {
        let nonce = random_alnum(callback::NONCE_LEN);
        let mut sealed = payload.as_bytes().to_vec();
        sealed.resize(payload.len() + callback::TAG_LEN, 0);
        let Ok(sealed) = callback::encrypt_in_place(
            &self.apiv3_key,
            nonce.as_bytes(),
            associated_data.as_bytes(),
            &mut sealed,
            payload.len(),
        ) else {
            return;
        };
        let id = format!("EV-{}", random_alnum(20));
        let envelope = serde_json::json!({
            "id": id,
            "create_time": beijing_rfc3339(now),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": {
                "algorithm": callback::ALGORITHM,
                "ciphertext": Base64::encode_string(sealed),
                "nonce": nonce,
                "associated_data": associated_data,
                "original_type": "payscore",
            },
        });
        let body = envelope.to_string().into_bytes();
        let message = CallbackMessage {
            event_type: event_type.to_owned(),
            notify_url,
            headers: self.signature_headers(&body, None, now),
            body,
        };
        let sequence = {
            let mut all = lock(&self.callbacks);
            all.push(message.clone());
            all.len()
        };
        if let Some(dir) = lock(&self.callback_dir).clone() {
            let stem = dir.join(format!("{sequence:03}-{id}"));
            let _ = std::fs::create_dir_all(&dir)
                .and_then(|()| {
                    std::fs::write(stem.with_extension("headers"), message.headers_text())
                })
                .and_then(|()| std::fs::write(stem.with_extension("json"), &message.body));
        }
        if let Some(url) = message
            .notify_url
            .clone()
            .filter(|u| loopback_http(u).is_some())
        {
            std::thread::spawn(move || deliver(&url, &message));
        }
    }
}

/// `(host:port, path)` of an `http://127.0.0.1…` or `http://localhost…` URL; others are never
/// contacted.
fn loopback_http(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]").then(|| (authority.to_owned(), path))
}

/// POSTs a callback; best effort, like a notification that will be retried.
fn deliver(url: &str, message: &CallbackMessage) {
    let Some((authority, path)) = loopback_http(url) else {
        return;
    };
    let Ok(mut stream) = TcpStream::connect(&authority) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        message.body.len()
    );
    for (name, value) in &message.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&message.body))
        .is_ok()
    {
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
    }
}

/// The payload of a `USER_OPEN_SERVICE` / `USER_CLOSE_SERVICE` event, as declared
/// ([`callback::UserServiceEvent`]).
fn user_service_event(
    mchid: &str,
    record: &StoredRecord,
    status: &str,
    openorclose_time: &str,
) -> Result<callback::UserServiceEvent, wxpay_core::Error> {
    Ok(callback::UserServiceEvent {
        appid: Some(text("appid", &record.appid)?),
        mchid: Some(text("mchid", mchid)?),
        service_id: Some(text("service_id", &record.service_id)?),
        openid: record
            .openid
            .as_deref()
            .map(|v| text("openid", v))
            .transpose()?,
        user_service_status: Some(text("user_service_status", status)?),
        openorclose_time: Some(text("openorclose_time", openorclose_time)?),
        authorization_code: Some(text("authorization_code", &record.authorization_code)?),
        out_request_no: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_contacted() {
        assert_eq!(
            loopback_http("http://127.0.0.1:9000/notify"),
            Some(("127.0.0.1:9000".into(), "/notify".into()))
        );
        assert_eq!(
            loopback_http("http://localhost:1/"),
            Some(("localhost:1".into(), "/".into()))
        );
        assert_eq!(loopback_http("https://127.0.0.1/x"), None);
        assert_eq!(loopback_http("http://api.test.com/payscore/notify"), None);
        assert_eq!(loopback_http("http://10.0.0.1:80/x"), None);
    }

    /// A stored value its declaration cannot hold is never sent cut: the query answers 500
    /// naming the field, and no callback is kept or delivered for the record.
    #[test]
    fn values_past_their_declared_capacity_are_refused_by_name() {
        let emulator = Emulator::demo();
        let mut record = emulator
            .record(crate::demo::AUTHORIZATION_CODE)
            .expect("the demo record");
        emulator.emit_callback(callback::USER_OPEN_SERVICE, &record, 1_700_000_000);
        assert_eq!(emulator.callbacks().len(), 1, "a record that fits is sent");
        record.appid = "w".repeat(33);
        let answer = emulator.record_answer(&record);
        assert_eq!(answer.status, 500);
        let json: serde_json::Value = serde_json::from_slice(&answer.body).expect("JSON");
        assert_eq!(json["code"], "SYSTEM_ERROR");
        assert!(
            json["message"]
                .as_str()
                .is_some_and(|m| m.contains("`appid`")),
            "{json}"
        );
        emulator.emit_callback(callback::USER_OPEN_SERVICE, &record, 1_700_000_000);
        assert_eq!(emulator.callbacks().len(), 1, "nothing is sent for it");
    }
}
