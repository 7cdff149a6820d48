//! What the current thread has allocated: for code that runs a library
//! whose values Pocket cannot weigh as they are built (jq's), so that it can
//! stop the library once it has allocated past a budget.
//!
//! Counting needs [`CountingAllocator`] as the program's global allocator
//! (the `pocket` binary installs it); without it [`allocated`] is `None`
//! and nothing is counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// Bytes this thread allocated minus bytes it freed (memory freed on
    /// another thread than allocated it makes this drift, which a caller
    /// comparing two readings of one thread's work does not see).
    static NET: Cell<i64> = const { Cell::new(0) };
}

/// Set once the counting allocator has served an allocation.
static COUNTING: AtomicBool = AtomicBool::new(false);

/// The system allocator, counting each thread's allocations.
pub struct CountingAllocator;

fn count(bytes: i64) {
    // `try_with`: never panics, even while the thread is being torn down.
    let _ = NET.try_with(|net| net.set(net.get().wrapping_add(bytes)));
}

/// An allocation's size as a signed count.
#[expect(
    clippy::cast_possible_wrap,
    reason = "a Layout's size is at most isize::MAX, which fits an i64"
)]
fn signed(size: usize) -> i64 {
    size as i64
}

// SAFETY: every call is forwarded to `System` with the same arguments; the
// counting touches only a const-initialized thread-local `Cell` (no
// allocation, no destructor) and an atomic flag.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(signed(layout.size()));
        if !COUNTING.load(Ordering::Relaxed) {
            COUNTING.store(true, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract for `alloc`, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(signed(layout.size()));
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-signed(layout.size()));
        // SAFETY: the caller's contract for `dealloc`, passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(signed(new_size) - signed(layout.size()));
        // SAFETY: the caller's contract for `realloc`, passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// The current thread's net allocated bytes so far (a reading to compare
/// with a later one), or `None` when [`CountingAllocator`] is not the
/// global allocator.
pub fn allocated() -> Option<i64> {
    COUNTING
        .load(Ordering::Relaxed)
        .then(|| NET.try_with(Cell::get).unwrap_or(0))
}
