//! PKCE (RFC 7636), S256 only: `plain` gives away the verifier to anyone who sees the
//! authorization request, so it is not offered.

use std::fmt;

use auth_core::{ExposeSecret, SecretString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A code verifier (RFC 7636 §4.1): 43 to 128 characters from the unreserved set.
#[derive(Clone)]
pub struct PkceVerifier(SecretString);

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([REDACTED])")
    }
}

impl PkceVerifier {
    /// A fresh verifier: 32 random bytes, base64url (43 characters), as §4.1
    /// recommends.
    pub fn random() -> Self {
        Self(SecretString::from(random_token(32)))
    }

    /// A verifier given as text; `None` unless it has 43 to 128 unreserved characters.
    pub fn new(verifier: &str) -> Option<Self> {
        let ok = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        ok.then(|| Self(SecretString::from(verifier.to_owned())))
    }

    /// The verifier, to send with the code.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }

    /// `BASE64URL(SHA256(verifier))` (§4.2).
    pub fn challenge(&self) -> String {
        challenge_s256(self.0.expose_secret())
    }
}

/// `BASE64URL(SHA256(verifier))`, the S256 code challenge of RFC 7636 §4.2.
pub fn challenge_s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// `bytes` random bytes from the thread's CSPRNG, base64url without padding: for
/// verifiers, `state` and `nonce`.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            verifier.map(|v| v.challenge()).as_deref(),
            Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        );
    }

    #[test]
    fn random_verifiers_are_valid_and_distinct() {
        let (a, b) = (PkceVerifier::random(), PkceVerifier::random());
        assert_eq!(a.secret().expose_secret().len(), 43);
        assert!(PkceVerifier::new(a.secret().expose_secret()).is_some());
        assert_ne!(a.secret().expose_secret(), b.secret().expose_secret());
        assert_eq!(format!("{a:?}"), "PkceVerifier([REDACTED])");
    }

    #[test]
    fn verifiers_out_of_spec_are_refused() {
        assert!(PkceVerifier::new("short").is_none());
        assert!(PkceVerifier::new(&"a".repeat(129)).is_none());
        assert!(PkceVerifier::new(&format!("{}+", "a".repeat(43))).is_none());
    }
}
