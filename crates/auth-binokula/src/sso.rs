//! SSO tokens ([`SsoToken`], [`SsoUrl`]) and the per-user cache behind
//! [`Binokula::user`](crate::Binokula::user), under the rule that only one token per
//! user is active.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use auth_core::{
    CachingProvider, ExposeSecret, RefreshPolicy, SecretString, StoreKey, Token, TokenSource,
    TokenStore,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::client::Api;
use crate::{Email, Error, SsoUser};

/// An SSO access token for one user: valid one hour, and the only active one for that
/// user until another is issued.
#[derive(Clone)]
pub struct SsoToken {
    /// The user, as the server spelled the address.
    pub email: String,
    /// The token.
    pub access_token: SecretString,
    /// When it expires, from the answer's `expiry_date`.
    pub expires_at: SystemTime,
}

impl fmt::Debug for SsoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoToken")
            .field("email", &self.email)
            .field("access_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The `ExternalAccess` URL that signs a user in. It carries the token: `Debug`
/// redacts it; [`expose`](Self::expose) gives it to the browser redirect.
#[derive(Clone)]
pub struct SsoUrl(pub(crate) SecretString);

impl SsoUrl {
    /// The URL, to redirect the user's browser to.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SsoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SsoUrl([REDACTED])")
    }
}

/// The users' cached tokens, one [`CachingProvider`] per user key:
///
/// - concurrent requests for the same user cause one issuance;
/// - a token is renewed before its hour ends (by default when 90 % of its lifetime
///   has passed, less up to 5 % jitter: between 51 and 54 minutes);
/// - renewal is [`Renewal::Blocking`](auth_core::Renewal::Blocking): a new token
///   revokes the old one at the server, so a token due for renewal is never handed
///   out, and no token that has since been replaced is ever handed out.
pub(crate) struct Sessions {
    existing_users_only: bool,
    store: Arc<dyn TokenStore>,
    policy: RefreshPolicy,
    users: Mutex<HashMap<String, Arc<CachingProvider<UserSource>>>>,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("existing_users_only", &self.existing_users_only)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    pub(crate) fn new(
        store: Arc<dyn TokenStore>,
        policy: RefreshPolicy,
        existing_users_only: bool,
    ) -> Self {
        Self {
            existing_users_only,
            store,
            policy,
            users: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn user(&self, api: &Arc<Api>, email: &Email) -> SsoUser {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let key = email.key();
        let provider = match users.get(&key) {
            Some(p) => Arc::clone(p),
            None => {
                let source = UserSource {
                    api: Arc::clone(api),
                    email: email.clone(),
                    existing_users_only: self.existing_users_only,
                };
                let provider = Arc::new(
                    CachingProvider::builder(source)
                        .clock(Arc::clone(&api.clock))
                        .store(
                            Arc::clone(&self.store),
                            StoreKey::new(["binokula", api.config.tenant(), &key]),
                        )
                        .policy(self.policy)
                        .build(),
                );
                users.insert(key, Arc::clone(&provider));
                provider
            }
        };
        SsoUser::new(Arc::clone(api), email.clone(), provider)
    }

    pub(crate) fn forget(&self, email: &Email) {
        let removed = self
            .users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&email.key());
        if let Some(provider) = removed {
            provider.clear();
        }
    }
}

/// Issues one user's token for the cache.
#[derive(Debug)]
pub(crate) struct UserSource {
    api: Arc<Api>,
    email: Email,
    existing_users_only: bool,
}

#[async_trait]
impl TokenSource for UserSource {
    fn grant(&self) -> &'static str {
        "sso_token"
    }

    /// Binokula keeps one active SSO token per user: a new one revokes the one other
    /// processes hold, so none is fetched without the shared store.
    fn invalidates_previous(&self) -> bool {
        true
    }

    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, auth_core::Error> {
        let issued_at = self.api.clock.now();
        let sso = self
            .api
            .issue_token(&self.email, self.existing_users_only)
            .await?;
        Ok(Token::new("Binokula", sso.access_token, issued_at).expires_at(sso.expires_at))
    }
}

/// `2018-04-26T03:08:03.893495+00:00`: RFC 3339 with fractional seconds and an offset.
pub(crate) fn parse_expiry(text: &str) -> Result<SystemTime, Error> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| Error::MalformedExpiry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn parses_the_guides_expiry_date() {
        let t = parse_expiry("2018-04-26T03:08:03.893495+00:00").unwrap();
        let d = t.duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(d.as_secs(), 1_524_712_083);
        assert_eq!(d.subsec_micros(), 893_495);
        let offset = parse_expiry("2018-04-26T05:08:03.5+02:00").unwrap();
        assert_eq!(
            offset.duration_since(UNIX_EPOCH).unwrap(),
            Duration::from_millis(1_524_712_083_500)
        );
        for bad in [
            "26/04/2018 3:08 AM",
            "2018-04-26T03:08:03",
            "",
            "2018-13-26T03:08:03Z",
        ] {
            assert!(
                matches!(parse_expiry(bad), Err(Error::MalformedExpiry)),
                "{bad}"
            );
        }
    }
}
