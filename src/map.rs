//! Hash maps and sets for code off the decide path, small in the WebAssembly build.
//!
//! The standard library's `HashMap<K, V>` is generic through and through: each key and value type gets its own
//! copy of the table's growth, insertion and lookup (1.5-2 KB of WebAssembly per pair of types, about a twentieth
//! of the module over the twenty-odd maps of the network findings and the address sweep). On `wasm32`, [`Map`] is
//! [`Compact`]: the entries in one `Vec<(K, V)>`, their hashes beside them, and a table of positions (`u32`)
//! probed by code that is the same for every map, so that only the hashing and comparing of a key and the pushing
//! of an entry are per type. Elsewhere [`Map`] and [`Set`] are the standard ones, so native builds (and their
//! instruction counts) are unchanged.
//!
//! [`Compact`] offers the part of `HashMap`'s interface these maps use (no removal). Lookups are by hash and then
//! equality, as in `HashMap`; the hash is SipHash with fixed keys (`DefaultHasher`), as `HashMap`'s on
//! `wasm32-unknown-unknown`, which has no source of random keys.

#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unreachable_pub))]

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// The map of the code that uses this module (see the module's documentation for which, per target).
#[cfg(target_arch = "wasm32")]
pub(crate) type Map<K, V> = Compact<K, V>;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Map<K, V> = std::collections::HashMap<K, V>;

/// The set of the code that uses this module.
#[cfg(target_arch = "wasm32")]
pub(crate) type Set<K> = CompactSet<K>;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Set<K> = std::collections::HashSet<K>;

/// An ordered set of ids (statement numbers) of the code that uses this module: natively a `BTreeSet<u32>`; on
/// `wasm32` a sorted vector, one small copy of code instead of a B-tree's (insertion and removal move the ids
/// after the one changed, which the sets of applying statements this holds keep short).
#[cfg(target_arch = "wasm32")]
pub(crate) type Ids = SortedIds;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type Ids = std::collections::BTreeSet<u32>;

/// Texts by name (the feeds given to a network): natively a `BTreeMap<String, String>`; on `wasm32`
/// [`SortedTexts`], one small copy of code instead of a B-tree's for a map that holds a few feeds.
#[cfg(target_arch = "wasm32")]
pub type Texts = SortedTexts;
#[cfg(not(target_arch = "wasm32"))]
pub type Texts = std::collections::BTreeMap<String, String>;

/// Texts by name as a vector sorted by name (see [`Texts`]): the part of `BTreeMap`'s interface its users need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortedTexts(Vec<(String, String)>);

impl SortedTexts {
    /// No texts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `name`'s text, replacing (and answering) the one it had.
    pub fn insert(&mut self, name: String, text: String) -> Option<String> {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&name)) {
            Ok(at) => self
                .0
                .get_mut(at)
                .map(|e| std::mem::replace(&mut e.1, text)),
            Err(at) => {
                self.0.insert(at, (name, text));
                None
            }
        }
    }

    /// The text of `name`.
    pub fn get(&self, name: &str) -> Option<&String> {
        let at = self
            .0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()?;
        self.0.get(at).map(|e| &e.1)
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|e| &e.0)
    }

    /// How many texts.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The value `m` holds for `k`, if any; otherwise `v` inserted for `k` and `None` (what matching on `HashMap`'s
/// `entry` gives, through the same calls on either map).
#[inline]
pub(crate) fn first_or_insert<K: Hash + Eq, V>(m: &mut Map<K, V>, k: K, v: V) -> Option<&mut V> {
    #[cfg(not(target_arch = "wasm32"))]
    return match m.entry(k) {
        std::collections::hash_map::Entry::Occupied(e) => Some(e.into_mut()),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(v);
            None
        }
    };
    #[cfg(target_arch = "wasm32")]
    return m.first_or_insert(k, v);
}

/// A set of `u32` as a sorted vector (see [`Ids`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct SortedIds(Vec<u32>);

impl SortedIds {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Add `id`; whether it was not there yet.
    pub(crate) fn insert(&mut self, id: u32) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    /// Take `id` out; whether it was there.
    pub(crate) fn remove(&mut self, id: &u32) -> bool {
        match self.0.binary_search(id) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The smallest id.
    pub(crate) fn first(&self) -> Option<&u32> {
        self.0.first()
    }

    /// The ids, ascending.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, u32> {
        self.0.iter()
    }
}

impl<'s> IntoIterator for &'s SortedIds {
    type Item = &'s u32;
    type IntoIter = std::slice::Iter<'s, u32>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// A hash map whose table code is shared by every key and value type (see the module's documentation).
#[derive(Debug, Clone)]
pub(crate) struct Compact<K, V> {
    entries: Vec<(K, V)>,
    /// The hash of each entry, in the entries' order: the table grows without hashing a key again.
    hashes: Vec<u64>,
    /// Open addressing, linear probing: 0 is empty, `i + 1` is entry `i`. Its length is a power of two, at least
    /// twice the number of entries (or 0 before the first insertion).
    slots: Vec<u32>,
}

impl<K, V> Default for Compact<K, V> {
    fn default() -> Self {
        Compact {
            entries: Vec::new(),
            hashes: Vec::new(),
            slots: Vec::new(),
        }
    }
}

/// The hash of `k`: only the feeding of the hasher is per type; starting and finishing it are one copy each.
fn hash_of<Q: Hash + ?Sized>(k: &Q) -> u64 {
    let mut h = new_hasher();
    k.hash(&mut h);
    finish(&h)
}

#[inline(never)]
fn new_hasher() -> std::hash::DefaultHasher {
    std::hash::DefaultHasher::new()
}

#[inline(never)]
fn finish(h: &std::hash::DefaultHasher) -> u64 {
    h.finish()
}

/// Where `hash` is in `slots`: `Ok(entry)` for the entry `same` accepts, `Err(slot)` for the empty slot where it
/// would go. Not generic: one copy for every map. `slots` must not be empty, nor full.
#[inline(never)]
fn probe(
    slots: &[u32],
    hashes: &[u64],
    hash: u64,
    same: &mut dyn FnMut(usize) -> bool,
) -> Result<usize, usize> {
    let mask = slots.len().wrapping_sub(1);
    let mut at = (hash as usize) & mask;
    loop {
        match slots.get(at).copied() {
            Some(0) | None => return Err(at),
            Some(s) => {
                let i = s as usize - 1;
                if hashes.get(i) == Some(&hash) && same(i) {
                    return Ok(i);
                }
            }
        }
        at = (at + 1) & mask;
    }
}

/// Entry `i` of hash `hash` noted at the empty `slot`. Not generic.
#[inline(never)]
fn note(hashes: &mut Vec<u64>, slots: &mut [u32], hash: u64, slot: usize, i: usize) {
    hashes.push(hash);
    if let Some(s) = slots.get_mut(slot) {
        *s = i as u32 + 1;
    }
}

/// `slots` rebuilt, larger, for entries of these `hashes`, if one more entry would fill more than half of it. Not
/// generic.
#[inline(never)]
fn reserve_one(slots: &mut Vec<u32>, hashes: &[u64]) {
    let want = (hashes.len() + 1) * 2;
    if slots.len() >= want {
        return;
    }
    let size = want.next_power_of_two().max(8);
    *slots = vec![0; size];
    let mask = size - 1;
    for (i, &h) in hashes.iter().enumerate() {
        let mut at = (h as usize) & mask;
        while slots.get(at).is_some_and(|&s| s != 0) {
            at = (at + 1) & mask;
        }
        if let Some(s) = slots.get_mut(at) {
            *s = i as u32 + 1;
        }
    }
}

impl<K: Hash + Eq, V> Compact<K, V> {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Room for `n` entries (the table itself is sized at the first insertion).
    pub(crate) fn with_capacity(n: usize) -> Self {
        Compact {
            entries: Vec::with_capacity(n),
            hashes: Vec::with_capacity(n),
            slots: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn find<Q: Hash + Eq + ?Sized>(&self, k: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        if self.slots.is_empty() {
            return None;
        }
        let entries = &self.entries;
        probe(&self.slots, &self.hashes, hash_of(k), &mut |i| {
            entries.get(i).is_some_and(|(e, _)| e.borrow() == k)
        })
        .ok()
    }

    pub(crate) fn get<Q: Hash + Eq + ?Sized>(&self, k: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let i = self.find(k)?;
        self.entries.get(i).map(|(_, v)| v)
    }

    /// The hash of `k`, and where it is: `Ok(entry)`, or `Err(slot)`, the empty slot for it (the table made large
    /// enough for one more entry first).
    fn locate(&mut self, k: &K) -> (u64, Result<usize, usize>) {
        reserve_one(&mut self.slots, &self.hashes);
        let hash = hash_of(k);
        let entries = &self.entries;
        let at = probe(&self.slots, &self.hashes, hash, &mut |i| {
            entries.get(i).is_some_and(|(e, _)| e == k)
        });
        (hash, at)
    }

    /// Add the entry `(k, v)`, of hash `hash`, at the empty `slot` that [`Compact::locate`] gave; its position.
    fn push(&mut self, hash: u64, slot: usize, k: K, v: V) -> usize {
        let i = self.entries.len();
        self.entries.push((k, v));
        note(&mut self.hashes, &mut self.slots, hash, slot, i);
        i
    }

    /// The position of `k`'s entry, inserting `(k, make())` first if there is none; and whether it was inserted.
    fn place(&mut self, k: K, make: impl FnOnce() -> V) -> (usize, bool) {
        match self.locate(&k) {
            (_, Ok(i)) => (i, false),
            (hash, Err(slot)) => (self.push(hash, slot, k, make()), true),
        }
    }

    /// The value of `k`, if it has one; otherwise `v` inserted for `k` and `None` (see [`first_or_insert`]).
    pub(crate) fn first_or_insert(&mut self, k: K, v: V) -> Option<&mut V> {
        match self.locate(&k) {
            (_, Ok(i)) => self.entries.get_mut(i).map(|(_, old)| old),
            (hash, Err(slot)) => {
                self.push(hash, slot, k, v);
                None
            }
        }
    }

    /// Insert `v` for `k`; the value it replaces, if any.
    pub(crate) fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.locate(&k) {
            (_, Ok(i)) => self
                .entries
                .get_mut(i)
                .map(|(_, old)| std::mem::replace(old, v)),
            (hash, Err(slot)) => {
                self.push(hash, slot, k, v);
                None
            }
        }
    }

    pub(crate) fn entry(&mut self, k: K) -> Entry<'_, K, V> {
        Entry { map: self, key: k }
    }
}

impl<K: Hash + Eq, V> FromIterator<(K, V)> for Compact<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Compact::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

/// The entry of a key in a [`Compact`] map, as `HashMap::entry` gives.
pub(crate) struct Entry<'m, K, V> {
    map: &'m mut Compact<K, V>,
    key: K,
}

impl<'m, K: Hash + Eq, V> Entry<'m, K, V> {
    pub(crate) fn or_insert_with(self, make: impl FnOnce() -> V) -> &'m mut V {
        let (i, _) = self.map.place(self.key, make);
        #[expect(
            clippy::indexing_slicing,
            reason = "`place` returns the position of an entry"
        )]
        &mut self.map.entries[i].1
    }

    pub(crate) fn or_insert(self, v: V) -> &'m mut V {
        self.or_insert_with(|| v)
    }

    pub(crate) fn or_default(self) -> &'m mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }
}

/// A hash set over [`Compact`].
#[derive(Debug, Clone)]
pub(crate) struct CompactSet<K>(Compact<K, ()>);

impl<K> Default for CompactSet<K> {
    fn default() -> Self {
        CompactSet(Compact::default())
    }
}

impl<K: Hash + Eq> CompactSet<K> {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn with_capacity(n: usize) -> Self {
        CompactSet(Compact::with_capacity(n))
    }

    /// Add `k`; whether it was not there yet.
    pub(crate) fn insert(&mut self, k: K) -> bool {
        self.0.place(k, || ()).1
    }

    /// The element equal to `k`, if there is one.
    pub(crate) fn get<Q: Hash + Eq + ?Sized>(&self, k: &Q) -> Option<&K>
    where
        K: Borrow<Q>,
    {
        let i = self.0.find(k)?;
        self.0.entries.get(i).map(|(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// The same answers as the standard map and set over a long run of pseudo-random insertions, lookups and
    /// entries, with many collisions of the table's low bits and keys looked up by a borrowed form.
    #[test]
    fn compact_answers_as_the_standard_map() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut ours: Compact<String, u64> = Compact::new();
        let mut std_map: HashMap<String, u64> = HashMap::new();
        let mut our_set: CompactSet<String> = CompactSet::new();
        let mut std_set: HashSet<String> = HashSet::new();
        for step in 0..20_000u64 {
            let k = format!("k{}", next() % 3_000);
            match next() % 5 {
                0 => assert_eq!(ours.insert(k.clone(), step), std_map.insert(k, step)),
                1 => assert_eq!(ours.get(k.as_str()), std_map.get(k.as_str())),
                2 => {
                    *ours.entry(k.clone()).or_insert(0) += step;
                    *std_map.entry(k).or_insert(0) += step;
                }
                3 => {
                    *ours.entry(k.clone()).or_default() += 1;
                    *std_map.entry(k).or_default() += 1;
                }
                _ => {
                    assert_eq!(our_set.insert(k.clone()), std_set.insert(k.clone()));
                    assert_eq!(our_set.get(k.as_str()), std_set.get(k.as_str()));
                }
            }
            assert_eq!(ours.len(), std_map.len());
        }
        let mut got: Vec<(&String, &u64)> = ours.entries.iter().map(|(k, v)| (k, v)).collect();
        let mut want: Vec<(&String, &u64)> = std_map.iter().collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(our_set.0.len(), std_set.len());
        // Built from an iterator, a later pair replaces an earlier one with an equal key, as in `HashMap`.
        let built: Compact<u8, u8> = [(1, 1), (2, 2), (1, 3)].into_iter().collect();
        assert_eq!(
            (built.len(), built.get(&1), built.get(&2)),
            (2, Some(&3), Some(&2))
        );
        assert_eq!(Compact::<u8, u8>::new().get(&1), None);
    }

    /// The same answers and order as `BTreeSet<u32>` over pseudo-random insertions and removals.
    #[test]
    fn sorted_ids_answer_as_a_btree_set() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut ours = SortedIds::new();
        let mut want = std::collections::BTreeSet::new();
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = (x % 200) as u32;
            if x & (1 << 40) == 0 {
                assert_eq!(ours.insert(id), want.insert(id));
            } else {
                assert_eq!(ours.remove(&id), want.remove(&id));
            }
            assert_eq!(
                (ours.len(), ours.is_empty(), ours.first()),
                (want.len(), want.is_empty(), want.first())
            );
        }
        assert!(ours.iter().eq(want.iter()));
        assert!((&ours).into_iter().eq(&want));
        ours.clear();
        assert!(ours.is_empty());
    }

    /// The same answers and order as `BTreeMap<String, String>` over pseudo-random insertions.
    #[test]
    fn wasm5_sorted_texts_answer_as_a_btree_map() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut ours = SortedTexts::new();
        let mut want = std::collections::BTreeMap::new();
        for i in 0..3_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let name = format!("feeds/{}.json", x % 97);
            let text = format!("{i}");
            assert_eq!(
                ours.insert(name.clone(), text.clone()),
                want.insert(name, text)
            );
            let probe = format!("feeds/{}.json", (x >> 20) % 120);
            assert_eq!(ours.get(&probe), want.get(&probe));
            assert_eq!((ours.len(), ours.is_empty()), (want.len(), want.is_empty()));
        }
        assert!(ours.keys().eq(want.keys()));
        assert!(SortedTexts::new().is_empty() && SortedTexts::new().get("a").is_none());
    }

    /// `first_or_insert` on the compact map answers as on the standard one, over the same sequence of keys.
    #[test]
    fn wasm5_first_or_insert_answers_as_the_entry_api() {
        let (mut ours, mut std_map) = (Compact::new(), std::collections::HashMap::new());
        for i in 0..2_000u32 {
            let k = (i * 7919) % 613;
            let a = ours.first_or_insert(k, i).map(|v| *v);
            let b = first_or_insert(&mut std_map, k, i).map(|v| *v);
            assert_eq!(a, b);
            if let Some(v) = ours.first_or_insert(k, 0) {
                *v += 1;
            }
            if let Some(v) = first_or_insert(&mut std_map, k, 0) {
                *v += 1;
            }
        }
        assert_eq!(ours.len(), std_map.len());
        assert!(std_map.iter().all(|(k, v)| ours.get(k) == Some(v)));
    }
}
