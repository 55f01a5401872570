//! The three-legged flow (RFC 5849 §2): temporary credentials, the resource owner's
//! authorization, token credentials.

use std::fmt;

use auth_core::http::HttpClient;
use auth_core::http::Repeat;
use auth_core::{AuthRequest, Clock};
use bytes::Bytes;
use url::Url;

use crate::answer::{CredentialsAnswer, parse_credentials_answer};
use crate::{Consumer, Error, SignOptions, SignatureMethod, Signer, TokenCredentials};

/// The endpoints of one server.
#[derive(Debug, Clone)]
pub struct FlowEndpoints {
    /// Temporary credential request (§2.1), for example `/oauth/request_token`.
    pub temporary: Url,
    /// Resource owner authorization (§2.2), opened in the user's browser.
    pub authorize: Url,
    /// Token request (§2.3).
    pub token: Url,
}

/// Runs the three-legged flow for one consumer.
pub struct Flow {
    consumer: Consumer,
    endpoints: FlowEndpoints,
    method: SignatureMethod,
    http: HttpClient,
    clock: std::sync::Arc<dyn Clock>,
    require_callback_confirmed: bool,
    revision: Revision,
}

/// Which revision of the protocol the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Revision {
    /// RFC 5849 (OAuth Core 1.0 Revision A).
    OAuth10a,
    /// OAuth Core 1.0 (2007), before revision A.
    OAuth10,
}

impl fmt::Debug for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flow")
            .field("consumer", &self.consumer)
            .field("endpoints", &self.endpoints)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl Flow {
    /// A flow with HMAC-SHA1, refusing temporary credentials without
    /// `oauth_callback_confirmed=true` (RFC 5849 §2.1).
    pub fn new(
        consumer: Consumer,
        endpoints: FlowEndpoints,
        http: HttpClient,
        clock: std::sync::Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        for url in [&endpoints.temporary, &endpoints.authorize, &endpoints.token] {
            http.check_url(url)?;
        }
        Ok(Self {
            consumer,
            endpoints,
            method: SignatureMethod::HmacSha1,
            http,
            clock,
            require_callback_confirmed: true,
            revision: Revision::OAuth10a,
        })
    }

    /// The signature method (default HMAC-SHA1).
    #[must_use]
    pub fn method(mut self, method: SignatureMethod) -> Self {
        self.method = method;
        self
    }

    /// Accepts temporary credentials without `oauth_callback_confirmed=true`, for
    /// servers that never send it (OAuth 1.0 without the "a", some vendors).
    #[must_use]
    pub fn allow_unconfirmed_callback(mut self) -> Self {
        self.require_callback_confirmed = false;
        self
    }

    /// Speaks OAuth Core 1.0 as published in 2007, before revision A, as some vendors
    /// (Bynder) still do: step 1 sends `oauth_callback` only when one is given and does
    /// not expect `oauth_callback_confirmed` (the callback usually travels in the
    /// authorize URL instead), and step 3 may go without a verifier.
    ///
    /// Revision A exists because this is open to session fixation; use it only for a
    /// server that offers nothing else.
    #[must_use]
    pub fn oauth_1_0(mut self) -> Self {
        self.revision = Revision::OAuth10;
        self.require_callback_confirmed = false;
        self
    }

    /// Step 1 (§2.1): temporary credentials, with `oauth_callback` (`oob` when there is
    /// no callback; nothing under [`Flow::oauth_1_0`]), signed with the consumer
    /// credentials only.
    pub async fn temporary_credentials(
        &self,
        callback: Option<&str>,
    ) -> Result<CredentialsAnswer, Error> {
        let signer = self.signer(None)?;
        let callback = match self.revision {
            Revision::OAuth10a => Some(callback.unwrap_or("oob")),
            Revision::OAuth10 => callback,
        };
        let options = SignOptions {
            callback,
            ..Default::default()
        };
        let answer = self
            .post(&signer, &self.endpoints.temporary, &options)
            .await?;
        if self.require_callback_confirmed && !answer.callback_confirmed {
            return Err(Error::CallbackNotConfirmed);
        }
        Ok(answer)
    }

    /// Step 2 (§2.2): the URL to send the user's browser to, with `oauth_token` and any
    /// extra parameters (for example a vendor's `callback`).
    pub fn authorize_url(&self, temporary: &TokenCredentials, extra: &[(&str, &str)]) -> Url {
        let mut url = self.endpoints.authorize.clone();
        url.query_pairs_mut()
            .append_pair("oauth_token", temporary.token())
            .extend_pairs(extra);
        url
    }

    /// Step 3 (§2.3): exchanges the temporary credentials and the verifier for token
    /// credentials. The verifier is required by RFC 5849; `None` is accepted only under
    /// [`Flow::oauth_1_0`].
    pub async fn token_credentials(
        &self,
        temporary: &TokenCredentials,
        verifier: Option<&str>,
    ) -> Result<CredentialsAnswer, Error> {
        if verifier.is_none() && self.revision == Revision::OAuth10a {
            return Err(Error::MissingParameter("oauth_verifier"));
        }
        let signer = self.signer(Some(temporary.clone()))?;
        let options = SignOptions {
            verifier,
            ..Default::default()
        };
        self.post(&signer, &self.endpoints.token, &options).await
    }

    fn signer(&self, token: Option<TokenCredentials>) -> Result<Signer, Error> {
        let mut builder = Signer::builder(self.consumer.clone())
            .method(self.method)
            .clock(std::sync::Arc::clone(&self.clock));
        if let Some(token) = token {
            builder = builder.token(token);
        }
        builder.build()
    }

    /// One credentials request, traced as an `oauth1_credentials` span (the step, the
    /// consumer key, the outcome and the latency).
    async fn post(
        &self,
        signer: &Signer,
        url: &Url,
        options: &SignOptions<'_>,
    ) -> Result<CredentialsAnswer, Error> {
        let step = if options.verifier.is_some() || signer.has_token() {
            "token_credentials"
        } else {
            "temporary_credentials"
        };
        let span = tracing::debug_span!(
            "oauth1_credentials",
            step,
            consumer_key = %self.consumer.key(),
            outcome = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        auth_core::internal::record_outcome(
            &span,
            std::time::Instant::now(),
            self.post_signed(signer, url, options),
        )
        .await
    }

    async fn post_signed(
        &self,
        signer: &Signer,
        url: &Url,
        options: &SignOptions<'_>,
    ) -> Result<CredentialsAnswer, Error> {
        let mut request: AuthRequest = http::Request::post(url.as_str())
            .body(Bytes::new())
            .map_err(|_| Error::InvalidUri("the endpoint is not a valid URI"))?;
        signer.sign_with(&mut request, options)?;
        // A credential request carries a nonce (and a verifier) the server may already
        // have spent: sent again only when it never reached the server.
        let response = self.http.send_as(request, Repeat::Unsent).await?;
        if response.status.is_redirection() {
            return Err(Error::Core(response.to_error()));
        }
        parse_credentials_answer(response.status.as_u16(), &response.headers, &response.body)
    }
}
