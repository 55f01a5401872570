//! The authorization endpoint: a simulated user signs in and consents at once, and the
//! browser is sent back with a code, or with tokens in the fragment.

use std::time::Duration;

use http::StatusCode;
use url::Url;

use super::state::{CodeGrant, Ctx, Issued, lock};
use super::{AccessGrant, ClientAuthMethod};
use crate::{TestRequest, TestResponse};

pub(super) fn bad_page(text: &str) -> TestResponse {
    TestResponse::html(
        StatusCode::BAD_REQUEST,
        format!("<html><body>{text}</body></html>"),
    )
}

/// Sends the browser back to `redirect_uri` with `pairs` in the query or fragment.
pub(super) fn back_to(redirect_uri: &Url, pairs: &[(&str, &str)], fragment: bool) -> TestResponse {
    let mut url = redirect_uri.clone();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(pairs);
    let encoded = form.finish();
    if fragment {
        url.set_fragment(Some(&encoded));
    } else {
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{encoded}"),
            _ => encoded,
        };
        url.set_query(Some(&query));
    }
    TestResponse::redirect(url.as_str())
}

pub(super) fn authorize(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let q = |n: &str| req.query(n);
    let Some(client) = q("client_id").and_then(|id| ctx.config.clients.iter().find(|c| c.id == id))
    else {
        return bad_page("Unknown client");
    };
    let Some(redirect_uri) = q("redirect_uri").and_then(|u| Url::parse(&u).ok()) else {
        return bad_page("Missing or invalid redirect_uri");
    };
    let state = q("state").unwrap_or_default();
    let iss = ctx.issuer().to_owned();
    let error = |code: &str, description: &str, fragment: bool| {
        back_to(
            &redirect_uri,
            &[
                ("error", code),
                ("error_description", description),
                ("state", &state),
                ("iss", &iss),
            ],
            fragment,
        )
    };
    let username = q("login_hint").unwrap_or_else(|| {
        ctx.config
            .users
            .first()
            .map(|u| u.username.clone())
            .unwrap_or_default()
    });
    if ctx.user(&username).is_none() {
        return error("access_denied", "the user did not sign in", false);
    }
    let response_type = q("response_type").unwrap_or_default();
    match response_type.as_str() {
        "code" => {
            let challenge = q("code_challenge");
            let method = q("code_challenge_method");
            if challenge.is_some() && method.as_deref() != Some("S256") {
                return error(
                    "invalid_request",
                    "code_challenge_method must be S256",
                    false,
                );
            }
            if challenge.is_none() && client.auth == ClientAuthMethod::None {
                return error("invalid_request", "public clients must use PKCE", false);
            }
            let mut st = lock(&ctx.state);
            let code = ctx.new_token(&mut st, "code");
            let family = st.new_family();
            st.codes.insert(
                code.clone(),
                CodeGrant {
                    client_id: client.id.clone(),
                    redirect_uri: redirect_uri.as_str().to_owned(),
                    challenge,
                    username,
                    scope: q("scope"),
                    nonce: q("nonce"),
                    expires: ctx.now() + Duration::from_secs(60),
                    used: false,
                    family,
                },
            );
            drop(st);
            back_to(
                &redirect_uri,
                &[("code", &code), ("state", &state), ("iss", &iss)],
                false,
            )
        }
        "id_token token" | "token id_token" => {
            let Some(nonce) = q("nonce") else {
                return error("invalid_request", "nonce is required", true);
            };
            let mut st = lock(&ctx.state);
            let access = ctx.new_token(&mut st, "at");
            let family = st.new_family();
            st.access.insert(
                access.clone(),
                Issued {
                    grant: AccessGrant {
                        client_id: client.id.clone(),
                        username: Some(username.clone()),
                        resource: None,
                        scope: q("scope"),
                    },
                    expires: ctx.now() + ctx.config.access_lifetime,
                    revoked: false,
                    family,
                },
            );
            drop(st);
            let id_token = ctx.id_token(&client.id, &username, Some(&nonce), Some(&access));
            let expires = ctx.config.access_lifetime.as_secs().to_string();
            back_to(
                &redirect_uri,
                &[
                    ("access_token", &access),
                    ("token_type", "Bearer"),
                    ("expires_in", &expires),
                    ("id_token", &id_token),
                    ("state", &state),
                ],
                true,
            )
        }
        _ => error(
            "unsupported_response_type",
            "only code and id_token token",
            false,
        ),
    }
}
