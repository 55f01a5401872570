//! The three-legged flow over HTTP against the embedded OAuth 1.0a server (which
//! verifies every request with this crate's `Verifier`), then a signed resource call;
//! and its failures as typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::HttpClient;
use auth_core::http::{HttpPolicy, HttpResponse};
use auth_core::{AuthRequest, Clock, ManualClock, SecretString};
use auth_oauth1::{
    Consumer, Error, Flow, FlowEndpoints, SignOptions, Signer, TokenCredentials,
    parse_credentials_answer,
};
use auth_testkit::oauth1::{OAuth1Config, OAuth1Server};

const KEY: &str = "dpf43f3p2l4k3l03";
const SECRET: &str = "kd94hf93k423kf44";

struct Fixture {
    clock: ManualClock,
    server: OAuth1Server,
    http: HttpClient,
}

fn fixture(config: OAuth1Config) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_750_000_000);
    let server = OAuth1Server::start(Arc::new(clock.clone()), config).unwrap();
    Fixture {
        clock,
        server,
        http: HttpClient::with_policy(HttpPolicy::default()).unwrap(),
    }
}

impl Fixture {
    fn flow(&self, secret: &str) -> Flow {
        self.flow_for(KEY, secret)
    }

    fn flow_for(&self, key: &str, secret: &str) -> Flow {
        let s = self.server.server();
        let c = self.server.config();
        Flow::new(
            Consumer::new(key, SecretString::from(secret)),
            FlowEndpoints {
                temporary: s.url(&c.temporary_path),
                authorize: s.url(&c.authorize_path),
                token: s.url(&c.token_path),
            },
            self.http.clone(),
            Arc::new(self.clock.clone()) as Arc<dyn Clock>,
        )
        .unwrap()
    }

    /// The simulated user approves; the verifier comes back on the callback URL.
    async fn approve(&self, flow: &Flow, temporary: &TokenCredentials) -> String {
        let url = flow.authorize_url(temporary, &[]);
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(location.path(), "/ready");
        location
            .query_pairs()
            .find(|(k, _)| k == "oauth_verifier")
            .map(|(_, v)| v.into_owned())
            .unwrap()
    }

    async fn call(&self, signer: &Signer, options: Option<SignOptions<'_>>) -> HttpResponse {
        let url = self
            .server
            .server()
            .url(&self.server.config().resource_path);
        let mut request: AuthRequest =
            http::Request::get(format!("{url}?file=vacation.jpg&size=original"))
                .body(bytes::Bytes::new())
                .unwrap();
        match options {
            Some(o) => signer.sign_with(&mut request, &o).unwrap(),
            None => signer.sign(&mut request).unwrap(),
        }
        self.http.send(request).await.unwrap()
    }

    fn signer(&self, access: TokenCredentials) -> Signer {
        Signer::builder(Consumer::new(KEY, SecretString::from(SECRET)))
            .token(access)
            .clock(Arc::new(self.clock.clone()))
            .build()
            .unwrap()
    }
}

fn problem(e: Error) -> String {
    match e {
        Error::Problem { problem, .. } => problem,
        other => panic!("expected an oauth_problem, got {other:?}"),
    }
}

#[tokio::test]
async fn full_flow_then_a_signed_resource_call() {
    let f = fixture(OAuth1Config::rfc5849(KEY, SECRET));
    let flow = f.flow(SECRET);
    let temporary = flow
        .temporary_credentials(Some("http://printer.example.com/ready"))
        .await
        .unwrap();
    assert!(temporary.callback_confirmed);
    let verifier = f.approve(&flow, &temporary.credentials).await;
    let access = flow
        .token_credentials(&temporary.credentials, Some(&verifier))
        .await
        .unwrap();
    assert_ne!(access.credentials.token(), temporary.credentials.token());

    let response = f.call(&f.signer(access.credentials.clone()), None).await;
    assert_eq!(
        response.status,
        200,
        "{:?}",
        String::from_utf8_lossy(&response.body)
    );
    // The temporary credentials are spent.
    assert_eq!(
        problem(
            flow.token_credentials(&temporary.credentials, Some(&verifier))
                .await
                .unwrap_err()
        ),
        "token_used"
    );
    assert_eq!(f.server.server().requests("/resource"), 1);
}

#[tokio::test]
async fn failures_are_typed() {
    let f = fixture(OAuth1Config::rfc5849(KEY, SECRET));
    let flow = f.flow(SECRET);

    // A wrong verifier.
    let temporary = flow
        .temporary_credentials(Some("http://printer.example.com/ready"))
        .await
        .unwrap();
    let _ = f.approve(&flow, &temporary.credentials).await;
    let err = flow
        .token_credentials(&temporary.credentials, Some("not-the-verifier"))
        .await
        .unwrap_err();
    assert_eq!(problem(err), "parameter_rejected");

    // Temporary credentials used after 11 minutes.
    let late = flow
        .temporary_credentials(Some("http://printer.example.com/ready"))
        .await
        .unwrap();
    let verifier = f.approve(&flow, &late.credentials).await;
    f.clock.advance(Duration::from_secs(11 * 60));
    let err = flow
        .token_credentials(&late.credentials, Some(&verifier))
        .await
        .unwrap_err();
    assert_eq!(problem(err), "token_expired");

    // A wrong consumer secret: the signature is refused.
    let err = f
        .flow("wrong-secret")
        .temporary_credentials(None)
        .await
        .unwrap_err();
    assert_eq!(problem(err.clone()), "signature_invalid");
    assert!(!format!("{err} {err:?}").contains("wrong-secret"));

    // A replayed nonce.
    let fresh = flow
        .temporary_credentials(Some("http://printer.example.com/ready"))
        .await
        .unwrap();
    let verifier = f.approve(&flow, &fresh.credentials).await;
    let access = flow
        .token_credentials(&fresh.credentials, Some(&verifier))
        .await
        .unwrap();
    let signer = f.signer(access.credentials);
    let now = auth_core::unix_seconds(f.clock.now());
    let fixed = SignOptions {
        nonce: Some("same-nonce"),
        timestamp: Some(now),
        ..Default::default()
    };
    assert_eq!(f.call(&signer, Some(fixed)).await.status, 200);
    let replay = f.call(&signer, Some(fixed)).await;
    let err = parse_credentials_answer(replay.status.as_u16(), &replay.headers, &replay.body)
        .unwrap_err();
    assert_eq!(problem(err), "nonce_used");

    // An unknown consumer.
    let stranger = f.flow_for("someone-else", SECRET);
    assert_eq!(
        problem(stranger.temporary_credentials(None).await.unwrap_err()),
        "consumer_key_unknown"
    );
}

#[tokio::test]
async fn an_unconfirmed_callback_is_refused_unless_allowed() {
    let mut config = OAuth1Config::rfc5849(KEY, SECRET);
    config.confirm_callback = false;
    let f = fixture(config);
    assert!(matches!(
        f.flow(SECRET)
            .temporary_credentials(Some("http://printer.example.com/ready"))
            .await,
        Err(Error::CallbackNotConfirmed)
    ));
    let lenient = f.flow(SECRET).allow_unconfirmed_callback();
    assert!(
        lenient
            .temporary_credentials(Some("http://printer.example.com/ready"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn revision_a_needs_a_verifier_and_oauth_1_0_goes_without() {
    let mut config = OAuth1Config::rfc5849(KEY, SECRET);
    config.confirm_callback = false;
    config.require_callback = false;
    config.require_verifier = false;
    let f = fixture(config);

    // RFC 5849 refuses to send step 3 without a verifier, before any request.
    let strict = f.flow(SECRET).allow_unconfirmed_callback();
    let temporary = strict
        .temporary_credentials(None)
        .await
        .unwrap()
        .credentials;
    assert!(matches!(
        strict.token_credentials(&temporary, None).await,
        Err(Error::MissingParameter("oauth_verifier"))
    ));
    assert_eq!(f.server.server().requests("/token"), 0);

    // OAuth 1.0: no oauth_callback at step 1 (the server saw none: it would have sent
    // the browser there), no verifier at step 3 once the user approved.
    let legacy = f.flow(SECRET).oauth_1_0();
    let temporary = legacy
        .temporary_credentials(None)
        .await
        .unwrap()
        .credentials;
    let page = reqwest::get(legacy.authorize_url(&temporary, &[]))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.starts_with(&format!("oauth_token={}", temporary.token())),
        "{page}"
    );
    let access = legacy.token_credentials(&temporary, None).await.unwrap();
    assert_eq!(
        f.call(&f.signer(access.credentials), None).await.status,
        200
    );
}
