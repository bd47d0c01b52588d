//! The set's action index (`ActionIndex`): for each action the set names, which statements match it and the
//! plan of the statements to test; the statements of each gate (`Gates`); the wildcard patterns an action the set
//! never names is matched against (`WildActions`). Built from a set's statements (`set`), read by each decision
//! on its action first.

use super::place::PolicyRef;
use super::{CStatement, MASK_WORDS};
use crate::ir::probe;
use crate::policy::action::ActionPattern;

/// For each action the set names literally (lowercase), which statements' `Action`/`NotAction` match it (one
/// bit per statement id, `NotAction` already applied); for any other action, the bits that do not depend on it.
///
/// What a decision on an action the set names reads comes first, in the order given, then what one on another
/// action reads: a cold decision reads the index through few cache lines, not one per field. Not aligned to a
/// line (`align(64)` made every set's `Inner` a `posix_memalign`, about 1 k instructions for a set built to
/// decide once; the decide path's counts did not move without it: benches/README.md, "Cold path, seventh pass").
#[derive(Debug, Clone, Default)]
#[repr(C)]
pub(crate) struct ActionIndex {
    /// Whether the set has an index: `false` for the empty one a set too large to index keeps.
    pub(super) on: bool,
    pub(super) buckets: Box<[u32]>,
    /// `(folded, lowercase action)`.
    pub(super) entries: Box<[(crate::context::Folded, Box<[u8]>)]>,
    /// Per entry, what its action meets (see [`crate::lower::Plan`]); their ids and gates in `plan_arena`.
    pub(super) plans: Box<[crate::lower::Plan]>,
    pub plan_arena: crate::lower::Plans,
    /// The statements by id, lowered for the fast path.
    pub lowered: crate::lower::Lowered,
    /// An action the set never names: `*` patterns and all-literal `NotAction`s match it, all-literal `Action`s
    /// do not; the bits of `wild` statements are clear, to be computed from the patterns.
    pub unknown: [u64; MASK_WORDS],
    /// The `wild` statements, matched against an action the set never names.
    pub wild: WildActions,
    /// `MASK_WORDS` words per entry.
    pub(super) masks: Vec<[u64; MASK_WORDS]>,
    /// Each statement id's place: its policy and index there.
    pub by_id: Vec<(PolicyRef, usize)>,
    /// The statements of each gate, one bit per id (see [`Gates`]).
    pub gates: Gates,
}

/// Statement masks for the fast path of `decide`: which statements deny, which allow unconditionally, and which
/// belong to each gate.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gates {
    /// Deny statements, RCPs excepted.
    pub deny: [u64; MASK_WORDS],
    /// Deny statements of RCPs (they apply only to the services RCPs govern).
    pub rcp_deny: [u64; MASK_WORDS],
    pub allow: [u64; MASK_WORDS],
    /// Allow statements that apply to every request their action matches.
    pub unconditional_allow: [u64; MASK_WORDS],
    /// One mask per SCP level.
    pub scps: Vec<[u64; MASK_WORDS]>,
    pub identity: [u64; MASK_WORDS],
    pub resource: Option<[u64; MASK_WORDS]>,
    pub boundary: Option<[u64; MASK_WORDS]>,
    pub session: Option<[u64; MASK_WORDS]>,
    pub endpoint: Option<[u64; MASK_WORDS]>,
}

/// Set bit `id` of `m`.
pub(crate) fn set_bit(m: &mut [u64; MASK_WORDS], id: usize) {
    if let Some(w) = m.get_mut(id / 64) {
        *w |= 1 << (id % 64);
    }
}

impl Gates {
    /// The Deny statements, RCPs' too when `rcps`.
    pub fn denies(&self, rcps: bool) -> [u64; MASK_WORDS] {
        std::array::from_fn(|k| {
            let d = self.deny.get(k).copied().unwrap_or(0);
            let r = self.rcp_deny.get(k).copied().unwrap_or(0);
            if rcps { d | r } else { d }
        })
    }

    /// The statements of `gate`; `None` for a gate the set lacks.
    pub fn of(&self, gate: crate::rules::Gate) -> Option<&[u64; MASK_WORDS]> {
        use crate::rules::Gate;
        match gate {
            Gate::Scp(l) => self.scps.get(l),
            Gate::Identity => Some(&self.identity),
            Gate::Resource => self.resource.as_ref(),
            Gate::Boundary => self.boundary.as_ref(),
            Gate::Session => self.session.as_ref(),
            Gate::Endpoint => self.endpoint.as_ref(),
        }
    }

    /// Every gate's statements in `lower::gate_ordinal` order (`None` for a gate the set lacks).
    pub(super) fn in_order(&self) -> Vec<Option<&[u64; MASK_WORDS]>> {
        use crate::rules::Gate;
        let n = self.scps.len();
        (0..n)
            .map(Gate::Scp)
            .chain([
                Gate::Identity,
                Gate::Resource,
                Gate::Boundary,
                Gate::Session,
                Gate::Endpoint,
            ])
            .enumerate()
            .map(|(k, g)| {
                debug_assert_eq!(crate::lower::gate_ordinal(g, n), k);
                self.of(g)
            })
            .collect()
    }
}

impl ActionIndex {
    /// The most pattern matches building an index may take (a few tens of milliseconds).
    pub(super) const BUDGET: usize = 1 << 22;

    /// The entry of `action` (any case), when the set names it.
    #[inline]
    pub fn find(&self, action: &str) -> Option<usize> {
        let b = action.as_bytes();
        let k = crate::context::KeyText::of(b);
        probe(&self.buckets, k.hash(), |i| {
            self.entries.get(i).is_some_and(|(f, e)| f.is(&k, e))
        })
    }

    /// Entry `i`'s mask and plan.
    #[inline]
    pub fn entry(&self, i: usize) -> Option<(&[u64; MASK_WORDS], &crate::lower::Plan)> {
        self.masks.get(i).zip(self.plans.get(i))
    }
}

/// The statements whose `Action`/`NotAction` patterns have wildcards, as an action the set never names is matched
/// against them: patterns that are literal or a literal then `*` (the usual `service:*`, `s3:Get*`) as lowercase
/// texts in one arena, compared as `Pattern::matches` compares those shapes (ASCII case folded); a statement with
/// any other pattern keeps its patterns.
#[derive(Debug, Clone, Default)]
pub(crate) struct WildActions {
    pub statements: Vec<WildStatement>,
    /// `(offset, length, whether a prefix)` of each text in `bytes`.
    texts: Vec<(u32, u32, bool)>,
    bytes: Vec<u8>,
}

/// A statement of [`WildActions`].
#[derive(Debug, Clone)]
pub(crate) struct WildStatement {
    pub id: usize,
    pub not_action: bool,
    /// Its patterns as texts: `texts[start..end]`.
    texts: (u32, u32),
    /// Its patterns, when one is of another shape.
    general: Option<Box<[ActionPattern]>>,
}

impl WildActions {
    /// The `wild` statements, with their ids.
    pub(super) fn build<'a>(
        statements: impl Iterator<Item = (usize, &'a CStatement)>,
    ) -> WildActions {
        let mut w = WildActions::default();
        for (id, st) in statements {
            let (from, bytes_from) = (w.texts.len(), w.bytes.len());
            let flat = st.actions.iter().all(|a| {
                let g = a.glob();
                let Some((t, prefix)) = g
                    .as_literal()
                    .map(|t| (t, false))
                    .or_else(|| g.as_prefix().map(|t| (t, true)))
                else {
                    return false;
                };
                match (u32::try_from(w.bytes.len()), u32::try_from(t.len())) {
                    (Ok(at), Ok(len)) => {
                        w.bytes.extend_from_slice(t.as_bytes());
                        w.texts.push((at, len, prefix));
                        true
                    }
                    _ => false,
                }
            });
            if !flat {
                w.texts.truncate(from);
                w.bytes.truncate(bytes_from);
            }
            let span = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            w.statements.push(WildStatement {
                id,
                not_action: st.not_action,
                texts: (span(from), span(w.texts.len())),
                general: (!flat).then(|| st.actions.clone().into_boxed_slice()),
            });
        }
        w
    }

    /// Whether statement `st`'s patterns match `action` (any case; before `NotAction` applies).
    #[inline]
    pub fn matches(&self, st: &WildStatement, action: &str) -> bool {
        if let Some(ps) = &st.general {
            return ps.iter().any(|a| a.matches(action));
        }
        let a = action.as_bytes();
        let texts = self
            .texts
            .get(st.texts.0 as usize..st.texts.1 as usize)
            .unwrap_or_default();
        texts.iter().any(|&(at, len, prefix)| {
            let t = self
                .bytes
                .get(at as usize..at as usize + len as usize)
                .unwrap_or_default();
            let head = if prefix { a.get(..t.len()) } else { Some(a) };
            head.is_some_and(|h| crate::context::eq_lower(h, t))
        })
    }
}
