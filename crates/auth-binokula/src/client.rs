//! [`BinokulaClient`]: one typed call per endpoint of the developer guide.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use auth_apikey::ApiKey;
use auth_core::http::{HttpPolicy, HttpResponse, Repeat};
use auth_core::reqwest::{HttpClient, authorize_reqwest};
use auth_core::{Clock, ExposeSecret, SecretString, SystemClock};
use http::StatusCode;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use url::Url;

use crate::{BinokulaConfig, Email, Error};

/// An SSO access token for one user: valid one hour, and the only active one for that
/// user until another is issued.
#[derive(Clone)]
pub struct SsoToken {
    /// The user, as the server spelled the address.
    pub email: String,
    /// The token.
    pub access_token: SecretString,
    /// When it expires, from the answer's `expiry_date`.
    pub expires_at: SystemTime,
}

impl fmt::Debug for SsoToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsoToken")
            .field("email", &self.email)
            .field("access_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The `ExternalAccess` URL that signs a user in. It carries the token: `Debug`
/// redacts it; [`expose`](Self::expose) gives it to the browser redirect.
#[derive(Clone)]
pub struct SsoUrl(SecretString);

impl SsoUrl {
    /// The URL, to redirect the user's browser to.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SsoUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SsoUrl([REDACTED])")
    }
}

/// A client for one tenant. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BinokulaClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: BinokulaConfig,
    http: HttpClient,
    auth: ApiKey,
    clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct TokenWire {
    email: String,
    access_token: String,
    expiry_date: String,
}

#[derive(Deserialize)]
struct MessageWire {
    message: String,
}

impl BinokulaClient {
    /// A client with the default HTTP policy and the system clock.
    pub fn new(config: BinokulaConfig) -> Result<Self, Error> {
        Self::with(config, HttpPolicy::default(), Arc::new(SystemClock))
    }

    /// A client with an explicit HTTP policy and clock.
    pub fn with(
        config: BinokulaConfig,
        policy: HttpPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let auth = ApiKey::builder(config.client_secret.clone())
            .header("client_secret")
            .map(|b| {
                b.extra_query("tenant", &config.tenant)
                    .extra_secret_query("code", config.code.clone())
            })
            .and_then(|b| b.build())
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http: HttpClient::new(policy)?,
                config,
                auth,
                clock,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BinokulaConfig {
        &self.inner.config
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Issues (or renews) `email`'s SSO token: `GET /api/Token`. The user is created
    /// unless `existing_users_only`. Issuing a token makes any earlier one of that
    /// user invalid; [`crate::SsoSessions`] caches it for you. An answer whose `email`
    /// is not `email` (ASCII case-insensitively) is [`Error::EmailMismatch`].
    pub async fn issue_token(
        &self,
        email: &Email,
        existing_users_only: bool,
    ) -> Result<SsoToken, Error> {
        let existing = if existing_users_only { "true" } else { "false" };
        let response = self
            .call(
                reqwest::Method::GET,
                "api/Token",
                &[("email", email.as_str()), ("existingusersonly", existing)],
            )
            .await?;
        let wire: TokenWire = response.json()?;
        // The answer names its user: a token for anyone else is not this user's.
        if !email.is(&wire.email) {
            return Err(Error::EmailMismatch {
                requested: email.as_str().to_owned(),
            });
        }
        Ok(SsoToken {
            email: wire.email,
            access_token: SecretString::from(wire.access_token),
            expires_at: parse_expiry(&wire.expiry_date)?,
        })
    }

    /// The `ExternalAccess` URL for `token`, with email, token and tenant URL-encoded.
    pub fn sso_url(&self, token: &SsoToken) -> SsoUrl {
        let mut url = self.inner.config.app_base.clone();
        url.set_path(&format!("{}Account/ExternalAccess", url.path()));
        url.query_pairs_mut()
            .append_pair("email", &token.email)
            .append_pair("access_token", token.access_token.expose_secret())
            .append_pair("tenant", &self.inner.config.tenant);
        SsoUrl(SecretString::from(String::from(url)))
    }

    /// Registers a user: `PUT /api/User`. Returns the server's message.
    ///
    /// Not sent again after a 5xx or 429 although `PUT` is idempotent by method: the
    /// document answers a second registration of the same address with a conflict, so a
    /// repeat of a registration the server did commit would report
    /// [`Error::UserExists`] for a user just created.
    pub async fn register_user(&self, email: &Email) -> Result<String, Error> {
        let response = self
            .call_as(
                reqwest::Method::PUT,
                "api/User",
                &[("email", email.as_str())],
                Repeat::Unsent,
            )
            .await?;
        parse_message(&response)
    }

    /// Deletes a user: `DELETE /api/User`. Returns the server's message.
    pub async fn delete_user(&self, email: &Email) -> Result<String, Error> {
        let response = self
            .call(
                reqwest::Method::DELETE,
                "api/User",
                &[("email", email.as_str())],
            )
            .await?;
        parse_message(&response)
    }

    /// Enables or disables a user: `POST /api/UserStatus`. Returns the server's
    /// message.
    pub async fn set_user_enabled(&self, email: &Email, enabled: bool) -> Result<String, Error> {
        let status = if enabled { "true" } else { "false" };
        let response = self
            .call(
                reqwest::Method::POST,
                "api/UserStatus",
                &[("email", email.as_str()), ("status", status)],
            )
            .await?;
        parse_message(&response)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<HttpResponse, Error> {
        let repeat = Repeat::for_method(&method);
        self.call_as(method, path, params, repeat).await
    }

    async fn call_as(
        &self,
        method: reqwest::Method,
        path: &str,
        params: &[(&str, &str)],
        repeat: Repeat,
    ) -> Result<HttpResponse, Error> {
        let mut url: Url = self
            .inner
            .config
            .api_base
            .join(path)
            .map_err(|e| Error::Config(format!("invalid API URL: {e}")))?;
        url.query_pairs_mut().extend_pairs(params);
        let mut request = self
            .inner
            .http
            .reqwest()
            .request(method, url)
            .build()
            .map_err(|e| auth_core::Error::Request(e.without_url().to_string()))?;
        authorize_reqwest(&self.inner.auth, &mut request).await?;
        let response = self.inner.http.send_as(request, repeat).await?;
        check_status(response)
    }
}

/// Maps the statuses the crate documents to typed errors.
fn check_status(response: HttpResponse) -> Result<HttpResponse, Error> {
    let message = || parse_message(&response).unwrap_or_default();
    if !response.is_success()
        && let Some(foreign) = response.foreign_answer()
    {
        return Err(foreign.into());
    }
    match response.status {
        s if s.is_success() => Ok(response),
        StatusCode::UNAUTHORIZED => Err(Error::InvalidCode),
        StatusCode::FORBIDDEN => Err(Error::InvalidTenantOrSecret { message: message() }),
        StatusCode::NOT_FOUND => Err(Error::UnknownUser { message: message() }),
        StatusCode::CONFLICT => Err(Error::UserExists { message: message() }),
        _ => Err(Error::Core(response.to_error())),
    }
}

/// `{"message": "\"Successfully registered example@example.com\""}`: the message is a
/// JSON string inside the JSON string; unquoted messages are taken as they are.
fn parse_message(response: &HttpResponse) -> Result<String, Error> {
    let wire: MessageWire = response.json()?;
    let text = wire.message.trim();
    if text.len() >= 2
        && text.starts_with('"')
        && text.ends_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(text)
    {
        return Ok(inner);
    }
    Ok(text.to_owned())
}

/// `2018-04-26T03:08:03.893495+00:00`: RFC 3339 with fractional seconds and an offset.
pub(crate) fn parse_expiry(text: &str) -> Result<SystemTime, Error> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(SystemTime::from)
        .map_err(|_| Error::MalformedExpiry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::response;
    use std::time::{Duration, UNIX_EPOCH};

    mod fixtures {
        use auth_core::http::HttpResponse;
        use http::{HeaderMap, StatusCode};

        pub(super) fn response(status: u16, body: &str) -> HttpResponse {
            HttpResponse {
                status: StatusCode::from_u16(status).unwrap(),
                headers: HeaderMap::new(),
                body: body.to_owned().into_bytes().into(),
                attempts: 1,
            }
        }
    }

    #[test]
    fn parses_the_guides_expiry_date() {
        let t = parse_expiry("2018-04-26T03:08:03.893495+00:00").unwrap();
        let d = t.duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(d.as_secs(), 1_524_712_083);
        assert_eq!(d.subsec_micros(), 893_495);
        let offset = parse_expiry("2018-04-26T05:08:03.5+02:00").unwrap();
        assert_eq!(
            offset.duration_since(UNIX_EPOCH).unwrap(),
            Duration::from_millis(1_524_712_083_500)
        );
        for bad in [
            "26/04/2018 3:08 AM",
            "2018-04-26T03:08:03",
            "",
            "2018-13-26T03:08:03Z",
        ] {
            assert!(
                matches!(parse_expiry(bad), Err(Error::MalformedExpiry)),
                "{bad}"
            );
        }
    }

    #[test]
    fn messages_are_unquoted() {
        let quoted = response(
            200,
            r#"{"message": "\"Successfully registered example@example.com\""}"#,
        );
        assert_eq!(
            parse_message(&quoted).unwrap(),
            "Successfully registered example@example.com"
        );
        let plain = response(200, r#"{"message": "User Status set to true"}"#);
        assert_eq!(parse_message(&plain).unwrap(), "User Status set to true");
        assert!(parse_message(&response(200, "<html>")).is_err());
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        assert!(matches!(
            check_status(response(401, "")),
            Err(Error::InvalidCode)
        ));
        assert!(matches!(
            check_status(response(403, r#"{"message":"\"Invalid tenant\""}"#)),
            Err(Error::InvalidTenantOrSecret { message }) if message == "Invalid tenant"
        ));
        assert!(matches!(
            check_status(response(404, "{}")),
            Err(Error::UnknownUser { .. })
        ));
        assert!(matches!(
            check_status(response(500, "oops")),
            Err(Error::Core(_))
        ));
    }
}
