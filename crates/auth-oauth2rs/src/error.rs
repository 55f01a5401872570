//! [`core_error`]: the `oauth2` crate's `RequestTokenError` as an [`auth_core::Error`],
//! with no secret in it; [`TokenEndpointError`]: an OAuth error response inside one.

use std::fmt;

use auth_core::internal::printable;
use auth_core::{Error, Refusal};
use http::StatusCode;
use oauth2::{ErrorResponse, RequestTokenError};
use serde::Deserialize;

/// Longest text kept from a message of the `oauth2` crate, in characters.
const MAX_REASON: usize = 200;

/// An OAuth error response (RFC 6749 §5.2) from the token endpoint, as the `oauth2`
/// crate parsed it (`TE`, its `BasicErrorResponse` for a `BasicClient`), with the HTTP
/// status it came with. It is the detail of an [`Error::Refused`], whose [`Refusal`]
/// its code decides: get it back with [`Error::source_as`].
///
/// ```
/// use auth_core::Refusal;
/// use auth_oauth2rs::TokenEndpointError;
/// use oauth2::basic::{BasicErrorResponse, BasicErrorResponseType};
///
/// # fn main() {
/// let said = BasicErrorResponse::new(BasicErrorResponseType::InvalidClient, None, None);
/// let error = TokenEndpointError::new(said, Some(http::StatusCode::UNAUTHORIZED));
/// assert_eq!(error.code(), "invalid_client");
/// assert_eq!(error.refusal(), Refusal::ClientRejected);
///
/// let core: auth_core::Error = error.into();
/// assert_eq!(core.refusal(), Some(Refusal::ClientRejected));
/// let inside = core.source_as::<TokenEndpointError<BasicErrorResponse>>().unwrap();
/// assert_eq!(inside.response().error(), &BasicErrorResponseType::InvalidClient);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TokenEndpointError<TE> {
    response: TE,
    status: Option<StatusCode>,
    code: String,
    description: Option<String>,
    uri: Option<String>,
}

impl<TE: ErrorResponse> TokenEndpointError<TE> {
    /// The error response `response`, received with `status` (`None` when unknown).
    /// Its `error`, `error_description` and `error_uri` are read from its serialized
    /// form, cleaned of control characters and shortened.
    pub fn new(response: TE, status: Option<StatusCode>) -> Self {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default)]
            error: Option<String>,
            #[serde(default)]
            error_description: Option<String>,
            #[serde(default)]
            error_uri: Option<String>,
        }
        let wire = serde_json::to_vec(&response)
            .ok()
            .and_then(|json| serde_json::from_slice::<Wire>(&json).ok());
        let (code, description, uri) = match wire {
            Some(w) => (w.error, w.error_description, w.error_uri),
            None => (None, None, None),
        };
        Self {
            response,
            status,
            code: printable(code.as_deref().unwrap_or_default(), 64),
            description: description.map(|d| printable(&d, MAX_REASON)),
            uri: uri.map(|u| printable(&u, MAX_REASON)),
        }
    }
}

impl<TE> TokenEndpointError<TE> {
    /// The response as the `oauth2` crate parsed it.
    pub fn response(&self) -> &TE {
        &self.response
    }

    /// The `error` code (`invalid_client`, `invalid_grant`, ...); empty when the
    /// response type has none.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// `error_description`, if sent.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// `error_uri`, if sent.
    pub fn uri(&self) -> Option<&str> {
        self.uri.as_deref()
    }

    /// The HTTP status of the response, when known (always, through this crate's
    /// sources).
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// What the code means for the credentials: `invalid_client` and
    /// `unauthorized_client` the client's, `invalid_grant` the grant's (a user signs
    /// in again), `invalid_token` the access token's, `invalid_request`,
    /// `invalid_scope` and `unsupported_grant_type` the request's, `access_denied`,
    /// `server_error` and `temporarily_unavailable` a server to ask later.
    pub fn refusal(&self) -> Refusal {
        match self.code.as_str() {
            "invalid_client" | "unauthorized_client" => Refusal::ClientRejected,
            "invalid_grant" => Refusal::GrantRejected,
            "invalid_token" => Refusal::TokenRejected,
            "invalid_request" | "invalid_scope" | "unsupported_grant_type" => {
                Refusal::RequestRejected
            }
            "access_denied" => Refusal::AccessDenied,
            "server_error" | "temporarily_unavailable" => Refusal::Unavailable,
            _ => Refusal::Other,
        }
    }
}

impl<TE> fmt::Display for TokenEndpointError<TE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() {
            f.write_str("OAuth error response")?;
        } else {
            write!(f, "OAuth error `{}`", self.code)?;
        }
        if let Some(status) = self.status {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(u) = &self.uri {
            write!(f, " (see {u})")?;
        }
        Ok(())
    }
}

impl<TE: fmt::Debug> std::error::Error for TokenEndpointError<TE> {}

/// As the core sees it: an [`Error::Refused`] whose refusal the code decides.
impl<TE> From<TokenEndpointError<TE>> for Error
where
    TE: ErrorResponse + Send + Sync + 'static,
{
    fn from(e: TokenEndpointError<TE>) -> Self {
        Error::refused(e.refusal(), e)
    }
}

/// Turns what a request of the `oauth2` crate sent through an
/// [`OAuth2HttpClient`](crate::OAuth2HttpClient) failed with into an
/// [`auth_core::Error`]:
///
/// | `RequestTokenError` | [`auth_core::Error`] |
/// | --- | --- |
/// | `Request(e)`: the HTTP layer's own error | `e`, unchanged (a connect error, a timeout, a refused redirect or URL, a 5xx as [`Error::Status`]) |
/// | `ServerResponse(e)`: an OAuth error response | [`Error::Refused`] with a [`TokenEndpointError`] inside, its [`Refusal`] by the code |
/// | `Parse(e, body)`: an answer that is not the expected JSON | [`Error::InvalidResponse`] naming the JSON path and what was wrong, never quoting the body (it may hold a token) |
/// | `Other(message)` | [`Error::InvalidResponse`] with the message, cleaned and shortened |
///
/// The HTTP status of an error response is not in a `RequestTokenError`; the sources
/// of this crate keep it. They also go one step further where a grant gives the code
/// a meaning: a refresh token refused with `invalid_grant` is
/// [`Error::SignInRequired`].
pub fn core_error<TE>(error: RequestTokenError<Error, TE>) -> Error
where
    TE: ErrorResponse + Send + Sync + 'static,
{
    core_error_with_status(error, None)
}

/// [`core_error`], with the status the error response came with.
pub(crate) fn core_error_with_status<TE>(
    error: RequestTokenError<Error, TE>,
    status: Option<StatusCode>,
) -> Error
where
    TE: ErrorResponse + Send + Sync + 'static,
{
    match error {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(response) => {
            TokenEndpointError::new(response, status).into()
        }
        // `e` is serde_path_to_error's, which the `oauth2` crate does not re-export:
        // its path and inner error are taken here, where the type is known.
        RequestTokenError::Parse(e, _body) => Error::InvalidResponse {
            status,
            reason: parse_reason(&e.path().to_string(), e.inner()),
        },
        RequestTokenError::Other(message) => Error::InvalidResponse {
            status,
            reason: printable(&message, MAX_REASON),
        },
    }
}

/// Whether `body` is an OAuth error response: a JSON object with a string `error`.
pub(crate) fn is_oauth_error(body: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Wire {
        #[allow(dead_code)]
        error: String,
    }
    serde_json::from_slice::<Wire>(body).is_ok()
}

/// Where and how the JSON went wrong, without quoting any value: serde's messages may
/// (`invalid type: string "…"`), so only a missing field is named.
fn parse_reason(path: &str, inner: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match inner.classify() {
        Category::Io => "unreadable JSON".to_owned(),
        Category::Syntax => "malformed JSON".to_owned(),
        Category::Eof => "truncated JSON".to_owned(),
        Category::Data => {
            let message = inner.to_string();
            match message.strip_prefix("missing field ") {
                Some(rest) => {
                    let field = rest.split(" at line ").next().unwrap_or(rest);
                    printable(&format!("missing field {field}"), 80)
                }
                None => "JSON of an unexpected shape".to_owned(),
            }
        }
    };
    if path.is_empty() || path == "." {
        format!("the token endpoint's answer is {what}")
    } else {
        format!(
            "the token endpoint's answer is {what} at `{}`",
            printable(path, 80)
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;
    use oauth2::basic::BasicClient;
    use oauth2::{ClientId, HttpRequest, HttpResponse, TokenUrl};

    /// What the `oauth2` crate makes of `body` (status 200, JSON) for a
    /// `client_credentials` request.
    async fn answer(status: u16, body: &'static str) -> Error {
        let client = BasicClient::new(ClientId::new("app".into()))
            .set_token_uri(TokenUrl::new("https://auth.example.com/token".into()).unwrap());
        let http = move |_request: HttpRequest| async move {
            let mut response = HttpResponse::new(body.as_bytes().to_vec());
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Ok::<_, Error>(response)
        };
        let result = client
            .exchange_client_credentials()
            .request_async(&http)
            .await;
        core_error(result.unwrap_err())
    }

    #[tokio::test]
    async fn parse_errors_name_the_field_and_never_quote_a_value() {
        let err = answer(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":"sekrit-value"}"#,
        )
        .await;
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("sekrit"), "{shown}");
        assert!(shown.contains("expires_in"), "{shown}");

        let err = answer(200, r#"{"token_type":"bearer"}"#).await;
        assert!(
            err.to_string().contains("missing field `access_token`"),
            "{err}"
        );

        let err = answer(200, r#"{"access_token":"sekrit"#).await;
        let shown = format!("{err} {err:?}");
        assert!(
            shown.contains("truncated JSON") && !shown.contains("sekrit"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn server_errors_keep_code_description_and_uri() {
        let err = answer(
            400,
            r#"{"error":"invalid_scope","error_description":"no\nsuch scope","error_uri":"https://e.example/s"}"#,
        )
        .await;
        assert_eq!(err.refusal(), Some(Refusal::RequestRejected));
        let e = err
            .source_as::<TokenEndpointError<oauth2::basic::BasicErrorResponse>>()
            .unwrap();
        assert_eq!(e.code(), "invalid_scope");
        assert_eq!(e.description(), Some("no such scope"));
        assert_eq!(e.uri(), Some("https://e.example/s"));
        assert_eq!(
            e.response().error(),
            &oauth2::basic::BasicErrorResponseType::InvalidScope
        );
        assert_eq!(
            err.to_string(),
            "OAuth error `invalid_scope`: no such scope (see https://e.example/s)"
        );
    }

    #[test]
    fn other_messages_are_cleaned_and_cut() {
        let long = format!("bad\n{}", "x".repeat(500));
        let err = core_error::<oauth2::basic::BasicErrorResponse>(RequestTokenError::Other(long));
        match err {
            Error::InvalidResponse {
                status: None,
                reason,
            } => {
                assert!(reason.starts_with("bad x"));
                assert!(reason.chars().count() <= MAX_REASON + 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_http_layers_error_comes_back_whole() {
        let err = core_error::<oauth2::basic::BasicErrorResponse>(RequestTokenError::Request(
            Error::Redirect { status: None },
        ));
        assert!(matches!(err, Error::Redirect { status: None }));
    }
}
