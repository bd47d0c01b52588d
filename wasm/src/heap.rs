//! The module's allocator: blocks of power-of-two sizes, one free list per size, carved from memory the module
//! grows. It replaces the standard library's dlmalloc (about 9 KB of the module) with a few hundred bytes.
//!
//! A block of size class `c` holds `2^c` bytes (at least 16); a freed block goes to the front of its class's list
//! and is the next one that class hands out. Blocks are never split or merged: memory that held small blocks stays
//! with them. That suits the module's work, which repeats (a page lints, compiles and decides the same sizes of
//! things again on each keystroke), and costs at most twice the bytes live in each class. New blocks are aligned
//! to their size (up to 4 KiB), so every block of a class meets any alignment up to that.

// Natively the heap is only tested (the module's build uses it).
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

/// Blocks are carved aligned to their size, up to this.
const MAX_CARVE_ALIGN: usize = 4096;
/// The smallest block: room for the free list's link, and the alignment of every scalar type.
const MIN_CLASS: u32 = 4;
/// Classes `0..CLASSES`: blocks up to `2^(CLASSES - 1)` bytes.
const CLASSES: usize = 32;

/// The allocator's state. Addresses are `usize`s so that tests can run it natively over a buffer.
pub struct Heap {
    /// The first free block of each class (0: none); each free block holds the address of the next.
    free: [usize; CLASSES],
    /// Where the next new block may start, and the end of the memory obtained so far.
    next: usize,
    end: usize,
}

/// The class of a request: `2^class` is the smallest power of two at least `size`, `align` and 16 bytes.
fn class(size: usize, align: usize) -> Option<usize> {
    let bytes = size.max(align).max(1 << MIN_CLASS);
    let class = (usize::BITS - (bytes - 1).leading_zeros()) as usize;
    (class < CLASSES).then_some(class)
}

impl Heap {
    /// No memory yet.
    pub const fn new() -> Self {
        Heap {
            free: [0; CLASSES],
            next: 0,
            end: 0,
        }
    }

    /// A block for `size` bytes aligned to `align` (a power of two), or 0 when memory cannot grow. `grow(n)` adds at
    /// least `n` bytes of fresh memory and answers its start and end (`None` when it cannot).
    ///
    /// # Safety
    /// Every address this heap holds (given by `grow`, or freed into it) must be writable memory it owns.
    pub unsafe fn alloc(
        &mut self,
        size: usize,
        align: usize,
        grow: &mut dyn FnMut(usize) -> Option<(usize, usize)>,
    ) -> usize {
        let Some(c) = class(size, align) else {
            return 0;
        };
        let bytes = 1usize << c;
        let carve = bytes.min(MAX_CARVE_ALIGN).max(align);
        if let Some(head) = self.free.get_mut(c) {
            // A freed block of the class meets `align` unless it exceeds what the class was carved with.
            if *head != 0 && align <= bytes.min(MAX_CARVE_ALIGN) {
                let block = *head;
                // SAFETY: a free block holds the link to the next one (written by `dealloc`).
                *head = unsafe { (block as *const usize).read() };
                return block;
            }
        }
        let start = |next: usize| next.checked_add(carve - 1).map(|n| n & !(carve - 1));
        let fits = |next: usize, end: usize| {
            start(next)
                .and_then(|s| s.checked_add(bytes))
                .is_some_and(|e| e <= end)
        };
        if !fits(self.next, self.end) {
            let Some((from, to)) = bytes.checked_add(carve).and_then(grow) else {
                return 0;
            };
            if from != self.end {
                self.next = from;
            }
            self.end = to;
            if !fits(self.next, self.end) {
                return 0;
            }
        }
        let Some(block) = start(self.next) else {
            return 0;
        };
        self.next = block + bytes;
        block
    }

    /// Give back `block`, which `alloc(size, align, ..)` gave.
    ///
    /// # Safety
    /// `block` must come from this heap's `alloc` with the same `size` and `align`, and not be used again.
    pub unsafe fn dealloc(&mut self, block: usize, size: usize, align: usize) {
        if let Some(head) = class(size, align).and_then(|c| self.free.get_mut(c)) {
            // SAFETY: the block is at least 16 bytes, aligned to 16, and the caller no longer uses it.
            unsafe { (block as *mut usize).write(*head) };
            *head = block;
        }
    }

    /// Whether a block for `(size, align)` can hold `new_size` bytes in place (the same class).
    pub fn fits_in_place(size: usize, align: usize, new_size: usize) -> bool {
        class(size, align).is_some() && class(size, align) == class(new_size, align)
    }
}

/// The global allocator of the module (wasm32 only): one [`Heap`] over the module's memory, grown by
/// `memory.grow`. The module runs on one thread (`wasm32-unknown-unknown` without atomics).
#[cfg(target_arch = "wasm32")]
mod global {
    use super::Heap;
    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::UnsafeCell;

    struct Global(UnsafeCell<Heap>);

    // SAFETY: wasm32-unknown-unknown without the atomics feature has one thread.
    unsafe impl Sync for Global {}

    fn grow(bytes: usize) -> Option<(usize, usize)> {
        const PAGE: usize = 65536;
        let pages = bytes.div_ceil(PAGE);
        let old = core::arch::wasm32::memory_grow(0, pages);
        (old != usize::MAX).then(|| (old * PAGE, (old + pages) * PAGE))
    }

    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            // SAFETY: one thread, and no call re-enters the allocator.
            let heap = unsafe { &mut *self.0.get() };
            // SAFETY: the heap holds only memory `grow` gave and blocks freed into it.
            unsafe { heap.alloc(l.size(), l.align(), &mut grow) as *mut u8 }
        }

        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            // SAFETY: as in `alloc`; `p` came from `alloc` with `l`.
            unsafe { (*self.0.get()).dealloc(p as usize, l.size(), l.align()) }
        }

        unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
            if Heap::fits_in_place(l.size(), l.align(), new_size) {
                return p;
            }
            // SAFETY: `new_size` and `l.align()` make a valid layout (the caller's contract).
            let new = unsafe { self.alloc(Layout::from_size_align_unchecked(new_size, l.align())) };
            if !new.is_null() {
                // SAFETY: both blocks hold at least the bytes copied, and do not overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(p, new, l.size().min(new_size));
                    self.dealloc(p, l);
                }
            }
            new
        }
    }

    #[global_allocator]
    static HEAP: Global = Global(UnsafeCell::new(Heap::new()));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pseudo-random allocations, frees and grows over a buffer: every block is aligned, inside memory obtained,
    /// disjoint from every other live block, keeps its contents, and freed blocks are used again.
    #[test]
    fn blocks_are_aligned_disjoint_and_reused() {
        let mut memory = vec![0u64; 1 << 23]; // 64 MiB, 8-byte aligned
        let base = memory.as_mut_ptr() as usize;
        let limit = base + memory.len() * 8;
        let mut top = base.next_multiple_of(MAX_CARVE_ALIGN);
        let mut grow = |n: usize| {
            let n = n.next_multiple_of(65536);
            (top + n <= limit).then(|| {
                top += n;
                (top - n, top)
            })
        };
        let mut heap = Heap::new();
        let mut live: Vec<(usize, usize, usize, u8)> = Vec::new();
        let mut x = 0x853c_49e6_748f_ea9bu64;
        let (mut reused, mut freed) = (0, std::collections::HashSet::new());
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (x % 3 == 0 || live.len() > 300) && !live.is_empty() {
                let (p, size, align, fill) = live.swap_remove((x >> 8) as usize % live.len());
                for b in 0..size {
                    // SAFETY: the block is live and holds `size` bytes.
                    assert_eq!(unsafe { *((p + b) as *const u8) }, fill);
                }
                // SAFETY: from this heap, with the same size and alignment.
                unsafe { heap.dealloc(p, size, align) };
                freed.insert(p);
                continue;
            }
            let size = match x % 7 {
                0 => 0,
                1..=4 => (x >> 16) as usize % 100,
                5 => (x >> 16) as usize % 5_000,
                _ => (x >> 16) as usize % 100_000,
            };
            let align = 1 << ((x >> 40) % 5);
            // SAFETY: the heap holds only the buffer's memory.
            let p = unsafe { heap.alloc(size, align, &mut grow) };
            assert_ne!(p, 0, "out of memory at {i}");
            assert_eq!(p % align, 0);
            assert_eq!(p % 16, 0);
            assert!(p >= base && p + size <= limit);
            if freed.contains(&p) {
                reused += 1;
            }
            for &(q, qsize, _, _) in &live {
                assert!(
                    p + size.max(1) <= q || q + qsize.max(1) <= p,
                    "overlap at {i}"
                );
            }
            let fill = (i % 251) as u8;
            for b in 0..size {
                // SAFETY: the new block holds `size` bytes.
                unsafe { *((p + b) as *mut u8) = fill };
            }
            live.push((p, size, align, fill));
        }
        assert!(reused > 1_000, "{reused}");
        // A request larger than any class, and memory that cannot grow, are refused with 0.
        // SAFETY: nothing is written.
        assert_eq!(unsafe { heap.alloc(usize::MAX / 2, 8, &mut |_| None) }, 0);
        let mut fresh = Heap::new();
        // SAFETY: nothing is written.
        assert_eq!(unsafe { fresh.alloc(64, 8, &mut |_| None) }, 0);
        assert!(Heap::fits_in_place(20, 8, 32) && !Heap::fits_in_place(20, 8, 33));
        assert_eq!(
            (class(0, 1), class(16, 1), class(17, 1), class(8, 64)),
            (Some(4), Some(4), Some(5), Some(6))
        );
    }
}
