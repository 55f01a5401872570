//! [`TestServer`]: an HTTP/1.1 server on an ephemeral loopback port, run on its own
//! thread so that it works under any test runtime (or none).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{Method, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;
use url::Url;

use crate::fault::Fault;
use crate::request::{Counters, TestRequest, TestResponse};

/// A route handler: a function of the request. State lives in what it captures.
pub type Handler = Arc<dyn Fn(&TestRequest) -> TestResponse + Send + Sync>;

type Body = BoxBody<Bytes, io::Error>;

/// Largest request body a test server reads.
const MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// Declares the routes of a [`TestServer`].
pub struct ServerBuilder {
    name: String,
    routes: Vec<(Method, String, Handler)>,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("name", &self.name)
            .field(
                "routes",
                &self
                    .routes
                    .iter()
                    .map(|(m, p, _)| format!("{m} {p}"))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl ServerBuilder {
    /// A server called `name` (shown in logs and panics), with no routes yet.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            routes: Vec::new(),
        }
    }

    /// Answers `method path` with `handler`. A segment written `{name}` matches any
    /// one non-empty segment, which the handler reads with [`TestRequest::param`].
    /// Unknown paths get 404; a known path with another method gets 405.
    #[must_use]
    pub fn route(
        mut self,
        method: Method,
        path: &str,
        handler: impl Fn(&TestRequest) -> TestResponse + Send + Sync + 'static,
    ) -> Self {
        self.routes
            .push((method, path.to_owned(), Arc::new(handler)));
        self
    }

    /// Binds `127.0.0.1:0` and starts serving on a thread of its own.
    pub fn start(self) -> io::Result<TestServer> {
        // Tests talk to the servers with reqwest clients of their own: TLS needs a
        // process-wide crypto provider in place (see `ensure_crypto_provider`).
        auth_core::reqwest::ensure_crypto_provider();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let base_url = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let shared = Arc::new(Shared {
            name: self.name,
            routes: self.routes,
            counters: Mutex::new(Counters::default()),
            faults: Mutex::new(VecDeque::new()),
            delays: Mutex::new(VecDeque::new()),
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let serving = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(format!("testkit-{}", shared.name))
            .spawn(move || runtime.block_on(serve(listener, serving, stop_rx)))?;
        Ok(TestServer {
            addr,
            base_url,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

struct Shared {
    name: String,
    routes: Vec<(Method, String, Handler)>,
    counters: Mutex<Counters>,
    faults: Mutex<VecDeque<Injected>>,
    delays: Mutex<VecDeque<Injected>>,
}

#[derive(Debug)]
struct Injected {
    path: Option<String>,
    fault: Fault,
    remaining: u32,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running server. Stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    base_url: Url,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("name", &self.shared.name)
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

impl TestServer {
    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base_url.clone();
        url.set_path(path);
        url
    }

    /// Requests received at `path`, any method, faults included.
    pub fn requests(&self, path: &str) -> u64 {
        lock(&self.shared.counters)
            .by_path
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// Requests received in all.
    pub fn total_requests(&self) -> u64 {
        lock(&self.shared.counters).total
    }

    /// Sets every counter to zero.
    pub fn reset_counters(&self) {
        *lock(&self.shared.counters) = Counters::default();
    }

    /// Misbehaves with `fault` for the next `times` requests, whatever their path.
    pub fn inject(&self, fault: Fault, times: u32) {
        self.push_fault(None, fault, times);
    }

    /// Misbehaves with `fault` for the next `times` requests to `path`.
    pub fn inject_on(&self, path: &str, fault: Fault, times: u32) {
        self.push_fault(Some(path.to_owned()), fault, times);
    }

    /// Holds the next `times` requests to `path` for `delay` before answering them
    /// (normally, or with an injected fault): a slow server, independent of faults.
    pub fn slow_down(&self, path: &str, delay: Duration, times: u32) {
        if times > 0 {
            lock(&self.shared.delays).push_back(Injected {
                path: Some(path.to_owned()),
                fault: Fault::Delay(delay),
                remaining: times,
            });
        }
    }

    /// Forgets every fault and slow-down not yet served.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
        lock(&self.shared.delays).clear();
    }

    fn push_fault(&self, path: Option<String>, fault: Fault, times: u32) {
        if times > 0 {
            lock(&self.shared.faults).push_back(Injected {
                path,
                fault,
                remaining: times,
            });
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else { continue };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(&shared, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(shared: &Shared, request: hyper::Request<Incoming>) -> hyper::Response<Body> {
    let (parts, body) = request.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
    };
    let request = TestRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        path_params: Vec::new(),
    };
    {
        let mut counters = lock(&shared.counters);
        counters.total += 1;
        *counters.by_path.entry(request.path.clone()).or_insert(0) += 1;
    }
    if let Some(Fault::Delay(delay)) = take_fault(&shared.delays, &request.path) {
        tokio::time::sleep(delay).await;
    }
    let fault = take_fault(&shared.faults, &request.path);
    match fault {
        Some(Fault::ServerError) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal server error (injected)",
        ),
        Some(Fault::TooManyRequests { retry_after }) => {
            let mut response = plain(StatusCode::TOO_MANY_REQUESTS, "slow down (injected)");
            if let Ok(v) = http::HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                response.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
            response
        }
        Some(Fault::MalformedJson) => {
            let mut response = full(
                StatusCode::OK,
                Bytes::from_static(b"{\"access_token\": \"abc\", \"expires_in\": 36"),
            );
            set_type(&mut response, "application/json");
            response
        }
        Some(Fault::HtmlPage(status)) => {
            let mut response = full(
                status,
                Bytes::from_static(b"<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1></body></html>"),
            );
            set_type(&mut response, "text/html; charset=utf-8");
            response
        }
        Some(Fault::OversizedBody(size)) => {
            let mut body = Vec::with_capacity(size);
            body.extend_from_slice(b"{\"padding\":\"");
            body.resize(size.saturating_sub(2).max(body.len()), b'x');
            body.extend_from_slice(b"\"}");
            let mut response = full(StatusCode::OK, Bytes::from(body));
            set_type(&mut response, "application/json");
            response
        }
        Some(Fault::Redirect(location)) => {
            let mut response = full(StatusCode::FOUND, Bytes::new());
            if let Ok(v) = http::HeaderValue::from_str(&location) {
                response.headers_mut().insert(http::header::LOCATION, v);
            }
            response
        }
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            into_hyper(route(shared, &request))
        }
        Some(Fault::TruncatedBody) => truncated(route(shared, &request)),
        Some(Fault::TrickleBody(pause)) => trickled(route(shared, &request), pause),
        Some(Fault::CommitThen(status)) => {
            // The handler runs and its state changes stand; only its answer is lost.
            // The wire log records what was sent.
            drop(dispatch(shared, &request));
            let lost = TestResponse::text(status, "the answer was lost after commit (injected)");
            crate::wire::observe(&request, &lost);
            into_hyper(lost)
        }
        None => into_hyper(route(shared, &request)),
    }
}

fn take_fault(queue: &Mutex<VecDeque<Injected>>, path: &str) -> Option<Fault> {
    let mut faults = lock(queue);
    let index = faults
        .iter()
        .position(|f| f.path.as_deref().is_none_or(|p| p == path))?;
    let entry = faults.get_mut(index)?;
    entry.remaining -= 1;
    let fault = entry.fault.clone();
    if entry.remaining == 0 {
        faults.remove(index);
    }
    Some(fault)
}

fn route(shared: &Shared, request: &TestRequest) -> TestResponse {
    let response = dispatch(shared, request);
    crate::wire::observe(request, &response);
    response
}

fn dispatch(shared: &Shared, request: &TestRequest) -> TestResponse {
    let mut path_known = false;
    for (method, pattern, handler) in &shared.routes {
        let Some(params) = match_path(pattern, &request.path) else {
            continue;
        };
        path_known = true;
        if *method == request.method {
            if params.is_empty() {
                return handler(request);
            }
            let mut request = request.clone();
            request.path_params = params;
            return handler(&request);
        }
    }
    if path_known {
        TestResponse::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    } else {
        TestResponse::text(StatusCode::NOT_FOUND, "not found")
    }
}

/// The `{name}` segments of `pattern` that `path` fills, or `None` when it does not
/// match.
fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    if pattern == path {
        return Some(Vec::new());
    }
    if !pattern.contains('{') {
        return None;
    }
    let mut want = pattern.split('/');
    let mut got = path.split('/');
    let mut params = Vec::new();
    loop {
        match (want.next(), got.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(g)) => {
                if let Some(name) = w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                    if g.is_empty() {
                        return None;
                    }
                    let value = percent_encoding::percent_decode_str(g).decode_utf8().ok()?;
                    params.push((name.to_owned(), value.into_owned()));
                } else if w != g {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

fn full(status: StatusCode, body: Bytes) -> hyper::Response<Body> {
    let mut response =
        hyper::Response::new(Full::new(body).map_err(|never| match never {}).boxed());
    *response.status_mut() = status;
    response
}

fn plain(status: StatusCode, text: &'static str) -> hyper::Response<Body> {
    let mut response = full(status, Bytes::from_static(text.as_bytes()));
    set_type(&mut response, "text/plain");
    response
}

fn set_type(response: &mut hyper::Response<Body>, content_type: &'static str) {
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
}

fn into_hyper(answer: TestResponse) -> hyper::Response<Body> {
    let mut response = full(answer.status, answer.body);
    *response.headers_mut() = answer.headers;
    response
}

/// The answer with `Content-Length` of the whole body, half of it sent, then an error
/// that makes the server drop the connection.
fn truncated(answer: TestResponse) -> hyper::Response<Body> {
    let total = answer.body.len().max(2);
    let half = answer.body.slice(..answer.body.len() / 2);
    let frames = stream::iter(vec![
        Ok(Frame::data(half)),
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "truncated (injected)",
        )),
    ]);
    let mut response = hyper::Response::new(BodyExt::boxed(StreamBody::new(frames)));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    if let Ok(v) = http::HeaderValue::from_str(&total.to_string()) {
        response
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, v);
    }
    response
}

/// The answer with its body sent one byte at a time, `pause` apart.
fn trickled(answer: TestResponse, pause: std::time::Duration) -> hyper::Response<Body> {
    let body = answer.body;
    let frames = stream::unfold(0usize, move |sent| {
        let body = body.clone();
        async move {
            if sent >= body.len() {
                return None;
            }
            tokio::time::sleep(pause).await;
            Some((Ok(Frame::data(body.slice(sent..sent + 1))), sent + 1))
        }
    });
    let mut response = hyper::Response::new(BodyExt::boxed(StreamBody::new(frames)));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    response
}
