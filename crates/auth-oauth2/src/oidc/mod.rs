//! OpenID Connect.
