//! HTTPS is required, except for loopback addresses.

use std::net::IpAddr;

use url::{Host, Url};

use crate::Error;

/// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`) or `localhost`.
pub fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<IpAddr>()
                    .map(|ip| ip.is_loopback())
                    .unwrap_or(false)
        }
    }
}

/// `text` as a base URL for a configuration: absolute, without query or fragment, its
/// path ending in `/` (so that `join` keeps the last segment), and allowed by the HTTPS
/// rule ([`ensure_secure_url`], plain `http://` on loopback only). Every vendor crate's
/// `with_<name>_url` reads its argument with this.
///
/// ```
/// let url = auth_core::http::base_url("https://api.example.com/v1").unwrap();
/// assert_eq!(url.join("users").unwrap().as_str(), "https://api.example.com/v1/users");
/// assert!(auth_core::http::base_url("http://api.example.com/").is_err());
/// assert!(auth_core::http::base_url("https://api.example.com/?a=1").is_err());
/// ```
pub fn base_url(text: &str) -> Result<Url, Error> {
    let mut url = Url::parse(text).map_err(|_| Error::Config(format!("{text:?} is not a URL")))?;
    if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "{text:?} cannot be a base URL (no query or fragment)"
        )));
    }
    ensure_secure_url(&url, true)?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Refuses a URL that is not `https://`, unless it is `http://` to a loopback host
/// and `allow_loopback_http` is set.
///
/// ```
/// use auth_core::http::ensure_secure_url;
/// use url::Url;
///
/// assert!(ensure_secure_url(&Url::parse("https://api.example.com/t").unwrap(), true).is_ok());
/// assert!(ensure_secure_url(&Url::parse("http://127.0.0.1:8080/t").unwrap(), true).is_ok());
/// assert!(ensure_secure_url(&Url::parse("http://api.example.com/t").unwrap(), true).is_err());
/// assert!(ensure_secure_url(&Url::parse("http://127.0.0.1/t").unwrap(), false).is_err());
/// ```
pub fn ensure_secure_url(url: &Url, allow_loopback_http: bool) -> Result<(), Error> {
    let refuse = |reason| {
        Err(Error::InsecureUrl {
            url: redacted_url(url),
            reason,
        })
    };
    let Some(host) = url.host() else {
        return refuse("the URL has no host");
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_loopback_http && is_loopback_host(&host) => Ok(()),
        "http" => refuse("plain http is only allowed to loopback addresses"),
        _ => refuse("only https URLs are allowed"),
    }
}

/// The URL with its query, fragment and any user information removed: safe to show
/// in errors and logs.
pub fn redacted_url(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<(), Error> {
        ensure_secure_url(&Url::parse(url).unwrap(), true)
    }

    #[test]
    fn loopback_forms() {
        for ok in [
            "http://127.0.0.1/x",
            "http://127.9.9.9:1/x",
            "http://[::1]:80/x",
            "http://localhost/x",
            "http://LOCALHOST./x",
            "https://anything.example/x",
        ] {
            assert!(check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/x",
            "http://localhost.example.com/x",
            "ftp://127.0.0.1/x",
            "http://128.0.0.1/x",
            "file:///etc/passwd",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn errors_hide_query_and_userinfo() {
        let err = check("http://user:pw@example.com/p?client_secret=s3cr3t#frag").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("s3cr3t") && !text.contains("pw"), "{text}");
        assert!(text.contains("http://example.com/p"), "{text}");
    }
}
