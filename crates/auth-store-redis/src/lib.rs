//! A [`TokenStore`](auth_core::TokenStore) and a [`QuotaStore`](auth_core::QuotaStore)
//! on Redis, so that a fleet of processes holds one token per key, renewed by one of
//! them at a time, and counts its requests against one limit.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use auth_core::{CachingProvider, StoreKey, TokenSource};
//! use auth_store_redis::RedisStore;
//!
//! # async fn run(source: impl TokenSource) -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(RedisStore::builder("redis://127.0.0.1:6379/").build()?);
//! let provider = CachingProvider::builder(source)
//!     .key(StoreKey::new(["bindeo", "my-client", "machine"]))
//!     .store(store)
//!     .build();
//! let token = provider.token().await?;
//! # Ok(()) }
//! ```
//!
//! What it keeps, under a prefix (default `auth`):
//!
//! - `{prefix}:token:{key}`: the token as JSON, with the token's expiry as the key's
//!   time to live. Redis then holds access and refresh tokens: give it a password,
//!   TLS (`rediss://`) and no outside network, as for any secret store.
//! - `{prefix}:lease:{key}`: the refresh lease, `SET NX PX` with a fencing number from
//!   `{prefix}:fence` (one script, so atomic), released by compare-and-delete: a
//!   process whose lease ran out cannot release the next holder's.
//! - `{prefix}:quota:{key}:{window}`: request counters (the
//!   [`QuotaStore`](auth_core::QuotaStore) implementation),
//!   expiring when their window ends.
//!
//! When Redis cannot be reached, every call fails fast with
//! [`auth_core::Error::Store`] (a short connect and response timeout, and no new
//! connection attempt for a moment after one failed); the caching provider then
//! fetches on its own with a warning and uses the store again once it answers.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod error;
mod scripts;
mod store;

pub use error::Error;
pub use store::{RedisStore, RedisStoreBuilder};
