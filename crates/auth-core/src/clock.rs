//! Time, injectable: [`SystemClock`] in production, [`ManualClock`] in tests.
//!
//! Every expiry decision in the workspace asks a [`Clock`], never
//! `SystemTime::now()` directly, so a test can move an hour forward without sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time, allowed to be a few milliseconds off, for hot paths that only
    /// compare against deadlines seconds away (is the cached token due for renewal?).
    /// Defaults to [`now`](Self::now).
    fn now_coarse(&self) -> SystemTime {
        self.now()
    }

    /// Whole seconds since the Unix epoch by [`now_coarse`](Self::now_coarse) (0
    /// before the epoch): a protocol timestamp, on every signed request.
    fn unix_seconds_coarse(&self) -> u64 {
        unix_seconds(self.now_coarse())
    }
}

/// The operating system's clock.
///
/// [`now_coarse`](Clock::now_coarse) reads the kernel's coarse monotonic clock (a few
/// nanoseconds, millisecond resolution) and maps it onto wall-clock time with an anchor
/// taken from [`SystemTime::now`] and renewed every second, so a stepped system clock
/// is followed within a second.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

/// The anchor of [`SystemClock::now_coarse`]: a coarse monotonic reading and the wall
/// clock at that moment, both in nanoseconds.
static ANCHOR_MONO: AtomicU64 = AtomicU64::new(0);
static ANCHOR_WALL: AtomicU64 = AtomicU64::new(0);
const REANCHOR_NANOS: u64 = 1_000_000_000;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn now_coarse(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(coarse_wall_nanos())
    }

    /// Divides the nanoseconds: building a `SystemTime` and measuring it from the
    /// epoch again cost as much as reading the clock (`oauth1_sign` benchmark).
    fn unix_seconds_coarse(&self) -> u64 {
        coarse_wall_nanos() / 1_000_000_000
    }
}

/// Wall-clock nanoseconds since the epoch by the coarse monotonic clock and the anchor.
fn coarse_wall_nanos() -> u64 {
    let mono = coarsetime::Instant::now_without_cache_update().as_u64();
    let mono_nanos = coarsetime::Duration::from_u64(mono).as_nanos();
    let anchor_mono = ANCHOR_MONO.load(Ordering::Relaxed);
    let anchor_wall = ANCHOR_WALL.load(Ordering::Relaxed);
    let since = mono_nanos.wrapping_sub(anchor_mono);
    if anchor_wall == 0 || since > REANCHOR_NANOS {
        // Renew the anchor. Racing writers store equally good anchors; a reader that
        // sees one half of a pair is off by at most the renewal interval.
        let wall = to_nanos(SystemTime::now());
        ANCHOR_WALL.store(wall, Ordering::Relaxed);
        ANCHOR_MONO.store(mono_nanos, Ordering::Relaxed);
        return wall;
    }
    anchor_wall.saturating_add(since)
}

/// A clock that moves only when told to. Cloning it shares the same time, so a test
/// can hand one clone to a client and another to an embedded server.
///
/// ```
/// use auth_core::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::starting_at_unix(1_700_000_000);
/// let before = clock.now();
/// clock.advance(Duration::from_secs(3600));
/// assert_eq!(clock.now().duration_since(before).unwrap(), Duration::from_secs(3600));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    nanos_since_epoch: Arc<AtomicU64>,
}

impl ManualClock {
    /// A manual clock set to the current system time.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A manual clock set to `start`. Times before the Unix epoch are clamped to it.
    pub fn starting_at(start: SystemTime) -> Self {
        Self {
            nanos_since_epoch: Arc::new(AtomicU64::new(to_nanos(start))),
        }
    }

    /// A manual clock set to `secs` seconds after the Unix epoch.
    pub fn starting_at_unix(secs: u64) -> Self {
        Self::starting_at(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos_since_epoch.fetch_add(by, Ordering::SeqCst);
    }

    /// Sets the clock to `to` (which may be earlier than now).
    pub fn set(&self, to: SystemTime) {
        self.nanos_since_epoch.store(to_nanos(to), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl From<ManualClock> for Arc<dyn Clock> {
    fn from(clock: ManualClock) -> Self {
        Arc::new(clock)
    }
}

impl From<SystemClock> for Arc<dyn Clock> {
    fn from(clock: SystemClock) -> Self {
        Arc::new(clock)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.nanos_since_epoch.load(Ordering::SeqCst))
    }
}

fn to_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch of `t` (0 before the epoch).
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_clones_share_time() {
        let a = ManualClock::starting_at_unix(10);
        let b = a.clone();
        a.advance(Duration::from_secs(5));
        assert_eq!(unix_seconds(b.now()), 15);
        b.set(UNIX_EPOCH + Duration::from_secs(3));
        assert_eq!(unix_seconds(a.now()), 3);
    }

    #[test]
    fn coarse_system_time_tracks_the_system_clock() {
        for _ in 0..3 {
            let precise = SystemTime::now();
            let coarse = SystemClock.now_coarse();
            let skew = match coarse.duration_since(precise) {
                Ok(d) => d,
                Err(e) => e.duration(),
            };
            assert!(skew < Duration::from_millis(50), "skew {skew:?}");
            // The seconds agree with the coarse time's (to the second it may cross).
            let seconds = SystemClock.unix_seconds_coarse();
            let expected = unix_seconds(SystemClock.now_coarse());
            assert!(expected.abs_diff(seconds) <= 1, "{seconds} vs {expected}");
            std::thread::sleep(Duration::from_millis(5));
        }
        let manual = ManualClock::starting_at_unix(1_318_622_958);
        assert_eq!(manual.unix_seconds_coarse(), 1_318_622_958);
    }

    #[test]
    fn times_before_epoch_clamp() {
        let c = ManualClock::starting_at(UNIX_EPOCH - Duration::from_secs(1));
        assert_eq!(c.now(), UNIX_EPOCH);
    }
}
