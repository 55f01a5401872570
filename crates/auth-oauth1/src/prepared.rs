//! [`Prepared`]: the protocol parameters that are the same on every request of a
//! signer, encoded once when it is built, for the usual request (no callback, no
//! verifier, no body hash, a nonce that needs no encoding).
//!
//! A request then costs its own parts only: the method and URI, its query and form
//! parameters merged with the pre-sorted protocol parameters, one HMAC from the
//! pre-keyed state, and the header copied around the nonce, timestamp and signature.
//! The base string is written into a buffer kept by the thread, so a sign makes one
//! allocation: the header. Anything else goes the general way
//! ([`base_string_bytes`](crate::base_string::base_string_bytes) and
//! [`header::build`](crate::header::build)), and a property test checks that both
//! agree byte for byte.

use std::cell::RefCell;

use http::Uri;

use crate::base_string::{Param, Params, push_method_and_uri, request_params};
use crate::encode::{encoded_len, push_encoded, push_encoded_twice};
use crate::header::push_pair as push_header_pair;
use crate::signature::SigningKey;
use crate::signer::Stamp;
use crate::{Error, SignatureMethod};

/// One protocol parameter in the base string.
#[derive(Debug, Clone)]
struct Entry {
    name: &'static str,
    value: Slot,
}

#[derive(Debug, Clone)]
enum Slot {
    /// `name%3Dvalue`, encoded twice, ready to copy.
    Fixed(Box<[u8]>),
    Nonce,
    Timestamp,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// The protocol parameters in the order the base string sorts them.
    base: Vec<Entry>,
    /// `OAuth [realm="...", ]oauth_consumer_key="...", oauth_nonce="`
    header_head: Box<[u8]>,
    /// `", oauth_signature_method="...", oauth_timestamp="`
    header_middle: Box<[u8]>,
    /// `", [oauth_token="...", ]oauth_version="1.0", oauth_signature="`
    header_tail: Box<[u8]>,
}

thread_local! {
    /// The buffer for the base string of the next sign on this thread.
    static BASE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A buffer that grew past this is not kept for the next sign.
const KEPT_CAPACITY: usize = 16 * 1024;

fn fixed(name: &'static str, value: &str) -> Entry {
    let mut piece = name.as_bytes().to_vec();
    piece.extend_from_slice(b"%3D");
    push_encoded_twice(&mut piece, value.as_bytes());
    Entry {
        name,
        value: Slot::Fixed(piece.into()),
    }
}

/// Writes `name%3Dvalue` for a value that needs no encoding.
fn push_base_pair(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"%3D");
    out.extend_from_slice(value);
}

impl Prepared {
    pub(crate) fn new(
        consumer_key: &str,
        token: Option<&str>,
        method: SignatureMethod,
        realm: Option<&str>,
    ) -> Self {
        let mut base = vec![
            fixed("oauth_consumer_key", consumer_key),
            Entry {
                name: "oauth_nonce",
                value: Slot::Nonce,
            },
            fixed("oauth_signature_method", method.as_str()),
            Entry {
                name: "oauth_timestamp",
                value: Slot::Timestamp,
            },
        ];
        if let Some(token) = token {
            base.push(fixed("oauth_token", token));
        }
        base.push(fixed("oauth_version", "1.0"));

        let mut head = b"OAuth ".to_vec();
        if let Some(realm) = realm {
            push_header_pair(&mut head, "realm", realm);
        }
        push_header_pair(&mut head, "oauth_consumer_key", consumer_key);
        head.extend_from_slice(b"oauth_nonce=\"");
        let mut middle = b"\", ".to_vec();
        push_header_pair(&mut middle, "oauth_signature_method", method.as_str());
        middle.extend_from_slice(b"oauth_timestamp=\"");
        let mut tail = b"\", ".to_vec();
        if let Some(token) = token {
            push_header_pair(&mut tail, "oauth_token", token);
        }
        push_header_pair(&mut tail, "oauth_version", "1.0");
        tail.extend_from_slice(b"oauth_signature=\"");
        Self {
            base,
            header_head: head.into(),
            header_middle: middle.into(),
            header_tail: tail.into(),
        }
    }

    /// The `Authorization` header value for a request, or `None` where the request
    /// needs the general way: a nonce that needs encoding, a form body that is not
    /// UTF-8, or a request parameter named `oauth_*` (it would sort among the
    /// protocol parameters by value too).
    pub(crate) fn authorization(
        &self,
        key: &SigningKey,
        method: &str,
        uri: &Uri,
        form_body: Option<&[u8]>,
        stamp: &Stamp<'_>,
    ) -> Option<Result<Vec<u8>, Error>> {
        if !stamp.plain_nonce {
            return None;
        }
        let mut params = Params::new();
        request_params(uri, form_body, &mut params).ok()?;
        if params.iter().any(|p| p.name().starts_with("oauth_")) {
            return None;
        }
        // §3.4.1.3.2: sorted by encoded name, then encoded value.
        params.sort_unstable_by(Param::cmp);
        let request = Request {
            method,
            uri,
            params: params.iter(),
            nonce: stamp.nonce,
            timestamp: stamp.timestamp,
        };
        // The thread's buffer, borrowed in place. A sign that ever ran inside another
        // (from a destructor, say) finds it borrowed and uses a buffer of its own.
        Some(BASE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut out) => {
                let header = self.sign(&mut out, key, request);
                if out.capacity() > KEPT_CAPACITY {
                    *out = Vec::new();
                }
                header
            }
            Err(_) => self.sign(&mut Vec::new(), key, request),
        }))
    }

    /// Writes the base string into `out`, signs it and writes the header.
    fn sign<'r>(
        &self,
        out: &mut Vec<u8>,
        key: &SigningKey,
        request: Request<'r, impl Iterator<Item = &'r Param<'r>>>,
    ) -> Result<Vec<u8>, Error> {
        out.clear();
        push_method_and_uri(out, request.method, request.uri)?;
        let mut params = request.params.peekable();
        let mut first = true;
        let mut separate = |out: &mut Vec<u8>| {
            if !first {
                out.extend_from_slice(b"%26");
            }
            first = false;
        };
        for entry in &self.base {
            while let Some(param) = params.next_if(|p| p.cmp_name(entry.name).is_lt()) {
                separate(out);
                param.push(out);
            }
            separate(out);
            match &entry.value {
                Slot::Fixed(piece) => out.extend_from_slice(piece),
                // Digits, or a nonce checked to need no encoding.
                Slot::Nonce => push_base_pair(out, entry.name, request.nonce),
                Slot::Timestamp => push_base_pair(out, entry.name, request.timestamp),
            }
        }
        for param in params {
            separate(out);
            param.push(out);
        }
        key.sign_then(out, |signature| {
            self.header(request.nonce, request.timestamp, signature)
        })
    }

    fn header(&self, nonce: &[u8], timestamp: &[u8], signature: &[u8]) -> Vec<u8> {
        let len = self.header_head.len()
            + nonce.len()
            + self.header_middle.len()
            + timestamp.len()
            + self.header_tail.len()
            + encoded_len(signature)
            + 1;
        // Exactly the length, so that a header value takes it over without copying.
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(&self.header_head);
        out.extend_from_slice(nonce);
        out.extend_from_slice(&self.header_middle);
        out.extend_from_slice(timestamp);
        out.extend_from_slice(&self.header_tail);
        push_encoded(&mut out, signature);
        out.push(b'"');
        out
    }
}

/// The parts of the request being signed, its parameters in base-string order.
struct Request<'r, P> {
    method: &'r str,
    uri: &'r Uri,
    params: P,
    nonce: &'r [u8],
    timestamp: &'r [u8],
}
