//! Calling the (blocking) client from a tokio application today: `spawn_blocking` per call, the
//! client behind a `Mutex` so calls share its keep-alive connection. A dedicated thread that
//! owns the client and takes requests over a channel works as well.
use std::sync::{Arc, Mutex};
use wxpay_core::AuthorizationRecord;
use wxpay_core::api::permissions::QueryByCode;
use wxpay_emulator::{Emulator, demo, server::Server};
use wxpay_ureq::{HostClient, Timeouts, host_client};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One query, off the async worker threads.
async fn query(client: Arc<Mutex<HostClient>>, code: String) -> Result<AuthorizationRecord, Error> {
    tokio::task::spawn_blocking(move || {
        let mut body = [0u8; 2048];
        let mut client = client.lock().map_err(|_| "client mutex poisoned")?;
        Ok(client.call(&QueryByCode::new(&code, demo::SERVICE_ID)?, &mut body)?)
    })
    .await?
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The emulator on 127.0.0.1 stands in for WeChat Pay; production loads the keys from files
    // (wxpay_ureq::load_signer, load_verifier).
    let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0")?;
    let signer = wxpay_core::crypto::rsa::RsaSigner::from_pem(
        demo::MERCHANT_KEY_PEM,
        demo::MERCHANT_SERIAL,
    )?;
    let platform = wxpay_core::crypto::rsa::RsaVerifier::from_pem(demo::PLATFORM_PUB_PEM)?;
    let client = host_client(
        &server.base_url(),
        Timeouts::default(),
        demo::MCHID,
        signer,
        demo::PLATFORM_KEY_ID,
        platform,
    )?;
    let client = Arc::new(Mutex::new(client));

    let record = query(Arc::clone(&client), demo::AUTHORIZATION_CODE.to_owned()).await?;
    println!("{:?} is {:?}", record.openid, record.authorization_state);
    match query(client, "NO_SUCH_CODE".to_owned()).await {
        Err(e) => println!("unknown code: {e}"),
        Ok(record) => return Err(format!("unexpected record {record:?}").into()),
    }
    Ok(())
}
