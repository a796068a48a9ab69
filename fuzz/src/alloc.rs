//! A counting allocator: the driver's way of asserting that a parser never
//! allocates more than its target's bound, whatever the bytes claim.
//!
//! It wraps [`System`] and keeps the bytes live now and the highest level
//! reached since the last [`arm`], *including allocations it refused*: a
//! parser that asks for 2^40 bytes because a header said so is caught even
//! when it handles the refusal (`try_reserve`) and returns an error.
//!
//! While armed, an allocation that would take the live bytes more than the
//! cap above the level at [`arm`] is refused (null). Rust then aborts the
//! process ("memory allocation of N bytes failed") unless the caller used a
//! fallible API; the driver writes every input to `artifacts/<target>/current`
//! before running it, and its supervisor saves that input when a worker
//! dies, so an abort is a reported finding, not a lost one. Without the cap
//! a hostile input could take the shared machine's memory.
//!
//! The counters are global (every thread's allocations count), so bound
//! checks are only meaningful with one input running at a time: the driver
//! runs one, and the tests take [`serial`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};

/// The allocator; installed as the global allocator of everything that
/// links this crate (the driver and its tests).
pub struct CountingAlloc;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// Counts `size` more bytes live; false (and nothing counted) when over the cap.
fn reserve(size: usize) -> bool {
    let now = CURRENT.fetch_add(size, Relaxed).saturating_add(size);
    PEAK.fetch_max(now, Relaxed);
    if now > LIMIT.load(Relaxed) {
        CURRENT.fetch_sub(size, Relaxed);
        REFUSED.fetch_max(size, Relaxed);
        return false;
    }
    true
}

fn release(size: usize) {
    CURRENT.fetch_sub(size, Relaxed);
}

// SAFETY: every call is forwarded to `System` with the same layout; the
// counters never change what is returned, except a null for a refused
// request, which `GlobalAlloc` allows.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        let ptr = System.alloc(layout);
        if ptr.is_null() {
            release(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        let ptr = System.alloc_zeroed(layout);
        if ptr.is_null() {
            release(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        release(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !reserve(new_size - old) {
            return std::ptr::null_mut();
        }
        let new = System.realloc(ptr, layout, new_size);
        if new.is_null() {
            if new_size > old {
                release(new_size - old);
            }
        } else if new_size < old {
            release(old - new_size);
        }
        new
    }
}

/// The level at [`arm`], to hand back to [`disarm`].
#[derive(Debug, Clone, Copy)]
pub struct Armed {
    baseline: usize,
}

/// What one input allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The most bytes live at once above the level at [`arm`], counting
    /// refused requests as if they had succeeded.
    pub peak: usize,
    /// The largest request refused for going over the cap (0: none).
    pub refused: usize,
}

/// Starts measuring: resets the peak, and refuses allocations taking the
/// live bytes more than `cap` above the present level.
pub fn arm(cap: usize) -> Armed {
    let baseline = CURRENT.load(Relaxed);
    REFUSED.store(0, Relaxed);
    PEAK.store(baseline, Relaxed);
    LIMIT.store(baseline.saturating_add(cap), Relaxed);
    Armed { baseline }
}

/// Stops refusing and says what was used since [`arm`].
pub fn disarm(armed: Armed) -> Usage {
    LIMIT.store(usize::MAX, Relaxed);
    Usage {
        peak: PEAK.load(Relaxed).saturating_sub(armed.baseline),
        refused: REFUSED.load(Relaxed),
    }
}

/// Bytes live now (all threads).
pub fn current() -> usize {
    CURRENT.load(Relaxed)
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds every other caller off while an input is measured (tests run on
/// several threads; the counters are global).
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_peak_and_refusals() {
        let _guard = serial();
        let armed = arm(64 << 20);
        let v: Vec<u8> = Vec::with_capacity(1 << 20);
        drop(v);
        let mut w: Vec<u8> = Vec::new();
        let refused = w.try_reserve_exact(1 << 40).is_err();
        let usage = disarm(armed);
        assert!(refused, "a 1 TiB request over a 64 MiB cap was not refused");
        // Other threads (the test harness) may free a little meanwhile.
        assert!(
            usage.peak >= (1 << 40) - (1 << 20),
            "refused request not counted: {usage:?}"
        );
        assert_eq!(usage.refused, 1 << 40);

        let armed = arm(64 << 20);
        let v: Vec<u8> = vec![1; 3 << 20];
        let usage = disarm(armed);
        drop(v);
        // The harness's other threads allocate and free while this runs
        // (CI saw 24 bytes freed: peak 3,145,704), so allow 64 KiB of slack
        // either way around the 3 MiB this thread holds.
        let three_mib = 3usize << 20;
        assert!(
            usage.peak + (64 << 10) >= three_mib && usage.peak < three_mib + (1 << 20),
            "{usage:?}"
        );
        assert_eq!(usage.refused, 0);
    }
}
