//! Form-encoded answers of the three-legged flow (RFC 5849 §2.1, §2.3), and the
//! `oauth_problem` answers of the OAuth Problem Reporting extension.

use auth_core::SecretString;
use auth_core::internal::looks_like_html;
use http::HeaderMap;

use crate::{Error, TokenCredentials};

/// Credentials from a temporary-credential or token answer, and anything else the
/// server sent (for example a vendor's user id).
#[derive(Debug, Clone)]
pub struct CredentialsAnswer {
    /// `oauth_token` and `oauth_token_secret`.
    pub credentials: TokenCredentials,
    /// `oauth_callback_confirmed=true` was present.
    pub callback_confirmed: bool,
    /// The other fields, decoded, in order.
    pub extra: Vec<(String, String)>,
}

/// Parses a flow answer: a 2xx form body with `oauth_token` and `oauth_token_secret`;
/// a body with `oauth_problem` (any status) is [`Error::Problem`]; an HTML page is
/// [`Error::HtmlResponse`]; another non-2xx answer is a core status error.
pub fn parse_credentials_answer(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<CredentialsAnswer, Error> {
    if looks_like_html(headers, body) {
        return Err(Error::HtmlResponse { status });
    }
    let mut token = None;
    let mut secret = None;
    let mut confirmed = false;
    let mut problem = None;
    let mut advice = None;
    let mut extra = Vec::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        match name.as_ref() {
            "oauth_token" if token.is_none() => token = Some(value.into_owned()),
            "oauth_token_secret" if secret.is_none() => secret = Some(value.into_owned()),
            "oauth_callback_confirmed" => confirmed = value == "true",
            "oauth_problem" => problem = Some(printable(&value)),
            "oauth_problem_advice" => advice = Some(printable(&value)),
            _ => extra.push((printable(&name), value.into_owned())),
        }
    }
    if let Some(problem) = problem {
        return Err(Error::Problem {
            problem,
            advice,
            status,
        });
    }
    if !(200..300).contains(&status) {
        return Err(Error::Core(auth_core::Error::Status {
            status: http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY),
            excerpt: auth_core::internal::body_excerpt(body),
        }));
    }
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(Error::MissingField("oauth_token"))?;
    let secret = secret.ok_or(Error::MissingField("oauth_token_secret"))?;
    Ok(CredentialsAnswer {
        credentials: TokenCredentials::new(token, SecretString::from(secret)),
        callback_confirmed: confirmed,
        extra,
    })
}

/// What the server said, safe for an error message: 120 characters at most.
fn printable(text: &str) -> String {
    auth_core::internal::printable(text, 120)
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::ExposeSecret;

    fn parse(status: u16, body: &str) -> Result<CredentialsAnswer, Error> {
        parse_credentials_answer(status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn rfc5849_answers() {
        // §2.1 example answer.
        let a = parse(200, "oauth_token=hh5s93j4hdidpola&oauth_token_secret=hdhd0244k9j7ao03&oauth_callback_confirmed=true").unwrap();
        assert_eq!(a.credentials.token(), "hh5s93j4hdidpola");
        assert_eq!(a.credentials.secret().expose_secret(), "hdhd0244k9j7ao03");
        assert!(a.callback_confirmed);
        // Bynder's documented answer, with no confirmation.
        let b = parse(
            200,
            "oauth_token=96F42ED6-3530-48C9-A361A3C95E3FC303&oauth_token_secret=some_secret",
        )
        .unwrap();
        assert!(!b.callback_confirmed);
    }

    #[test]
    fn failures() {
        assert!(matches!(
            parse(200, "oauth_token_secret=x"),
            Err(Error::MissingField("oauth_token"))
        ));
        assert!(matches!(
            parse(200, "oauth_token=x"),
            Err(Error::MissingField("oauth_token_secret"))
        ));
        assert!(matches!(
            parse(401, "oauth_problem=token_expired&oauth_problem_advice=ask%20again"),
            Err(Error::Problem { problem, advice: Some(a), status: 401 }) if problem == "token_expired" && a == "ask again"
        ));
        assert!(matches!(
            parse(200, "<!DOCTYPE html><p>login"),
            Err(Error::HtmlResponse { status: 200 })
        ));
        assert!(matches!(parse(500, "down"), Err(Error::Core(_))));
    }
}
