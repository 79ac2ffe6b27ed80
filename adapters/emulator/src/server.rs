//! The emulator as a loopback HTTP/1.1 server with keep-alive, one thread per connection.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::{Emulator, HttpRequest, HttpResponse, Wire, system_now};

/// Largest request head accepted.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server; it stops when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `addr` (use port 0 for any free port) and serves `emulator`.
    pub fn start(emulator: Arc<Emulator>, addr: &str) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        let accept = thread::Builder::new()
            .name("wxpay-emulator-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    counter.fetch_add(1, Ordering::SeqCst);
                    let emulator = Arc::clone(&emulator);
                    let _ = thread::Builder::new()
                        .name("wxpay-emulator-conn".into())
                        .spawn(move || {
                            let _ = serve_connection(&emulator, stream);
                        });
                }
            })?;
        Ok(Server {
            addr,
            stop,
            connections,
            accept: Some(accept),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far (keep-alive shows as fewer connections than requests).
    pub fn connections_accepted(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// `http://ADDR`, the base URL for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve_connection(emulator: &Emulator, stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let Some((request, keep_alive)) = read_request(&mut reader)? else {
            return Ok(());
        };
        let response = emulator.handle(&request, system_now());
        if let Some(delay) = response.delay {
            thread::sleep(delay);
        }
        let close = !keep_alive || response.wire == Wire::Truncated;
        write_response(&mut writer, &response, close)?;
        if close {
            return Ok(());
        }
    }
}

/// Reads one request; `None` at a clean end of the connection.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<(HttpRequest, bool)>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = reader
            .take(MAX_HEAD_BYTES as u64)
            .read_until(b'\n', &mut head)?;
        if n == 0 {
            return Ok(None);
        }
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
        if head.len() > MAX_HEAD_BYTES || head.len() == before {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
    let mut storage = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut storage);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed request head",
            ));
        }
    }
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let mut request = HttpRequest {
        method: parsed.method.unwrap_or_default().to_owned(),
        target: parsed.path.unwrap_or_default().to_owned(),
        headers,
        body: Vec::new(),
    };
    let length: usize = request
        .header("Content-Length")
        .map(|v| v.trim().parse())
        .transpose()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "request body too large",
        ));
    }
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    let keep_alive = !request
        .header("Connection")
        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    Ok(Some((request, keep_alive)))
}

/// Status-line reason phrases for the codes the emulator uses.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes the response bytes exactly as [`HttpResponse::wire`] says.
pub fn write_response(
    out: &mut impl Write,
    response: &HttpResponse,
    close: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = &response.body;
    if response.wire == Wire::ChunkedSplitUtf8 {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else if response.status != 204 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    match response.wire {
        Wire::Normal => out.write_all(body)?,
        Wire::Truncated => out.write_all(&body[..body.len() / 2])?,
        Wire::ChunkedSplitUtf8 => {
            // Split one byte into the first multi-byte character past the middle.
            let middle = body.len() / 2;
            let split = (middle..body.len())
                .find(|&i| body[i] >= 0xC0)
                .map_or(middle, |i| i + 1);
            for chunk in [&body[..split], &body[split..]] {
                if !chunk.is_empty() {
                    out.write_all(format!("{:X}\r\n", chunk.len()).as_bytes())?;
                    out.write_all(chunk)?;
                    out.write_all(b"\r\n")?;
                }
            }
            out.write_all(b"0\r\n\r\n")?;
        }
    }
    out.flush()
}
