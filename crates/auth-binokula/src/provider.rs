//! [`SsoUser`]: one user's SSO session, as a [`CredentialProvider`].

use std::fmt;
use std::sync::Arc;

use auth_core::{AuthRequest, Authorize, CredentialProvider, ExposeSecret};
use url::Url;

use crate::client::Api;
use crate::sso::UserProvider;
use crate::{Email, Error, SsoToken, SsoUrl};

/// One user's SSO session, from [`Binokula::user`](crate::Binokula::user): the user's
/// token, cached under Binokula's rule of one active token per user (one issuance for
/// any number of concurrent callers, renewed before its hour ends, never handed out
/// once replaced). Cheap to clone; every `SsoUser` for the same user of one
/// [`Binokula`](crate::Binokula) shares the cache. While an `SsoUser` is held, its
/// user's cached token stays in the [`Binokula`](crate::Binokula)'s bounded cache
/// (see [`BinokulaBuilder::cache_capacity`](crate::BinokulaBuilder::cache_capacity)).
///
/// As a [`CredentialProvider`] it signs a request to the app in as the user: it sets
/// the `ExternalAccess` parameters (`email`, `access_token`, `tenant`) on the
/// request's query, replacing any of the same name. [`sso_url`](Self::sso_url) is the
/// same for a browser redirect.
#[derive(Clone)]
pub struct SsoUser {
    api: Arc<Api>,
    email: Email,
    cache: UserProvider,
}

impl fmt::Debug for SsoUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoUser")
            .field("email", &self.email)
            .field("tenant", &self.api.config.tenant())
            .finish_non_exhaustive()
    }
}

impl SsoUser {
    pub(crate) fn new(api: Arc<Api>, email: Email, cache: UserProvider) -> Self {
        Self { api, email, cache }
    }

    /// The user.
    pub fn email(&self) -> &Email {
        &self.email
    }

    /// The user's current token: the cached one, or a new one.
    pub async fn token(&self) -> Result<SsoToken, Error> {
        let cached = self.cache.token().await.map_err(Error::from_core)?;
        let token = cached.token();
        Ok(SsoToken {
            email: self.email.as_str().to_owned(),
            access_token: token.access_token().clone(),
            expires_at: token.expiry().unwrap_or_else(|| token.issued_at()),
        })
    }

    /// The user's `ExternalAccess` URL with the current token, to redirect the
    /// browser to.
    pub async fn sso_url(&self) -> Result<SsoUrl, Error> {
        let token = self.token().await?;
        Ok(self.api.external_access_url(&token))
    }

    /// Forgets the cached token (after disabling or deleting the user): the next
    /// call issues a new one.
    pub fn forget(&self) {
        self.cache.clear();
    }
}

/// The query parameters `ExternalAccess` reads.
const PARAMS: [&str; 3] = ["email", "access_token", "tenant"];

fn set_params(
    request: &mut AuthRequest,
    token: &SsoToken,
    tenant: &str,
) -> Result<(), auth_core::Error> {
    let mut url = Url::parse(&request.uri().to_string())
        .map_err(|_| auth_core::Error::Request("the request URI is not an absolute URL".into()))?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("email", &token.email)
        .append_pair("access_token", token.access_token.expose_secret())
        .append_pair("tenant", tenant);
    *request.uri_mut() = url
        .as_str()
        .parse()
        .map_err(|_| auth_core::Error::Request("the signed URI is not a valid URI".into()))?;
    Ok(())
}

impl CredentialProvider for SsoUser {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        Authorize::new(async move {
            let token = self.token().await?;
            set_params(request, &token, self.api.config.tenant())
        })
    }

    /// Drops the cached token if it is the one on `request` (a newer one stays): the
    /// next request carries a new token.
    fn invalidate(&self, request: &AuthRequest) -> bool {
        let sent = Url::parse(&request.uri().to_string()).ok().and_then(|url| {
            url.query_pairs()
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        });
        if let (Some(sent), Some(cached)) = (sent, self.cache.peek())
            && auth_core::internal::constant_time_eq(
                sent.as_bytes(),
                cached.token().access_token().expose_secret().as_bytes(),
            )
        {
            self.cache.discard(&cached);
        }
        true
    }
}
