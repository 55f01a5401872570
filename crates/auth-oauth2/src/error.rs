//! [`Error`]: what an OAuth 2.0 or OpenID Connect operation can fail with.

use crate::{OAuthError, OAuthErrorCode};

/// Why an ID token was refused. Deliberately coarse about signatures: it never says
/// which byte differed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// Not a compact JWS with a JSON header and claims.
    #[error("the ID token is malformed")]
    Malformed,
    /// The `alg` is not in the allow-list (this includes `none`).
    #[error("the ID token's algorithm {0} is not allowed")]
    AlgorithmNotAllowed(String),
    /// No key in the provider's JWKS matches the token's `kid` (after one re-fetch).
    #[error("no key in the provider's JWKS matches the ID token")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the ID token's signature is invalid")]
    InvalidSignature,
    /// `iss` is not the provider's issuer.
    #[error("the ID token's issuer is not the expected one")]
    WrongIssuer,
    /// `aud` does not contain this client, or `azp` names another client.
    #[error("the ID token is not meant for this client (aud/azp)")]
    WrongAudience,
    /// `exp` is past (beyond the allowed leeway).
    #[error("the ID token has expired")]
    Expired,
    /// `iat` is missing, in the future, or too old.
    #[error("the ID token's issued-at time is outside the accepted window")]
    IssuedAt,
    /// `nonce` is missing or not the one sent.
    #[error("the ID token's nonce does not match")]
    NonceMismatch,
    /// `at_hash` is missing or does not match the access token that came with the ID
    /// token (OpenID Connect Core §3.2.2.9, the `id_token token` response).
    #[error("the ID token's at_hash does not match the access token")]
    AccessTokenHashMismatch,
    /// A required claim (`sub`, `exp`, `iat`) is missing or has the wrong type.
    #[error("the ID token lacks the claim {0}")]
    MissingClaim(&'static str),
}

/// An OAuth 2.0 or OpenID Connect failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ID token was refused.
    #[error("ID token refused: {0}")]
    IdToken(#[from] IdTokenError),
    /// The redirect's `state` is not the one sent (a forged or mixed-up callback).
    #[error("the callback's state does not match the one sent")]
    StateMismatch,
    /// The redirect's `iss` (RFC 9207) is not the expected issuer.
    #[error("the callback's iss is not the expected issuer (RFC 9207)")]
    IssuerMismatch,
    /// The redirect carries an OAuth error (the user denied, the request was invalid).
    #[error("the authorization server answered the redirect with {0}")]
    Authorization(OAuthError),
    /// The redirect lacks a field it must carry.
    #[error("the callback lacks {0}")]
    MissingCallbackField(&'static str),
    /// The discovery document is unusable (wrong issuer, missing endpoint).
    #[error("unusable discovery document: {0}")]
    Discovery(String),
    /// The provider does not offer an endpoint this operation needs.
    #[error("the provider has no {0} endpoint")]
    NoEndpoint(&'static str),
    /// A configuration value was refused.
    #[error("invalid OAuth 2.0 configuration: {0}")]
    Config(String),
    /// Transport, status and parsing failures shared with every crate, and OAuth error
    /// responses as [`auth_core::Error::Refused`] (the [`OAuthError`] inside, see
    /// [`oauth_code`](Error::oauth_code)); `invalid_grant` on a refresh for a user
    /// grant is [`auth_core::Error::SignInRequired`].
    #[error(transparent)]
    Core(#[from] auth_core::Error),
}

impl Error {
    /// The OAuth error code, if the server answered with one.
    pub fn oauth_code(&self) -> Option<&OAuthErrorCode> {
        match self {
            Error::Core(e) => e.source_as::<OAuthError>().map(|o| &o.code),
            Error::Authorization(e) => Some(&e.code),
            _ => None,
        }
    }

    /// Whether the user must sign in again.
    pub fn is_sign_in_required(&self) -> bool {
        matches!(self, Error::Core(auth_core::Error::SignInRequired { .. }))
    }
}

impl From<Error> for auth_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(core) => core,
            other => auth_core::Error::scheme(other),
        }
    }
}
