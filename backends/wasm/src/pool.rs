//! A small pool of idle instances per plugin, so calls reuse instances and
//! concurrent calls of one plugin run in parallel instead of queueing.

use std::sync::Mutex;

/// Idle instances of one plugin. Taking one is a short lock; a caller that
/// finds none instantiates a new one, so calls never wait for each other.
pub(crate) struct Pool<T> {
    idle: Mutex<Vec<T>>,
    capacity: usize,
}

impl<T> Pool<T> {
    /// A pool keeping at most `capacity` idle instances.
    pub(crate) fn new(capacity: usize) -> Self {
        Pool {
            idle: Mutex::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// An idle instance, if there is one.
    pub(crate) fn take(&self) -> Option<T> {
        self.lock().pop()
    }

    /// Returns a healthy instance for reuse; beyond capacity it is dropped.
    pub(crate) fn give(&self, item: T) {
        let mut idle = self.lock();
        if idle.len() < self.capacity {
            idle.push(item);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How many idle instances a plugin keeps: one per core, within reason.
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
