//! Percent-encoding of RFC 5849 §3.6: the unreserved characters `ALPHA DIGIT - . _ ~`
//! are kept, every other byte of the UTF-8 encoding becomes `%XX` with upper-case hex.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The bytes RFC 5849 §3.6 encodes: all but `ALPHA DIGIT - . _ ~`.
pub const OAUTH_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` encoded per §3.6; borrowed when nothing needs encoding.
///
/// ```
/// use auth_oauth1::encode;
/// assert_eq!(encode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
/// assert_eq!(encode("a-b._~"), "a-b._~");
/// assert_eq!(encode("ü"), "%C3%BC");
/// ```
pub fn encode(text: &str) -> Cow<'_, str> {
    utf8_percent_encode(text, OAUTH_ENCODE_SET).into()
}

/// Appends `text`, encoded per §3.6, to `out`.
pub(crate) fn push_encoded(out: &mut String, text: &str) {
    for chunk in utf8_percent_encode(text, OAUTH_ENCODE_SET) {
        out.push_str(chunk);
    }
}

/// The length of `text` once encoded per §3.6.
pub(crate) fn encoded_len(text: &str) -> usize {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                1
            } else {
                3
            }
        })
        .sum()
}

/// A decoded parameter re-encoded per §3.6, borrowing from the request when it can.
pub(crate) fn reencode(decoded: Cow<'_, str>) -> Cow<'_, str> {
    match decoded {
        Cow::Borrowed(s) => encode(s),
        Cow::Owned(s) => Cow::Owned(encode(&s).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_3_6() {
        let all: String = (0u8..128).map(char::from).collect();
        let encoded = encode(&all);
        for c in encoded.chars() {
            assert!(c.is_ascii_alphanumeric() || "-._~%".contains(c), "{c:?}");
        }
        assert_eq!(encode("%"), "%25");
        assert_eq!(encode("*"), "%2A");
        assert_eq!(encoded_len("a b"), 5);
        assert_eq!(encoded_len("ü"), 6);
    }
}
