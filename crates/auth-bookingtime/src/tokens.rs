//! The two stages as token sources, so that the core `CachingProvider` caches each,
//! renews it before it ends, and makes concurrent callers share one request.
//!
//! - [`RefreshTokens`]: stage one. Its "token" is the refresh token (30 days), never
//!   sent to the App API; an app gets a new one with client_credentials, a user's
//!   ends the session.
//! - [`OrganizationTokens`]: stage two, one per organization. The refresh token, the
//!   client ID and the `organization_id` give a 5-minute access token.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{CachingProvider, Error as CoreError, Refusal, Token, TokenSource};
use auth_oauth2::{OAuth2Client, TokenResponse};

use crate::{Error, OrganizationId};

/// What the documentation gives as the refresh token's lifetime, used when an answer
/// leaves `expires_in` out.
pub(crate) const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Where stage one's refresh tokens come from.
pub(crate) enum Origin {
    /// App authentication: client_credentials, again whenever one ends.
    App,
    /// User authentication: the refresh token of the code exchange, once.
    User(Mutex<Option<Token>>),
}

/// Stage one.
pub(crate) struct RefreshTokens {
    client: OAuth2Client,
    origin: Origin,
}

impl fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = match self.origin {
            Origin::App => "app",
            Origin::User(_) => "user",
        };
        f.debug_struct("RefreshTokens")
            .field("client", &self.client)
            .field("origin", &origin)
            .finish()
    }
}

impl RefreshTokens {
    pub(crate) fn app(client: OAuth2Client) -> Self {
        Self {
            client,
            origin: Origin::App,
        }
    }

    pub(crate) fn user(client: OAuth2Client, first: Token) -> Self {
        Self {
            client,
            origin: Origin::User(Mutex::new(Some(first))),
        }
    }
}

/// A stage-one answer as a token whose secret is the refresh token.
pub(crate) fn refresh_token_of(
    client: &OAuth2Client,
    response: &TokenResponse,
) -> Result<Token, CoreError> {
    let refresh = response
        .refresh_token
        .clone()
        .ok_or_else(|| CoreError::InvalidResponse {
            status: None,
            reason: "bookingtime answered without a refresh token".into(),
        })?;
    let lifetime = response.expires_in.unwrap_or(REFRESH_TOKEN_LIFETIME);
    Ok(Token::new(response.scheme(), refresh, client.clock().now()).expires_in(lifetime))
}

#[async_trait]
impl TokenSource for RefreshTokens {
    fn grant(&self) -> &'static str {
        match &self.origin {
            Origin::App => "client_credentials",
            Origin::User(_) => "authorization_code",
        }
    }

    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, CoreError> {
        match &self.origin {
            Origin::App => {
                let response = self
                    .client
                    .client_credentials(None, &[])
                    .await
                    .map_err(|e| CoreError::from(Error::from(e)))?;
                refresh_token_of(&self.client, &response)
            }
            Origin::User(first) => first
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .ok_or_else(|| Error::SignInRequired.into()),
        }
    }
}

/// Stage two for one organization.
pub(crate) struct OrganizationTokens {
    /// The client that sends the exchange: the client ID alone, as documented.
    exchange: OAuth2Client,
    refresh: Arc<CachingProvider<RefreshTokens>>,
    organization: OrganizationId,
}

impl fmt::Debug for OrganizationTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrganizationTokens")
            .field("organization", &self.organization)
            .finish_non_exhaustive()
    }
}

impl OrganizationTokens {
    pub(crate) fn new(
        exchange: OAuth2Client,
        refresh: Arc<CachingProvider<RefreshTokens>>,
        organization: OrganizationId,
    ) -> Self {
        Self {
            exchange,
            refresh,
            organization,
        }
    }

    async fn exchange_once(&self) -> Result<Token, (CoreError, bool)> {
        let refresh = self.refresh.token().await.map_err(|e| (e, false))?;
        let extra = [("organization_id", self.organization.as_str())];
        match self
            .exchange
            .refresh(refresh.token().access_token(), None, &extra)
            .await
        {
            Ok(response) => response
                .to_token(self.exchange.clock().now(), None)
                .ok_or_else(|| {
                    let reason = "bookingtime answered the exchange without an access token";
                    (
                        CoreError::InvalidResponse {
                            status: None,
                            reason: reason.into(),
                        },
                        false,
                    )
                }),
            Err(e) => {
                let e = CoreError::from(e);
                match e.refusal() {
                    // The refresh token was revoked or ended early: drop it so the next
                    // attempt gets another (an app's from stage one, a user's: sign in).
                    Some(Refusal::GrantRejected) => {
                        self.refresh.discard(&refresh);
                        Err((e, true))
                    }
                    // The document does not say how a refused organization is
                    // answered: RFC 8707's `invalid_target` (a code the OAuth layer
                    // does not sort) or `access_denied`.
                    Some(Refusal::Other | Refusal::AccessDenied) => {
                        Err((self.not_permitted(), false))
                    }
                    _ => Err((Error::from(e).into(), false)),
                }
            }
        }
    }

    fn not_permitted(&self) -> CoreError {
        Error::OrganizationNotPermitted {
            organization: self.organization.clone(),
        }
        .into()
    }
}

#[async_trait]
impl TokenSource for OrganizationTokens {
    fn grant(&self) -> &'static str {
        "refresh_token"
    }

    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, CoreError> {
        match self.exchange_once().await {
            Ok(token) => Ok(token),
            Err((_, true)) => {
                tracing::debug!(organization = %self.organization, "refresh token refused; getting another");
                self.exchange_once().await.map_err(|(e, _)| e)
            }
            Err((e, false)) => Err(e),
        }
    }
}
