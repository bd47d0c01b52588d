//! Sorting for code off the decide path, small in the WebAssembly build.
//!
//! The standard library's sorts are generic: each element type and comparison gets its own copy of the whole
//! algorithm (4-8 KB of WebAssembly each, about a tenth of the module over all its sorts). On `wasm32`,
//! [`stable_by`] sorts a list of positions instead, through one shared copy of the algorithm that calls the
//! comparison through a pointer, then moves the elements into place: a few hundred bytes per use. Elsewhere it is
//! the standard library's stable sort, so native builds (and their instruction counts) are unchanged.
//!
//! Both are stable and O(n log n) comparisons; the WebAssembly form allocates one `Vec<usize>` per sort.

use std::cmp::Ordering;

/// Sort `v` stably by `cmp` (see the module's documentation for how, per target).
pub(crate) fn stable_by<T>(v: &mut [T], cmp: impl FnMut(&T, &T) -> Ordering) {
    #[cfg(target_arch = "wasm32")]
    by_positions(v, cmp);
    #[cfg(not(target_arch = "wasm32"))]
    v.sort_by(cmp);
}

/// Sort `v` stably by the key `f` gives.
pub(crate) fn stable_by_key<T, K: Ord>(v: &mut [T], mut f: impl FnMut(&T) -> K) {
    stable_by(v, |a, b| f(a).cmp(&f(b)));
}

/// Sort `v` in its own order, equal elements in any order (natively `sort_unstable`; on `wasm32` the stable
/// sort by positions, which is one of the orders allowed).
pub(crate) fn unstable<T: Ord>(v: &mut [T]) {
    #[cfg(target_arch = "wasm32")]
    by_positions(v, T::cmp);
    #[cfg(not(target_arch = "wasm32"))]
    v.sort_unstable();
}

/// The WebAssembly form: sort the positions `0..n` (one shared, non-generic sort), then apply the permutation (one
/// shared, non-generic walk of its cycles). Per element type only the comparison and the swap are compiled.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn by_positions<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order = {
        let v = &*v;
        sorted_positions(v.len(), &mut |a, b| match (v.get(a), v.get(b)) {
            (Some(x), Some(y)) => cmp(x, y),
            _ => Ordering::Equal,
        })
    };
    permute(&mut order, &mut |a, b| v.swap(a, b));
}

/// The positions `0..n` in the order `cmp` sorts them, stably: the one copy of the sort algorithm the WebAssembly
/// build carries for [`stable_by`].
#[inline(never)]
fn sorted_positions(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// Rearrange a list (through `swap`, which exchanges two of its positions) so that position `i` holds what was at
/// `order[i]` (a permutation of `0..len`), following each cycle once; `order` is used up as the marks of the
/// positions done.
#[inline(never)]
fn permute(order: &mut [usize], swap: &mut dyn FnMut(usize, usize)) {
    for start in 0..order.len() {
        let mut at = start;
        while let Some(next) = order.get_mut(at).map(|o| std::mem::replace(o, at)) {
            if next == start || next == at {
                break;
            }
            swap(at, next);
            at = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stable, and the same order as the standard sort, over every permutation of a small list with repeated keys,
    /// and over longer pseudo-random lists.
    #[test]
    fn sorting_positions_equals_the_standard_stable_sort() {
        let mut lists: Vec<Vec<(u8, usize)>> = Vec::new();
        let keys = [3u8, 1, 3, 0, 1, 2];
        let mut perm: Vec<usize> = (0..keys.len()).collect();
        // Heap's algorithm, iteratively: every order of the six positions.
        let mut c = vec![0; perm.len()];
        lists.push(perm.iter().map(|&i| (keys[i], i)).collect());
        let mut i = 0;
        while i < perm.len() {
            if c[i] < i {
                perm.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
                lists.push(perm.iter().map(|&i| (keys[i], i)).collect());
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        assert_eq!(lists.len(), 720);
        let mut x = 12345u64;
        for n in [0, 1, 2, 17, 100, 1000] {
            lists.push(
                (0..n)
                    .map(|i| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((x >> 60) as u8, i)
                    })
                    .collect(),
            );
        }
        for list in lists {
            let mut want = list.clone();
            want.sort_by_key(|e| e.0);
            let mut got = list.clone();
            by_positions(&mut got, |a, b| a.0.cmp(&b.0));
            assert_eq!(got, want);
            let mut got = list;
            stable_by_key(&mut got, |e| e.0);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn permute_places_each_element_from_its_position() {
        let mut v = vec!['a', 'b', 'c', 'd', 'e'];
        permute(&mut [4, 0, 3, 2, 1], &mut |a, b| v.swap(a, b));
        assert_eq!(v, ['e', 'a', 'd', 'c', 'b']);
        let mut v = vec![10, 20, 30];
        unstable(&mut v);
        assert_eq!(v, [10, 20, 30]);
    }
}
