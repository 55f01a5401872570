//! The layer's internals against an in-process inner service: what is buffered and what
//! is streamed, what is copied back, when a 401 is retried. The same over real HTTP is
//! in `tests/end_to_end.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use auth_core::{AuthRequest, Authorize, CredentialProvider};
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Either, Empty, Full};
use tower::ServiceExt;

use crate::{AuthBody, AuthLayer, BoxError, DEFAULT_BODY_LIMIT, Error};

/// A provider that puts `Bearer t<generation>` on each request (appending, so that a
/// request authorized twice would show it), and on `invalidate` moves to the next
/// generation and says `renews`.
#[derive(Debug, Default)]
struct Counting {
    reads: bool,
    renews: bool,
    fail: bool,
    generation: AtomicUsize,
    invalidated: AtomicUsize,
    bodies_seen: Mutex<Vec<Bytes>>,
}

impl CredentialProvider for Counting {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        if self.fail {
            return Authorize::ready(Err(auth_core::Error::Config(
                "no credential configured".into(),
            )));
        }
        self.bodies_seen
            .lock()
            .unwrap()
            .push(request.body().clone());
        let token = format!("Bearer t{}", self.generation.load(Ordering::SeqCst));
        request
            .headers_mut()
            .append(AUTHORIZATION, HeaderValue::from_str(&token).unwrap());
        // A query parameter, as API keys add.
        let uri = request.uri().to_string();
        let sep = if uri.contains('?') { '&' } else { '?' };
        *request.uri_mut() = format!("{uri}{sep}key=k").parse().unwrap();
        Authorize::ready(Ok(()))
    }

    fn invalidate(&self, _request: &AuthRequest) -> bool {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.renews
    }

    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        self.reads
            && parts
                .headers
                .get(CONTENT_TYPE)
                .is_some_and(|v| v == "application/x-www-form-urlencoded")
    }
}

/// What the inner service saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    uri: String,
    authorization: Vec<String>,
    buffered: bool,
    body: Bytes,
}

/// An inner service that records each request, reads its body, and answers with the
/// next status of `statuses` (200 once they run out).
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<Seen>>>,
    statuses: Arc<Mutex<VecDeque<StatusCode>>>,
    /// Polls of the caller's body when the inner service got it.
    body_polls: Option<Arc<AtomicUsize>>,
}

impl Recorder {
    fn answering(statuses: &[u16]) -> Self {
        Self {
            statuses: Arc::new(Mutex::new(
                statuses
                    .iter()
                    .map(|s| StatusCode::from_u16(*s).unwrap())
                    .collect(),
            )),
            ..Self::default()
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl<B> tower::Service<Request<AuthBody<B>>> for Recorder
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AuthBody<B>>) -> Self::Future {
        if let Some(polls) = &self.body_polls {
            assert_eq!(
                polls.load(Ordering::SeqCst),
                0,
                "the layer read the body before handing it on"
            );
        }
        let this = self.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let buffered = matches!(body, Either::Right(_));
            let body = body.collect().await?.to_bytes();
            this.seen.lock().unwrap().push(Seen {
                uri: parts.uri.to_string(),
                authorization: parts
                    .headers
                    .get_all(AUTHORIZATION)
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect(),
                buffered,
                body,
            });
            let status = this
                .statuses
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(StatusCode::OK);
            let mut response = Response::new(Full::new(Bytes::from_static(b"answer")));
            *response.status_mut() = status;
            Ok(response)
        })
    }
}

/// A streamed body: frames one by one, no size known, counting its polls.
struct Streamed {
    frames: VecDeque<Bytes>,
    polls: Arc<AtomicUsize>,
}

impl Streamed {
    fn new(frames: &[&'static str]) -> (Self, Arc<AtomicUsize>) {
        let polls = Arc::new(AtomicUsize::new(0));
        let body = Self {
            frames: frames
                .iter()
                .map(|f| Bytes::from_static(f.as_bytes()))
                .collect(),
            polls: Arc::clone(&polls),
        };
        (body, polls)
    }
}

impl Body for Streamed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Poll::Ready(self.frames.pop_front().map(|f| Ok(Frame::data(f))))
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

/// A body whose second frame is an error.
struct Broken(u8);

impl Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0 += 1;
        Poll::Ready(Some(if self.0 == 1 {
            Ok(Frame::data(Bytes::from_static(b"a=1")))
        } else {
            Err(std::io::Error::other("the upload broke"))
        }))
    }
}

fn form<B>(body: B) -> Request<B> {
    Request::post("http://api.example/things?x=1")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .unwrap()
}

fn layer(provider: &Arc<Counting>) -> AuthLayer {
    AuthLayer::new(Arc::clone(provider) as Arc<dyn CredentialProvider>)
}

#[tokio::test]
async fn a_body_the_provider_does_not_read_is_streamed_untouched() {
    let provider = Arc::new(Counting::default());
    let (body, polls) = Streamed::new(&["{\"first", "Name\":", "\"Ada\"}"]);
    let recorder = Recorder {
        body_polls: Some(Arc::clone(&polls)),
        ..Recorder::default()
    };
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let request = Request::post("http://api.example/customers")
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap();

    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = recorder.seen();
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].buffered, "passed on as the caller's own body");
    assert_eq!(seen[0].body, "{\"firstName\":\"Ada\"}");
    // Three frames and the end, all read by the inner service, none by the layer.
    assert_eq!(polls.load(Ordering::SeqCst), 4);
    // The provider saw an empty body, and its header and query parameter were sent.
    assert_eq!(*provider.bodies_seen.lock().unwrap(), [Bytes::new()]);
    assert_eq!(seen[0].authorization, ["Bearer t0"]);
    assert_eq!(seen[0].uri, "http://api.example/customers?key=k");
}

#[tokio::test]
async fn a_body_the_provider_reads_is_buffered_and_seen_by_it() {
    let provider = Arc::new(Counting {
        reads: true,
        ..Counting::default()
    });
    let recorder = Recorder::default();
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let (body, _) = Streamed::new(&["a=1&", "b=two+words"]);

    service.oneshot(form(body)).await.unwrap();
    let seen = recorder.seen();
    assert!(seen[0].buffered);
    assert_eq!(seen[0].body, "a=1&b=two+words");
    assert_eq!(
        *provider.bodies_seen.lock().unwrap(),
        [Bytes::from_static(b"a=1&b=two+words")]
    );
    assert_eq!(seen[0].uri, "http://api.example/things?x=1&key=k");
}

#[tokio::test]
async fn a_body_past_the_cap_is_refused_before_anything_is_sent() {
    let provider = Arc::new(Counting {
        reads: true,
        ..Counting::default()
    });
    let recorder = Recorder::default();

    // Known too large from its size.
    let service = tower::Layer::layer(&layer(&provider).with_body_limit(4), recorder.clone());
    let err = service
        .oneshot(form(Full::new(Bytes::from_static(b"a=12345"))))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 4 }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "the request body exceeds the cap of 4 bytes for bodies the provider reads"
    );

    // Found too large while reading.
    let service = tower::Layer::layer(&layer(&provider).with_body_limit(4), recorder.clone());
    let (body, _) = Streamed::new(&["a=1&", "b=2"]);
    let err = service.oneshot(form(body)).await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { limit: 4 }), "{err:?}");

    // The default, and a broken body.
    assert_eq!(layer(&provider).body_limit(), DEFAULT_BODY_LIMIT);
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let err = service.oneshot(form(Broken(0))).await.unwrap_err();
    assert!(matches!(err, Error::Body(_)), "{err:?}");
    assert_eq!(err.to_string(), "could not read the request body");
    assert!(provider.bodies_seen.lock().unwrap().is_empty());
    assert!(recorder.seen().is_empty());
}

#[tokio::test]
async fn a_401_is_sent_once_more_with_a_fresh_credential_when_the_provider_renews() {
    let provider = Arc::new(Counting {
        reads: true,
        renews: true,
        ..Counting::default()
    });
    let recorder = Recorder::answering(&[401]);
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());

    let response = service
        .oneshot(form(Full::new(Bytes::from_static(b"a=1"))))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen = recorder.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);
    // Authorized afresh from the caller's head: one credential, one key, the new one.
    assert_eq!(seen[0].authorization, ["Bearer t0"]);
    assert_eq!(seen[1].authorization, ["Bearer t1"]);
    assert_eq!(seen[1].uri, "http://api.example/things?x=1&key=k");
    assert_eq!(seen[1].body, "a=1");
}

#[tokio::test]
async fn an_empty_body_is_replayed_and_there_is_never_a_second_retry() {
    let provider = Arc::new(Counting {
        renews: true,
        ..Counting::default()
    });
    let recorder = Recorder::answering(&[401, 401, 401]);
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let request = Request::get("http://api.example/me")
        .body(Empty::<Bytes>::new())
        .unwrap();

    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let seen = recorder.seen();
    assert_eq!(seen.len(), 2, "one retry, no more");
    assert!(!seen[0].buffered, "an empty body is not buffered either");
    assert!(seen[1].body.is_empty());
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_401_is_not_repeated_when_the_body_was_streamed_or_nothing_would_change() {
    // Streamed: invalidated, so that the next request gets a fresh credential, but
    // this one cannot be sent again.
    let provider = Arc::new(Counting {
        renews: true,
        ..Counting::default()
    });
    let recorder = Recorder::answering(&[401]);
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let (body, _) = Streamed::new(&["{}"]);
    let request = Request::post("http://api.example/c").body(body).unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(recorder.seen().len(), 1);
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);

    // The provider has nothing to renew: the 401 goes back as it is.
    let provider = Arc::new(Counting {
        reads: true,
        ..Counting::default()
    });
    let recorder = Recorder::answering(&[401]);
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let response = service
        .oneshot(form(Full::new(Bytes::from_static(b"a=1"))))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(recorder.seen().len(), 1);
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);

    // Other refusals are not the provider's business.
    let provider = Arc::new(Counting {
        renews: true,
        ..Counting::default()
    });
    let recorder = Recorder::answering(&[403]);
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let request = Request::get("http://api.example/c")
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(
        service.oneshot(request).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn provider_and_inner_service_errors_are_typed_and_secret_free() {
    let provider = Arc::new(Counting {
        fail: true,
        ..Counting::default()
    });
    let recorder = Recorder::default();
    let service = tower::Layer::layer(&layer(&provider), recorder.clone());
    let request = Request::get("http://api.example/c?key=s3cr3t")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let err = service.oneshot(request).await.unwrap_err();
    assert!(err.auth_error().is_some(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "could not authorize the request: invalid configuration: no credential configured"
    );
    assert!(recorder.seen().is_empty());

    // An inner service that fails: its error is the source, not the message.
    #[derive(Debug, thiserror::Error)]
    #[error("connect to http://api.example/?key=s3cr3t failed")]
    struct Leaky;
    let failing = tower::service_fn(|_: Request<AuthBody<Empty<Bytes>>>| async {
        Err::<Response<Empty<Bytes>>, _>(Leaky)
    });
    let provider = Arc::new(Counting::default());
    let service = tower::Layer::layer(&layer(&provider), failing);
    let request = Request::get("http://api.example/")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let err = service.oneshot(request).await.unwrap_err();
    assert_eq!(err.to_string(), "the inner service failed");
    assert!(err.service_error::<Leaky>().is_some());
}

#[test]
fn debug_shows_no_secret() {
    let key = auth_apikey::ApiKey::builder(auth_core::SecretString::from("s3cr3t"))
        .header("x-api-key")
        .unwrap()
        .build()
        .unwrap();
    let layer = AuthLayer::new(Arc::new(key));
    let service = tower::Layer::layer(&layer, ());
    assert!(!format!("{layer:?} {service:?}").contains("s3cr3t"));
}
