//! `https://` base URLs speak TLS through rustls with the AWS-LC provider (no ring is built):
//! a loopback listener receives a TLS ClientHello, and a peer that hangs up mid-handshake is a
//! transport error, not a panic about a missing crypto provider.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use wxpay_core::{Method, Request, Transport};
use wxpay_ureq::{Timeouts, USER_AGENT, UreqTransport};

#[test]
fn https_sends_a_tls_client_hello() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listens");
    let port = listener.local_addr().expect("address").port();
    let peer = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("client connects");
        let mut record = [0u8; 6];
        stream.read_exact(&mut record).expect("client sends");
        record
        // Dropping the stream hangs up before any ServerHello.
    });
    let mut transport = UreqTransport::new(
        &format!("https://localhost:{port}"),
        Timeouts::all(Duration::from_secs(5)),
    );
    let request = Request {
        method: Method::Get,
        target: "/v3/payscore/permissions/authorization-code/X?service_id=1",
        authorization: "WECHATPAY2-SHA256-RSA2048 bogus",
        user_agent: USER_AGENT,
        wechatpay_serial: None,
        body: b"",
    };
    let mut body = [0u8; 256];
    assert!(transport.execute(&request, &mut body).is_err());
    let record = peer.join().expect("peer");
    // A TLS handshake record (22), protocol 3.x, carrying a ClientHello (1).
    assert_eq!((record[0], record[1], record[5]), (22, 3, 1), "{record:?}");
}
