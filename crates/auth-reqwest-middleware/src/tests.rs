//! The middleware's internals, without a server: the head a provider is asked about,
//! and errors found again through `reqwest_middleware::Error`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use auth_core::{AuthRequest, Authorize, CredentialProvider};

use super::*;

/// Reads the body of form requests, like an OAuth 1.0a signer; counts its calls.
#[derive(Debug, Default)]
struct FormSigner {
    calls: AtomicUsize,
}

impl CredentialProvider for FormSigner {
    fn authorize<'a>(&'a self, _request: &'a mut AuthRequest) -> Authorize<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Authorize::ready(Ok(()))
    }

    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/x-www-form-urlencoded")
    }
}

fn request(body: reqwest::Body) -> Request {
    let url = reqwest::Url::parse("http://127.0.0.1:9/notes?page=2").unwrap();
    let mut request = Request::new(http::Method::POST, url);
    let headers = request.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    headers.insert("x-trace", "abc".parse().unwrap());
    *request.body_mut() = Some(body);
    request
}

#[test]
fn the_provider_is_asked_about_the_whole_head() {
    let parts = parts_of(&request(reqwest::Body::from("a=1"))).unwrap();
    assert_eq!(parts.method, http::Method::POST);
    assert_eq!(parts.uri, "http://127.0.0.1:9/notes?page=2");
    assert_eq!(parts.headers["x-trace"], "abc");
}

#[tokio::test]
async fn a_streamed_body_the_provider_reads_is_refused_before_it_is_authorized() {
    let signer = Arc::new(FormSigner::default());
    let middleware = AuthMiddleware::new(Arc::clone(&signer) as Arc<dyn CredentialProvider>);
    let streamed = reqwest::Body::wrap(http_body_util::Full::new(bytes::Bytes::from("a=1")));
    let mut streamed = request(streamed);
    let refused = middleware.authorize(&mut streamed).await.unwrap_err();
    assert!(matches!(refused, Error::StreamedBody));
    assert_eq!(signer.calls.load(Ordering::SeqCst), 0);

    // From memory, the same request is authorized.
    let mut in_memory = request(reqwest::Body::from("a=1"));
    let seen = middleware.authorize(&mut in_memory).await.unwrap();
    assert_eq!(seen.body().as_ref(), b"a=1");
    assert_eq!(signer.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_error_is_found_again_through_reqwest_middleware() {
    let core = auth_core::Error::Config("no client id".into());
    let wrapped: reqwest_middleware::Error = Error::Authorize(core).into();
    assert!(wrapped.is_middleware());
    let found = Error::downcast(&wrapped).unwrap();
    assert!(matches!(
        found.auth_error(),
        Some(auth_core::Error::Config(_))
    ));
    assert_eq!(
        wrapped.to_string(),
        "could not authorize the request: invalid configuration: no client id"
    );
}
