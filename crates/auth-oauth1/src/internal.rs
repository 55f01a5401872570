//! Pieces of the signer exposed for the workspace's benchmarks: not part of the API
//! an application uses, and without a stability promise.

use std::fmt;

use crate::hmac_sha1::HmacSha1Key;

/// The HMAC-SHA1 a [`Signer`](crate::Signer) runs: the key's inner and outer padded
/// blocks compressed once, up front, so that a MAC costs the message's blocks and the
/// outer hash only. The `oauth1_sign` benchmark measures a full sign against it, over
/// the same base string (the floor a sign cannot go below).
///
/// ```
/// use auth_oauth1::internal::PrecomputedHmacSha1;
///
/// // RFC 2202, test case 2.
/// let key = PrecomputedHmacSha1::new(b"Jefe");
/// let mac = key.sign(b"what do ya want for nothing?");
/// assert_eq!(mac, auth_oauth1::hmac_sha1(b"Jefe", b"what do ya want for nothing?"));
/// ```
#[derive(Clone)]
pub struct PrecomputedHmacSha1(HmacSha1Key);

impl PrecomputedHmacSha1 {
    /// Keys the inner and outer states (a key longer than a block is hashed first).
    pub fn new(key: &[u8]) -> Self {
        Self(HmacSha1Key::new(key))
    }

    /// The MAC of `message`, by the same code the signer calls.
    #[inline]
    pub fn sign(&self, message: &[u8]) -> [u8; 20] {
        self.0.sign(message)
    }
}

impl fmt::Debug for PrecomputedHmacSha1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrecomputedHmacSha1([REDACTED])")
    }
}
