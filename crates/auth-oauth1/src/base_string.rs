//! The signature base string of RFC 5849 §3.4.1.

use std::borrow::Cow;

use http::Uri;
use smallvec::SmallVec;

use crate::Error;
use crate::encode::{cmp_bytes, cmp_encoded, is_unreserved, push_encoded, push_encoded_twice};

/// The protocol parameters that go into the base string (and the header), as
/// `(name, value)` pairs, decoded. `oauth_signature` and `realm` never do.
pub type ProtocolPairs<'a> = [(&'a str, &'a str)];

/// The signature base string (§3.4.1.1):
/// `METHOD & encode(base string URI) & encode(normalized parameters)`, with the
/// parameters of the query, of an `application/x-www-form-urlencoded` body
/// (`form_body`, when the caller has established that content type) and the
/// protocol parameters, each decoded, re-encoded per §3.6 and sorted by name then
/// value (§3.4.1.3.2).
///
/// ```
/// use auth_oauth1::base_string;
///
/// let uri = "https://photos.example.net/photos?size=original&file=vacation.jpg".parse().unwrap();
/// let base = base_string("get", &uri, None, &[("oauth_nonce", "n"), ("oauth_consumer_key", "k")]).unwrap();
/// assert_eq!(base, "GET&https%3A%2F%2Fphotos.example.net%2Fphotos&\
///                   file%3Dvacation.jpg%26oauth_consumer_key%3Dk%26oauth_nonce%3Dn%26size%3Doriginal");
/// ```
pub fn base_string(
    method: &str,
    uri: &Uri,
    form_body: Option<&[u8]>,
    protocol: &ProtocolPairs<'_>,
) -> Result<String, Error> {
    let bytes = base_string_bytes(method, uri, form_body, protocol)?;
    // Every byte written is ASCII.
    String::from_utf8(bytes).map_err(|_| Error::InvalidUri("the base string is not ASCII"))
}

/// [`base_string`] as bytes, for signing without a UTF-8 check.
pub(crate) fn base_string_bytes(
    method: &str,
    uri: &Uri,
    form_body: Option<&[u8]>,
    protocol: &ProtocolPairs<'_>,
) -> Result<Vec<u8>, Error> {
    let mut params = Params::new();
    request_params(uri, form_body, &mut params)?;
    params.extend(
        protocol
            .iter()
            .map(|(n, v)| Param::new(Cow::Borrowed(*n), Cow::Borrowed(*v))),
    );
    // §3.4.1.3.2: sorted by encoded name, then encoded value.
    params.sort_unstable_by(Param::cmp);

    // The exact length: method (encoded at most 3x), URI (encoded), parameters
    // (encoded twice: five bytes for each reserved one).
    let params_len: usize = params.iter().map(|p| p.base_len() + 3).sum();
    let mut out: Vec<u8> = Vec::with_capacity(method_and_uri_capacity(method, uri) + params_len);
    push_method_and_uri(&mut out, method, uri)?;
    for (i, param) in params.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"%26");
        }
        param.push(&mut out);
    }
    Ok(out)
}

/// Appends the parameters of the query and of a form body (§3.4.1.3.1) to `params`,
/// decoded, in the order sent.
pub(crate) fn request_params<'a>(
    uri: &'a Uri,
    form_body: Option<&'a [u8]>,
    params: &mut Params<'a>,
) -> Result<(), Error> {
    let query = uri.query().unwrap_or("");
    let form = match form_body {
        Some(body) => std::str::from_utf8(body)
            .map_err(|_| Error::InvalidUri("the form body is not UTF-8"))?,
        None => "",
    };
    for pair in split_ascii(query, b'&').chain(split_ascii(form, b'&')) {
        if !pair.is_empty() {
            let (name, value) = match pair.bytes().position(|b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, ""),
            };
            params.push(Param::from_form(name, value));
        }
    }
    Ok(())
}

/// `text` split at every `separator` (ASCII): `str::split` with a `char` pattern
/// checks each match with a `memcmp` call, which dominated parsing a short query.
fn split_ascii(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == separator) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// At most what [`push_method_and_uri`] writes.
fn method_and_uri_capacity(method: &str, uri: &Uri) -> usize {
    let (scheme, host) = (uri.scheme_str().unwrap_or(""), uri.host().unwrap_or(""));
    3 * method.len() + 2 + 3 * (scheme.len() + 3 + host.len() + 6 + uri.path().len().max(1))
}

/// Writes the first two parts of the base string and the `&` before the parameters:
/// `METHOD&encode(base string URI)&` (§3.4.1.1 items 1 to 4).
pub(crate) fn push_method_and_uri(out: &mut Vec<u8>, method: &str, uri: &Uri) -> Result<(), Error> {
    let scheme = uri.scheme_str().ok_or(Error::InvalidUri("no scheme"))?;
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        443
    } else if scheme.eq_ignore_ascii_case("http") {
        80
    } else {
        return Err(Error::InvalidUri("only http and https can be signed"));
    };
    let host = uri.host().ok_or(Error::InvalidUri("no host"))?;

    // §3.4.1.1 item 1: the method upper-cased; a custom method "MUST be encoded".
    let upper = method.bytes().map(|b| b.to_ascii_uppercase());
    if method
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        out.extend(upper);
    } else {
        let upper: Vec<u8> = upper.collect();
        push_encoded(out, &upper);
    }
    out.push(b'&');
    // Base string URI (§3.4.1.2), encoded: scheme and host lower-case, the port only
    // when it is not the scheme's default, the path as sent, no query or fragment.
    out.extend(scheme.bytes().map(|b| b.to_ascii_lowercase()));
    out.extend_from_slice(b"%3A%2F%2F");
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        push_encoded(out, host.to_ascii_lowercase().as_bytes());
    } else {
        push_encoded(out, host.as_bytes());
    }
    if let Some(port) = uri.port_u16()
        && port != default_port
    {
        out.extend_from_slice(b"%3A");
        let mut digits = itoa_buf();
        out.extend_from_slice(itoa(port.into(), &mut digits).as_bytes());
    }
    let path = uri.path();
    push_encoded(
        out,
        if path.is_empty() {
            b"/"
        } else {
            path.as_bytes()
        },
    );
    out.push(b'&');
    Ok(())
}

/// Whether a `Content-Type` is `application/x-www-form-urlencoded` (with or without
/// parameters such as a charset): only then do body parameters enter the base string
/// (§3.4.1.3.1).
pub fn is_form_urlencoded(content_type: Option<&str>) -> bool {
    const FORM: &str = "application/x-www-form-urlencoded";
    content_type.is_some_and(|t| {
        t.get(..FORM.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(FORM))
            && t[FORM.len()..]
                .trim_start()
                .chars()
                .next()
                .is_none_or(|c| c == ';')
    })
}

/// The parameters of one request, on the stack for the usual few.
pub(crate) type Params<'a> = SmallVec<[Param<'a>; 8]>;

/// A parameter, decoded, with what sorting and writing need to know computed once.
pub(crate) struct Param<'a> {
    name: Cow<'a, str>,
    value: Cow<'a, str>,
    name_plain: bool,
    value_plain: bool,
}

impl<'a> Param<'a> {
    /// A name and value as a query or form sends them: a part made of unreserved
    /// characters only (the usual case) holds nothing to decode or encode.
    fn from_form(name: &'a str, value: &'a str) -> Self {
        let plain = |part: &str| part.bytes().all(is_unreserved);
        let (name_plain, value_plain) = (plain(name), plain(value));
        if name_plain && value_plain {
            return Self {
                name: Cow::Borrowed(name),
                value: Cow::Borrowed(value),
                name_plain,
                value_plain,
            };
        }
        Self::new(form_decode(name), form_decode(value))
    }

    fn new(name: Cow<'a, str>, value: Cow<'a, str>) -> Self {
        let plain = |part: &str| part.bytes().all(is_unreserved);
        Self {
            name_plain: plain(&name),
            value_plain: plain(&value),
            name,
            value,
        }
    }

    /// The length of `name%3Dvalue` in the base string.
    fn base_len(&self) -> usize {
        twice_len(self.name.as_bytes()) + 3 + twice_len(self.value.as_bytes())
    }

    /// The decoded name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Writes `name%3Dvalue`, each encoded twice: the parameter as the base string
    /// holds it.
    pub(crate) fn push(&self, out: &mut Vec<u8>) {
        push_twice(out, &self.name, self.name_plain);
        out.extend_from_slice(b"%3D");
        push_twice(out, &self.value, self.value_plain);
    }

    /// How this parameter's name sorts against a protocol parameter's `name`, which
    /// needs no encoding.
    pub(crate) fn cmp_name(&self, name: &str) -> std::cmp::Ordering {
        if self.name_plain {
            cmp_bytes(self.name.as_bytes(), name.as_bytes())
        } else {
            cmp_encoded(self.name.as_bytes(), name.as_bytes())
        }
    }

    pub(crate) fn cmp(a: &Self, b: &Self) -> std::cmp::Ordering {
        let by = |x: &str, xp: bool, y: &str, yp: bool| {
            if xp && yp {
                cmp_bytes(x.as_bytes(), y.as_bytes())
            } else {
                cmp_encoded(x.as_bytes(), y.as_bytes())
            }
        };
        by(&a.name, a.name_plain, &b.name, b.name_plain)
            .then_with(|| by(&a.value, a.value_plain, &b.value, b.value_plain))
    }
}

/// The length of `text` encoded twice (five bytes more for each reserved one).
fn twice_len(text: &[u8]) -> usize {
    text.len() + 4 * text.iter().filter(|&&b| !is_unreserved(b)).count()
}

fn push_twice(out: &mut Vec<u8>, text: &str, plain: bool) {
    if plain {
        out.extend_from_slice(text.as_bytes());
    } else {
        push_encoded_twice(out, text.as_bytes());
    }
}

/// Decodes one `application/x-www-form-urlencoded` name or value (`+` is a space,
/// `%XX` a byte; invalid UTF-8 is replaced), borrowing when there is nothing to decode.
fn form_decode(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw);
    }
    let spaced = raw.replace('+', " ");
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(&spaced).collect();
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

pub(crate) fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

/// `n` in decimal, written into `buf`.
pub(crate) fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_case_and_empty_path() {
        let b = |u: &str| base_string("post", &u.parse().unwrap(), None, &[]).unwrap();
        assert_eq!(
            b("HTTP://EXAMPLE.COM:80/r%20v/X?id=123"),
            "POST&http%3A%2F%2Fexample.com%2Fr%2520v%2FX&id%3D123"
        );
        assert_eq!(
            b("https://www.example.net:8080/?q=1"),
            "POST&https%3A%2F%2Fwww.example.net%3A8080%2F&q%3D1"
        );
        assert_eq!(
            b("https://example.net:443"),
            "POST&https%3A%2F%2Fexample.net%2F&"
        );
        assert!(base_string("GET", &"/relative".parse().unwrap(), None, &[]).is_err());
        // A custom method is encoded (found by the fuzzer: `&` in a method).
        assert_eq!(b_method("po&st%"), "PO%26ST%25&http%3A%2F%2Fh%2F&");
        assert!(base_string("GET", &"ftp://h/x".parse().unwrap(), None, &[]).is_err());
    }

    fn b_method(method: &str) -> String {
        base_string(method, &"http://h/".parse().unwrap(), None, &[]).unwrap()
    }

    #[test]
    fn form_content_types() {
        assert!(is_form_urlencoded(Some(
            "application/x-www-form-urlencoded"
        )));
        assert!(is_form_urlencoded(Some(
            "Application/X-WWW-Form-Urlencoded; charset=UTF-8"
        )));
        assert!(!is_form_urlencoded(Some(
            "application/x-www-form-urlencodedX"
        )));
        assert!(!is_form_urlencoded(Some("application/json")));
        assert!(!is_form_urlencoded(Some("ü")));
        assert!(!is_form_urlencoded(None));
    }

    #[test]
    fn itoa_digits() {
        let mut buf = itoa_buf();
        assert_eq!(itoa(0, &mut buf), "0");
        assert_eq!(itoa(137131200, &mut buf), "137131200");
        assert_eq!(itoa(u64::MAX, &mut buf), "18446744073709551615");
    }
}
