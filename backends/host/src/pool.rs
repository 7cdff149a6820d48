//! [`Pool`]: a small pool of idle per-plugin runtimes (Lua states, WASM
//! instances), so calls reuse them and concurrent calls of one plugin run in
//! parallel instead of queueing on one.

use std::sync::{Mutex, MutexGuard};

/// Idle runtimes of one plugin. Taking one is a short lock; a caller that
/// finds none builds a new one, so calls never wait for each other.
pub struct Pool<T> {
    idle: Mutex<Vec<T>>,
    capacity: usize,
}

impl<T> Pool<T> {
    /// A pool keeping at most `capacity` idle runtimes.
    pub fn new(capacity: usize) -> Self {
        Pool {
            idle: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// A pool keeping one idle runtime per core, within reason (2 to 16).
    pub fn per_core() -> Self {
        Pool::new(std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 16))
    }

    /// An idle runtime, if there is one.
    pub fn take(&self) -> Option<T> {
        self.lock().pop()
    }

    /// Returns a healthy runtime for reuse; beyond capacity it is dropped.
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
}
