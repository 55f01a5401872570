//! [`BoundedCache`]: one value per key under a capacity and an idle expiry, entries
//! in use never evicted.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, RandomState};
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quick_cache::{Lifecycle, UnitWeighter};

use crate::Clock;

/// Sweeps for idle entries run at most this often.
const MIN_SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// How many entries a [`BoundedCache`] keeps, and for how long an unused one stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    capacity: usize,
    idle: Duration,
}

impl CacheLimits {
    /// At most `capacity` entries (0 is taken as 1), each dropped once unused for
    /// `idle`.
    pub const fn new(capacity: usize, idle: Duration) -> Self {
        Self {
            capacity: if capacity == 0 { 1 } else { capacity },
            idle,
        }
    }

    /// The same limits with another capacity (0 is taken as 1).
    #[must_use]
    pub const fn with_capacity(self, capacity: usize) -> Self {
        Self::new(capacity, self.idle)
    }

    /// The same limits with another idle expiry.
    #[must_use]
    pub const fn with_idle(self, idle: Duration) -> Self {
        Self::new(self.capacity, idle)
    }

    /// How many entries not in use are kept at most.
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// How long an entry stays without being looked up (or found in use).
    pub const fn idle(&self) -> Duration {
        self.idle
    }
}

/// A value in the cache and when it was last used.
struct Slot<V> {
    value: V,
    /// Unix milliseconds of the last lookup (or of a sweep that found it in use).
    last_used: AtomicU64,
}

/// A value from a [`BoundedCache`]. While any clone of it is alive, the entry is in
/// use and stays in the cache. Dereferences to the value.
pub struct CacheEntry<V>(Arc<Slot<V>>);

impl<V> Deref for CacheEntry<V> {
    type Target = V;

    fn deref(&self) -> &V {
        &self.0.value
    }
}

impl<V> Clone for CacheEntry<V> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<V: fmt::Debug> fmt::Debug for CacheEntry<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.value.fmt(f)
    }
}

/// The cache's own reference is the only one: nobody outside holds the entry.
fn in_use<V>(slot: &Arc<Slot<V>>) -> bool {
    Arc::strong_count(slot) > 1
}

/// Pins the entries held outside the cache (quick_cache never evicts a pinned entry).
#[derive(Clone, Copy, Debug, Default)]
struct InUse;

impl<K, V> Lifecycle<K, Arc<Slot<V>>> for InUse {
    type RequestState = ();

    fn is_pinned(&self, _key: &K, slot: &Arc<Slot<V>>) -> bool {
        in_use(slot)
    }
}

type Map<K, V> = quick_cache::sync::Cache<K, Arc<Slot<V>>, UnitWeighter, RandomState, InUse>;

/// One value per key (a provider per user, per tenant, per account)
/// kept under a capacity and an idle expiry, so that a process serving any number of
/// keys holds memory for at most [`CacheLimits::capacity`] of them, plus those in use.
///
/// - **Capacity.** At most `capacity` entries are kept; past it, the least valuable
///   entry goes (quick_cache's CLOCK-Pro-like policy: recently and often used entries
///   stay, a scan of one-off keys does not push them out).
/// - **Idle expiry.** An entry not looked up for [`CacheLimits::idle`] is dropped by
///   the next sweep. Sweeps run from lookups, at most every eighth of `idle` (and at
///   most once a second): no background thread, no timer.
/// - **In use means kept.** An entry whose [`CacheEntry`] is held outside the cache is
///   never evicted, by capacity or idle expiry, so there is never a second value for a
///   key while the first is still in use (a provider whose new token revokes the
///   previous one relies on this). The cache can then hold more than `capacity`
///   entries: those in use, which are in memory anyway. A sweep that finds an entry in
///   use counts that as a use.
/// - **One value per key.** Concurrent lookups of a missing key build one value; the
///   others wait for it (building must be cheap and must not block: no I/O).
///
/// What a dropped entry held is gone with it, except what lives elsewhere: a provider
/// over a shared [`TokenStore`](crate::TokenStore) finds its token there again when
/// its key is next looked up.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use auth_core::{BoundedCache, CacheLimits, ManualClock};
///
/// let clock = ManualClock::new();
/// let limits = CacheLimits::new(2, Duration::from_secs(600));
/// let cache: BoundedCache<String, String> = BoundedCache::new(limits, Arc::new(clock.clone()));
///
/// let ann = cache.get_or_insert_with("ann", || "ann's provider".to_owned());
/// assert_eq!(*ann, "ann's provider");
/// drop(ann);
/// for user in ["bob", "cy", "dee"] {
///     cache.get_or_insert_with(user, || format!("{user}'s provider"));
/// }
/// assert!(cache.len() <= 2, "bounded by the capacity");
///
/// clock.advance(Duration::from_secs(601));
/// let eve = cache.get_or_insert_with("eve", || "eve's provider".to_owned());
/// assert_eq!(cache.len(), 1, "the idle entries are gone; eve is in use");
/// # drop(eve);
/// ```
pub struct BoundedCache<K, V> {
    map: Map<K, V>,
    limits: CacheLimits,
    clock: Arc<dyn Clock>,
    /// Unix milliseconds before which no sweep starts.
    next_sweep: AtomicU64,
}

impl<K, V> BoundedCache<K, V>
where
    K: Eq + Hash + Clone,
{
    /// An empty cache under `limits`, timed by `clock`. Nothing is allocated for the
    /// capacity until entries arrive.
    pub fn new(limits: CacheLimits, clock: Arc<dyn Clock>) -> Self {
        let capacity = limits.capacity;
        let map = Map::with(
            capacity,
            u64::try_from(capacity).unwrap_or(u64::MAX),
            UnitWeighter,
            RandomState::new(),
            InUse,
        );
        let next_sweep =
            AtomicU64::new(millis(clock.now_coarse()).saturating_add(interval(limits)));
        Self {
            map,
            limits,
            clock,
            next_sweep,
        }
    }

    /// The value for `key`, built by `make` if the cache has none (one build for any
    /// number of concurrent callers). Counts as a use of the entry, and may start a
    /// sweep of idle entries.
    pub fn get_or_insert_with<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> CacheEntry<V>
    where
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        K: Borrow<Q>,
    {
        let now = millis(self.clock.now_coarse());
        self.sweep_if_due(now);
        let slot = match self.map.get_or_insert_with(key, || {
            Ok::<_, std::convert::Infallible>(Arc::new(Slot {
                value: make(),
                last_used: AtomicU64::new(now),
            }))
        }) {
            Ok(slot) => slot,
            Err(never) => match never {},
        };
        slot.last_used.store(now, Ordering::Relaxed);
        CacheEntry(slot)
    }

    /// The value for `key` if the cache has it, without counting a use.
    pub fn peek<Q>(&self, key: &Q) -> Option<CacheEntry<V>>
    where
        Q: Hash + Eq + ?Sized,
        K: Borrow<Q>,
    {
        self.map.peek(key).map(CacheEntry)
    }

    /// Drops the entry for `key` (a holder of its [`CacheEntry`] keeps the value).
    pub fn remove<Q>(&self, key: &Q)
    where
        Q: Hash + Eq + ?Sized,
        K: Borrow<Q>,
    {
        self.map.remove(key);
    }

    /// How many entries the cache holds now (those in use included).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The limits it keeps to.
    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// Drops the entries unused for the idle time now, whatever the last sweep was.
    pub fn sweep(&self) {
        let now = millis(self.clock.now_coarse());
        self.next_sweep
            .store(now.saturating_add(interval(self.limits)), Ordering::Relaxed);
        self.sweep_at(now);
    }

    /// One caller sweeps once the interval has passed; the others go on.
    fn sweep_if_due(&self, now: u64) {
        let due = self.next_sweep.load(Ordering::Relaxed);
        if now < due {
            return;
        }
        let next = now.saturating_add(interval(self.limits));
        if self
            .next_sweep
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.sweep_at(now);
        }
    }

    fn sweep_at(&self, now: u64) {
        let idle = u64::try_from(self.limits.idle.as_millis()).unwrap_or(u64::MAX);
        self.map.retain(|_, slot| {
            if in_use(slot) {
                slot.last_used.store(now, Ordering::Relaxed);
                return true;
            }
            now.saturating_sub(slot.last_used.load(Ordering::Relaxed)) < idle
        });
    }
}

impl<K: Eq + Hash + Clone, V> fmt::Debug for BoundedCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedCache")
            .field("limits", &self.limits)
            .field("len", &self.map.len())
            .finish_non_exhaustive()
    }
}

/// Milliseconds between sweeps: an eighth of the idle time, at least a second.
fn interval(limits: CacheLimits) -> u64 {
    let every = (limits.idle / 8).max(MIN_SWEEP_INTERVAL);
    u64::try_from(every.as_millis()).unwrap_or(u64::MAX)
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    fn cache(capacity: usize, idle_secs: u64) -> (BoundedCache<String, u32>, ManualClock) {
        let clock = ManualClock::new();
        let limits = CacheLimits::new(capacity, Duration::from_secs(idle_secs));
        (BoundedCache::new(limits, Arc::new(clock.clone())), clock)
    }

    #[test]
    fn holds_at_most_its_capacity_of_entries_not_in_use() {
        let (cache, _) = cache(100, 3600);
        for i in 0..10_000u32 {
            cache.get_or_insert_with(&format!("key-{i}"), || i);
        }
        assert!(cache.len() <= 100, "{}", cache.len());
        assert!(cache.len() >= 90, "{}", cache.len());
    }

    #[test]
    fn one_value_per_key_while_it_is_kept() {
        let (cache, _) = cache(10, 3600);
        let first = cache.get_or_insert_with("a", || 1);
        let again = cache.get_or_insert_with("a", || 2);
        assert_eq!((*first, *again), (1, 1));
    }

    #[test]
    fn entries_in_use_are_never_evicted() {
        let (cache, clock) = cache(2, 60);
        let held: Vec<_> = (0..5u32)
            .map(|i| cache.get_or_insert_with(&format!("held-{i}"), || i))
            .collect();
        for i in 0..100u32 {
            cache.get_or_insert_with(&format!("other-{i}"), || i);
        }
        clock.advance(Duration::from_secs(3600));
        cache.sweep();
        for (i, entry) in held.iter().enumerate() {
            let found = cache.peek(format!("held-{i}").as_str()).unwrap();
            assert!(
                Arc::ptr_eq(&found.0, &entry.0),
                "the same value, not a second one"
            );
        }
        // Released: found in use by the last sweep, it stays one more idle period.
        drop(held);
        clock.advance(Duration::from_secs(30));
        cache.sweep();
        assert!(cache.peek("held-0").is_some());
        clock.advance(Duration::from_secs(31));
        cache.sweep();
        assert!(cache.is_empty(), "{}", cache.len());
    }

    #[test]
    fn idle_entries_are_dropped_by_the_next_sweep_after_their_idle_time() {
        let (cache, clock) = cache(1000, 600);
        cache.get_or_insert_with("idle", || 1);
        cache.get_or_insert_with("busy", || 2);
        clock.advance(Duration::from_secs(400));
        cache.get_or_insert_with("busy", || 3); // a use; also sweeps (interval 75 s)
        clock.advance(Duration::from_secs(201));
        cache.get_or_insert_with("new", || 4); // sweeps: "idle" is 601 s unused
        assert!(cache.peek("idle").is_none());
        assert_eq!(cache.peek("busy").map(|e| *e), Some(2));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn sweeps_are_spaced_an_eighth_of_the_idle_time_apart() {
        let (cache, clock) = cache(1000, 80); // a sweep at most every 10 s
        cache.get_or_insert_with("a", || 1);
        clock.advance(Duration::from_secs(10));
        cache.get_or_insert_with("b", || 2); // sweeps; "a" (10 s) stays
        clock.advance(Duration::from_secs(75));
        cache.get_or_insert_with("c", || 3); // sweeps at 85 s: "a" goes, "b" (75 s) stays
        assert!(cache.peek("a").is_none());
        clock.advance(Duration::from_secs(6));
        cache.get_or_insert_with("c", || 3); // 91 s: "b" is 81 s unused, no sweep due
        assert!(cache.peek("b").is_some());
        clock.advance(Duration::from_secs(4));
        cache.get_or_insert_with("c", || 3); // 95 s: the next sweep
        assert!(cache.peek("b").is_none());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_zero_capacity_keeps_one() {
        assert_eq!(CacheLimits::new(0, Duration::ZERO).capacity(), 1);
        let (cache, _) = cache(0, 60);
        cache.get_or_insert_with("a", || 1);
        assert_eq!(cache.peek("a").map(|e| *e), Some(1));
        cache.get_or_insert_with("b", || 2);
        assert_eq!(cache.len(), 1);
    }
}
