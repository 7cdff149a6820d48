//! [`Pool`]: a small pool of idle instances of one plugin (Lua states, WASM
//! stores), so calls reuse them and concurrent calls of one plugin run in
//! parallel instead of queueing on one; and the one call loop both sandbox
//! backends run on it ([`Pool::call`]). An instance idle for longer than the
//! pool's idle time is dropped, so a plugin nobody calls gives its memory
//! back.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pocket_core::Limit;

/// Why a sandboxed call stopped before its code returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A limit tripped; the instance is spent.
    Limit(Limit),
    /// The run was cancelled, or nobody waits for the result any more.
    Cancelled,
}

/// What a call left of the instance it ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Healthy: back to the pool for the next call.
    Keep,
    /// Spent (a limit tripped, the guest trapped): dropped, so the next call
    /// starts on a fresh instance.
    Discard,
}

/// Idle instances of one plugin. Taking one is a short lock; a caller that
/// finds none builds a new one, so calls never wait for each other.
pub struct Pool<T> {
    /// Idle instances with the time each was returned, oldest first.
    idle: Mutex<Vec<(T, Instant)>>,
    capacity: usize,
    idle_time: Option<Duration>,
}

impl<T> Pool<T> {
    /// A pool keeping at most `capacity` idle instances, for as long as
    /// they are reused.
    pub fn new(capacity: usize) -> Self {
        Pool {
            idle: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
            idle_time: None,
        }
    }

    /// The same pool, dropping an instance left idle for longer than `idle_time`.
    pub fn idle_time(mut self, idle_time: Duration) -> Self {
        self.idle_time = Some(idle_time);
        self
    }

    /// A pool keeping one idle instance per core, within reason (2 to 16).
    pub fn per_core() -> Self {
        Pool::new(
            std::thread::available_parallelism()
                .map_or(2, std::num::NonZero::get)
                .clamp(2, 16),
        )
    }

    /// An idle instance, if there is one that has not been idle too long.
    pub fn take(&self) -> Option<T> {
        self.take_at(Instant::now())
    }

    /// One call: takes an idle instance (or builds one with `build`), runs
    /// `call` on it, and returns it to the pool unless the call says it is
    /// spent. The clock is read once: an instance's idle time counts from
    /// the start of the call that last used it.
    pub fn call<R, E>(
        &self,
        build: impl FnOnce() -> Result<T, E>,
        call: impl FnOnce(&mut T) -> (R, Fate),
    ) -> Result<R, E> {
        let now = Instant::now();
        let mut instance = match self.take_at(now) {
            Some(instance) => instance,
            None => build()?,
        };
        let (result, fate) = call(&mut instance);
        if fate == Fate::Keep {
            self.give_at(instance, now);
        }
        Ok(result)
    }

    /// Returns a healthy instance for reuse; beyond capacity it is dropped.
    pub fn give(&self, item: T) {
        self.give_at(item, Instant::now());
    }

    /// The newest idle instance, after dropping those idle too long at `now`.
    fn take_at(&self, now: Instant) -> Option<T> {
        let mut idle = self.lock();
        self.expire(&mut idle, now);
        idle.pop().map(|(instance, _)| instance)
    }

    /// Returns `item` as idle since `now`, keeping the idle list in time
    /// order (a call that started earlier may end later than another).
    fn give_at(&self, item: T, now: Instant) {
        let mut idle = self.lock();
        self.expire(&mut idle, now);
        if idle.len() < self.capacity {
            let at = idle.partition_point(|(_, since)| *since <= now);
            idle.insert(at, (item, now));
        }
    }

    /// Drops the instances idle for longer than the pool's idle time at
    /// `now` (the caller's clock: `Instant::now()`, or a later instant in a
    /// test); a long-running host calls it now and then, so that plugins
    /// nobody calls give their memory back. How many were dropped.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut idle = self.lock();
        let before = idle.len();
        self.expire(&mut idle, now);
        before - idle.len()
    }

    /// How many instances are idle.
    pub fn idle(&self) -> usize {
        self.lock().len()
    }

    /// Drops the entries of `idle` (oldest first) that expired by `now`.
    fn expire(&self, idle: &mut Vec<(T, Instant)>, now: Instant) {
        if let Some(limit) = self.idle_time {
            let expired = idle.partition_point(|(_, since)| now.saturating_duration_since(*since) > limit);
            idle.drain(..expired);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(T, Instant)>> {
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_idle_too_long_is_dropped() {
        let pool = Pool::new(4).idle_time(Duration::from_secs(30));
        let start = Instant::now();
        let later = |secs| start + Duration::from_secs(secs);
        pool.give_at(1, start);
        pool.give_at(2, later(31));
        assert_eq!(pool.idle(), 1, "giving expired the old one");
        assert_eq!(pool.take_at(later(31)), Some(2));
        pool.give_at(3, later(32));
        assert_eq!(pool.sweep(later(62)), 0, "idle exactly its idle time is kept");
        assert_eq!(pool.sweep(later(63)), 1);
        assert_eq!(pool.take_at(later(63)), None);
    }

    #[test]
    fn instances_stay_in_time_order_whichever_call_ends_first() {
        let pool = Pool::new(4).idle_time(Duration::from_secs(30));
        let early = Instant::now();
        let late = early + Duration::from_secs(40);
        pool.give_at("late", late);
        pool.give_at("early", early);
        assert_eq!(pool.sweep(late), 1, "the early one expired even behind a later one");
        assert_eq!(pool.take_at(late), Some("late"));
    }

    #[test]
    fn the_pool_keeps_at_most_its_capacity() {
        let pool = Pool::new(2);
        for i in 0..5 {
            pool.give(i);
        }
        assert_eq!(pool.take(), Some(1));
        assert_eq!(pool.take(), Some(0));
        assert_eq!(pool.take(), None);
    }

    #[test]
    fn a_call_reuses_a_kept_instance_and_never_a_discarded_one() {
        let pool = Pool::new(2);
        let mut built = 0;
        let mut build = || {
            built += 1;
            Ok::<_, ()>(built)
        };
        assert_eq!(pool.call(&mut build, |i| (*i, Fate::Keep)), Ok(1));
        assert_eq!(pool.call(&mut build, |i| (*i, Fate::Discard)), Ok(1), "reused");
        assert_eq!(pool.call(&mut build, |i| (*i, Fate::Keep)), Ok(2), "rebuilt");
        assert_eq!(pool.call(|| Err("no"), |i: &mut i32| (*i, Fate::Keep)), Ok(2));
    }
}
