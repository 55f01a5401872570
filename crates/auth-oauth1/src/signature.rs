//! Signature methods (RFC 5849 §3.4.2–3.4.4, plus HMAC-SHA256/512 and RSA-SHA256) and
//! the key material they use.
//!
//! Backends were chosen by measurement (see the design brief and the `oauth1_sign`
//! benchmark): HMAC-SHA1 is the `hmac_sha1` module over the RustCrypto `sha1`
//! compression function, which uses the CPU's SHA extensions (four times faster than
//! ring's portable SHA-1 here); SHA-256, SHA-512 and RSA use ring.

use std::fmt;
use std::sync::Arc;

use auth_core::internal::constant_time_eq;
use auth_core::{ExposeSecret, SecretString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::Error;
use crate::encode::push_encoded_str;
use crate::hmac_sha1::HmacSha1Key;

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// `HMAC-SHA1` (RFC 5849 §3.4.2).
    HmacSha1,
    /// `HMAC-SHA256`.
    HmacSha256,
    /// `HMAC-SHA512`.
    HmacSha512,
    /// `PLAINTEXT` (RFC 5849 §3.4.4): the key itself; only over TLS.
    Plaintext,
    /// `RSA-SHA256`: RSASSA-PKCS1-v1_5 with SHA-256.
    RsaSha256,
}

impl SignatureMethod {
    /// The name sent as `oauth_signature_method`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HMAC-SHA1",
            Self::HmacSha256 => "HMAC-SHA256",
            Self::HmacSha512 => "HMAC-SHA512",
            Self::Plaintext => "PLAINTEXT",
            Self::RsaSha256 => "RSA-SHA256",
        }
    }

    /// Parses a name as sent (exact, as the RFC's names are case-sensitive).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "HMAC-SHA1" => Self::HmacSha1,
            "HMAC-SHA256" => Self::HmacSha256,
            "HMAC-SHA512" => Self::HmacSha512,
            "PLAINTEXT" => Self::Plaintext,
            "RSA-SHA256" => Self::RsaSha256,
            _ => return None,
        })
    }
}

impl fmt::Display for SignatureMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HMAC and PLAINTEXT key of §3.4.2: `encode(consumer secret) & encode(token
/// secret)`.
pub(crate) fn key_text(
    consumer_secret: &SecretString,
    token_secret: Option<&SecretString>,
) -> SecretString {
    let mut key = String::new();
    push_encoded_str(&mut key, consumer_secret.expose_secret());
    key.push('&');
    if let Some(ts) = token_secret {
        push_encoded_str(&mut key, ts.expose_secret());
    }
    SecretString::from(key)
}

/// An RSA private key (PKCS#8 DER) for RSA-SHA256.
#[derive(Clone)]
pub struct RsaPrivateKey(Arc<ring::rsa::KeyPair>);

impl RsaPrivateKey {
    /// Parses a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        ring::rsa::KeyPair::from_pkcs8(der)
            .map(|k| Self(Arc::new(k)))
            .map_err(|_| Error::InvalidKey("not a PKCS#8 RSA private key"))
    }

    /// The public key, as a PKCS#1 `RSAPublicKey` DER, for a verifier.
    pub fn public_key_der(&self) -> Vec<u8> {
        use ring::signature::KeyPair as _;
        self.0.public_key().as_ref().to_vec()
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaPrivateKey([REDACTED])")
    }
}

/// Key material prepared for one signature method.
#[derive(Clone)]
pub(crate) enum SigningKey {
    /// The keyed HMAC-SHA1 states: key setup is done once.
    HmacSha1(HmacSha1Key),
    HmacSha256(ring::hmac::Key),
    HmacSha512(ring::hmac::Key),
    Plaintext(SecretString),
    RsaSha256(RsaPrivateKey),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, [REDACTED])", self.method())
    }
}

impl SigningKey {
    /// Prepares the key for `method` from the shared secrets (or the RSA key).
    pub(crate) fn new(
        method: SignatureMethod,
        consumer_secret: &SecretString,
        token_secret: Option<&SecretString>,
        rsa: Option<&RsaPrivateKey>,
    ) -> Result<Self, Error> {
        let key = || key_text(consumer_secret, token_secret);
        Ok(match method {
            SignatureMethod::HmacSha1 => {
                Self::HmacSha1(HmacSha1Key::new(key().expose_secret().as_bytes()))
            }
            SignatureMethod::HmacSha256 => Self::HmacSha256(ring::hmac::Key::new(
                ring::hmac::HMAC_SHA256,
                key().expose_secret().as_bytes(),
            )),
            SignatureMethod::HmacSha512 => Self::HmacSha512(ring::hmac::Key::new(
                ring::hmac::HMAC_SHA512,
                key().expose_secret().as_bytes(),
            )),
            SignatureMethod::Plaintext => Self::Plaintext(key()),
            SignatureMethod::RsaSha256 => Self::RsaSha256(
                rsa.cloned()
                    .ok_or(Error::InvalidKey("RSA-SHA256 needs an RSA private key"))?,
            ),
        })
    }

    pub(crate) fn method(&self) -> SignatureMethod {
        match self {
            Self::HmacSha1(_) => SignatureMethod::HmacSha1,
            Self::HmacSha256(_) => SignatureMethod::HmacSha256,
            Self::HmacSha512(_) => SignatureMethod::HmacSha512,
            Self::Plaintext(_) => SignatureMethod::Plaintext,
            Self::RsaSha256(_) => SignatureMethod::RsaSha256,
        }
    }

    /// Signs `base_string` and hands the signature (base64; PLAINTEXT: the key
    /// itself) to `then`, from the stack: a signature returned by value was copied
    /// through three frames, each copy stalling on the bytes just written.
    pub(crate) fn sign_then<R>(
        &self,
        base_string: &[u8],
        then: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        match self {
            Self::HmacSha1(key) => base64_then(&key.sign(base_string), then),
            Self::HmacSha256(key) | Self::HmacSha512(key) => {
                base64_then(ring::hmac::sign(key, base_string).as_ref(), then)
            }
            Self::Plaintext(key) => Ok(then(key.expose_secret().as_bytes())),
            Self::RsaSha256(key) => {
                let rng = ring::rand::SystemRandom::new();
                let mut signature = vec![0u8; key.0.public().modulus_len()];
                key.0
                    .sign(
                        &ring::signature::RSA_PKCS1_SHA256,
                        &rng,
                        base_string,
                        &mut signature,
                    )
                    .map_err(|_| Error::InvalidKey("RSA signing failed"))?;
                Ok(then(STANDARD.encode(signature).as_bytes()))
            }
        }
    }

    /// Signs `base_string`; the signature is base64 (PLAINTEXT: the key itself).
    pub(crate) fn sign(&self, base_string: &[u8]) -> Result<String, Error> {
        self.sign_then(base_string, |signature| {
            String::from_utf8_lossy(signature).into_owned()
        })
    }
}

/// Hands `raw` in base64 to `then`, encoded on the stack (88 characters hold an
/// HMAC-SHA512).
fn base64_then<R>(raw: &[u8], then: impl FnOnce(&[u8]) -> R) -> Result<R, Error> {
    let mut buf = [0u8; 88];
    let len = STANDARD
        .encode_slice(raw, &mut buf)
        .map_err(|_| Error::InvalidKey("signature buffer"))?;
    Ok(then(&buf[..len]))
}

/// What a verifier checks a signature against.
#[derive(Clone)]
pub enum VerifyingKey {
    /// The shared secrets (HMAC and PLAINTEXT).
    Shared {
        /// The consumer secret.
        consumer_secret: SecretString,
        /// The token secret, if the request carries a token.
        token_secret: Option<SecretString>,
    },
    /// An RSA public key, PKCS#1 `RSAPublicKey` DER (RSA-SHA256).
    RsaPublic(Vec<u8>),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shared { .. } => f.write_str("VerifyingKey::Shared([REDACTED])"),
            Self::RsaPublic(_) => f.write_str("VerifyingKey::RsaPublic"),
        }
    }
}

impl VerifyingKey {
    /// Whether `signature` is right for `base_string` under `method`, compared in
    /// constant time.
    pub(crate) fn verify(
        &self,
        method: SignatureMethod,
        base_string: &[u8],
        signature: &str,
    ) -> bool {
        match (self, method) {
            (Self::RsaPublic(der), SignatureMethod::RsaSha256) => {
                let Ok(raw) = STANDARD.decode(signature) else {
                    return false;
                };
                ring::signature::UnparsedPublicKey::new(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    der,
                )
                .verify(base_string, &raw)
                .is_ok()
            }
            (
                Self::Shared {
                    consumer_secret,
                    token_secret,
                },
                m,
            ) if m != SignatureMethod::RsaSha256 => {
                let Ok(key) = SigningKey::new(m, consumer_secret, token_secret.as_ref(), None)
                else {
                    return false;
                };
                key.sign_then(base_string, |expected| {
                    constant_time_eq(expected, signature.as_bytes())
                })
                .unwrap_or(false)
            }
            _ => false,
        }
    }
}

/// HMAC-SHA1 of `data` under `key`, raw: for test vectors (RFC 2202) and benchmarks.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac = match Hmac::<Sha1>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length; this arm is unreachable in practice.
        Err(_) => return [0; 20],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}
