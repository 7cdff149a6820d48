//! [`Pool`]: a small pool of idle instances of one plugin (Lua states, WASM
//! stores), so calls reuse them and concurrent calls of one plugin run in
//! parallel instead of queueing on one; and the one call loop both sandbox
//! backends run on it ([`Pool::call`]).

use std::sync::{Mutex, MutexGuard};

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
    idle: Mutex<Vec<T>>,
    capacity: usize,
}

impl<T> Pool<T> {
    /// A pool keeping at most `capacity` idle instances.
    pub fn new(capacity: usize) -> Self {
        Pool {
            idle: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// A pool keeping one idle instance per core, within reason (2 to 16).
    pub fn per_core() -> Self {
        Pool::new(std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 16))
    }

    /// An idle instance, if there is one.
    pub fn take(&self) -> Option<T> {
        self.lock().pop()
    }

    /// One call: takes an idle instance (or builds one with `build`), runs
    /// `call` on it, and returns it to the pool unless the call says it is
    /// spent.
    pub fn call<R, E>(
        &self,
        build: impl FnOnce() -> Result<T, E>,
        call: impl FnOnce(&mut T) -> (R, Fate),
    ) -> Result<R, E> {
        let mut instance = match self.take() {
            Some(instance) => instance,
            None => build()?,
        };
        let (result, fate) = call(&mut instance);
        if fate == Fate::Keep {
            self.give(instance);
        }
        Ok(result)
    }

    /// Returns a healthy instance for reuse; beyond capacity it is dropped.
    pub fn give(&self, item: T) {
        let mut idle = self.lock();
        if idle.len() < self.capacity {
            idle.push(item);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<T>> {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
