//! The set's table of context keys (`KeyTable`, of `KeyEntry`s): each condition key's slot and each documented
//! key's type, found by hash in any case. Built when a set is interned (`set`); a decision reads it to put a
//! request's keys in their slots.

use crate::ir::{buckets, probe};

/// A context key the set knows: a condition key (with its slot), a key with a documented type, or both.
#[derive(Debug, Clone)]
pub(crate) struct KeyEntry {
    pub folded: crate::context::Folded,
    /// Lowercase.
    pub key: KeyName,
    pub slot: Option<usize>,
    pub ty: Option<crate::context::KeyType>,
}

/// A key table's name for a key: a documented key's static name, or a condition key's text shared with the
/// compiled condition (`ir::CCondition::key`): a set names its keys without copying them.
#[derive(Debug, Clone)]
pub(crate) enum KeyName {
    Known(&'static str),
    Condition(std::sync::Arc<str>),
}

impl KeyName {
    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            KeyName::Known(k) => k,
            KeyName::Condition(k) => k,
        }
    }
}

/// What a decision needs of a known context key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyInfo {
    pub slot: Option<usize>,
    pub ty: Option<crate::context::KeyType>,
}

impl KeyEntry {
    pub fn info(&self) -> KeyInfo {
        KeyInfo {
            slot: self.slot,
            ty: self.ty,
        }
    }
}

/// Where a request's context keys go, found by hash.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyTable {
    /// `None`: the keys collide too much to hash (see [`crate::ir::MAX_PROBE`]); they are scanned.
    buckets: Option<Box<[u32]>>,
    entries: Vec<KeyEntry>,
}

impl KeyTable {
    /// Slot `i` for the `i`th of `keys` (lowercase, each once), then every key of
    /// [`crate::context::KNOWN_KEYS`].
    pub(super) fn build<'k>(
        keys: impl ExactSizeIterator<Item = &'k std::sync::Arc<str>>,
    ) -> KeyTable {
        use crate::context::{Folded, KNOWN_KEYS, known_key_type};
        // The documented keys' entries, made once per process.
        static KNOWN: std::sync::OnceLock<Vec<KeyEntry>> = std::sync::OnceLock::new();
        let known = KNOWN.get_or_init(|| {
            KNOWN_KEYS
                .iter()
                .map(|(k, ty)| KeyEntry {
                    folded: Folded::of(k.as_bytes()),
                    key: KeyName::Known(k),
                    slot: None,
                    ty: Some(*ty),
                })
                .collect()
        });
        let mut entries: Vec<KeyEntry> = Vec::with_capacity(keys.len() + known.len());
        entries.extend(keys.enumerate().map(|(slot, key)| KeyEntry {
            folded: Folded::of(key.as_bytes()),
            ty: known_key_type(key),
            key: KeyName::Condition(std::sync::Arc::clone(key)),
            slot: Some(slot),
        }));
        let condition_keys = entries.len();
        for k in known {
            let name = k.key.as_str();
            if !entries
                .iter()
                .take(condition_keys)
                .any(|e| e.key.as_str() == name)
            {
                entries.push(k.clone());
            }
        }
        KeyTable {
            buckets: buckets(entries.iter().map(|e| e.folded.hash()), entries.len()),
            entries,
        }
    }

    /// The entry of `key` in any case.
    #[inline]
    pub fn get_any_case(&self, key: &str) -> Option<&KeyEntry> {
        let k = crate::context::KeyText::of(key.as_bytes());
        let hash = k.hash();
        let is = |e: &KeyEntry| e.folded.is(&k, e.key.as_str().as_bytes());
        match &self.buckets {
            Some(b) => {
                let i = probe(b, hash, |i| self.entries.get(i).is_some_and(is))?;
                self.entries.get(i)
            }
            None => self.entries.iter().find(|e| is(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::LiteralSet;
    use crate::ir::MAX_PROBE;
    use crate::policy::pattern::{NoVars, Pattern};

    /// Colliding hashes: up to `MAX_PROBE` + 1 entries on one bucket build and are all found; more refuse to
    /// build; a lookup for an absent key stops within `MAX_PROBE` buckets.
    #[test]
    fn bucket_tables_bound_their_probes() {
        let fits = buckets(std::iter::repeat_n(5u64, MAX_PROBE + 1), MAX_PROBE + 1).unwrap();
        for i in 0..=MAX_PROBE {
            assert_eq!(probe(&fits, 5, |j| j == i), Some(i));
        }
        let mut looked = 0;
        assert_eq!(
            probe(&fits, 5, |_| {
                looked += 1;
                false
            }),
            None
        );
        assert!(looked <= MAX_PROBE + 1);
        assert!(buckets(std::iter::repeat_n(5u64, MAX_PROBE + 2), MAX_PROBE + 2).is_none());
        // Ordinary keys build: 10,000 decimal numbers.
        assert!(
            buckets(
                (0..10_000u64).map(crate::context::key_hash_words_test),
                10_000
            )
            .is_some()
        );
    }

    /// Keys scanned instead of hashed (a table that would not build) are found alike, in any case.
    #[test]
    fn key_table_without_buckets_scans() {
        let keys: Vec<std::sync::Arc<str>> = ["aws:sourcevpce", "aws:principaltag/team", "my:key"]
            .iter()
            .map(|k| std::sync::Arc::from(*k))
            .collect();
        let hashed = KeyTable::build(keys.iter());
        let scanned = KeyTable {
            buckets: None,
            ..hashed.clone()
        };
        for k in [
            "AWS:SourceVpce",
            "aws:PrincipalTag/Team",
            "MY:KEY",
            "aws:SourceIp",
            "absent:key",
        ] {
            let a = hashed
                .get_any_case(k)
                .map(|e| (e.key.as_str(), e.slot, e.ty));
            let b = scanned
                .get_any_case(k)
                .map(|e| (e.key.as_str(), e.slot, e.ty));
            assert_eq!(a, b, "{k}");
            assert_eq!(a.is_some(), k != "absent:key", "{k}");
        }
    }

    /// A hashed set of literal values answers as the scan of their patterns, for every list length around the
    /// threshold, values with `*`, `?`, case and length variants, and values that are not in the list.
    #[test]
    fn literal_set_answers_as_the_scan() {
        let alphabet: Vec<char> = "aA*?-:/0é".chars().collect();
        let mut next = crate::xorshift(0x2545_f491_4f6c_dd1d);
        for n in 0..40 {
            let mut word = || -> String {
                let len = (next() % 12) as usize;
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let values: Vec<String> = (0..n).map(|_| word()).collect();
            let ps: Vec<Pattern> = values
                .iter()
                .map(|v| Pattern::parse(v, false, true))
                .collect();
            let set = LiteralSet::of(&ps);
            assert_eq!(set.is_some(), n >= LiteralSet::MIN, "{n}");
            let probes: Vec<String> = values
                .iter()
                .flat_map(|v| {
                    [
                        v.clone(),
                        v.to_uppercase(),
                        format!("{v}a"),
                        v.chars().skip(1).collect(),
                    ]
                })
                .chain((0..50).map(|_| word()))
                .collect();
            for probe in probes {
                let scan = ps
                    .iter()
                    .any(|p| p.matches(&probe, &NoVars, false) == Some(true));
                if let Some(set) = &set {
                    assert_eq!(set.contains(&probe), scan, "{probe:?} in {values:?}");
                }
                assert_eq!(scan, values.contains(&probe));
            }
        }
        // A value with a policy variable is not literal: no set.
        let mut ps: Vec<Pattern> = (0..10)
            .map(|i| Pattern::parse(&format!("v{i}"), false, true))
            .collect();
        ps.push(Pattern::parse("${aws:username}", false, true));
        assert!(LiteralSet::of(&ps).is_none());
    }
}
