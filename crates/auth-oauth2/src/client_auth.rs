//! [`ClientAuth`]: how the client authenticates at the token endpoint, and the request
//! bodies each method produces.

use auth_core::{ExposeSecret, SecretString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::HeaderValue;
use url::form_urlencoded;

/// Client authentication at the token, revocation and introspection endpoints.
///
/// A client whose secret is empty or absent is a public client (RFC 6749 §2.1): it
/// sends its `client_id` in the body and no secret, whatever the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `Authorization: Basic`, with the identifier and secret form-encoded first
    /// (RFC 6749 §2.3.1); the body is form-encoded. What §2.3.1 says servers must
    /// support.
    #[default]
    Basic,
    /// `client_id` and `client_secret` in a form-encoded body (§2.3.1, "NOT
    /// RECOMMENDED" but common).
    FormBody,
    /// `client_id` and `client_secret` in a JSON body, every parameter a JSON string
    /// (vendors such as Bindeo).
    JsonBody,
}

impl ClientAuth {
    /// The name used in discovery documents and on the command line
    /// (`client_secret_basic`, `client_secret_post`, `client_secret_json`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuth::Basic => "client_secret_basic",
            ClientAuth::FormBody => "client_secret_post",
            ClientAuth::JsonBody => "client_secret_json",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s names (and `basic`, `form`, `json`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "client_secret_basic" | "basic" => Some(ClientAuth::Basic),
            "client_secret_post" | "form" | "post" => Some(ClientAuth::FormBody),
            "client_secret_json" | "json" => Some(ClientAuth::JsonBody),
            _ => None,
        }
    }
}

/// A request body with its content type, and the `Authorization` header if any.
#[derive(Debug)]
pub(crate) struct EndpointRequest {
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    pub(crate) authorization: Option<HeaderValue>,
}

/// Builds the body for `params` with the client's credentials placed as `auth` says.
pub(crate) fn endpoint_request(
    auth: ClientAuth,
    client_id: &str,
    secret: Option<&SecretString>,
    params: &[(&str, &str)],
) -> EndpointRequest {
    let secret = secret.map(|s| s.expose_secret()).filter(|s| !s.is_empty());
    let (in_body, authorization) = match (auth, secret) {
        (ClientAuth::Basic, Some(secret)) => (None, Some(basic(client_id, secret))),
        (_, secret) => (Some(secret), None),
    };
    let credentials = in_body.map(|secret| {
        let mut c = vec![("client_id", client_id)];
        if let Some(secret) = secret {
            c.push(("client_secret", secret));
        }
        c
    });
    let all = params
        .iter()
        .copied()
        .chain(credentials.into_iter().flatten());
    if auth == ClientAuth::JsonBody {
        let map: serde_json::Map<String, serde_json::Value> = all
            .map(|(k, v)| (k.to_owned(), serde_json::Value::from(v)))
            .collect();
        EndpointRequest {
            content_type: "application/json",
            body: serde_json::Value::Object(map).to_string().into_bytes(),
            authorization,
        }
    } else {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(all);
        EndpointRequest {
            content_type: "application/x-www-form-urlencoded",
            body: form.finish().into_bytes(),
            authorization,
        }
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`, RFC 6749 §2.3.1.
fn basic(client_id: &str, secret: &str) -> HeaderValue {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = format!("{}:{}", encode(client_id), encode(secret));
    let mut value = HeaderValue::try_from(format!("Basic {}", STANDARD.encode(credentials)))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &EndpointRequest) -> String {
        String::from_utf8_lossy(&r.body).into_owned()
    }

    #[test]
    fn basic_form_encodes_the_identifiers_first() {
        let secret = SecretString::from("s3cr:t+/=");
        let r = endpoint_request(
            ClientAuth::Basic,
            "my client",
            Some(&secret),
            &[("grant_type", "client_credentials")],
        );
        let header = r
            .authorization
            .as_ref()
            .map(|h| h.to_str().unwrap_or_default().to_owned());
        // "my+client:s3cr%3At%2B%2F%3D"
        assert_eq!(
            header.as_deref(),
            Some("Basic bXkrY2xpZW50OnMzY3IlM0F0JTJCJTJGJTNE")
        );
        assert_eq!(body(&r), "grant_type=client_credentials");
    }

    #[test]
    fn form_body_carries_the_credentials() {
        let secret = SecretString::from("s e");
        let r = endpoint_request(
            ClientAuth::FormBody,
            "id",
            Some(&secret),
            &[("grant_type", "password")],
        );
        assert!(r.authorization.is_none());
        assert_eq!(
            body(&r),
            "grant_type=password&client_id=id&client_secret=s+e"
        );
    }

    #[test]
    fn json_body_carries_everything_as_strings() {
        let secret = SecretString::from("sec\"ret");
        let r = endpoint_request(
            ClientAuth::JsonBody,
            "id",
            Some(&secret),
            &[("grant_type", "refresh_token")],
        );
        assert_eq!(r.content_type, "application/json");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        assert_eq!(v["client_secret"], "sec\"ret");
        assert_eq!(v["grant_type"], "refresh_token");
    }

    #[test]
    fn public_clients_leave_an_empty_secret_out() {
        let empty = SecretString::from("");
        for auth in [ClientAuth::Basic, ClientAuth::FormBody] {
            let r = endpoint_request(
                auth,
                "spa",
                Some(&empty),
                &[("grant_type", "authorization_code")],
            );
            assert!(r.authorization.is_none());
            assert_eq!(body(&r), "grant_type=authorization_code&client_id=spa");
        }
        let r = endpoint_request(ClientAuth::JsonBody, "spa", None, &[]);
        assert_eq!(body(&r), r#"{"client_id":"spa"}"#);
    }
}
