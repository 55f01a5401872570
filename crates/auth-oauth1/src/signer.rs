//! [`Signer`]: signs requests with consumer (and token) credentials, as a
//! [`CredentialProvider`].

use std::fmt;
use std::sync::Arc;

use auth_core::{AuthRequest, Authorize, Clock, CredentialProvider, SecretString, SystemClock};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::Uri;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::base_string::{base_string_bytes, is_form_urlencoded};
use crate::encode::is_unreserved;
use crate::prepared::Prepared;
use crate::signature::{RsaPrivateKey, SigningKey};
use crate::{Error, SignatureMethod, header};

/// The consumer (client) credentials: a public key and a shared secret.
#[derive(Clone)]
pub struct Consumer {
    key: String,
    secret: SecretString,
}

impl Consumer {
    /// Consumer key and secret.
    pub fn new(key: impl Into<String>, secret: SecretString) -> Self {
        Self {
            key: key.into(),
            secret,
        }
    }

    /// The consumer key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The consumer secret.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("key", &self.key)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// Token credentials (temporary or access): a public token and a shared secret.
#[derive(Clone)]
pub struct TokenCredentials {
    token: String,
    secret: SecretString,
}

impl TokenCredentials {
    /// Token and token secret.
    pub fn new(token: impl Into<String>, secret: SecretString) -> Self {
        Self {
            token: token.into(),
            secret,
        }
    }

    /// The token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The token secret.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }
}

impl fmt::Debug for TokenCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCredentials")
            .field("token", &self.token)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// Per-request choices: an explicit nonce and timestamp (for tests and for
/// reproducing a vendor's example), and the flow's `oauth_callback` and
/// `oauth_verifier`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignOptions<'a> {
    /// The nonce (default: 128 random bits from the thread's CSPRNG).
    pub nonce: Option<&'a str>,
    /// The timestamp in seconds (default: the signer's clock).
    pub timestamp: Option<u64>,
    /// `oauth_callback`, on temporary-credential requests.
    pub callback: Option<&'a str>,
    /// `oauth_verifier`, on token requests.
    pub verifier: Option<&'a str>,
}

/// A signed request's parts, for inspection (the `sign` example prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The signature base string.
    pub base_string: String,
    /// The signature (base64; PLAINTEXT: the key).
    pub signature: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

/// Signs requests per RFC 5849 with the protocol parameters in the `Authorization`
/// header. See the crate documentation for an example.
#[derive(Clone)]
pub struct Signer {
    consumer_key: String,
    token: Option<String>,
    key: SigningKey,
    realm: Option<String>,
    body_hash: bool,
    clock: Arc<dyn Clock>,
    prepared: Prepared,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("consumer_key", &self.consumer_key)
            .field("token", &self.token)
            .field("method", &self.key.method())
            .field("realm", &self.realm)
            .field("body_hash", &self.body_hash)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Signer`].
#[derive(Debug)]
pub struct SignerBuilder {
    consumer: Consumer,
    token: Option<TokenCredentials>,
    method: SignatureMethod,
    rsa: Option<RsaPrivateKey>,
    realm: Option<String>,
    body_hash: bool,
    clock: Arc<dyn Clock>,
}

impl SignerBuilder {
    /// Signs with token credentials as well.
    #[must_use]
    pub fn token(mut self, token: TokenCredentials) -> Self {
        self.token = Some(token);
        self
    }

    /// The signature method (default HMAC-SHA1).
    #[must_use]
    pub fn method(mut self, method: SignatureMethod) -> Self {
        self.method = method;
        self
    }

    /// The RSA key for [`SignatureMethod::RsaSha256`].
    #[must_use]
    pub fn rsa_key(mut self, key: RsaPrivateKey) -> Self {
        self.rsa = Some(key);
        self
    }

    /// A `realm` in the header.
    #[must_use]
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Adds `oauth_body_hash` (the OAuth Request Body Hash extension) to requests
    /// whose body is not form-encoded.
    #[must_use]
    pub fn body_hash(mut self, on: bool) -> Self {
        self.body_hash = on;
        self
    }

    /// The clock for timestamps (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The signer; fails if the method needs a key that was not given.
    pub fn build(self) -> Result<Signer, Error> {
        let key = SigningKey::new(
            self.method,
            self.consumer.secret(),
            self.token.as_ref().map(TokenCredentials::secret),
            self.rsa.as_ref(),
        )?;
        let token = self.token.map(|t| t.token);
        let prepared = Prepared::new(
            &self.consumer.key,
            token.as_deref(),
            self.method,
            self.realm.as_deref(),
        );
        Ok(Signer {
            consumer_key: self.consumer.key,
            token,
            prepared,
            key,
            realm: self.realm,
            body_hash: self.body_hash,
            clock: self.clock,
        })
    }
}

impl Signer {
    /// A builder for `consumer`.
    pub fn builder(consumer: Consumer) -> SignerBuilder {
        SignerBuilder {
            consumer,
            token: None,
            method: SignatureMethod::HmacSha1,
            rsa: None,
            realm: None,
            body_hash: false,
            clock: Arc::new(SystemClock),
        }
    }

    /// The signature method.
    pub fn method(&self) -> SignatureMethod {
        self.key.method()
    }

    /// Whether requests are signed with token credentials too.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Signs `request` in place: adds the `Authorization` header.
    pub fn sign(&self, request: &mut AuthRequest) -> Result<(), Error> {
        self.sign_with(request, &SignOptions::default())
    }

    /// Signs `request` in place with explicit options.
    pub fn sign_with(
        &self,
        request: &mut AuthRequest,
        options: &SignOptions<'_>,
    ) -> Result<(), Error> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let header = self.authorization(
            request.method().as_str(),
            request.uri(),
            content_type,
            request.body(),
            options,
        )?;
        let mut value = HeaderValue::from_maybe_shared(Bytes::from(header))
            .map_err(|_| Error::MalformedHeader("the header has characters HTTP forbids"))?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    /// Signs a request given by its parts and returns the base string, signature and
    /// header: what to compare when a server answers 401.
    pub fn sign_parts(
        &self,
        method: &str,
        uri: &Uri,
        content_type: Option<&str>,
        body: &[u8],
        options: &SignOptions<'_>,
    ) -> Result<Signed, Error> {
        let _span = self.span(method);
        let mut nonce_buf = [0u8; 24];
        let mut ts_buf = itoa::Buffer::new();
        let stamp = self.stamp(options, &mut nonce_buf, &mut ts_buf)?;
        let (base_string, signature, authorization) =
            self.compute(method, uri, content_type, body, options, &stamp)?;
        let ascii = |bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| Error::InvalidUri("the output is not ASCII"))
        };
        Ok(Signed {
            base_string: ascii(base_string)?,
            signature,
            authorization: ascii(authorization)?,
        })
    }

    /// The `Authorization` header value: the prepared way when the request allows,
    /// else the general one.
    fn authorization(
        &self,
        method: &str,
        uri: &Uri,
        content_type: Option<&str>,
        body: &[u8],
        options: &SignOptions<'_>,
    ) -> Result<Vec<u8>, Error> {
        let _span = self.span(method);
        let is_form = is_form_urlencoded(content_type);
        let mut nonce_buf = [0u8; 24];
        let mut ts_buf = itoa::Buffer::new();
        let stamp = self.stamp(options, &mut nonce_buf, &mut ts_buf)?;
        // The body hash, a callback and a verifier are protocol parameters of their
        // own: the general way writes those.
        let prepared_fits = options.callback.is_none()
            && options.verifier.is_none()
            && (is_form || !self.body_hash);
        if prepared_fits
            && let Some(header) =
                self.prepared
                    .authorization(&self.key, method, uri, is_form.then_some(body), &stamp)
        {
            return header;
        }
        self.compute(method, uri, content_type, body, options, &stamp)
            .map(|(_, _, header)| header)
    }

    /// One span per signed request: what was signed and how, never the signature.
    fn span(&self, method: &str) -> tracing::span::EnteredSpan {
        tracing::trace_span!(
            "oauth1_sign",
            signature_method = self.key.method().as_str(),
            consumer_key = %self.consumer_key,
            http_method = method,
        )
        .entered()
    }

    /// The nonce and timestamp given in `options`, or a fresh random nonce (128 bits,
    /// URL-safe base64) and the clock's time.
    fn stamp<'a>(
        &self,
        options: &SignOptions<'a>,
        nonce_buf: &'a mut [u8; 24],
        ts_buf: &'a mut itoa::Buffer,
    ) -> Result<Stamp<'a>, Error> {
        let (nonce, plain_nonce) = match options.nonce {
            Some(n) => (n.as_bytes(), n.bytes().all(is_unreserved)),
            None => {
                // Two 64-bit draws (an array of bytes would draw once per byte).
                let raw = rand::random::<u128>().to_le_bytes();
                let len = URL_SAFE_NO_PAD
                    .encode_slice(raw, nonce_buf)
                    .map_err(|_| Error::InvalidKey("nonce buffer"))?;
                // The URL-safe alphabet is unreserved: nothing to encode.
                (&nonce_buf[..len], true)
            }
        };
        let timestamp = ts_buf
            .format(
                options
                    .timestamp
                    // Whole seconds: the coarse clock (a few ns) is exact enough.
                    .unwrap_or_else(|| self.clock.unix_seconds_coarse()),
            )
            .as_bytes();
        Ok(Stamp {
            nonce,
            plain_nonce,
            timestamp,
        })
    }

    /// The general way: every option, and the base string and signature kept.
    #[allow(clippy::too_many_arguments)] // the parts of one request
    fn compute(
        &self,
        method: &str,
        uri: &Uri,
        content_type: Option<&str>,
        body: &[u8],
        options: &SignOptions<'_>,
        stamp: &Stamp<'_>,
    ) -> Result<(Vec<u8>, String, Vec<u8>), Error> {
        // A nonce given as `&str` or generated, and digits: never fails.
        let ascii =
            |bytes| std::str::from_utf8(bytes).map_err(|_| Error::InvalidKey("nonce or timestamp"));
        let (nonce, timestamp) = (ascii(stamp.nonce)?, ascii(stamp.timestamp)?);
        let is_form = is_form_urlencoded(content_type);
        let mut hash_buf = [0u8; 28];
        let body_hash = if self.body_hash && !is_form {
            use sha1::Digest as _;
            let digest = sha1::Sha1::digest(body);
            let len = STANDARD
                .encode_slice(digest, &mut hash_buf)
                .map_err(|_| Error::InvalidKey("body hash buffer"))?;
            Some(
                std::str::from_utf8(&hash_buf[..len])
                    .map_err(|_| Error::InvalidKey("body hash"))?,
            )
        } else {
            None
        };

        // The protocol parameters, on the stack.
        let mut pairs: [(&str, &str); 9] = [("", ""); 9];
        let mut n = 0;
        let mut add = |name, value| {
            pairs[n] = (name, value);
            n += 1;
        };
        // In the order the base string sorts them by name.
        if let Some(hash) = body_hash {
            add("oauth_body_hash", hash);
        }
        if let Some(callback) = options.callback {
            add("oauth_callback", callback);
        }
        add("oauth_consumer_key", self.consumer_key.as_str());
        add("oauth_nonce", nonce);
        add("oauth_signature_method", self.key.method().as_str());
        add("oauth_timestamp", timestamp);
        if let Some(token) = &self.token {
            add("oauth_token", token.as_str());
        }
        if let Some(verifier) = options.verifier {
            add("oauth_verifier", verifier);
        }
        add("oauth_version", "1.0");
        let protocol = &pairs[..n];

        let base = base_string_bytes(method, uri, is_form.then_some(body), protocol)?;
        let signature = self.key.sign(&base)?;
        let header = header::build(self.realm.as_deref(), protocol, &signature);
        Ok((base, signature, header))
    }
}

/// The nonce and timestamp of one sign, as the bytes sent.
pub(crate) struct Stamp<'a> {
    pub(crate) nonce: &'a [u8],
    /// Whether the nonce is unreserved characters only (a generated one is).
    pub(crate) plain_nonce: bool,
    /// Decimal digits.
    pub(crate) timestamp: &'a [u8],
}

impl CredentialProvider for Signer {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        Authorize::ready(self.sign(request).map_err(Into::into))
    }

    /// A form body's parameters are signed (RFC 5849 §3.4.1.3.1), and with
    /// [`body_hash`](SignerBuilder::body_hash) any other body is hashed.
    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        self.body_hash || is_form_urlencoded(content_type)
    }
}
