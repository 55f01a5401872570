//! `e2e_overhead`: whole calls over loopback HTTP/1.1 through each way of putting a
//! provider in front of a client, each next to the same calls with a prebuilt
//! `Authorization` header on the same client, in one run:
//!
//! - `authorized-client`: [`AuthorizedClient`] over reqwest ([`ReqwestTransport`]),
//!   against `http-client-prebuilt`, the same [`HttpClient`] sending the request
//!   with the header already on it;
//! - `tower-layer`: [`AuthLayer`] over hyper-util's legacy client, against
//!   `hyper-prebuilt`, the same hyper client called directly;
//! - `reqwest-middleware`: [`AuthMiddleware`] in a reqwest-middleware client, against
//!   `reqwest-prebuilt`, the same `reqwest::Client` called directly.
//!   `reqwest-middleware-stack-prebuilt` (a middleware client without the layer, the
//!   header prebuilt) is beside them to show the middleware framework's own share.
//!
//! The provider is a [`CachingProvider`] over a static [`TokenSource`], primed: a
//! cached bearer token. One iteration is a round of [`CALLERS`] concurrent callers
//! (tasks) making [`CALLS`] calls each, every response read whole; criterion reports
//! the time per round and calls per second. The throughput ratio is
//! `prebuilt / authorized` time. Target: at least 0.95.
//!
//! The server is a minimal hyper HTTP/1.1 server in this process (it answers `200 ok`
//! when an `Authorization` header is present, `401` otherwise, and the clients check
//! the status), every connection kept alive, so that a round measures calls, not
//! handshakes. The test kit's `ServerBuilder` made the same rounds about 1.8x slower
//! (hyper's client, its server on a thread of its own): it would have been the
//! bottleneck. Clients and server share one current-thread runtime, so that a call
//! costs its client's and the server's CPU time added up, and nothing else: on the
//! two-vCPU machine this was written on, a two-worker runtime moved the same round's
//! time by up to 2x from run to run (tasks and wake-ups migrating between the
//! workers), which drowned any ratio. The ratio is therefore the client-side
//! overhead against a whole loopback exchange, the server's share included (about a
//! third of a call's CPU time with reqwest, two fifths with hyper's client).
//! `AUTH_BENCH_E2E_WORKERS=N` runs the same on a multi-thread runtime of `N` workers,
//! for machines with cores to spare.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use auth_core::http::{AuthorizedClient, HttpClient, HttpPolicy};
use auth_core::reqwest::ReqwestTransport;
use auth_core::{
    CachingProvider, Clock, CredentialProvider, Error, SystemClock, Token, TokenSource,
};
use auth_reqwest_middleware::AuthMiddleware;
use auth_tower::{AuthBody, AuthLayer};
use bytes::Bytes;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use http::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Either, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

/// Concurrent callers per round.
const CALLERS: usize = 256;
/// Calls per caller per round.
const CALLS: usize = 8;

#[derive(Debug)]
struct Static;

#[async_trait]
impl TokenSource for Static {
    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
        Ok(Token::bearer(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiIyIiwic3ViIjoiMSJ9.c2lnbmF0dXJl",
            SystemClock.now(),
        )
        .expires_in(Duration::from_secs(3600)))
    }
}

/// The server: `200 ok` with an `Authorization` header, `401` without.
async fn serve(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|request: Request<Incoming>| async move {
                let status = if request.headers().contains_key(AUTHORIZATION) {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                };
                let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
                *response.status_mut() = status;
                Ok::<_, Infallible>(response)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Runs one round: [`CALLERS`] tasks, each awaiting `call` [`CALLS`] times.
fn round<F, Fut>(runtime: &Runtime, call: &F) -> Duration
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    runtime.block_on(async {
        let started = Instant::now();
        let callers: Vec<_> = (0..CALLERS)
            .map(|_| {
                let call = call.clone();
                tokio::spawn(async move {
                    for _ in 0..CALLS {
                        call().await;
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.await.expect("caller");
        }
        started.elapsed()
    })
}

fn bench<F, Fut>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    runtime: &Runtime,
    name: &str,
    call: F,
) where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    group.bench_function(name, |b| {
        b.iter_custom(|rounds| (0..rounds).map(|_| round(runtime, &call)).sum());
    });
}

fn e2e_overhead(c: &mut Criterion) {
    let workers = std::env::var("AUTH_BENCH_E2E_WORKERS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n > 0);
    let runtime = match workers {
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    }
    .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    runtime.spawn(serve(listener));
    let url = format!("http://{addr}/app/v3/organization/f6a1/show?expand=all");

    let caching = CachingProvider::new(Static);
    let prebuilt: HeaderValue = runtime
        .block_on(caching.token())
        .expect("token")
        .header()
        .clone();
    let provider: Arc<dyn CredentialProvider> = Arc::new(caching);
    let template: Request<Bytes> = Request::get(url.as_str())
        .header(ACCEPT, "application/json")
        .body(Bytes::new())
        .expect("request");
    let mut with_header = template.clone();
    with_header
        .headers_mut()
        .insert(AUTHORIZATION, prebuilt.clone());
    auth_core::reqwest::ensure_crypto_provider();

    let mut group = c.benchmark_group("e2e_overhead");
    group
        .throughput(Throughput::Elements((CALLERS * CALLS) as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10);

    // (a) AuthorizedClient over reqwest, and the same HttpClient with the header.
    {
        let http = HttpClient::new(
            Arc::new(ReqwestTransport::from_builder(reqwest::Client::builder()).expect("client")),
            HttpPolicy::default(),
        );
        let authorized = AuthorizedClient::new(http.clone(), Arc::clone(&provider));
        let request = template.clone();
        bench(&mut group, &runtime, "authorized-client", move || {
            let (client, request) = (authorized.clone(), request.clone());
            async move {
                let response = client.send(request).await.expect("sent");
                assert_eq!(response.status, StatusCode::OK);
            }
        });
        let request = with_header.clone();
        bench(&mut group, &runtime, "http-client-prebuilt", move || {
            let (client, request) = (http.clone(), request.clone());
            async move {
                let response = client.send(request).await.expect("sent");
                assert_eq!(response.status, StatusCode::OK);
            }
        });
    }

    // (b) The tower layer over hyper-util's client, and the same client with the header.
    {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let hyper: Client<HttpConnector, AuthBody<Full<Bytes>>> =
            Client::builder(TokioExecutor::new()).build(connector);
        let layered = tower::ServiceBuilder::new()
            .layer(AuthLayer::new(Arc::clone(&provider)))
            .service(hyper.clone());
        let request = template.clone().map(Full::new);
        bench(&mut group, &runtime, "tower-layer", move || {
            let (service, request) = (layered.clone(), request.clone());
            async move {
                let response = service.oneshot(request).await.expect("sent");
                assert_eq!(response.status(), StatusCode::OK);
                response.into_body().collect().await.expect("body");
            }
        });
        let request = with_header.clone().map(|b| Either::Left(Full::new(b)));
        bench(&mut group, &runtime, "hyper-prebuilt", move || {
            let (client, request) = (hyper.clone(), request.clone());
            async move {
                let response = client.request(request).await.expect("sent");
                assert_eq!(response.status(), StatusCode::OK);
                response.into_body().collect().await.expect("body");
            }
        });
    }

    // (c) The reqwest middleware, and the same reqwest::Client with the header.
    {
        let plain = reqwest::Client::builder().build().expect("client");
        let middleware = reqwest_middleware::ClientBuilder::new(plain.clone())
            .with(AuthMiddleware::new(Arc::clone(&provider)))
            .build();
        let bare_stack = reqwest_middleware::ClientBuilder::new(plain.clone()).build();
        let target = url.clone();
        bench(&mut group, &runtime, "reqwest-middleware", move || {
            let request = middleware
                .get(target.as_str())
                .header(ACCEPT, "application/json");
            async move {
                let response = request.send().await.expect("sent");
                assert_eq!(response.status(), StatusCode::OK);
                response.bytes().await.expect("body");
            }
        });
        let (target, header) = (url.clone(), prebuilt.clone());
        bench(&mut group, &runtime, "reqwest-prebuilt", move || {
            let request = plain
                .get(target.as_str())
                .header(ACCEPT, "application/json")
                .header(AUTHORIZATION, header.clone());
            async move {
                let response = request.send().await.expect("sent");
                assert_eq!(response.status(), StatusCode::OK);
                response.bytes().await.expect("body");
            }
        });
        let (target, header) = (url.clone(), prebuilt.clone());
        bench(
            &mut group,
            &runtime,
            "reqwest-middleware-stack-prebuilt",
            move || {
                let request = bare_stack
                    .get(target.as_str())
                    .header(ACCEPT, "application/json")
                    .header(AUTHORIZATION, header.clone());
                async move {
                    let response = request.send().await.expect("sent");
                    assert_eq!(response.status(), StatusCode::OK);
                    response.bytes().await.expect("body");
                }
            },
        );
    }
    group.finish();
}

criterion_group!(benches, e2e_overhead);
criterion_main!(benches);
