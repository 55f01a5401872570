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

    fn figures(&self) -> (u32, u32) {
        match self.edition {
            Edition::Business => (2_000, 250),
            Edition::Enterprise => (25_000, 500),
        }
    }

    /// The organization's requests a day under `reading` of the document's two
    /// statements, which disagree:
    ///
    /// - the rule (l. 117-118): "2000 request/day/organization or 250 request /user
    ///   license whichever is lower" on Business, 25,000 or 500 per license on
    ///   Enterprise ([`QuotaReading::Stricter`]: the lower of the two);
    /// - the example (l. 122): "If you have purchased 10 user licenses, you are
    ///   allowed 2500 requests per day", which is 250 × 10 above the 2,000 cap: the
    ///   cap read as a floor, "whichever is higher" ([`QuotaReading::Looser`]: the
    ///   higher of the two, which also covers 250 per license with no cap).
    pub fn limit(&self, reading: QuotaReading) -> u32 {
        let (cap, per_license) = self.figures();
        let licensed = per_license.saturating_mul(self.licenses);
        match reading {
            QuotaReading::Stricter => licensed.min(cap),
            QuotaReading::Looser => licensed.max(cap),
        }
    }

    /// The limit the client refuses at by default: the looser reading, so that it
    /// never refuses a request the vendor's own example allows (10 Business licenses:
    /// 2,500).
    pub fn daily_limit(&self) -> u32 {
        self.limit(QuotaReading::Looser)
    }

    /// The limit past which the client warns by default: the stricter reading, the
    /// rule as written (10 Business licenses: 2,000).
    pub fn warning_limit(&self) -> u32 {
        self.limit(QuotaReading::Stricter)
    }
}

/// Which of the document's two statements of the daily limit a client refuses at
/// (see [`Plan::limit`]); the other is where it warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum QuotaReading {
    /// The higher figure, as the document's example (l. 122) reads: refuse there,
    /// warn past the rule's lower figure. The default.
    #[default]
    Looser,
    /// The lower figure, the rule as written (l. 117-118): refuse there, no warning.
    Stricter,
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
    warn_at: Option<u32>,
    offset_seconds: i64,
    clock: Arc<dyn Clock>,
    key: StoreKey,
    local: InMemoryQuotaStore,
    shared: Option<Arc<dyn QuotaStore>>,
}

impl DailyQuota {
    pub(crate) fn new(
        limit: u32,
        warn_at: Option<u32>,
        offset_seconds: i32,
        clock: Arc<dyn Clock>,
        key: StoreKey,
        shared: Option<Arc<dyn QuotaStore>>,
    ) -> Self {
        Self {
            limit,
            warn_at: warn_at.filter(|w| *w < limit),
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
                Ok(Some(count)) => {
                    // Sent: this process's own count follows, for a later outage. It
                    // never exceeds the shared one, so it cannot refuse here.
                    let _ = self.local.take(&self.key, self.limit, ends).await;
                    self.warn_if_crossing(count);
                    return Ok(());
                }
                Ok(None) => return Err(self.refused(ends)),
                Err(e) => {
                    tracing::warn!(key = %self.key, error = %e, "shared quota unavailable; counting in this process");
                }
            }
        }
        match self.local.take(&self.key, self.limit, ends).await {
            Ok(Some(count)) => {
                self.warn_if_crossing(count);
                Ok(())
            }
            _ => Err(self.refused(ends)),
        }
    }

    /// Warns once a day (once for a fleet on a shared store: one process counts
    /// that request) when the count passes the stricter reading of the limit.
    fn warn_if_crossing(&self, count: u32) {
        if let Some(warn_at) = self.warn_at
            && count == warn_at.saturating_add(1)
        {
            tracing::warn!(
                key = %self.key,
                requests = count,
                stricter_limit = warn_at,
                limit = self.limit,
                "BeProduct requests today passed the stricter reading of the documented daily limit; the server may refuse from here on and notify the organization's administrator"
            );
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

    pub(crate) fn warn_at(&self) -> Option<u32> {
        self.warn_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_and_the_example_are_both_readings() {
        // The example (l. 122): 10 Business licenses allow 2,500 a day.
        assert_eq!(Plan::business(10).daily_limit(), 2_500);
        // The rule as written (l. 117): the lower of 2,000 and 250 per license.
        assert_eq!(Plan::business(10).warning_limit(), 2_000);
        assert_eq!(Plan::business(4).limit(QuotaReading::Stricter), 1_000);
        assert_eq!(Plan::business(4).limit(QuotaReading::Looser), 2_000);
        assert_eq!(Plan::enterprise(10).limit(QuotaReading::Stricter), 5_000);
        assert_eq!(Plan::enterprise(10).limit(QuotaReading::Looser), 25_000);
        assert_eq!(
            Plan::enterprise(u32::MAX).limit(QuotaReading::Stricter),
            25_000
        );
        assert_eq!(
            Plan::enterprise(u32::MAX).limit(QuotaReading::Looser),
            u32::MAX
        );
        assert_eq!(Plan::business(0).limit(QuotaReading::Stricter), 0);
    }
}
