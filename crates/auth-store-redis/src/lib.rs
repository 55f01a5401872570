//! A [`TokenStore`](auth_core::TokenStore) and a [`QuotaStore`](auth_core::QuotaStore)
//! on Redis, so that a fleet of processes holds one token per key, renewed by one of
//! them at a time, and counts its requests against one limit.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! use auth_core::{CachingProvider, StoreKey, TokenSource};
//! use auth_store_redis::RedisStore;
//!
//! # async fn run(source: impl TokenSource) -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(
//!     RedisStore::builder("rediss://:password@redis.internal:6380/")
//!         // An in-house CA; without it, the web PKI roots are trusted.
//!         .root_certificate_pem(&std::fs::read("/etc/redis/ca.pem")?)
//!         // Drop tokens whose refresh token has no known expiry after 90 days.
//!         .max_ttl(Duration::from_secs(90 * 86_400))
//!         .build()?,
//! );
//! let provider = CachingProvider::builder(source)
//!     .store(store, StoreKey::new(["bindeo", "my-client", "machine"]))
//!     .build();
//! let token = provider.token().await?;
//! # Ok(()) }
//! ```
//!
//! What it keeps, under a prefix (default `auth`):
//!
//! - `{prefix}:token:{key}`: the token as JSON, kept as long as
//!   [`Token::keep_until`](auth_core::Token::keep_until) says: a token with a refresh
//!   token until the refresh token expires (with no time to live when that is
//!   unknown), a token without one until it expires itself; an expired access token
//!   in Redis still carries the newest refresh token, which the next refresh, in any
//!   process, must start from. [`RedisStoreBuilder::max_ttl`] caps that time. Written
//!   by a Lua script that first checks the writer's refresh lease (below), so a
//!   process whose lease ran out while it fetched cannot overwrite the token of the
//!   one that took over: it gets [`auth_core::Error::LeaseLost`].
//! - `{prefix}:lease:{key}`: the refresh lease, `SET NX PX` with a fencing number from
//!   `{prefix}:fence` (one script, so atomic), renewed by compare-and-`PEXPIRE` and
//!   released by compare-and-delete: a process whose lease ran out can neither renew
//!   nor release the next holder's.
//! - `{prefix}:quota:{key}:{window}`: request counters (the
//!   [`QuotaStore`](auth_core::QuotaStore) implementation),
//!   expiring when their window ends.
//!
//! Redis then holds access and refresh tokens: give it a password, TLS and no outside
//! network, as for any secret store. `rediss://` URLs use rustls (with ring, as the
//! rest of the workspace) and check the server's certificate against the web PKI
//! roots, or only against [`RedisStoreBuilder::root_certificate_pem`]; if the process
//! has no default rustls crypto provider yet, building a `rediss://` store installs
//! ring's. A plain `redis://` URL to a host that is not loopback logs a warning once
//! per process: the tokens would cross the network in clear.
//!
//! When Redis cannot be reached, every call fails fast with
//! [`auth_core::Error::Store`] (a short connect and response timeout, and no new
//! connection attempt for a moment after one failed); the caching provider then
//! fetches on its own with a warning, except for a source whose refresh invalidates
//! the token other processes hold (a rotating refresh token:
//! [`auth_core::Error::StoreUnavailable`] instead), and uses the store again once it
//! answers.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod error;
mod scripts;
mod store;

pub use error::Error;
pub use store::{RedisStore, RedisStoreBuilder};
