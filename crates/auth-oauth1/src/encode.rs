//! Percent-encoding of RFC 5849 §3.6: the unreserved characters `ALPHA DIGIT - . _ ~`
//! are kept, every other byte of the UTF-8 encoding becomes `%XX` with upper-case hex.
//!
//! [`encode`] uses the `percent-encoding` crate. The signing hot path writes through a
//! 256-entry table straight into the output buffer instead (and writes the base
//! string's double encoding in one pass): measured in the `oauth1_sign` benchmark, the
//! crate's chunked iterator made the base string cost twice a whole HMAC-SHA1.

use std::borrow::Cow;
use std::cmp::Ordering;

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

/// The unreserved characters of §3.6, for tables built at compile time.
pub(crate) const fn unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

const fn unreserved_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = unreserved(b as u8);
        b += 1;
    }
    table
}

static UNRESERVED: [bool; 256] = unreserved_table();
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `b` is left as it is by §3.6.
pub(crate) fn is_unreserved(b: u8) -> bool {
    UNRESERVED[usize::from(b)]
}

/// Appends `text` encoded once or twice (the encoding of `%XX` is `%25XX`): runs of
/// unreserved bytes are found by [`plain_prefix_len`] and copied whole.
fn push_with(out: &mut Vec<u8>, text: &[u8], prefix: Prefix) {
    let mut rest = text;
    loop {
        let at = plain_prefix_len(rest);
        if at > 0 {
            out.extend_from_slice(&rest[..at]);
        }
        let Some(&b) = rest.get(at) else {
            return;
        };
        let (high, low) = (HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]);
        // Arrays of a size known here: stored in place, where a slice of either
        // length was a `memcpy` call for three or five bytes.
        match prefix {
            Prefix::Once => out.extend_from_slice(&[b'%', high, low]),
            Prefix::Twice => out.extend_from_slice(&[b'%', b'2', b'5', high, low]),
        }
        rest = &rest[at + 1..];
    }
}

/// How a reserved byte is written: `%XX`, or encoded again, `%25XX`.
#[derive(Clone, Copy)]
enum Prefix {
    Once,
    Twice,
}

/// The number of unreserved bytes `text` starts with: sixteen at a time while they
/// all are (arithmetic the compiler turns into a few vector instructions, where a
/// table lookup per byte cost six instructions a byte), then byte by byte.
fn plain_prefix_len(text: &[u8]) -> usize {
    let (chunks, _) = text.as_chunks::<16>();
    let whole = chunks.iter().take_while(|c| all_unreserved(c)).count() * 16;
    whole
        + text[whole..]
            .iter()
            .position(|&b| !is_unreserved(b))
            .unwrap_or(text.len() - whole)
}

fn all_unreserved(chunk: &[u8; 16]) -> bool {
    chunk.iter().fold(true, |all, &b| {
        let alpha = (b | 0x20).wrapping_sub(b'a') < 26;
        let digit = b.wrapping_sub(b'0') < 10;
        all & (alpha | digit | (b == b'-') | (b == b'.') | (b == b'_') | (b == b'~'))
    })
}

/// Appends `text` encoded per §3.6.
pub(crate) fn push_encoded(out: &mut Vec<u8>, text: &[u8]) {
    push_with(out, text, Prefix::Once);
}

/// Appends the encoding of the encoding of `text` (what a parameter becomes in the
/// base string), in one pass.
pub(crate) fn push_encoded_twice(out: &mut Vec<u8>, text: &[u8]) {
    push_with(out, text, Prefix::Twice);
}

/// Appends `text` encoded per §3.6 to a `String`.
pub(crate) fn push_encoded_str(out: &mut String, text: &str) {
    for chunk in utf8_percent_encode(text, OAUTH_ENCODE_SET) {
        out.push_str(chunk);
    }
}

/// The length of `text` once encoded per §3.6.
pub(crate) fn encoded_len(text: &[u8]) -> usize {
    text.iter()
        .map(|&b| if is_unreserved(b) { 1 } else { 3 })
        .sum()
}

/// The bytes of the §3.6 encoding of `text`, produced lazily.
fn encoded_bytes(text: &[u8]) -> impl Iterator<Item = u8> + '_ {
    text.iter().flat_map(|&b| {
        let (bytes, len) = if is_unreserved(b) {
            ([b, 0, 0], 1)
        } else {
            (
                [b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]],
                3,
            )
        };
        bytes.into_iter().take(len)
    })
}

/// Orders byte strings as `Ord` does, inline: parameter names and values are short
/// and usually differ in their first byte, where a `memcmp` call costs more than the
/// comparison.
pub(crate) fn cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// Orders `a` and `b` as their §3.6 encodings would be ordered (§3.4.1.3.2), without
/// building them.
pub(crate) fn cmp_encoded(a: &[u8], b: &[u8]) -> Ordering {
    if a.iter().chain(b).all(|&c| is_unreserved(c)) {
        return cmp_bytes(a, b);
    }
    encoded_bytes(a).cmp(encoded_bytes(b))
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
        assert_eq!(encoded_len(b"a b"), 5);
        assert_eq!(encoded_len("ü".as_bytes()), 6);
    }

    #[test]
    fn the_table_agrees_with_the_crate() {
        let samples = [
            "",
            "abc",
            "a b+c",
            "ü字😀",
            "%%",
            "-._~",
            "!*'();:@&=+$,/?#[]",
            "\u{0}\u{7f}",
        ];
        for s in samples {
            let mut once = Vec::new();
            push_encoded(&mut once, s.as_bytes());
            assert_eq!(once, encode(s).as_bytes(), "{s:?}");
            let mut twice = Vec::new();
            push_encoded_twice(&mut twice, s.as_bytes());
            assert_eq!(twice, encode(&encode(s)).as_bytes(), "{s:?}");
            assert_eq!(encoded_len(s.as_bytes()), once.len());
        }
    }

    #[test]
    fn the_vector_check_agrees_with_the_table() {
        for b in 0..=255u8 {
            for at in [0, 7, 15] {
                let mut chunk = [b'a'; 16];
                chunk[at] = b;
                assert_eq!(all_unreserved(&chunk), is_unreserved(b), "{b:#x} at {at}");
                let mut text = vec![b'z'; 40];
                text[at + 16] = b;
                let expected = if is_unreserved(b) { 40 } else { at + 16 };
                assert_eq!(plain_prefix_len(&text), expected, "{b:#x} at {}", at + 16);
            }
        }
        assert_eq!(plain_prefix_len(b""), 0);
        assert_eq!(plain_prefix_len(b"%"), 0);
    }

    #[test]
    fn inline_comparison_is_ord() {
        let words: [&[u8]; 7] = [b"", b"a", b"ab", b"b", b"oauth_", b"oauth_nonce", b"\xff"];
        for x in words {
            for y in words {
                assert_eq!(cmp_bytes(x, y), x.cmp(y), "{x:?} {y:?}");
            }
        }
    }

    #[test]
    fn ordering_follows_the_encoding() {
        let mut words = vec!["a", "A", "a b", "a-b", "a%b", "ab", "", "ü", "~", "z"];
        words.sort_by(|x, y| cmp_encoded(x.as_bytes(), y.as_bytes()));
        let mut by_encoding = words.clone();
        by_encoding.sort_by_key(|w| encode(w).into_owned());
        assert_eq!(words, by_encoding);
    }
}
