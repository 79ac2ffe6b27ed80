//! The query on a host: ureq for HTTP, AWS-LC for RSA. `cargo run -p wxpay-examples --example host_query`
use std::sync::Arc;
use wxpay_aws_lc::{AwsLcSigner, AwsLcVerifier};
use wxpay_core::api::permissions::QueryByCode;
use wxpay_emulator::{Emulator, demo, server::Server};
use wxpay_ureq::{HostClient, Timeouts, host_client};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // WeChat Pay's stand-in on 127.0.0.1 with demo TEST keys. In production: PRODUCTION_BASE_URL,
    // and the keys from files (wxpay_ureq::load_key(path, AwsLcSigner::from_pem...)).
    let server = Server::start(Arc::new(Emulator::demo()), "127.0.0.1:0")?;
    let signer = AwsLcSigner::from_pem(demo::MERCHANT_KEY_PEM, demo::MERCHANT_SERIAL)?;
    let platform = AwsLcVerifier::from_pem(demo::PLATFORM_PUB_PEM)?;
    let mut client: HostClient<AwsLcSigner, AwsLcVerifier> = host_client(
        &server.base_url(),
        Timeouts::default(),
        demo::MCHID,
        signer,
        demo::PLATFORM_KEY_ID,
        platform,
    )?;
    let mut body = [0u8; 2048];
    let record = client.call(
        &QueryByCode::new(demo::AUTHORIZATION_CODE, demo::SERVICE_ID)?,
        &mut body,
    )?;
    println!("{:?} is {:?}", record.openid, record.authorization_state);
    Ok(())
}
