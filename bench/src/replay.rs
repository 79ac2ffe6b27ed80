//! A loopback HTTP/1.1 server that answers every request with one pre-signed reply: the demo
//! record, signed by the emulator's platform key. It does not authenticate requests and signs
//! nothing per request, so a client timed against it is timed alone. The reply is re-signed
//! once a minute so it stays inside the ±300 s window of clients on the system clock.
//!
//! Check requests against the real emulator (`wxpay_emulator::server::Server`) first; this
//! server only measures.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use wxpay_core::crypto::rsa::RsaSigner;
use wxpay_emulator::system_now;
use wxpay_tests::query::Reply;

/// Re-sign the reply when it is older than this.
const RESIGN_AFTER_SECS: i64 = 60;
/// Idle keep-alive connections close after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

struct Presigned {
    platform: Mutex<RsaSigner>,
    current: Mutex<(i64, Arc<Vec<u8>>)>,
}

impl Presigned {
    fn bytes(&self) -> Arc<Vec<u8>> {
        let now = system_now();
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if now - current.0 > RESIGN_AFTER_SECS {
            let mut platform = self.platform.lock().unwrap_or_else(|p| p.into_inner());
            *current = (now, Arc::new(wire(&Reply::signed(&mut *platform, now))));
        }
        Arc::clone(&current.1)
    }
}

/// The whole HTTP response, head and body.
fn wire(reply: &Reply) -> Vec<u8> {
    let mut head =
        String::from("HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n");
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", reply.body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&reply.body);
    bytes
}

/// A running replay server; it stops when dropped.
#[derive(Debug)]
pub struct ReplayServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl ReplayServer {
    /// Listens on 127.0.0.1 (any free port).
    pub fn start() -> io::Result<ReplayServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let presigned = Arc::new(Presigned {
            platform: Mutex::new(crate::platform_signer()),
            current: Mutex::new((i64::MIN / 2, Arc::new(Vec::new()))),
        });
        presigned.bytes();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let accept = thread::Builder::new()
            .name("replay-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let presigned = Arc::clone(&presigned);
                    let _ = thread::Builder::new()
                        .name("replay-conn".into())
                        .spawn(move || {
                            let _ = serve(&presigned, stream);
                        });
                }
            })?;
        Ok(ReplayServer {
            addr,
            stop,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for ReplayServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(presigned: &Presigned, stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    loop {
        // Request head: read lines up to the blank one, noting Content-Length.
        let mut length = 0usize;
        let mut first = true;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let trimmed = line.trim_end();
            if trimmed.is_empty() {
                if first {
                    continue;
                }
                break;
            }
            first = false;
            if let Some((name, value)) = trimmed.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        io::copy(&mut (&mut reader).take(length as u64), &mut io::sink())?;
        writer.write_all(&presigned.bytes())?;
    }
}
