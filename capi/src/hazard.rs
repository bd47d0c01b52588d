//! The bundle in force, read with no atomic read-modify-write on the decide path: hazard slots, one per
//! thread, and (on Linux) an asymmetric fence (`membarrier`) paid by the reloading thread instead of a full
//! fence paid by every decision.
//!
//! A decision publishes the pointer it read in its thread's slot (a plain store), then reads the pointer again:
//! if it has not changed, the decision may use it until it clears the slot (a plain store). A reload swaps the
//! pointer, retires the old bundle, forces every running thread of the process through a full memory barrier
//! (`membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`) and frees the old bundle if no slot holds it. Otherwise the
//! decision that clears the last slot holding it sees that a bundle is retired and frees it: **the old bundle is
//! freed when the last decision using it ends**, by that decision's thread (or by the reload, when none uses
//! it), never later. Without `membarrier` (not Linux, or refused) both sides use full fences.
//!
//! Why the barrier suffices: a reader whose second read saw the old pointer made that read before the barrier
//! reached its CPU, so its slot store (earlier in its program) is visible to the reloader once `membarrier`
//! returns; a reader whose second read came after the barrier sees the new pointer and tries again. A reader
//! that clears its slot then reads the count of retired bundles: if that read came before the barrier, the
//! cleared slot is visible to the reloader's scan; if after, it sees the bundle retired and scans itself.
//! Scans run one at a time (a request counter: whoever finds it at zero scans, and scans again while others
//! asked meanwhile), so a retired entry is freed once, by one thread.

use std::cell::Cell;
use std::ptr::null_mut;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering, compiler_fence, fence};

/// One thread's slot: the bundle it is deciding with, or null. Written on every decision, so alone on its cache
/// lines (two threads' slots on one line would pass it between their cores on every decision; 128 bytes: the
/// adjacent-line prefetcher pairs lines).
#[repr(align(128))]
struct Held(AtomicPtr<()>);

/// A slot in the list of [`SLOTS`]: whether a thread owns it, apart from the slot itself (a thread looking for
/// a free slot reads this, not the lines other threads write on every decision).
struct Slot {
    held: &'static Held,
    /// Owned by a live thread (or a decision that found no thread-local slot).
    taken: AtomicBool,
    /// The next slot of [`SLOTS`]; set before the slot is pushed, never changed.
    next: *const Slot,
}

// SAFETY: `next` is written once before the slot is shared and only read after; the rest is atomic.
unsafe impl Sync for Slot {}

/// Every slot ever made, newest first. Slots are never freed: a thread that ends gives its slot back for the
/// next thread to take, so the list is as long as the most threads that decided at once.
static SLOTS: AtomicPtr<Slot> = AtomicPtr::new(null_mut());

/// A free slot, taken (a new one when every slot is taken).
fn take_slot() -> &'static Slot {
    let mut at = SLOTS.load(Ordering::Acquire).cast_const();
    // SAFETY: slots are leaked boxes, never freed.
    while let Some(s) = unsafe { at.as_ref() } {
        if !s.taken.load(Ordering::Relaxed)
            && s.taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            return s;
        }
        at = s.next;
    }
    let mut head = SLOTS.load(Ordering::Acquire);
    let held: &'static Held = Box::leak(Box::new(Held(AtomicPtr::new(null_mut()))));
    loop {
        let s: &'static mut Slot = Box::leak(Box::new(Slot {
            held,
            taken: AtomicBool::new(true),
            next: head,
        }));
        match SLOTS.compare_exchange(head, s, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return s,
            Err(now) => {
                // SAFETY: `s` was never shared: take it back and try again on the new head.
                drop(unsafe { Box::from_raw(s) });
                head = now;
            }
        }
    }
}

/// Whether any slot holds `p`.
fn held(p: *const ()) -> bool {
    let mut at = SLOTS.load(Ordering::Acquire).cast_const();
    // SAFETY: slots are leaked boxes, never freed.
    while let Some(s) = unsafe { at.as_ref() } {
        if s.held.0.load(Ordering::Acquire).cast_const() == p {
            return true;
        }
        at = s.next;
    }
    false
}

/// Gives a thread's slot back when the thread ends.
struct Owner(&'static Slot);

impl Drop for Owner {
    fn drop(&mut self) {
        MINE.set(std::ptr::null());
        self.0.held.0.store(null_mut(), Ordering::Release);
        self.0.taken.store(false, Ordering::Release);
    }
}

thread_local! {
    /// This thread's slot, null until its first decision (a constant initialiser: reading it is one load).
    static MINE: Cell<*const Held> = const { Cell::new(std::ptr::null()) };
    /// Gives the slot back at thread exit (set on the first decision).
    static OWNER: Cell<Option<Owner>> = const { Cell::new(None) };
}

/// This thread's slot; `None` while the thread is ending (its thread-locals gone).
#[cold]
#[inline(never)]
fn claim() -> Option<&'static Slot> {
    let s = take_slot();
    if OWNER.try_with(|o| o.set(Some(Owner(s)))).is_ok() {
        MINE.set(s.held);
        Some(s)
    } else {
        s.taken.store(false, Ordering::Release);
        None
    }
}

/// Whether `membarrier` is registered: readers then need only a compiler fence.
static ASYMMETRIC: AtomicBool = AtomicBool::new(false);

/// Register for `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` (once per process; Linux 4.14 and later).
fn register() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: a syscall with integer arguments; it reads and writes no memory of ours.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_membarrier,
                    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                    0,
                    0,
                )
            };
            if r == 0 {
                ASYMMETRIC.store(true, Ordering::SeqCst);
            }
        });
    }
}

#[cfg(target_os = "linux")]
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
#[cfg(target_os = "linux")]
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

/// The reader's side of the fence between its slot store and its second read (and between clearing the slot and
/// reading the retired count).
#[inline(always)]
fn light() {
    if ASYMMETRIC.load(Ordering::Relaxed) {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// The reloader's side: every running thread of the process through a full barrier.
fn heavy() {
    #[cfg(target_os = "linux")]
    if ASYMMETRIC.load(Ordering::Relaxed) {
        let barrier = || {
            // SAFETY: as in `register`.
            unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) }
        };
        if barrier() == 0 {
            return;
        }
        // Registered (and a fork's child inherits the registration), so this does not fail; should it, register
        // again and retry. Failing still, readers that skip their fence cannot be made safe: stop.
        // SAFETY: as in `register`.
        let again = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                0,
                0,
            )
        };
        if again == 0 && barrier() == 0 {
            return;
        }
        std::process::abort();
    }
    fence(Ordering::SeqCst);
}

/// How many old values may wait for their last reader at once; a reload past that waits for one to be freed.
const RETIRED: usize = 8;

/// A value that readers use without a reference count and a writer replaces; the old value is dropped when the
/// last reader using it ends.
pub(crate) struct Hazard<T> {
    /// One strong count of the current value.
    current: AtomicPtr<T>,
    /// Old values (one strong count each) that a reader may still use.
    retired: [AtomicPtr<T>; RETIRED],
    /// How many of `retired` are set (readers read it after each use: zero, the usual case, costs nothing).
    retiring: AtomicUsize,
    /// Requests for a scan of `retired` (see the module's doc).
    scans: AtomicUsize,
}

// SAFETY: the value is shared by reference between threads (`T: Sync`) and dropped by any thread (`T: Send`).
unsafe impl<T: Send + Sync> Send for Hazard<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Hazard<T> {}

impl<T> std::fmt::Debug for Hazard<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hazard")
            .field("retiring", &self.retiring.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Clears a slot when a read ends, even by a panic.
struct Reading<'h, T> {
    held: &'static Held,
    hazard: &'h Hazard<T>,
    /// A slot taken for this read only (this thread had none), given back after.
    borrowed: Option<&'static Slot>,
}

impl<T> Drop for Reading<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.held.0.store(null_mut(), Ordering::Release);
        if let Some(s) = self.borrowed {
            s.taken.store(false, Ordering::Release);
        }
        light();
        if self.hazard.retiring.load(Ordering::Relaxed) != 0 {
            self.hazard.scan();
        }
    }
}

impl<T> Hazard<T> {
    pub(crate) fn new(value: Arc<T>) -> Hazard<T> {
        register();
        Hazard {
            current: AtomicPtr::new(Arc::into_raw(value).cast_mut()),
            retired: [const { AtomicPtr::new(null_mut()) }; RETIRED],
            retiring: AtomicUsize::new(0),
            scans: AtomicUsize::new(0),
        }
    }

    /// Call `f` with the current value. (One slot per thread: a read inside `f` takes a slot for itself, with an
    /// atomic read-modify-write.)
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: a slot is a leaked box, never freed.
        match unsafe { MINE.get().as_ref() } {
            Some(h) if h.0.load(Ordering::Relaxed).is_null() => self.read(h, None, f),
            _ => self.with_other(f),
        }
    }

    /// [`Hazard::with`] on a thread's first read, or within another read (`f` read a `Hazard`: a slot for this
    /// read only), or while the thread ends.
    #[cold]
    #[inline(never)]
    fn with_other<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: a slot is a leaked box, never freed.
        match unsafe { MINE.get().as_ref() } {
            Some(h) if h.0.load(Ordering::Relaxed).is_null() => self.read(h, None, f),
            Some(_) => {
                let s = take_slot();
                self.read(s.held, Some(s), f)
            }
            None => match claim() {
                Some(s) => self.read(s.held, None, f),
                None => {
                    let s = take_slot();
                    self.read(s.held, Some(s), f)
                }
            },
        }
    }

    #[inline(always)]
    fn read<R>(
        &self,
        held: &'static Held,
        borrowed: Option<&'static Slot>,
        f: impl FnOnce(&T) -> R,
    ) -> R {
        let mut p = self.current.load(Ordering::Acquire);
        loop {
            held.0.store(p.cast(), Ordering::Relaxed);
            light();
            let again = self.current.load(Ordering::Acquire);
            if again == p {
                break;
            }
            p = again;
        }
        let _reading = Reading {
            held,
            hazard: self,
            borrowed,
        };
        // SAFETY: `p` was current after the slot held it, so no scan frees it until the slot is cleared
        // (`_reading`, after `f`).
        f(unsafe { &*p })
    }

    /// Make `value` current; the old value is dropped now if no reader uses it, else by its last reader.
    pub(crate) fn store(&self, value: Arc<T>) {
        let old = self
            .current
            .swap(Arc::into_raw(value).cast_mut(), Ordering::SeqCst);
        // Before `old` is put where a scan finds it: every reader that read it before the swap has its slot
        // store visible (a scan must not miss it), and every read after sees the new value.
        heavy();
        'put: loop {
            for r in &self.retired {
                if r.compare_exchange(null_mut(), old, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    self.retiring.fetch_add(1, Ordering::SeqCst);
                    break 'put;
                }
            }
            // Every entry holds a value some reader still uses: wait for one to end.
            self.scan();
            std::thread::yield_now();
        }
        heavy();
        self.scan();
    }

    /// Drop every retired value that no slot holds. One thread scans at a time; a thread that asks while
    /// another scans leaves it to that one, which scans again.
    fn scan(&self) {
        if self.scans.fetch_add(1, Ordering::SeqCst) != 0 {
            return;
        }
        loop {
            let asked = self.scans.load(Ordering::SeqCst);
            for r in &self.retired {
                let p = r.load(Ordering::Acquire);
                if !p.is_null()
                    && !held(p.cast_const().cast())
                    && r.compare_exchange(p, null_mut(), Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                {
                    self.retiring.fetch_sub(1, Ordering::SeqCst);
                    // SAFETY: one strong count, put there by `store`; no slot holds it, and none can take it
                    // again (it is no longer current, and a reader that read it checks it is still current
                    // after its slot holds it).
                    drop(unsafe { Arc::from_raw(p.cast_const()) });
                }
            }
            if self
                .scans
                .compare_exchange(asked, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }
}

impl<T> Drop for Hazard<T> {
    fn drop(&mut self) {
        for p in std::iter::once(&mut self.current).chain(&mut self.retired) {
            let p = *p.get_mut();
            if !p.is_null() {
                // SAFETY: one strong count each; `&mut self`: no reader is left.
                drop(unsafe { Arc::from_raw(p.cast_const()) });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A value that counts its drops.
    struct Counted {
        n: usize,
        drops: Arc<AtomicUsize>,
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counted(n: usize, drops: &Arc<AtomicUsize>) -> Arc<Counted> {
        Arc::new(Counted {
            n,
            drops: Arc::clone(drops),
        })
    }

    /// A store while nobody reads drops the old value at once; a store during a read keeps it for that read,
    /// and the read's end drops it.
    #[test]
    fn capi5_old_value_is_dropped_by_its_last_reader() {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = Hazard::new(counted(0, &drops));
        h.store(counted(1, &drops));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "no reader: dropped by the store"
        );
        h.with(|v| {
            h.store(counted(2, &drops));
            assert_eq!(v.n, 1);
            assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped while read");
            h.with(|w| assert_eq!(w.n, 2, "a read inside a read: its own slot"));
        });
        assert_eq!(drops.load(Ordering::SeqCst), 2, "kept after its read ended");
        assert_eq!(h.with(|v| v.n), 2);
        drop(h);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }

    /// Readers on other threads hold old values past the retired room: the store waits for one to end, and
    /// every value is dropped once its reader ends.
    #[test]
    fn capi5_store_waits_when_every_retired_value_is_read() {
        let drops = Arc::new(AtomicUsize::new(0));
        let h = Hazard::new(counted(0, &drops));
        std::thread::scope(|s| {
            let mut go = Vec::new();
            for i in 0..=RETIRED {
                let (inside_tx, inside_rx) = mpsc::channel();
                let (go_tx, go_rx) = mpsc::channel::<()>();
                let h = &h;
                s.spawn(move || {
                    h.with(|v| {
                        assert_eq!(v.n, i);
                        inside_tx.send(()).ok();
                        go_rx.recv().ok();
                    })
                });
                inside_rx.recv().ok();
                go.push(go_tx);
                if i < RETIRED {
                    h.store(counted(i + 1, &drops));
                }
            }
            // Every retired entry is read now: this store waits until a reader ends.
            let stored = s.spawn(|| h.store(counted(RETIRED + 1, &drops)));
            assert_eq!(drops.load(Ordering::SeqCst), 0);
            drop(go);
            stored.join().ok();
        });
        assert_eq!(drops.load(Ordering::SeqCst), RETIRED + 1);
        assert_eq!(h.with(|v| v.n), RETIRED + 1);
    }

    /// A read that starts after a store has returned sees that value or a later one, on any thread.
    #[test]
    fn capi5_reads_see_every_finished_store() {
        const STORES: usize = 2_000;
        let drops = Arc::new(AtomicUsize::new(0));
        let h = Hazard::new(counted(0, &drops));
        let stored = AtomicUsize::new(0);
        let done = AtomicBool::new(false);
        let reads: Vec<usize> = std::thread::scope(|s| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut reads = 0;
                        while !done.load(Ordering::SeqCst) || reads == 0 {
                            let before = stored.load(Ordering::SeqCst);
                            let n = h.with(|v| v.n);
                            assert!(n >= before, "read {n} after store {before} returned");
                            reads += 1;
                        }
                        reads
                    })
                })
                .collect();
            for i in 1..=STORES {
                h.store(counted(i, &drops));
                stored.store(i, Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
            readers.into_iter().filter_map(|r| r.join().ok()).collect()
        });
        assert_eq!(reads.len(), 2, "a reader failed");
        assert_eq!(drops.load(Ordering::SeqCst), STORES);
    }

    /// Threads read while one stores thousands of values: each read sees a live value, never an older one than
    /// the thread's last, and every old value is dropped, once.
    #[test]
    fn capi5_reads_race_stores_and_nothing_leaks() {
        const STORES: usize = 3_000;
        let drops = Arc::new(AtomicUsize::new(0));
        let h = Hazard::new(counted(0, &drops));
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let mut last = 0;
                    let mut reads = 0u64;
                    while !done.load(Ordering::Relaxed) || reads < 1_000 {
                        let n = h.with(|v| {
                            assert!(v.drops.load(Ordering::Relaxed) <= STORES);
                            v.n
                        });
                        assert!(n >= last, "read {n} after {last}");
                        last = n;
                        reads += 1;
                    }
                });
            }
            for i in 1..=STORES {
                h.store(counted(i, &drops));
            }
            done.store(true, Ordering::Relaxed);
        });
        assert_eq!(drops.load(Ordering::SeqCst), STORES);
        assert_eq!(h.with(|v| v.n), STORES);
    }
}
