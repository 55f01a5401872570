//! The documented daily request limit, as a plan and a client-side counter.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_core::http::HttpResponse;
use auth_core::{Clock, InMemoryQuotaStore, QuotaStore, StoreKey, unix_seconds};

use crate::Error;

/// A BeProduct edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Edition {
    /// Business.
    Business,
    /// Enterprise.
    Enterprise,
}

/// An organization's edition and number of user licenses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The edition.
    pub edition: Edition,
    /// User licenses.
    pub licenses: u32,
}

impl Plan {
    /// Business with `licenses` user licenses.
    pub fn business(licenses: u32) -> Self {
        Self {
            edition: Edition::Business,
            licenses,
        }
    }

    /// Enterprise with `licenses` user licenses.
    pub fn enterprise(licenses: u32) -> Self {
        Self {
            edition: Edition::Enterprise,
            licenses,
        }
    }

    /// Requests a day for the organization: "2000 request/day/organization or 250
    /// request /user license whichever is lower" on Business, 25,000 or 500 per
    /// license on Enterprise.
    ///
    /// The documentation's own example ("10 user licenses ... 2500 requests per
    /// day") contradicts that rule: 250 × 10 = 2,500 is not lower than 2,000. This
    /// follows the rule, so 10 Business licenses give 2,000; a caller who has agreed
    /// on more with BeProduct sets it with
    /// [`BeProductConfig::with_daily_limit`](crate::BeProductConfig::with_daily_limit).
    pub fn daily_limit(&self) -> u32 {
        let (cap, per_license): (u32, u32) = match self.edition {
            Edition::Business => (2_000, 250),
            Edition::Enterprise => (25_000, 500),
        };
        per_license.saturating_mul(self.licenses).min(cap)
    }
}

const DAY: u64 = 24 * 3600;

/// Counts requests per day and refuses past the limit. Shared by every session of
/// the organization in this process, and by every process when a shared
/// [`QuotaStore`] is configured.
///
/// This process always keeps its own count too. When the shared store fails, the
/// request is counted here instead, with a warning: the process then goes on under
/// the limit on its own, and returns to the shared count when the store answers.
#[derive(Debug)]
pub(crate) struct DailyQuota {
    limit: u32,
    offset_seconds: i64,
    clock: Arc<dyn Clock>,
    key: StoreKey,
    local: InMemoryQuotaStore,
    shared: Option<Arc<dyn QuotaStore>>,
}

impl DailyQuota {
    pub(crate) fn new(
        limit: u32,
        offset_seconds: i32,
        clock: Arc<dyn Clock>,
        key: StoreKey,
        shared: Option<Arc<dyn QuotaStore>>,
    ) -> Self {
        Self {
            limit,
            offset_seconds: i64::from(offset_seconds),
            clock,
            key,
            local: InMemoryQuotaStore::new(),
            shared,
        }
    }

    /// The moment today (in the configured day) ends: it names the window.
    fn today_ends(&self) -> SystemTime {
        let local = (unix_seconds(self.clock.now()) as i64).saturating_add(self.offset_seconds);
        let local = u64::try_from(local).unwrap_or(0);
        let next_local = (local / DAY + 1) * DAY;
        let ends = i64::try_from(next_local)
            .unwrap_or(i64::MAX)
            .saturating_sub(self.offset_seconds);
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(ends).unwrap_or(0))
    }

    fn refused(&self, resets_at: SystemTime) -> Error {
        Error::QuotaExceeded {
            limit: self.limit,
            resets_at,
        }
    }

    /// Counts one request, or refuses it.
    pub(crate) async fn acquire(&self) -> Result<(), Error> {
        let ends = self.today_ends();
        if let Some(shared) = &self.shared {
            match shared.take(&self.key, self.limit, ends).await {
                Ok(Some(_)) => {
                    // Sent: this process's own count follows, for a later outage. It
                    // never exceeds the shared one, so it cannot refuse here.
                    let _ = self.local.take(&self.key, self.limit, ends).await;
                    return Ok(());
                }
                Ok(None) => return Err(self.refused(ends)),
                Err(e) => {
                    tracing::warn!(key = %self.key, error = %e, "shared quota unavailable; counting in this process");
                }
            }
        }
        match self.local.take(&self.key, self.limit, ends).await {
            Ok(Some(_)) => Ok(()),
            _ => Err(self.refused(ends)),
        }
    }

    /// Reads a REST answer for the quota: each attempt was counted when it was
    /// authorized ([`acquire`](Self::acquire), which the session's provider calls for
    /// every attempt the HTTP client makes, retries included), so nothing is added
    /// here. A 429 at the end means the organization's limit is reached: the day is
    /// over, here and in a shared store.
    pub(crate) async fn settle(&self, response: &HttpResponse) {
        if response.status == http::StatusCode::TOO_MANY_REQUESTS {
            // Other clients of the organization count too: no more requests today.
            self.exhaust().await;
        }
    }

    /// The error for a request refused today.
    pub(crate) fn refusal(&self) -> Error {
        self.refused(self.today_ends())
    }

    /// Requests counted today: the shared count when there is one and it answers.
    pub(crate) async fn used(&self) -> u32 {
        let ends = self.today_ends();
        if let Some(shared) = &self.shared {
            match shared.used(&self.key, ends).await {
                Ok(used) => return used,
                Err(e) => {
                    tracing::warn!(key = %self.key, error = %e, "shared quota unavailable; reading this process's count");
                }
            }
        }
        self.local.used(&self.key, ends).await.unwrap_or(self.limit)
    }

    /// Requests left today.
    pub(crate) async fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used().await)
    }

    /// The server says the limit is reached (other clients of the organization count
    /// too): no more requests today, here and in the shared count.
    pub(crate) async fn exhaust(&self) {
        let ends = self.today_ends();
        // The in-memory store cannot fail.
        let _ = self.local.exhaust(&self.key, self.limit, ends).await;
        if let Some(shared) = &self.shared
            && let Err(e) = shared.exhaust(&self.key, self.limit, ends).await
        {
            tracing::warn!(key = %self.key, error = %e, "cannot mark the shared quota as used up");
        }
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_rule_whichever_is_lower() {
        assert_eq!(Plan::business(4).daily_limit(), 1_000);
        assert_eq!(Plan::business(8).daily_limit(), 2_000);
        // The documentation's example says 2,500 for 10 licenses; the rule says 2,000.
        assert_eq!(Plan::business(10).daily_limit(), 2_000);
        assert_eq!(Plan::enterprise(10).daily_limit(), 5_000);
        assert_eq!(Plan::enterprise(50).daily_limit(), 25_000);
        assert_eq!(Plan::enterprise(u32::MAX).daily_limit(), 25_000);
        assert_eq!(Plan::business(0).daily_limit(), 0);
    }
}
