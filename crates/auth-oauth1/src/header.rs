//! The `Authorization: OAuth ...` header of RFC 5849 §3.5.1: building and parsing.

use crate::Error;
use crate::encode::{encoded_len, push_encoded};

/// Builds `OAuth realm="...", oauth_...="...", oauth_signature="..."`, each name and
/// value encoded per §3.6, in one allocation of exactly the right size (so that a
/// header value can take it over without copying).
pub(crate) fn build(realm: Option<&str>, protocol: &[(&str, &str)], signature: &str) -> Vec<u8> {
    const PREFIX: &[u8] = b"OAuth ";
    let pair_len =
        |name: &str, value: &str| encoded_len(name.as_bytes()) + encoded_len(value.as_bytes()) + 3;
    let mut len = PREFIX.len();
    let mut fields = 0usize;
    if let Some(r) = realm {
        len += pair_len("realm", r);
        fields += 1;
    }
    for (name, value) in protocol {
        len += pair_len(name, value);
        fields += 1;
    }
    len += pair_len("oauth_signature", signature);
    len += 2 * fields; // ", " separators
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(PREFIX);
    if let Some(r) = realm {
        push_pair(&mut out, "realm", r);
    }
    for (name, value) in protocol {
        push_pair(&mut out, name, value);
    }
    push_encoded(&mut out, b"oauth_signature");
    out.extend_from_slice(b"=\"");
    push_encoded(&mut out, signature.as_bytes());
    out.push(b'"');
    out
}

/// Appends `name="value", ` (both encoded per §3.6): one parameter of the header.
pub(crate) fn push_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    push_encoded(out, name.as_bytes());
    out.extend_from_slice(b"=\"");
    push_encoded(out, value.as_bytes());
    out.extend_from_slice(b"\", ");
}

/// A parsed OAuth `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// The realm, if any.
    pub realm: Option<String>,
    /// The other parameters, decoded, in the order sent (`oauth_signature` included).
    pub params: Vec<(String, String)>,
}

impl AuthorizationHeader {
    /// The value of the parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The protocol parameters that enter the signature base string: all but
    /// `oauth_signature` (and `realm`, which is kept apart).
    pub fn protocol_pairs(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .filter(|(n, _)| n != "oauth_signature")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    /// Parses `OAuth name="value", ...` (§3.5.1): the scheme is case-insensitive,
    /// whitespace around separators is allowed, values are quoted and
    /// percent-encoded. A parameter sent twice is an error.
    ///
    /// ```
    /// use auth_oauth1::AuthorizationHeader;
    /// let h = AuthorizationHeader::parse(r#"OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_signature="74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D""#).unwrap();
    /// assert_eq!(h.realm.as_deref(), Some("Photos"));
    /// assert_eq!(h.get("oauth_signature"), Some("74KNZJeDHnMBp0EMJ9ZHt/XKycU="));
    /// ```
    pub fn parse(value: &str) -> Result<Self, Error> {
        let value = value.trim();
        let (scheme, rest) = value
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("OAuth") {
            return Err(Error::MalformedHeader("not the OAuth scheme"));
        }
        let mut realm = None;
        let mut params: Vec<(String, String)> = Vec::new();
        let mut rest = rest.trim_start();
        while !rest.is_empty() {
            let (name, after) = rest
                .split_once('=')
                .ok_or(Error::MalformedHeader("a parameter without '='"))?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b',')
            {
                return Err(Error::MalformedHeader("an invalid parameter name"));
            }
            let after = after.trim_start();
            let quoted = after
                .strip_prefix('"')
                .ok_or(Error::MalformedHeader("a value without quotes"))?;
            let end = quoted
                .find('"')
                .ok_or(Error::MalformedHeader("an unterminated value"))?;
            let raw = &quoted[..end];
            let decoded = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| Error::MalformedHeader("a value that is not UTF-8"))?
                .into_owned();
            let name = percent_encoding::percent_decode_str(name)
                .decode_utf8()
                .map_err(|_| Error::MalformedHeader("a name that is not UTF-8"))?
                .into_owned();
            if name == "realm" {
                if realm.replace(decoded).is_some() {
                    return Err(Error::DuplicateParameter("realm".into()));
                }
            } else {
                if params.iter().any(|(n, _)| *n == name) {
                    return Err(Error::DuplicateParameter(name));
                }
                params.push((name, decoded));
            }
            rest = quoted[end + 1..].trim_start();
            if let Some(next) = rest.strip_prefix(',') {
                rest = next.trim_start();
            } else if !rest.is_empty() {
                return Err(Error::MalformedHeader("parameters not separated by ','"));
            }
        }
        Ok(Self { realm, params })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_is_exactly_sized_and_parses_back() {
        let h = build(
            Some("Photos"),
            &[("oauth_consumer_key", "a b"), ("oauth_nonce", "n/+")],
            "sig=",
        );
        assert_eq!(h.len(), h.capacity());
        let h = String::from_utf8(h).unwrap();
        assert_eq!(
            h,
            r#"OAuth realm="Photos", oauth_consumer_key="a%20b", oauth_nonce="n%2F%2B", oauth_signature="sig%3D""#
        );
        let parsed = AuthorizationHeader::parse(&h).unwrap();
        assert_eq!(parsed.get("oauth_consumer_key"), Some("a b"));
        assert_eq!(parsed.get("oauth_signature"), Some("sig="));
        let bare = build(None, &[], "s");
        assert_eq!(bare, b"OAuth oauth_signature=\"s\"");
        assert_eq!(bare.len(), bare.capacity());
    }

    #[test]
    fn refuses_malformed_headers() {
        for bad in [
            "Bearer x",
            r#"OAuth oauth_nonce=abc"#,
            r#"OAuth oauth_nonce="abc"#,
            r#"OAuth oauth_nonce="a" oauth_token="b""#,
            r#"OAuth oauth_nonce="a", oauth_nonce="b""#,
            r#"OAuth ="a""#,
            r#"OAuth oauth_nonce="%FF""#,
        ] {
            assert!(AuthorizationHeader::parse(bad).is_err(), "{bad}");
        }
        let multi_line = "OAuth realm=\"Example\",\n   oauth_consumer_key=\"9djdj82h48djs9d2\" ,oauth_token=\"kkk9d7dh3k39sjv7\"";
        let h = AuthorizationHeader::parse(multi_line).unwrap();
        assert_eq!(h.params.len(), 2);
    }
}
