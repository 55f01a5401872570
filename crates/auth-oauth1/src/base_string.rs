//! The signature base string of RFC 5849 §3.4.1.

use std::borrow::Cow;

use http::Uri;
use smallvec::SmallVec;

use crate::Error;
use crate::encode::{
    cmp_bytes, cmp_encoded, is_unreserved, push_encoded, push_encoded_twice, unreserved,
};

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
    if let Some(query) = uri.query() {
        push_pairs(query, params);
    }
    if let Some(body) = form_body {
        let form = std::str::from_utf8(body)
            .map_err(|_| Error::InvalidUri("the form body is not UTF-8"))?;
        push_pairs(form, params);
    }
    Ok(())
}

/// What a byte of a query or form is to [`push_pairs`].
#[derive(Clone, Copy, PartialEq)]
enum Class {
    Unreserved,
    Ampersand,
    Equals,
    /// Anything to decode or encode.
    Other,
}

const fn class_table() -> [Class; 256] {
    let mut table = [Class::Other; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = if c == b'&' {
            Class::Ampersand
        } else if c == b'=' {
            Class::Equals
        } else if unreserved(c) {
            Class::Unreserved
        } else {
            Class::Other
        };
        b += 1;
    }
    table
}

static CLASS: [Class; 256] = class_table();

/// Appends the `name=value` pairs of `text`, split at `&` (empty pairs skipped), in
/// one pass that also finds the pairs that need no decoding (the usual case).
fn push_pairs<'a>(text: &'a str, params: &mut Params<'a>) {
    let mut push = |pair: &'a str, equals: Option<usize>, plain: bool| {
        if pair.is_empty() {
            return;
        }
        let (name, value) = match equals {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, ""),
        };
        // Pushed empty, then filled in place: a parameter built aside and then moved
        // in is stored in words and reloaded in halves that straddle them, a
        // store-forwarding stall measured at two thirds of parsing a short query.
        params.push(Param::EMPTY);
        if let Some(slot) = params.last_mut() {
            slot.fill_from_form(name, value, plain);
        }
    };
    let (mut start, mut equals, mut plain) = (0, None, true);
    for (i, &b) in text.as_bytes().iter().enumerate() {
        match CLASS[usize::from(b)] {
            Class::Unreserved => {}
            Class::Ampersand => {
                push(&text[start..i], equals, plain);
                (start, equals, plain) = (i + 1, None, true);
            }
            Class::Equals if equals.is_none() => equals = Some(i - start),
            Class::Equals | Class::Other => plain = false,
        }
    }
    push(&text[start..], equals, plain);
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
    let authority = uri.authority().ok_or(Error::InvalidUri("no host"))?;
    let (host, port) = host_and_port(authority.as_str());

    // §3.4.1.1 item 1: the method upper-cased; a custom method "MUST be encoded".
    let upper = method.bytes().map(|b| b.to_ascii_uppercase());
    if method
        .bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
    {
        // The usual case (`GET`), copied whole rather than byte by byte.
        out.extend_from_slice(method.as_bytes());
    } else if method
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
    out.extend_from_slice(if default_port == 443 {
        b"https"
    } else {
        b"http"
    });
    out.extend_from_slice(b"%3A%2F%2F");
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        push_encoded(out, host.to_ascii_lowercase().as_bytes());
    } else {
        push_encoded(out, host.as_bytes());
    }
    if let Some(port) = port
        && port != default_port
    {
        out.extend_from_slice(b"%3A");
        out.extend_from_slice(itoa::Buffer::new().format(port).as_bytes());
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

/// The host and port of an authority (`[userinfo@]host[:port]`), read as `http`'s
/// `Authority::host` and `Authority::port_u16` read them, in one pass over its bytes:
/// those look for `@` and `:` with four string searches, which cost as much as
/// writing the rest of the base string URI.
fn host_and_port(authority: &str) -> (&str, Option<u16>) {
    let (mut host_start, mut first_colon, mut last_colon) = (0, None, None);
    for (i, &b) in authority.as_bytes().iter().enumerate() {
        match b {
            // The host follows the last `@`; a colon before it is the userinfo's.
            b'@' => (host_start, first_colon) = (i + 1, None),
            b':' => {
                first_colon = first_colon.or(Some(i));
                last_colon = Some(i);
            }
            _ => {}
        }
    }
    let host_port = &authority[host_start..];
    let host = if host_port.starts_with('[') {
        // An IP literal keeps its colons, up to its `]`.
        host_port
            .find(']')
            .map_or(host_port, |end| &host_port[..=end])
    } else {
        first_colon.map_or(host_port, |colon| &authority[host_start..colon])
    };
    // As `http` does: the digits after the authority's last colon, if they are a port.
    let port = last_colon.and_then(|colon| authority[colon + 1..].parse().ok());
    (host, port)
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

/// A parameter's decoded name or value, and whether it needs encoding.
enum Text<'a> {
    /// Unreserved characters only: written and compared as they are.
    Plain(&'a str),
    /// Borrowed from the request, with characters to encode.
    Reserved(&'a str),
    /// Decoded from the request.
    Decoded(String),
}

impl<'a> Text<'a> {
    fn new(text: Cow<'a, str>) -> Self {
        match text {
            Cow::Borrowed(t) if is_plain(t) => Self::Plain(t),
            Cow::Borrowed(t) => Self::Reserved(t),
            Cow::Owned(t) => Self::Decoded(t),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Self::Plain(t) | Self::Reserved(t) => t,
            Self::Decoded(t) => t,
        }
    }

    /// Writes the text encoded twice.
    fn push(&self, out: &mut Vec<u8>) {
        match self {
            Self::Plain(t) => out.extend_from_slice(t.as_bytes()),
            Self::Reserved(t) => push_encoded_twice(out, t.as_bytes()),
            Self::Decoded(t) => push_encoded_twice(out, t.as_bytes()),
        }
    }

    /// Orders two texts as their encodings would be ordered.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Plain(a), Self::Plain(b)) => cmp_bytes(a.as_bytes(), b.as_bytes()),
            _ => cmp_encoded(self.as_str().as_bytes(), other.as_str().as_bytes()),
        }
    }
}

fn is_plain(text: &str) -> bool {
    text.bytes().all(is_unreserved)
}

/// A parameter, decoded, with what sorting and writing need to know computed once.
pub(crate) struct Param<'a> {
    name: Text<'a>,
    value: Text<'a>,
}

impl<'a> Param<'a> {
    const EMPTY: Self = Self {
        name: Text::Plain(""),
        value: Text::Plain(""),
    };

    /// Sets a name and value as a query or form sends them. When both are `plain`
    /// (unreserved characters only: the usual case), there is nothing to decode or
    /// encode.
    fn fill_from_form(&mut self, name: &'a str, value: &'a str, plain: bool) {
        if plain {
            self.name = Text::Plain(name);
            self.value = Text::Plain(value);
        } else {
            self.name = Text::new(form_decode(name));
            self.value = Text::new(form_decode(value));
        }
    }

    fn new(name: Cow<'a, str>, value: Cow<'a, str>) -> Self {
        Self {
            name: Text::new(name),
            value: Text::new(value),
        }
    }

    /// The length of `name%3Dvalue` in the base string.
    fn base_len(&self) -> usize {
        twice_len(self.name.as_str().as_bytes()) + 3 + twice_len(self.value.as_str().as_bytes())
    }

    /// The decoded name.
    pub(crate) fn name(&self) -> &str {
        self.name.as_str()
    }

    /// Writes `name%3Dvalue`, each encoded twice: the parameter as the base string
    /// holds it.
    pub(crate) fn push(&self, out: &mut Vec<u8>) {
        self.name.push(out);
        out.extend_from_slice(b"%3D");
        self.value.push(out);
    }

    /// How this parameter's name sorts against a protocol parameter's `name`, which
    /// needs no encoding.
    pub(crate) fn cmp_name(&self, name: &str) -> std::cmp::Ordering {
        match &self.name {
            Text::Plain(t) => cmp_bytes(t.as_bytes(), name.as_bytes()),
            other => cmp_encoded(other.as_str().as_bytes(), name.as_bytes()),
        }
    }

    pub(crate) fn cmp(a: &Self, b: &Self) -> std::cmp::Ordering {
        a.name.cmp(&b.name).then_with(|| a.value.cmp(&b.value))
    }
}

/// The length of `text` encoded twice (five bytes more for each reserved one).
fn twice_len(text: &[u8]) -> usize {
    text.len() + 4 * text.iter().filter(|&&b| !is_unreserved(b)).count()
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

    #[test]
    fn host_and_port_read_as_http_reads_them() {
        let authorities = [
            "example.com",
            "EXAMPLE.com:8080",
            "example.com:",
            "example.com:99999",
            "example.com:+80",
            "user@example.com",
            "user:pw@example.com",
            "user:pw@example.com:443",
            "a@b@example.com:1",
            "[::1]",
            "[::1]:8443",
            "u:p@[fe80::1%25eth0]:80",
            "127.0.0.1:0",
        ];
        for authority in authorities {
            let Ok(parsed) = authority.parse::<http::uri::Authority>() else {
                continue;
            };
            assert_eq!(
                host_and_port(authority),
                (parsed.host(), parsed.port_u16()),
                "{authority}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn host_and_port_agree_with_http_on_any_authority(
            userinfo in "([a-z:]{0,5}@){0,2}",
            host in "[a-zA-Z0-9.-]{1,10}|\\[[0-9a-f:]{2,8}\\]",
            port in "(:[0-9+]{0,6}){0,2}",
            noise in "[a-zA-Z0-9.:@\\[\\]%+_~-]{0,24}",
        ) {
            for authority in [format!("{userinfo}{host}{port}"), noise] {
                let Ok(parsed) = authority.parse::<http::uri::Authority>() else {
                    continue;
                };
                proptest::prop_assert_eq!(
                    host_and_port(&authority),
                    (parsed.host(), parsed.port_u16()),
                    "{}", authority
                );
            }
        }
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

    proptest::proptest! {
        /// The one-pass splitter decodes what the `url` crate's form parser does,
        /// and marks as plain only text with nothing to encode.
        #[test]
        fn pairs_split_as_the_url_crate_splits_them(
            text in "[a-z0-9=&%+~._\\- !*üA-F]{0,40}",
        ) {
            let mut params = Params::new();
            push_pairs(&text, &mut params);
            let ours: Vec<(String, String)> = params
                .iter()
                .map(|p| (p.name.as_str().to_owned(), p.value.as_str().to_owned()))
                .collect();
            let expected: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes())
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .collect();
            proptest::prop_assert_eq!(ours, expected);
            for p in &params {
                for part in [&p.name, &p.value] {
                    if let Text::Plain(t) = part {
                        proptest::prop_assert!(t.bytes().all(is_unreserved), "{:?}", t);
                    }
                }
            }
        }
    }
}
