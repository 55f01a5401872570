//! The README's quick start: Bindeo's machine token on every request, against the
//! vendor's real URL with the system clock. `BINDEO_CLIENT_ID=... BINDEO_CLIENT_SECRET=...
//! cargo run -p auth-bindeo --example quickstart`
use std::sync::Arc;

use auth_bindeo::{Bindeo, BindeoConfig};
use auth_core::{AuthRequest, CredentialProvider, SecretString};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let id = std::env::var("BINDEO_CLIENT_ID")?;
    let secret = SecretString::from(std::env::var("BINDEO_CLIENT_SECRET")?);
    // https://api.bindeo.com/, the system clock, the default transport.
    let bindeo = Bindeo::new(BindeoConfig::new(&id, secret)?)?;
    // Application code holds the trait object, whatever the scheme behind it.
    let provider: Arc<dyn CredentialProvider> = Arc::new(bindeo.machine());
    let mut request: AuthRequest =
        http::Request::get("https://api.bindeo.com/").body(Default::default())?;
    provider.authorize(&mut request).await?; // cached, renewed before the hour ends
    println!(
        "authorized: {}",
        request.headers().contains_key("authorization")
    );
    Ok(())
}
