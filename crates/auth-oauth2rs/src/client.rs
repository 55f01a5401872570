//! [`TokenClient`]: the `oauth2` crate's clients that can reach a token endpoint,
//! whatever their typestate.

use std::fmt;

use oauth2::basic::BasicClient;
use oauth2::{
    Client, ClientCredentialsTokenRequest, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    EndpointState, ErrorResponse, RefreshToken, RefreshTokenRequest, RevocableToken,
    TokenIntrospectionResponse, TokenResponse, TokenUrl,
};

/// A [`BasicClient`] with its token endpoint set and no other: what
/// `BasicClient::new(id).set_client_secret(secret).set_token_uri(url)` builds, and the
/// default client type of the sources.
pub type BasicTokenClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

mod sealed {
    pub trait Sealed {}
}

/// An [`oauth2::Client`] whose token endpoint is set ([`EndpointSet`], from
/// `set_token_uri`) or may be ([`EndpointMaybeSet`], from `set_token_uri_option`;
/// the sources refuse one without it when they are built).
///
/// Implemented for every `Client<TE, TR, TIR, RT, TRE, ..>` of the `oauth2` crate with
/// any authorization, device, introspection and revocation endpoint state, so a
/// source takes the client an application already has, [`BasicClient`] or its own
/// response types. Sealed: there is nothing to implement.
pub trait TokenClient: sealed::Sealed + Send + Sync + fmt::Debug + 'static {
    /// The error response type (`TE`).
    type ErrorResponse: ErrorResponse + Send + Sync + 'static;
    /// The token response type (`TR`).
    type TokenResponse: TokenResponse + Send + Sync + 'static;

    /// The token endpoint, if set.
    fn token_url(&self) -> Option<&TokenUrl>;

    /// A `client_credentials` request, if the token endpoint is set.
    fn client_credentials_request(
        &self,
    ) -> Option<ClientCredentialsTokenRequest<'_, Self::ErrorResponse, Self::TokenResponse>>;

    /// A `refresh_token` request, if the token endpoint is set.
    fn refresh_token_request<'a>(
        &'a self,
        refresh_token: &'a RefreshToken,
    ) -> Option<RefreshTokenRequest<'a, Self::ErrorResponse, Self::TokenResponse>>;
}

/// Implements [`TokenClient`] for the clients in token endpoint state `$state`, with
/// the bodies given (`$c` the client, `$r` the refresh token).
macro_rules! token_client {
    (
        $state:ty,
        |$c:ident| $token_url:expr,
        |$c2:ident| $cc:expr,
        |$c3:ident, $r:ident| $refresh:expr
    ) => {
        impl<TE, TR, TIR, RT, TRE, A, D, I, R> sealed::Sealed
            for Client<TE, TR, TIR, RT, TRE, A, D, I, R, $state>
        where
            TE: ErrorResponse + 'static,
            TR: TokenResponse,
            TIR: TokenIntrospectionResponse,
            RT: RevocableToken,
            TRE: ErrorResponse + 'static,
            A: EndpointState,
            D: EndpointState,
            I: EndpointState,
            R: EndpointState,
        {
        }

        impl<TE, TR, TIR, RT, TRE, A, D, I, R> TokenClient
            for Client<TE, TR, TIR, RT, TRE, A, D, I, R, $state>
        where
            TE: ErrorResponse + Send + Sync + 'static,
            TR: TokenResponse + Send + Sync + 'static,
            TIR: TokenIntrospectionResponse,
            RT: RevocableToken,
            TRE: ErrorResponse + 'static,
            A: EndpointState,
            D: EndpointState,
            I: EndpointState,
            R: EndpointState,
            Self: Send + Sync + fmt::Debug + 'static,
        {
            type ErrorResponse = TE;
            type TokenResponse = TR;

            fn token_url(&self) -> Option<&TokenUrl> {
                let $c = self;
                $token_url
            }

            fn client_credentials_request(
                &self,
            ) -> Option<ClientCredentialsTokenRequest<'_, TE, TR>> {
                let $c2 = self;
                $cc
            }

            fn refresh_token_request<'a>(
                &'a self,
                refresh_token: &'a RefreshToken,
            ) -> Option<RefreshTokenRequest<'a, TE, TR>> {
                let ($c3, $r) = (self, refresh_token);
                $refresh
            }
        }
    };
}

token_client!(
    EndpointSet,
    |c| Some(c.token_uri()),
    |c| Some(c.exchange_client_credentials()),
    |c, r| Some(c.exchange_refresh_token(r))
);

token_client!(
    EndpointMaybeSet,
    |c| c.token_uri(),
    |c| c.exchange_client_credentials().ok(),
    |c, r| c.exchange_refresh_token(r).ok()
);
