//! [`CredentialProvider`]: the one trait every scheme implements.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::Error;

/// The request a provider authorizes: an [`http::Request`] with its body as bytes, so
/// that schemes which sign the body (OAuth 1.0a form parameters, `oauth_body_hash`)
/// can read it. Independent of any HTTP client; see [`crate::reqwest`] for reqwest.
pub type AuthRequest = http::Request<Bytes>;

/// Adds what a scheme needs (a header, a query parameter, a signature) to a request.
///
/// Application code holds an `Arc<dyn CredentialProvider>` and does not care whether
/// it is OAuth 1.0a, OAuth 2.0 or an API key:
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use auth_core::{AuthRequest, CredentialProvider, Error};
/// use http::header::{HeaderValue, AUTHORIZATION};
///
/// #[derive(Debug)]
/// struct Fixed;
///
/// #[async_trait]
/// impl CredentialProvider for Fixed {
///     async fn authorize(&self, request: &mut AuthRequest) -> Result<(), Error> {
///         request.headers_mut().insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
///         Ok(())
///     }
/// }
///
/// # tokio_test_block_on(async {
/// let provider: Arc<dyn CredentialProvider> = Arc::new(Fixed);
/// let mut request = AuthRequest::new(Default::default());
/// provider.authorize(&mut request).await?;
/// assert_eq!(request.headers()[AUTHORIZATION], "Bearer t");
/// # Ok::<(), Error>(()) }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     futures_util::FutureExt::now_or_never(f).unwrap()
/// # }
/// ```
#[async_trait]
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// Adds credentials to `request`. May fetch or refresh a token first.
    async fn authorize(&self, request: &mut AuthRequest) -> Result<(), Error>;

    /// Reports that the server rejected the credentials on `request` (typically with
    /// a 401). A provider that caches drops what it put on that request, so that the
    /// next [`authorize`](Self::authorize) obtains a fresh credential; providers with
    /// nothing to drop ignore it.
    fn invalidate(&self, request: &AuthRequest) {
        let _ = request;
    }
}

#[async_trait]
impl<P: CredentialProvider + ?Sized> CredentialProvider for Arc<P> {
    async fn authorize(&self, request: &mut AuthRequest) -> Result<(), Error> {
        (**self).authorize(request).await
    }

    fn invalidate(&self, request: &AuthRequest) {
        (**self).invalidate(request);
    }
}

#[async_trait]
impl<P: CredentialProvider + ?Sized> CredentialProvider for Box<P> {
    async fn authorize(&self, request: &mut AuthRequest) -> Result<(), Error> {
        (**self).authorize(request).await
    }

    fn invalidate(&self, request: &AuthRequest) {
        (**self).invalidate(request);
    }
}
