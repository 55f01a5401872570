//! The handshake's tokens: [`RequestToken`] (10 minutes) and [`AccessToken`]
//! (permanent, or temporary for 30 days), with the guide's lifetimes.

use std::time::{Duration, SystemTime};

use auth_core::SecretString;
use auth_oauth1::TokenCredentials;

/// How long a request token lives: "A Request Token is valid for 10 minutes"
/// (`vendor-docs/003_d1adedb5d9e863b8.txt`, line 66).
pub const REQUEST_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a temporary access token lives: "the Access Token, which is valid for 30
/// days" (line 66; also lines 25 and 53).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// A request token from step 1, valid for 10 minutes from the moment it was asked for.
#[derive(Debug, Clone)]
pub struct RequestToken {
    pub(crate) credentials: TokenCredentials,
    pub(crate) expires_at: SystemTime,
}

impl RequestToken {
    /// The public token (`oauth_token`).
    pub fn token(&self) -> &str {
        self.credentials.token()
    }

    /// When it stops being accepted (measured from before the request was sent, so
    /// never later than Bynder's own limit).
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

/// Access token credentials: permanent (made in the portal) or temporary (from the
/// handshake, 30 days). Either is bound to one user of the portal.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub(crate) credentials: TokenCredentials,
    pub(crate) expires_at: Option<SystemTime>,
}

impl AccessToken {
    /// A permanent token.
    pub fn permanent(token: impl Into<String>, secret: SecretString) -> Self {
        Self {
            credentials: TokenCredentials::new(token, secret),
            expires_at: None,
        }
    }

    /// A temporary token restored from storage, with the expiry it was issued with.
    pub fn temporary(
        token: impl Into<String>,
        secret: SecretString,
        expires_at: SystemTime,
    ) -> Self {
        Self {
            credentials: TokenCredentials::new(token, secret),
            expires_at: Some(expires_at),
        }
    }

    /// The public token (`oauth_token`).
    pub fn token(&self) -> &str {
        self.credentials.token()
    }

    /// The token secret, to store it.
    pub fn secret(&self) -> &SecretString {
        self.credentials.secret()
    }

    /// When a temporary token expires; `None` for a permanent one.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}
