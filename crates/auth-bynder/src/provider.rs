//! [`BynderProvider`]: signs API calls with HMAC-SHA1 and refuses an expired
//! temporary token before the call is sent.

use std::sync::Arc;
use std::time::SystemTime;

use auth_core::{AuthRequest, Authorize, Clock, CredentialProvider};
use auth_oauth1::{Consumer, SignatureMethod, Signer};

use crate::{AccessToken, Error};

/// Signs every request with the consumer and an access token (HMAC-SHA1, in the
/// `Authorization` header), as Bynder's API expects.
#[derive(Debug)]
pub struct BynderProvider {
    signer: Signer,
    expires_at: Option<SystemTime>,
    clock: Arc<dyn Clock>,
}

impl BynderProvider {
    /// A provider for `token`: [`Bynder::user`](crate::Bynder::user).
    pub(crate) fn new(
        consumer: Consumer,
        token: AccessToken,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let signer = Signer::builder(consumer)
            .token(token.credentials)
            .method(SignatureMethod::HmacSha1)
            .clock(Arc::clone(&clock))
            .build()?;
        Ok(Self {
            signer,
            expires_at: token.expires_at,
            clock,
        })
    }

    /// When the token expires; `None` for a permanent token.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Whether the token is past its expiry now.
    pub fn is_expired(&self) -> bool {
        self.expires_at.is_some_and(|at| self.clock.now() >= at)
    }
}

impl CredentialProvider for BynderProvider {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        if let Some(expired_at) = self.expires_at.filter(|_| self.is_expired()) {
            return Authorize::ready(Err(Error::AccessTokenExpired { expired_at }.into()));
        }
        self.signer.authorize(request)
    }

    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        self.signer.reads_body(parts)
    }
}
