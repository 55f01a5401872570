//! [`Token`]: an access token with its lifetime, and [`RefreshPolicy`]: when to renew it.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// An access token, what it is good for and until when.
///
/// The token and any refresh token are [`SecretString`]s: `Debug` shows them redacted
/// and they are zeroized on drop.
///
/// ```
/// use auth_core::Token;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let issued = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let token = Token::bearer("s3cr3t-t0ken", issued).expires_in(Duration::from_secs(300));
/// assert_eq!(token.lifetime(), Some(Duration::from_secs(300)));
/// assert!(!format!("{token:?}").contains("s3cr3t"));
/// ```
#[derive(Clone)]
pub struct Token {
    access_token: SecretString,
    scheme: String,
    issued_at: SystemTime,
    expires_at: Option<SystemTime>,
    refresh_token: Option<SecretString>,
    refresh_expires_at: Option<SystemTime>,
    scope: Option<String>,
}

impl Token {
    /// A token sent as `Authorization: <scheme> <token>`, issued at `issued_at`, with no
    /// known expiry.
    pub fn new(
        scheme: impl Into<String>,
        access_token: impl Into<SecretString>,
        issued_at: SystemTime,
    ) -> Self {
        Self {
            access_token: access_token.into(),
            scheme: scheme.into(),
            issued_at,
            expires_at: None,
            refresh_token: None,
            refresh_expires_at: None,
            scope: None,
        }
    }

    /// A `Bearer` token (RFC 6750).
    pub fn bearer(access_token: impl Into<SecretString>, issued_at: SystemTime) -> Self {
        Self::new("Bearer", access_token, issued_at)
    }

    /// Sets the expiry to `lifetime` after issue.
    #[must_use]
    pub fn expires_in(mut self, lifetime: Duration) -> Self {
        self.expires_at = self.issued_at.checked_add(lifetime);
        self
    }

    /// Sets an absolute expiry.
    #[must_use]
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Attaches a refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, refresh_token: impl Into<SecretString>) -> Self {
        self.refresh_token = Some(refresh_token.into());
        self
    }

    /// Sets when the refresh token expires, if the server said (a documented 30 days,
    /// a `refresh_expires_in`). A store keeps the token until then.
    #[must_use]
    pub fn refresh_expires_at(mut self, at: SystemTime) -> Self {
        self.refresh_expires_at = Some(at);
        self
    }

    /// Attaches the granted scope.
    #[must_use]
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &SecretString {
        &self.access_token
    }

    /// The authorization scheme, for example `Bearer`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// When the token was issued (by the local clock when it was received).
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When the token expires, if the server said.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The refresh token, if any.
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.refresh_token.as_ref()
    }

    /// When the refresh token expires, if known.
    pub fn refresh_expiry(&self) -> Option<SystemTime> {
        self.refresh_expires_at
    }

    /// How long a store must keep this token for the next renewal: until the refresh
    /// token's expiry when it has a refresh token whose expiry is known; `None` (no
    /// expiry; a store may apply its own cap) when its refresh token's expiry is
    /// unknown; else until the token's own expiry. Never the access token's expiry
    /// alone when a refresh token is attached: an expired access token in a store
    /// still carries the newest refresh token.
    pub fn keep_until(&self) -> Option<SystemTime> {
        if self.refresh_token.is_some() {
            self.refresh_expires_at
        } else {
            self.expires_at
        }
    }

    /// The granted scope, if the server said.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The time from issue to expiry, if the expiry is known.
    pub fn lifetime(&self) -> Option<Duration> {
        self.expires_at
            .map(|e| e.duration_since(self.issued_at).unwrap_or(Duration::ZERO))
    }

    /// Whether the token has expired at `now`. Tokens without an expiry never do.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|e| now >= e)
    }

    /// The `Authorization` header value (`<scheme> <token>`), marked sensitive so that
    /// HTTP libraries leave it out of their logs.
    pub fn authorization_header(&self) -> Result<HeaderValue, Error> {
        let secret = self.access_token.expose_secret();
        let mut raw = String::with_capacity(self.scheme.len() + 1 + secret.len());
        raw.push_str(&self.scheme);
        raw.push(' ');
        raw.push_str(secret);
        let mut value = HeaderValue::from_str(&raw).map_err(|_| Error::InvalidResponse {
            status: None,
            reason: "the access token contains characters not allowed in a header".into(),
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"[REDACTED]")
            .field("scheme", &self.scheme)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// When a cached token is renewed.
///
/// A token is renewed in the background once `now` passes
/// `expiry - margin - jitter`, where `margin` is `fraction` of the token's lifetime
/// clamped to `[min_margin, max_margin]` and `jitter` is drawn uniformly from
/// `[0, jitter_fraction × lifetime]` once per token (so a fleet of processes does not
/// renew in the same second). The margin is at most half the lifetime, so a very short
/// token (2 s) is still used for half its life. Callers keep using the old token while
/// it is renewed.
///
/// With the defaults (10 %, 5 s to 10 min, jitter up to 5 %), a 5-minute token is
/// renewed between 4 min 15 s and 4 min 30 s after issue, and a 1-hour token between
/// 51 and 54 minutes: in both cases well before expiry and late enough not to waste
/// tokens. A margin in proportion to the lifetime is what makes one policy work for
/// 5-minute tokens and 1-hour ones alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshPolicy {
    /// What callers get while a due token is renewed.
    pub renewal: Renewal,
    /// Part of the lifetime kept as margin before expiry.
    pub fraction: f64,
    /// The smallest margin.
    pub min_margin: Duration,
    /// The largest margin.
    pub max_margin: Duration,
    /// Part of the lifetime drawn at random as extra, earlier margin.
    pub jitter_fraction: f64,
}

/// What callers get once a token is due for renewal and before it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Renewal {
    /// The still valid old token, at once, while the new one is fetched in the
    /// background (the default: no caller waits).
    #[default]
    Background,
    /// They wait for the new token. For vendors where issuing a new token revokes the
    /// old one (a vendor that keeps one active token per user): handing out the old token
    /// during the renewal would hand out a token about to be replaced.
    Blocking,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            renewal: Renewal::Background,
            fraction: 0.10,
            min_margin: Duration::from_secs(5),
            max_margin: Duration::from_secs(600),
            jitter_fraction: 0.05,
        }
    }
}

impl RefreshPolicy {
    /// A policy without jitter, for tests that need an exact refresh time.
    #[must_use]
    pub fn without_jitter(mut self) -> Self {
        self.jitter_fraction = 0.0;
        self
    }

    /// Sets what callers get during a renewal.
    #[must_use]
    pub fn with_renewal(mut self, renewal: Renewal) -> Self {
        self.renewal = renewal;
        self
    }

    /// The margin before expiry, without jitter, for a token of `lifetime`.
    pub fn margin(&self, lifetime: Duration) -> Duration {
        let proportional = lifetime.mul_f64(self.fraction.clamp(0.0, 1.0));
        // Never more than half the lifetime: a 2-second token renewed at issue would be
        // renewed on every call.
        proportional
            .max(self.min_margin)
            .min(self.max_margin)
            .min(lifetime / 2)
    }

    /// When `token` should be renewed, with `unit_random` in `[0, 1)` choosing the
    /// jitter. `None` for tokens that never expire.
    pub fn refresh_at(&self, token: &Token, unit_random: f64) -> Option<SystemTime> {
        let expiry = token.expiry()?;
        let lifetime = token.lifetime().unwrap_or(Duration::ZERO);
        let jitter = lifetime
            .mul_f64((self.jitter_fraction.clamp(0.0, 1.0) * unit_random.clamp(0.0, 1.0)).min(1.0));
        let early = (self.margin(lifetime) + jitter).min(lifetime);
        Some(expiry.checked_sub(early).unwrap_or(token.issued_at()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn margins_for_five_minutes_and_one_hour() {
        let p = RefreshPolicy::default();
        assert_eq!(p.margin(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(
            p.margin(Duration::from_secs(3600)),
            Duration::from_secs(360)
        );
        assert_eq!(p.margin(Duration::from_secs(20)), Duration::from_secs(5));
        assert_eq!(
            p.margin(Duration::from_secs(86_400)),
            Duration::from_secs(600)
        );
        assert_eq!(p.margin(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(p.margin(Duration::from_secs(8)), Duration::from_secs(4));
    }

    #[test]
    fn refresh_time_includes_jitter_and_stays_inside_lifetime() {
        let p = RefreshPolicy::default();
        let t = Token::bearer("x", at(1000)).expires_in(Duration::from_secs(300));
        assert_eq!(p.refresh_at(&t, 0.0), Some(at(1270)));
        assert_eq!(p.refresh_at(&t, 1.0), Some(at(1255)));
        let never = Token::bearer("x", at(1000));
        assert_eq!(p.refresh_at(&never, 0.5), None);
    }

    #[test]
    fn header_is_sensitive_and_debug_redacts() {
        let t = Token::bearer("abc", at(0)).with_refresh_token("refresh-me");
        let h = t.authorization_header().unwrap();
        assert!(h.is_sensitive());
        assert_eq!(h.to_str().unwrap(), "Bearer abc");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("abc") && !dbg.contains("refresh-me"), "{dbg}");
    }

    #[test]
    fn a_token_with_a_refresh_token_is_kept_as_long_as_the_refresh_token() {
        let access_only = Token::bearer("a", at(0)).expires_in(Duration::from_secs(2));
        assert_eq!(access_only.keep_until(), Some(at(2)));
        let rotating = access_only.clone().with_refresh_token("r");
        assert_eq!(rotating.keep_until(), None);
        let bounded = rotating.refresh_expires_at(at(30 * 86_400));
        assert_eq!(bounded.keep_until(), Some(at(30 * 86_400)));
    }

    #[test]
    fn header_refuses_control_characters() {
        let t = Token::bearer("a\nb", at(0));
        assert!(t.authorization_header().is_err());
    }
}
