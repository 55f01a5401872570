//! [`SsoSessions`]: one cached SSO token per user, under the rule that only one token
//! per user is active.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use auth_core::{
    CachingProvider, ExposeSecret, InMemoryTokenStore, RefreshPolicy, Renewal, SecretString,
    StoreKey, Token, TokenSource, TokenStore,
};

use crate::{BinokulaClient, Email, Error, SsoToken, SsoUrl};

/// Per-user SSO tokens, cached by the core [`CachingProvider`]:
///
/// - concurrent requests for the same user cause one issuance;
/// - a token is renewed before its hour ends (when 90 % of its lifetime has passed,
///   less up to 5 % jitter: between 51 and 54 minutes);
/// - renewal is [`Renewal::Blocking`]: a new token revokes the old one at the server,
///   so a token due for renewal is never handed out, and no token that has since been
///   replaced is ever handed out.
pub struct SsoSessions {
    client: BinokulaClient,
    existing_users_only: bool,
    store: Arc<dyn TokenStore>,
    policy: RefreshPolicy,
    users: Mutex<HashMap<String, Arc<CachingProvider<UserSource>>>>,
}

impl fmt::Debug for SsoSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoSessions")
            .field("client", &self.client)
            .field("existing_users_only", &self.existing_users_only)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl SsoSessions {
    /// Sessions over `client`, creating users on first use (the API's default).
    pub fn new(client: BinokulaClient) -> Self {
        Self {
            client,
            existing_users_only: false,
            store: Arc::new(InMemoryTokenStore::new()),
            policy: RefreshPolicy::default().with_renewal(Renewal::Blocking),
            users: Mutex::new(HashMap::new()),
        }
    }

    /// Only issue tokens for users that exist (`existingusersonly=true`).
    #[must_use]
    pub fn existing_users_only(mut self, only: bool) -> Self {
        self.existing_users_only = only;
        self
    }

    /// Shares tokens through `store` (for a fleet of processes).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = store;
        self
    }

    /// Overrides the refresh policy (its renewal mode stays blocking).
    #[must_use]
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy.with_renewal(Renewal::Blocking);
        self
    }

    /// The user's current token: the cached one, or a new one.
    pub async fn token(&self, email: &Email) -> Result<SsoToken, Error> {
        let provider = self.provider(email);
        let cached = provider.token().await.map_err(Error::from_core)?;
        let token = cached.token();
        Ok(SsoToken {
            email: email.as_str().to_owned(),
            access_token: SecretString::from(token.access_token().expose_secret().to_owned()),
            expires_at: token.expiry().unwrap_or_else(|| token.issued_at()),
        })
    }

    /// The user's `ExternalAccess` URL with the current token.
    pub async fn sso_url(&self, email: &Email) -> Result<SsoUrl, Error> {
        let token = self.token(email).await?;
        Ok(self.client.sso_url(&token))
    }

    /// Forgets the user's cached token (after disabling or deleting the user).
    pub fn forget(&self, email: &Email) {
        let removed = self
            .users
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&email.key());
        if let Some(provider) = removed {
            provider.clear();
        }
    }

    fn provider(&self, email: &Email) -> Arc<CachingProvider<UserSource>> {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        let key = email.key();
        if let Some(p) = users.get(&key) {
            return Arc::clone(p);
        }
        let source = UserSource {
            client: self.client.clone(),
            email: email.clone(),
            existing_users_only: self.existing_users_only,
        };
        let provider = Arc::new(
            CachingProvider::builder(source)
                .shared_clock(Arc::clone(self.client.clock()))
                .store(
                    Arc::clone(&self.store),
                    StoreKey::new(["binokula", self.client.config().tenant(), &key]),
                )
                .policy(self.policy)
                .build(),
        );
        users.insert(key, Arc::clone(&provider));
        provider
    }
}

/// Issues one user's token for the cache.
#[derive(Debug)]
struct UserSource {
    client: BinokulaClient,
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
        let issued_at = self.client.clock().now();
        let sso = self
            .client
            .issue_token(&self.email, self.existing_users_only)
            .await?;
        Ok(Token::new("Binokula", sso.access_token, issued_at).expires_at(sso.expires_at))
    }
}
