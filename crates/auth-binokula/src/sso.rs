//! SSO tokens ([`SsoToken`], [`SsoUrl`]) and the per-user cache behind
//! [`Binokula::user`](crate::Binokula::user), under the rule that only one token per
//! user is active.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use auth_core::{
    BoundedCache, CacheEntry, CacheLimits, CachingProvider, ExposeSecret, RefreshPolicy,
    SecretString, StoreKey, Token, TokenSource, TokenStore,
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

/// How many users' sessions [`Binokula::user`](crate::Binokula::user) keeps by
/// default: 10,000 (about 1.6 KB each with a token cached, so some 16 MB at most;
/// `tests/cache_memory.rs` measures it).
pub(crate) const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// How long an unused session stays by default: the hour an SSO token lives, so an
/// entry dropped for being idle holds a token that has ended or is due for renewal.
pub(crate) const DEFAULT_CACHE_IDLE: Duration = Duration::from_secs(3600);

/// A user's cached token: the provider behind one [`SsoUser`].
pub(crate) type UserProvider = CacheEntry<CachingProvider<UserSource>>;

/// The users' cached tokens, one [`CachingProvider`] per user key:
///
/// - concurrent requests for the same user cause one issuance;
/// - a token is renewed before its hour ends (by default when 90 % of its lifetime
///   has passed, less up to 5 % jitter: between 51 and 54 minutes);
/// - renewal is [`Renewal::Blocking`](auth_core::Renewal::Blocking): a new token
///   revokes the old one at the server, so a token due for renewal is never handed
///   out, and no token that has since been replaced is ever handed out.
///
/// The providers live in a [`BoundedCache`]: at most the capacity of users not in use
/// (an [`SsoUser`] held anywhere keeps its user's provider, so a user never has two
/// providers, and two issuances, in one process), each dropped once unused for the
/// idle time. A dropped user's token is gone with it unless a shared store holds it:
/// with one, the user's next provider reads it there and issues nothing.
pub(crate) struct Sessions {
    existing_users_only: bool,
    /// The shared store; `None`: each user's provider keeps its token in a store of
    /// its own, which goes with the provider.
    store: Option<Arc<dyn TokenStore>>,
    policy: RefreshPolicy,
    users: BoundedCache<String, CachingProvider<UserSource>>,
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("existing_users_only", &self.existing_users_only)
            .field("store", &self.store)
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    pub(crate) fn new(
        store: Option<Arc<dyn TokenStore>>,
        policy: RefreshPolicy,
        existing_users_only: bool,
        limits: CacheLimits,
        clock: Arc<dyn auth_core::Clock>,
    ) -> Self {
        Self {
            existing_users_only,
            store,
            policy,
            users: BoundedCache::new(limits, clock),
        }
    }

    pub(crate) fn user(&self, api: &Arc<Api>, email: &Email) -> SsoUser {
        let key = email.key();
        let provider = self
            .users
            .get_or_insert_with(key.as_str(), || self.provider(api, email, &key));
        SsoUser::new(Arc::clone(api), email.clone(), provider)
    }

    /// A new provider for the user under `key`, its token read from the shared store
    /// first when there is one.
    fn provider(&self, api: &Arc<Api>, email: &Email, key: &str) -> CachingProvider<UserSource> {
        let source = UserSource {
            api: Arc::clone(api),
            email: email.clone(),
            existing_users_only: self.existing_users_only,
        };
        let key = StoreKey::new(["binokula", api.config.tenant(), key]);
        let builder = CachingProvider::builder(source).clock(Arc::clone(&api.clock));
        let builder = match &self.store {
            Some(store) => builder.store(Arc::clone(store), key),
            None => builder.key(key),
        };
        builder.policy(self.policy).build()
    }

    /// Drops the user's cached token; the provider stays (an [`SsoUser`] may hold it),
    /// so the next call issues one new token.
    pub(crate) fn forget(&self, email: &Email) {
        if let Some(provider) = self.users.peek(email.key().as_str()) {
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
