//! A response read whole (up to the cap), and how its failures become typed errors.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::Error;
use crate::error::printable;

/// Why a vendor API call failed, as [`HttpResponse::api_answer`] sorts it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApiFailure {
    /// The answer did not come from the API (a redirect, an HTML page).
    #[error(transparent)]
    Foreign(Error),
    /// The API refused, with this status and what it said (secret-free).
    #[error("the API answered {status}: {message}")]
    Api {
        /// The status.
        status: StatusCode,
        /// The API's message, or a secret-free excerpt of the body.
        message: String,
    },
}

/// Longest body excerpt kept in an error, in characters.
const EXCERPT_CHARS: usize = 120;

/// A response whose body has been read, within the cap.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// Attempts that reached the server for this response: 1, plus one for each
    /// retry after a 5xx or 429 (see [`Repeat`](crate::http::Repeat)). Retries after a
    /// connect error are not counted: those attempts never reached the server. A
    /// vendor that meters requests (a daily quota) counts this many. For
    /// `AuthorizedClient::send` after a 401, the attempts of the second send. A
    /// response built by hand says 1.
    pub attempts: u32,
}

impl HttpResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// `self` if the status is 2xx, else the typed error for it (see
    /// [`to_error`](Self::to_error)).
    pub fn error_for_status(self) -> Result<Self, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(self.to_error())
        }
    }

    /// The error a non-2xx response stands for: a redirect [`Error::Redirect`], an HTML
    /// page [`Error::InvalidResponse`], anything else [`Error::Status`] with a short,
    /// secret-free excerpt. A scheme that reads error bodies (OAuth's) reads them first.
    pub fn to_error(&self) -> Error {
        if self.status.is_redirection() {
            return Error::Redirect {
                status: Some(self.status),
            };
        }
        if let Some(foreign) = self.foreign_answer() {
            return foreign;
        }
        Error::Status {
            status: self.status,
            excerpt: body_excerpt(&self.body),
        }
    }

    /// The error for an answer that did not come from the API at all: a redirect
    /// ([`Error::Redirect`]: credentials are never sent on) or an HTML page, a proxy's
    /// or a login page's ([`Error::InvalidResponse`]). Vendor crates check this before
    /// reading an error status as the vendor's own.
    pub fn foreign_answer(&self) -> Option<Error> {
        if self.status.is_redirection() {
            return Some(Error::Redirect {
                status: Some(self.status),
            });
        }
        looks_like_html(&self.headers, &self.body).then(|| Error::InvalidResponse {
            status: Some(self.status),
            reason: "the server answered with an HTML page".into(),
        })
    }

    /// A vendor API's answer, sorted the one way every vendor crate sorts it: a 2xx is
    /// the response; a redirect or an HTML page did not come from the API at all
    /// ([`ApiFailure::Foreign`], see [`foreign_answer`](Self::foreign_answer)); any
    /// other status is the API's own refusal, with what it said
    /// ([`ApiFailure::Api`], see [`api_message`](Self::api_message)), for the vendor's
    /// error type to sort.
    pub fn api_answer(self) -> Result<Self, ApiFailure> {
        if self.is_success() {
            return Ok(self);
        }
        if let Some(foreign) = self.foreign_answer() {
            return Err(ApiFailure::Foreign(foreign));
        }
        Err(ApiFailure::Api {
            status: self.status,
            message: self.api_message(),
        })
    }

    /// What a vendor API says went wrong: the JSON body's `message` member (shortened,
    /// control characters removed), else a secret-free [`body_excerpt`].
    pub fn api_message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(|m| printable(m, 200))
            })
            .unwrap_or_else(|| body_excerpt(&self.body))
    }

    /// Parses a 2xx JSON body as `T`. An HTML page, malformed JSON or JSON of the wrong
    /// shape is [`Error::InvalidResponse`]; the message names where the JSON went wrong
    /// but never quotes it (it may hold a token).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        if looks_like_html(&self.headers, &self.body) {
            return Err(Error::InvalidResponse {
                status: Some(self.status),
                reason: "expected JSON, got an HTML page".into(),
            });
        }
        serde_json::from_slice(&self.body).map_err(|e| Error::InvalidResponse {
            status: Some(self.status),
            reason: json_error_reason(&e),
        })
    }
}

/// A description of a JSON error that does not quote the input.
pub(crate) fn json_error_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "unreadable JSON",
        Category::Syntax => "malformed JSON",
        Category::Eof => "truncated JSON",
        Category::Data => "JSON of an unexpected shape",
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

/// Whether a body is an HTML page, by `Content-Type` or by its first bytes.
pub fn looks_like_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let by_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/html"));
    if by_type {
        return true;
    }
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |i| &body[i..]);
    let head = &start[..start.len().min(15)];
    head.first() == Some(&b'<')
        && (head.len() > 1)
        && (head[1..].to_ascii_lowercase().starts_with(b"!doctype")
            || head[1..].to_ascii_lowercase().starts_with(b"html"))
}

/// A short, secret-free description of a body: for JSON, its shape and top-level
/// keys only (values may be tokens); for anything else, the first characters as text
/// with control characters removed.
pub fn body_excerpt(body: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        return match value {
            serde_json::Value::Object(map) => {
                let keys: Vec<&str> = map.keys().map(String::as_str).take(10).collect();
                printable(
                    &format!("JSON object with keys [{}]", keys.join(", ")),
                    EXCERPT_CHARS,
                )
            }
            serde_json::Value::Array(items) => format!("JSON array of {} items", items.len()),
            _ => "a JSON scalar".to_owned(),
        };
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        // Broken JSON: its values may be tokens, so never quote it.
        return format!("malformed JSON of {} bytes", body.len());
    }
    let slice = &body[..body.len().min(EXCERPT_CHARS * 4)];
    printable(&String::from_utf8_lossy(slice), EXCERPT_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn response(status: u16, content_type: &str, body: &str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        HttpResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: Bytes::from(body.to_owned()),
            attempts: 1,
        }
    }

    #[test]
    fn api_messages_quote_the_message_member_only() {
        let said = response(
            400,
            "application/json",
            r#"{"message":"firstName\nis required","token":"eyJ"}"#,
        );
        assert_eq!(said.api_message(), "firstName is required");
        let other = response(400, "application/json", r#"{"token":"eyJsecret"}"#);
        assert_eq!(other.api_message(), "JSON object with keys [token]");
    }

    #[test]
    fn classifies_failures() {
        // A scheme's error body (an OAuth one, say) is that scheme's to read.
        let scheme = response(401, "application/json", r#"{"error":"invalid_client"}"#);
        assert!(matches!(scheme.to_error(), Error::Status { .. }));
        let html = response(502, "text/html; charset=utf-8", "<html>bad gateway</html>");
        assert!(matches!(html.to_error(), Error::InvalidResponse { .. }));
        let sniffed = response(500, "text/plain", "  <!DOCTYPE html><p>oops");
        assert!(matches!(sniffed.to_error(), Error::InvalidResponse { .. }));
        let plain = response(503, "text/plain", "down\nfor maintenance");
        match plain.to_error() {
            Error::Status { excerpt, .. } => assert_eq!(excerpt, "down for maintenance"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            response(302, "text/plain", "").to_error(),
            Error::Redirect { .. }
        ));
    }

    #[test]
    fn json_errors_never_quote_the_body() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            expires_in: u64,
        }
        let r = response(200, "application/json", r#"{"expires_in":"sekrit-value"}"#);
        let err = r.json::<T>().unwrap_err().to_string();
        assert!(!err.contains("sekrit"), "{err}");
        let truncated = response(200, "application/json", r#"{"expires_in":3"#);
        assert!(
            truncated
                .json::<T>()
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let html = response(200, "text/html", "<html></html>");
        assert!(html.json::<T>().unwrap_err().to_string().contains("HTML"));
    }

    #[test]
    fn excerpt_is_bounded() {
        let long = "x".repeat(10_000);
        assert!(body_excerpt(long.as_bytes()).chars().count() <= EXCERPT_CHARS + 1);
        assert_eq!(body_excerpt(&[0xff, b'a']), "\u{fffd}a");
        let json = body_excerpt(br#"{"access_token":"sekrit","n":1}"#);
        assert_eq!(json, "JSON object with keys [access_token, n]");
    }
}
