//! What the server remembers between requests (codes, access and refresh tokens, token
//! families, counters), and the context every endpoint is handed.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::SystemTime;

use super::oidc::SigningKey;
use super::{AccessGrant, AuthServerConfig, TestUser};

#[derive(Debug, Clone)]
pub(super) struct CodeGrant {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) challenge: Option<String>,
    pub(super) username: String,
    pub(super) scope: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) expires: SystemTime,
    pub(super) used: bool,
    /// The token family its redemption starts.
    pub(super) family: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Issued {
    pub(super) grant: AccessGrant,
    pub(super) expires: SystemTime,
    pub(super) revoked: bool,
    pub(super) family: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Refresh {
    pub(super) client_id: String,
    pub(super) username: Option<String>,
    pub(super) scope: Option<String>,
    pub(super) expires: Option<SystemTime>,
    pub(super) revoked: bool,
    /// Revoked because a refresh spent it (presenting it again is reuse).
    pub(super) rotated: bool,
    pub(super) family: u64,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) next: u64,
    pub(super) codes: HashMap<String, CodeGrant>,
    pub(super) access: HashMap<String, Issued>,
    pub(super) refresh: HashMap<String, Refresh>,
    /// Index into the key list of the key that signs; the JWKS lists keys up to it.
    pub(super) current_key: usize,
    pub(super) grants: HashMap<String, u64>,
    pub(super) resource_grants: HashMap<String, u64>,
    /// The last token family handed out (families are numbered from 1).
    pub(super) last_family: u64,
    /// Families revoked for reuse (strict mode).
    pub(super) revoked_families: HashSet<u64>,
    /// Reused codes and rotated-away refresh tokens presented (strict mode).
    pub(super) reuse_detections: u64,
}

impl State {
    pub(super) fn new_family(&mut self) -> u64 {
        self.last_family += 1;
        self.last_family
    }

    /// Revokes every access and refresh token of `family`, and refuses grants of it
    /// still in flight.
    pub(super) fn revoke_family(&mut self, family: u64) {
        self.revoked_families.insert(family);
        for t in self.access.values_mut().filter(|t| t.family == family) {
            t.revoked = true;
        }
        for t in self.refresh.values_mut().filter(|t| t.family == family) {
            t.revoked = true;
        }
    }
}

pub(super) struct Ctx {
    pub(super) config: AuthServerConfig,
    pub(super) issuer: OnceLock<String>,
    pub(super) keys: Vec<SigningKey>,
    pub(super) state: Mutex<State>,
}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ctx {
    pub(super) fn issuer(&self) -> &str {
        self.issuer.get().map(String::as_str).unwrap_or_default()
    }

    pub(super) fn now(&self) -> SystemTime {
        self.config.clock.now()
    }

    pub(super) fn new_token(&self, state: &mut State, prefix: &str) -> String {
        state.next += 1;
        format!("{prefix}-{}-{:016x}", state.next, rand::random::<u64>())
    }

    pub(super) fn user(&self, username: &str) -> Option<&TestUser> {
        self.config.users.iter().find(|u| u.username == username)
    }
}
