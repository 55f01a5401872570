//! The signature base string of RFC 5849 §3.4.1.

use std::borrow::Cow;

use http::Uri;

use crate::Error;
use crate::encode::{push_encoded, reencode};

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
    let scheme = uri.scheme_str().ok_or(Error::InvalidUri("no scheme"))?;
    let default_port = if scheme.eq_ignore_ascii_case("https") {
        443
    } else if scheme.eq_ignore_ascii_case("http") {
        80
    } else {
        return Err(Error::InvalidUri("only http and https can be signed"));
    };
    let host = uri.host().ok_or(Error::InvalidUri("no host"))?;
    let query = uri.query().unwrap_or("");

    // Parameters, encoded once (§3.4.1.3.2 step 1).
    let query_count = if query.is_empty() {
        0
    } else {
        query.split('&').count()
    };
    let form_count = form_body.map_or(0, |b| b.split(|c| *c == b'&').count());
    let mut params: Vec<(Cow<'_, str>, Cow<'_, str>)> =
        Vec::with_capacity(query_count + form_count + protocol.len());
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        params.push((reencode(name), reencode(value)));
    }
    if let Some(body) = form_body {
        for (name, value) in url::form_urlencoded::parse(body) {
            params.push((reencode(name), reencode(value)));
        }
    }
    for (name, value) in protocol {
        params.push((crate::encode(name), crate::encode(value)));
    }
    // Step 2: sort by name, then value, as bytes.
    params.sort_unstable();

    // Capacity for the worst case: every byte of the second encoding tripled.
    let path = uri.path();
    let params_len: usize = params.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let capacity =
        method.len() + 2 + 3 * (scheme.len() + 3 + host.len() + 6 + path.len()) + 3 * params_len;
    let mut out = String::with_capacity(capacity);

    // §3.4.1.1 item 1: the method upper-cased; a custom method "MUST be encoded".
    if method
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        for c in method.chars() {
            out.push(c.to_ascii_uppercase());
        }
    } else {
        push_encoded(&mut out, &method.to_ascii_uppercase());
    }
    out.push('&');
    // Base string URI (§3.4.1.2), encoded: scheme and host lower-case, the port only
    // when it is not the scheme's default, the path as sent, no query or fragment.
    for c in scheme.chars() {
        out.push(c.to_ascii_lowercase());
    }
    out.push_str("%3A%2F%2F");
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        push_encoded(&mut out, &host.to_ascii_lowercase());
    } else {
        push_encoded(&mut out, host);
    }
    if let Some(port) = uri.port_u16()
        && port != default_port
    {
        out.push_str("%3A");
        let mut digits = itoa_buf();
        out.push_str(itoa(port.into(), &mut digits));
    }
    push_encoded(&mut out, if path.is_empty() { "/" } else { path });
    out.push('&');
    for (i, (name, value)) in params.iter().enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        push_encoded(&mut out, name);
        out.push_str("%3D");
        push_encoded(&mut out, value);
    }
    Ok(out)
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
    fn itoa_digits() {
        let mut buf = itoa_buf();
        assert_eq!(itoa(0, &mut buf), "0");
        assert_eq!(itoa(137131200, &mut buf), "137131200");
        assert_eq!(itoa(u64::MAX, &mut buf), "18446744073709551615");
    }
}
