//! A token as stored: JSON with times in milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth_core::{ExposeSecret, SecretString, Token};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Stored {
    scheme: String,
    access_token: String,
    issued_at_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    /// Absent from entries written before refresh expiries were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_expires_at_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn at(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis)
}

/// `token` as the JSON stored in Redis.
pub(crate) fn encode(token: &Token) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Stored {
        scheme: token.scheme().to_owned(),
        access_token: token.access_token().expose_secret().to_owned(),
        issued_at_ms: millis(token.issued_at()),
        expires_at_ms: token.expiry().map(millis),
        refresh_token: token.refresh_token().map(|t| t.expose_secret().to_owned()),
        refresh_expires_at_ms: token.refresh_expiry().map(millis),
        scope: token.scope().map(str::to_owned),
    })
}

/// A token read back; `None` when the value is not one this crate wrote.
pub(crate) fn decode(text: &str) -> Option<Token> {
    let stored: Stored = serde_json::from_str(text).ok()?;
    let mut token = Token::new(
        stored.scheme,
        SecretString::from(stored.access_token),
        at(stored.issued_at_ms),
    );
    if let Some(expiry) = stored.expires_at_ms {
        token = token.expires_at(at(expiry));
    }
    if let Some(refresh) = stored.refresh_token {
        token = token.with_refresh_token(SecretString::from(refresh));
    }
    if let Some(expiry) = stored.refresh_expires_at_ms {
        token = token.refresh_expires_at(at(expiry));
    }
    if let Some(scope) = stored.scope {
        token = token.with_scope(scope);
    }
    Some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_survives_the_round_trip() {
        let issued = at(1_760_000_000_123);
        let token = Token::bearer("at-1", issued)
            .expires_in(Duration::from_secs(300))
            .with_refresh_token("rt-1")
            .with_scope("read write");
        let back = decode(&encode(&token).unwrap()).unwrap();
        assert_eq!(back.scheme(), token.scheme());
        assert_eq!(back.access_token().expose_secret(), "at-1");
        assert_eq!(back.issued_at(), issued);
        assert_eq!(back.expiry(), token.expiry());
        assert_eq!(back.refresh_token().unwrap().expose_secret(), "rt-1");
        assert_eq!(back.scope(), Some("read write"));
        assert_eq!(back.refresh_expiry(), None);
        assert_eq!(back.keep_until(), None);
        assert!(decode("not json").is_none());
        assert!(decode("{}").is_none());
    }

    #[test]
    fn the_refresh_expiry_survives_the_round_trip() {
        let issued = at(1_760_000_000_123);
        let refresh_expiry = at(1_762_592_000_456);
        let token = Token::bearer("at-2", issued)
            .expires_in(Duration::from_secs(300))
            .with_refresh_token("rt-2")
            .refresh_expires_at(refresh_expiry);
        let text = encode(&token).unwrap();
        assert!(text.contains("\"refresh_expires_at_ms\":1762592000456"));
        let back = decode(&text).unwrap();
        assert_eq!(back.refresh_expiry(), Some(refresh_expiry));
        assert_eq!(back.keep_until(), Some(refresh_expiry));
        assert_eq!(back.expiry(), token.expiry());
        assert_eq!(back.refresh_token().unwrap().expose_secret(), "rt-2");
    }

    #[test]
    fn entries_written_before_refresh_expiries_still_decode() {
        // As written by the previous version of this crate: no `refresh_expires_at_ms`.
        let old = r#"{"scheme":"Bearer","access_token":"at-0","issued_at_ms":1760000000123,"expires_at_ms":1760000300123,"refresh_token":"rt-0","scope":"read"}"#;
        let back = decode(old).unwrap();
        assert_eq!(back.access_token().expose_secret(), "at-0");
        assert_eq!(back.issued_at(), at(1_760_000_000_123));
        assert_eq!(back.expiry(), Some(at(1_760_000_300_123)));
        assert_eq!(back.refresh_token().unwrap().expose_secret(), "rt-0");
        assert_eq!(back.refresh_expiry(), None);
        assert_eq!(back.scope(), Some("read"));
        // And a token without a refresh token writes no refresh expiry.
        let plain = Token::bearer("at-3", at(0)).expires_in(Duration::from_secs(1));
        assert!(!encode(&plain).unwrap().contains("refresh"));
    }
}
