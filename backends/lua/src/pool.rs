//! A small pool of prepared states, so concurrent calls of one script run in
//! parallel instead of queueing on one state.

use std::sync::Mutex;

/// Idle states of one script. Taking one is a short lock; a caller that finds
/// none builds a new state, so calls never wait for each other.
pub(crate) struct Pool<S> {
    idle: Mutex<Vec<S>>,
    capacity: usize,
}

impl<S> Pool<S> {
    /// A pool keeping at most `capacity` idle states.
    pub(crate) fn new(capacity: usize) -> Self {
        Pool {
            idle: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// An idle state, if there is one.
    pub(crate) fn take(&self) -> Option<S> {
        self.lock().pop()
    }

    /// Returns a healthy state for reuse; beyond capacity it is dropped.
    pub(crate) fn give(&self, state: S) {
        let mut idle = self.lock();
        if idle.len() < self.capacity {
            idle.push(state);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<S>> {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How many idle states a script keeps: one per core, within reason.
pub(crate) fn default_capacity() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 16)
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
}
