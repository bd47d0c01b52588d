//! The compiled set: [`PolicySet`] and its [`PolicySetBuilder`], and behind the set's `Arc` the `Inner` that
//! holds every policy at its place, the statement ids and condition-key slots each place gives its statements
//! (`Placed`), the key table (`keys`) and the action index (`index`), built here from the set's statements. The
//! last step of compiling: a decision (`crate::decide`) reads the set.

use super::error::CompileError;
use super::index::{ActionIndex, Gates, WildActions, set_bit};
use super::keys::KeyTable;
use super::place::{AccountMatch, EndpointKind, PolicyRef, ResourceKind};
use super::policy::CompiledPolicy;
use super::{CStatement, MASK_WORDS, Statements};
use crate::ir::buckets;
use crate::policy::{Effect, Policy};
use std::sync::Arc;

#[derive(Debug, Default)]
#[repr(C)]
pub(crate) struct Inner {
    /// Which statements each action the set names matches, when `index.on` (not for a set of more than
    /// `MASK_WORDS * 64` statements): see [`Inner::actions`]. Built with the set (see
    /// [`PolicySetBuilder::build`]). First: a decision reads it first (see [`ActionIndex`]).
    index: ActionIndex,
    /// Whether the index is built on the set's second decision, in `later`, instead (a set built to decide once
    /// or a few times, [`PolicySetBuilder::build_lazy`]): one decision walks the policies instead.
    lazy: bool,
    /// Whether a decision has gone without the index (a lazy set builds it on the next).
    walked: std::sync::atomic::AtomicBool,
    /// The kind of VPC endpoint `endpoint` belongs to.
    pub endpoint_kind: EndpointKind,
    /// What `resource` is.
    pub resource_kind: ResourceKind,
    /// How many statements the set has.
    statement_count: u32,
    /// Boxed, and the small fields above kept together: a set built to decide once allocates its `Inner` and
    /// frees it once, which costs a tenth as much when it is under 1,000 bytes (glibc serves and keeps such
    /// chunks in per-size caches; a larger one first merges every small chunk freed before it).
    later: std::sync::OnceLock<Box<ActionIndex>>,
    pub scps: Vec<Vec<CompiledPolicy>>,
    pub rcps: Vec<Vec<CompiledPolicy>>,
    pub resource: Option<CompiledPolicy>,
    pub identity: Vec<CompiledPolicy>,
    pub boundary: Option<CompiledPolicy>,
    pub session: Vec<CompiledPolicy>,
    pub endpoint: Option<CompiledPolicy>,
    /// The condition keys of every statement, and the keys checked at ingest: read through [`Inner::keys`].
    /// Only a borrowed request's ingest reads it (an owned `Request` finds its values by key), so a set built to
    /// decide once ([`PolicySetBuilder::build_lazy`]) makes it on first use or with its action index
    /// (`index_later`), from `slots`.
    keys: std::sync::OnceLock<KeyTable>,
    /// Per policy, in the order of [`Inner::policies`]: its first statement id and where its conditions' slots
    /// start in `slots`. The set's side of its shared compiled policies.
    places: Box<[(u32, u32)]>,
    /// The slot of each condition of the set (policies in order, then statements, then conditions): within a
    /// set, two conditions share a slot exactly when they test the same key; a decision keeps the request's
    /// value of that key there.
    slots: Box<[u32]>,
}

/// A policy at its place in a set: what a decision needs of the set to evaluate its statements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed<'s> {
    pub at: PolicyRef,
    first_id: usize,
    /// The slots of the policy's conditions.
    slots: &'s [u32],
    gateway: bool,
    delegates: bool,
    boundary: bool,
}

impl Placed<'_> {
    /// Statement `st`'s id in the set: its bit in an [`ActionIndex`] mask.
    #[inline]
    pub fn id(&self, st: &CStatement) -> usize {
        self.first_id + st.index
    }

    /// The slot of condition `k` of statement `st` (one no request has, should the tables disagree).
    #[inline]
    pub fn slot(&self, st: &CStatement, k: usize) -> usize {
        self.slots
            .get(st.cond_at + k)
            .map_or(u32::MAX as usize, |&s| s as usize)
    }

    /// How an account in `st`'s `Principal` matches (docs/SEMANTICS.md §1.6, §9 row 24).
    #[inline]
    pub fn account_match(&self, st: &CStatement) -> AccountMatch {
        match (self.at, st.effect) {
            (PolicyRef::Endpoint, _) if self.gateway => AccountMatch::RootOnly,
            (PolicyRef::Resource, Effect::Allow) if !self.delegates => {
                AccountMatch::RootOnlySameAccount
            }
            _ => AccountMatch::Any,
        }
    }

    /// A resource-policy `Deny` with `NotPrincipal` in a set with a permissions boundary: it applies to the
    /// principal whatever `NotPrincipal` lists (docs/SEMANTICS.md §4.1, AWS's boundaries page).
    #[inline]
    pub fn deny_any_principal(&self, st: &CStatement) -> bool {
        self.at == PolicyRef::Resource
            && st.effect == Effect::Deny
            && self.boundary
            && matches!(st.principal, Some((true, _)))
    }
}

impl Inner {
    /// The set's table of context keys (made on first use in a lazy set).
    #[inline]
    pub fn keys(&self) -> &KeyTable {
        self.keys.get_or_init(|| self.key_table())
    }

    /// The key table of a set interned lazily: each condition key in the order of its slot (a key's slot is
    /// given where it is first tested, so slots first appear in increasing order).
    #[cold]
    fn key_table(&self) -> KeyTable {
        let mut keys: Vec<&std::sync::Arc<str>> = Vec::new();
        let conditions = self
            .policies()
            .flat_map(|(_, p)| p.statements.iter().flat_map(|st| st.conditions.iter()));
        for (c, &slot) in conditions.zip(&self.slots) {
            if slot as usize == keys.len() {
                keys.push(&c.key);
            }
        }
        KeyTable::build(keys.into_iter())
    }

    /// Number the statements, give each distinct condition key a slot (where a decision keeps the request's
    /// value of that key), and, unless `lazy`, index the actions the set names and make the table of its keys.
    /// The compiled policies are shared, not copied: the numbering goes to the set's side tables.
    fn intern(mut self, lazy: bool) -> Inner {
        // One place per policy and one slot per condition: sized before they are filled.
        let (policies, conditions) =
            self.policies()
                .fold((0usize, 0usize), |(p, c), (_, policy)| {
                    // A policy's conditions end where its last statement's do (`cond_at` counts those before).
                    let here = policy
                        .statements
                        .last()
                        .map_or(0, |st| st.cond_at.saturating_add(st.conditions.len()));
                    (p.saturating_add(1), c.saturating_add(here))
                });
        let mut places = Vec::with_capacity(policies);
        let mut slots = Vec::with_capacity(conditions);
        let mut id = 0usize;
        {
            // Each key's slot: found in the list of keys while they are few (the usual set), without hashing
            // them; through a map once they are many.
            const SMALL_KEYS: usize = 16;
            let mut listed: Vec<(u64, &str)> = Vec::with_capacity(conditions.min(SMALL_KEYS));
            let mut slot_of: crate::map::Map<&str, u32> = crate::map::Map::new();
            let mut hashed = false;
            // For a set of many conditions (`MODE=compose`'s), a direct-mapped cache in front of the list.
            const RECENT: usize = 32;
            let many = conditions > 4 * RECENT;
            let mut recent = [u8::MAX; RECENT];
            let slot = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
            for (_, p) in self.policies() {
                places.push((slot(id), slot(slots.len())));
                id += p.statements.len();
                for c in p.statements.iter().flat_map(|st| st.conditions.iter()) {
                    let key: &str = &c.key;
                    if !hashed && listed.len() >= SMALL_KEYS {
                        for (i, (_, k)) in listed.iter().enumerate() {
                            slot_of.insert(*k, slot(i));
                        }
                        hashed = true;
                    }
                    let found = if !hashed && !many {
                        listed
                            .iter()
                            .position(|(h, k)| *h == c.hash && *k == key)
                            .map(slot)
                    } else if !hashed {
                        // The list's place of the last key seen with these low bits of the hash first: a set of
                        // many policies names its few keys over and over.
                        let r = (c.hash & (RECENT as u64 - 1)) as usize;
                        let last = recent.get(r).copied().unwrap_or(u8::MAX);
                        match listed.get(usize::from(last)) {
                            Some((h, k)) if *h == c.hash && *k == key => Some(u32::from(last)),
                            _ => {
                                let at = listed.iter().position(|(h, k)| *h == c.hash && *k == key);
                                // Below `SMALL_KEYS`: fits a byte.
                                if let (Some(at), Some(m)) = (at, recent.get_mut(r)) {
                                    *m = u8::try_from(at).unwrap_or(u8::MAX);
                                }
                                at.map(slot)
                            }
                        }
                    } else {
                        slot_of.get(key).copied()
                    };
                    let at = found.unwrap_or_else(|| {
                        listed.push((c.hash, key));
                        let at = slot(listed.len() - 1);
                        if hashed {
                            slot_of.insert(key, at);
                        }
                        at
                    });
                    slots.push(at);
                }
            }
        }
        // Sized exactly above: no copy.
        self.places = places.into_boxed_slice();
        self.slots = slots.into_boxed_slice();
        // An eager set's key table now; a lazy set's when it is first read (`Inner::keys`).
        self.keys = if lazy {
            std::sync::OnceLock::new()
        } else {
            std::sync::OnceLock::from(self.key_table())
        };
        self.statement_count = u32::try_from(id).unwrap_or(u32::MAX);
        self.lazy = lazy;
        if !lazy {
            self.index = self.build_index();
        }
        self
    }

    /// The action index of the set (an empty one, `on` false, when it has none).
    fn build_index(&self) -> ActionIndex {
        let statements = self.statement_count as usize;
        (statements <= MASK_WORDS * 64 && !self.needs_full_walk())
            .then(|| ActionIndex::build(self, statements))
            .flatten()
            .unwrap_or_default()
    }

    /// Whether a decision must take the full walk: a resource-based policy whose grant depends on how it names
    /// the caller (with a boundary or session policies, docs/SEMANTICS.md §4.1), or a trust or key policy, which
    /// must itself allow. The action index's plans and gates do not model these; such sets are rare.
    fn needs_full_walk(&self) -> bool {
        self.resource.is_some()
            && (self.boundary.is_some()
                || !self.session.is_empty()
                || self.resource_kind != ResourceKind::Resource)
    }

    /// The action index, when the set has one (and, for a lazy set, has built it).
    #[inline]
    pub fn actions(&self) -> Option<&ActionIndex> {
        if self.index.on {
            return Some(&self.index);
        }
        self.built_later()
    }

    /// A lazy set's index, when built.
    #[cold]
    #[inline(never)]
    fn built_later(&self) -> Option<&ActionIndex> {
        self.later.get().map(|i| &**i).filter(|i| i.on)
    }

    /// The action index for a decision about to be made: a lazy set's first decision goes without it (one
    /// decision costs less walking the policies than indexing them), the next builds it.
    #[inline]
    pub fn actions_for_decision(&self) -> Option<&ActionIndex> {
        if self.index.on {
            return Some(&self.index);
        }
        self.index_later()
    }

    #[cold]
    #[inline(never)]
    fn index_later(&self) -> Option<&ActionIndex> {
        if !self.lazy {
            return None;
        }
        if let Some(i) = self.later.get() {
            return i.on.then_some(&**i);
        }
        if !self.walked.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        // The key table too, if no borrowed request has made it: after its second decision a lazy set allocates
        // no more, whatever kind of request comes next.
        let _ = self.keys();
        let i = self.later.get_or_init(|| Box::new(self.build_index()));
        i.on.then_some(&**i)
    }

    /// Whether the action index has been built (for tests of laziness).
    #[cfg(test)]
    pub fn indexed(&self) -> bool {
        !self.lazy || self.later.get().is_some()
    }

    /// The ordinal of the policy at `at` in the order of [`Inner::policies`].
    fn ordinal(&self, at: PolicyRef) -> usize {
        let scps: usize = self.scps.iter().map(Vec::len).sum();
        let rcps: usize = self.rcps.iter().map(Vec::len).sum();
        let before = |levels: &[Vec<CompiledPolicy>], l: usize| -> usize {
            levels.iter().take(l).map(Vec::len).sum()
        };
        let resource = usize::from(self.resource.is_some());
        let identity = scps + rcps + resource;
        let boundary = identity + self.identity.len();
        let session = boundary + usize::from(self.boundary.is_some());
        match at {
            PolicyRef::Scp(l, j) => before(&self.scps, l) + j,
            PolicyRef::Rcp(l, j) => scps + before(&self.rcps, l) + j,
            PolicyRef::Resource => scps + rcps,
            PolicyRef::Identity(n) => identity + n,
            PolicyRef::Boundary => boundary,
            PolicyRef::Session(n) => session + n,
            PolicyRef::Endpoint => session + self.session.len(),
        }
    }

    /// The policy at `at` with the set's side of it.
    #[inline]
    pub(crate) fn placed(&self, at: PolicyRef) -> Placed<'_> {
        let (first_id, first_slot) = self
            .places
            .get(self.ordinal(at))
            .copied()
            .unwrap_or_default();
        Placed {
            at,
            first_id: first_id as usize,
            slots: self.slots.get(first_slot as usize..).unwrap_or_default(),
            gateway: self.endpoint_kind == EndpointKind::Gateway,
            delegates: self.resource_kind != ResourceKind::Resource,
            boundary: self.boundary.is_some(),
        }
    }

    /// Every policy with its place, in evaluation order (see [`PolicySet::policies`]).
    pub(crate) fn policies(&self) -> Policies<'_> {
        Policies::new(self)
    }

    /// Every statement with its conditions' slots, in the order of `PolicySet::policies` (the order of their
    /// ids).
    pub(crate) fn statements(&self) -> impl Iterator<Item = (&CStatement, &[u32])> {
        self.policies()
            .zip(&self.places)
            .flat_map(move |((_, p), &(_, first))| {
                let slots = self.slots.get(first as usize..).unwrap_or_default();
                p.statements.iter().map(move |st| {
                    let n = st.conditions.len();
                    (
                        st,
                        slots.get(st.cond_at..st.cond_at + n).unwrap_or_default(),
                    )
                })
            })
    }
}

/// The policies of a set with their places, in evaluation order: what [`PolicySet::policies`] gives. One small
/// `next` serves every caller; a chain of seven iterator adapters was compiled again for each of them (in the
/// WebAssembly module, benches/README.md, "Size, seventh pass: one iterator of a set's policies").
#[derive(Clone, Debug)]
pub struct Policies<'a> {
    inner: &'a Inner,
    /// What is left of the list (or level) being walked.
    list: std::slice::Iter<'a, CompiledPolicy>,
    /// Which list: 0 the SCP levels, 1 the RCP levels, 2 the resource policy, 3 identity, 4 the boundary,
    /// 5 session, 6 the endpoint policy; 7: done.
    kind: u8,
    /// The level, for SCPs and RCPs.
    level: usize,
    /// The position in its list (or level) of the next policy `list` gives.
    at: usize,
}

impl<'a> Policies<'a> {
    fn new(inner: &'a Inner) -> Policies<'a> {
        Policies {
            inner,
            list: inner.scps.first().map_or(&[][..], Vec::as_slice).iter(),
            kind: 0,
            level: 0,
            at: 0,
        }
    }

    /// Moves to the next non-exhausted place to look: the next SCP or RCP level, else the next list. False when
    /// every list is done.
    #[cold]
    fn advance(&mut self) -> bool {
        let i = self.inner;
        self.at = 0;
        if self.kind < 2 {
            let levels = if self.kind == 0 { &i.scps } else { &i.rcps };
            if let Some(level) = levels.get(self.level + 1) {
                self.level += 1;
                self.list = level.iter();
                return true;
            }
        }
        self.level = 0;
        self.kind = self.kind.saturating_add(1);
        self.list = match self.kind {
            1 => i.rcps.first().map_or(&[][..], Vec::as_slice),
            2 => i.resource.as_slice(),
            3 => &i.identity,
            4 => i.boundary.as_slice(),
            5 => &i.session,
            6 => i.endpoint.as_slice(),
            _ => return false,
        }
        .iter();
        true
    }
}

impl<'a> Iterator for Policies<'a> {
    type Item = (PolicyRef, &'a CompiledPolicy);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(p) = self.list.next() {
                let (l, j) = (self.level, self.at);
                self.at += 1;
                let at = match self.kind {
                    0 => PolicyRef::Scp(l, j),
                    1 => PolicyRef::Rcp(l, j),
                    2 => PolicyRef::Resource,
                    3 => PolicyRef::Identity(j),
                    4 => PolicyRef::Boundary,
                    5 => PolicyRef::Session(j),
                    _ => PolicyRef::Endpoint,
                };
                return Some((at, p));
            }
            if !self.advance() {
                return None;
            }
        }
    }
}

// The action index is built here, from the set's statements (`Inner::build_index`), so that index.rs, which holds
// its types and what a decision reads of it, names nothing of the set.

impl Gates {
    fn build(inner: &Inner) -> Gates {
        let present = |b: bool| b.then_some([0; MASK_WORDS]);
        let mut g = Gates {
            scps: vec![[0; MASK_WORDS]; inner.scps.len()],
            resource: present(inner.resource.is_some()),
            boundary: present(inner.boundary.is_some()),
            session: present(!inner.session.is_empty()),
            endpoint: present(inner.endpoint.is_some()),
            ..Gates::default()
        };
        let mut next_id = 0usize;
        for (at, p) in inner.policies() {
            let first = next_id;
            next_id += p.statements.len();
            let ids = || (first..).zip(p.statements.iter());
            let gate = match at {
                PolicyRef::Scp(l, _) => g.scps.get_mut(l),
                // RCPs only deny: they are no gate.
                PolicyRef::Rcp(..) => None,
                PolicyRef::Resource => g.resource.as_mut(),
                PolicyRef::Identity(_) => Some(&mut g.identity),
                PolicyRef::Boundary => g.boundary.as_mut(),
                PolicyRef::Session(_) => g.session.as_mut(),
                PolicyRef::Endpoint => g.endpoint.as_mut(),
            };
            if let Some(m) = gate {
                ids().for_each(|(id, _)| set_bit(m, id));
            }
            for (id, st) in ids() {
                match st.effect {
                    Effect::Deny if matches!(at, PolicyRef::Rcp(..)) => {
                        set_bit(&mut g.rcp_deny, id)
                    }
                    Effect::Deny => set_bit(&mut g.deny, id),
                    Effect::Allow => {
                        set_bit(&mut g.allow, id);
                        if st.unconditional {
                            set_bit(&mut g.unconditional_allow, id);
                        }
                    }
                }
            }
        }
        g
    }
}

impl ActionIndex {
    /// The index of `inner`'s `statements` statements; `None` when matching the wildcard patterns against the
    /// actions the set names would take more than [`ActionIndex::BUDGET`] matches (the decision then matches each
    /// statement's patterns itself).
    fn build(inner: &Inner, statements: usize) -> Option<ActionIndex> {
        debug_assert!(statements <= MASK_WORDS * 64);
        let mut entries: Vec<(crate::context::Folded, Box<[u8]>)> = Vec::new();
        let mut index_of: crate::map::Map<&[u8], usize> = crate::map::Map::new();
        let mut wild_patterns = 0usize;
        for (st, _) in inner.statements() {
            for a in &st.actions {
                match a.glob().as_literal() {
                    // INVARIANT: only well-formed actions have entries, so a request whose action finds one is
                    // well-formed (`Input::well_formed`); a request naming a malformed literal is refused anyway.
                    Some(l) if !crate::shape::action_ok(l) => {}
                    Some(l) => {
                        index_of.entry(l.as_bytes()).or_insert_with(|| {
                            entries.push((
                                crate::context::Folded::of(l.as_bytes()),
                                l.as_bytes().into(),
                            ));
                            entries.len() - 1
                        });
                    }
                    None if st.wild => wild_patterns += 1,
                    None => {}
                }
            }
        }
        if entries.len().saturating_mul(wild_patterns) > Self::BUDGET {
            return None;
        }
        // Per statement, which named actions its patterns match (`hit`), then its bit in each of their masks.
        let mut masks = vec![[0u64; MASK_WORDS]; entries.len()];
        let mut hit = vec![false; entries.len()];
        for (id, (st, _)) in inner.statements().enumerate() {
            hit.iter_mut().for_each(|h| *h = st.any_action);
            if !st.any_action {
                for a in &st.actions {
                    match a.glob().as_literal() {
                        Some(l) => {
                            if let Some(h) =
                                index_of.get(l.as_bytes()).and_then(|&i| hit.get_mut(i))
                            {
                                *h = true;
                            }
                        }
                        None => {
                            for (h, (_, action)) in hit.iter_mut().zip(&entries) {
                                *h = *h || a.matches_lowercase(action);
                            }
                        }
                    }
                }
            }
            for (m, &h) in masks.iter_mut().zip(&hit) {
                if h != st.not_action {
                    set_bit(m, id);
                }
            }
        }
        let mut unknown = [0; MASK_WORDS];
        for (id, (st, _)) in inner.statements().enumerate() {
            if !st.wild && st.any_action != st.not_action {
                set_bit(&mut unknown, id);
            }
        }
        let gates = Gates::build(inner);
        let lowered = crate::lower::Lowered::build(inner.statements())?;
        let mut pb = crate::lower::PlanBuilder::new(&lowered);
        let in_order = gates.in_order();
        let plans = masks
            .iter()
            .zip(&entries)
            .map(|(m, (_, action))| {
                pb.plan(
                    m,
                    (&gates.deny, &gates.rcp_deny),
                    (&gates.allow, &gates.unconditional_allow),
                    &in_order,
                    std::str::from_utf8(action).is_ok_and(crate::rules::rcp_governs),
                )
            })
            .collect::<Option<Vec<_>>>()?;
        let by_id = inner
            .policies()
            .flat_map(|(at, p)| (0..p.statements.len()).map(move |i| (at, i)))
            .collect();
        Some(ActionIndex {
            on: true,
            buckets: buckets(entries.iter().map(|e| e.0.hash()), entries.len())?,
            entries: entries.into(),
            masks,
            plans: plans.into(),
            plan_arena: pb.finish(),
            unknown,
            wild: WildActions::build(
                inner
                    .statements()
                    .enumerate()
                    .filter(|(_, (s, _))| s.wild)
                    .map(|(id, (s, _))| (id, s)),
            ),
            by_id,
            lowered,
            gates,
        })
    }
}

/// Every policy that applies to a request, compiled. Immutable, `Send + Sync`, cheap to clone.
///
/// ```
/// use iamgate::{Policy, PolicySet, Request, Decision};
/// let allow = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
///     "Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*"}]}"#).unwrap();
/// let set = PolicySet::builder().identity(allow).build().unwrap();
/// let req = Request::new("sagemaker:CreatePresignedDomainUrl",
///     "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice")
///     .principal("arn:aws:iam::111122223333:role/DataSci");
/// assert_eq!(set.decide(&req), Decision::Allow);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub(crate) inner: Arc<Inner>,
}

/// A policy given to a [`PolicySetBuilder`]: parsed, or already compiled (and then shared, not recompiled).
#[derive(Debug, Clone)]
enum Given {
    Parsed(Policy),
    Compiled(CompiledPolicy),
}

impl Given {
    fn compile(
        self,
        at: PolicyRef,
        resource: ResourceKind,
    ) -> Result<CompiledPolicy, CompileError> {
        match self {
            Given::Parsed(p) => CompiledPolicy::compile_as(p, at, resource),
            Given::Compiled(c) => c.placed_at(at, resource),
        }
    }
}

/// Collects policies for a [`PolicySet`]: parsed ones, compiled when the set is built, or compiled ones
/// ([`CompiledPolicy`]), shared with every other set that uses them. [`PolicySet::edit`] starts from a set's
/// compiled policies, to swap or add one without recompiling the others.
#[derive(Debug, Default)]
pub struct PolicySetBuilder {
    identity: Vec<Given>,
    resource: Option<Given>,
    boundary: Option<Given>,
    session: Vec<Given>,
    scps: Vec<Vec<Given>>,
    rcps: Vec<Vec<Given>>,
    endpoint: Option<Given>,
    endpoint_kind: EndpointKind,
    resource_kind: ResourceKind,
}

impl PolicySetBuilder {
    /// Add an identity-based policy (attached to the principal, inline or managed).
    pub fn identity(mut self, p: Policy) -> Self {
        self.identity.push(Given::Parsed(p));
        self
    }
    /// Add a compiled identity-based policy, shared.
    pub fn identity_compiled(mut self, p: CompiledPolicy) -> Self {
        self.identity.push(Given::Compiled(p));
        self
    }
    /// Set the resource-based policy of the resource.
    pub fn resource(self, p: Policy) -> Self {
        self.resource_as(p, ResourceKind::Resource)
    }
    /// Set the role trust policy of the role that the request (`sts:AssumeRole*`) names: it has no `Resource`,
    /// and it must itself allow (docs/SEMANTICS.md §4.1).
    pub fn trust_policy(self, p: Policy) -> Self {
        self.resource_as(p, ResourceKind::Trust)
    }
    /// Set the key policy of the KMS key that the request names: it must itself allow, and an Allow for the
    /// account delegates to IAM policies (docs/SEMANTICS.md §4.1).
    pub fn key_policy(self, p: Policy) -> Self {
        self.resource_as(p, ResourceKind::Key)
    }
    /// Set the resource-based policy with its kind (see [`PolicySetBuilder::resource`],
    /// [`PolicySetBuilder::trust_policy`], [`PolicySetBuilder::key_policy`]).
    pub fn resource_as(mut self, p: Policy, kind: ResourceKind) -> Self {
        self.resource = Some(Given::Parsed(p));
        self.resource_kind = kind;
        self
    }
    /// Set the principal's permissions boundary.
    pub fn boundary(mut self, p: Policy) -> Self {
        self.boundary = Some(Given::Parsed(p));
        self
    }
    /// Set the principal's permissions boundary, compiled and shared.
    pub fn boundary_compiled(mut self, p: CompiledPolicy) -> Self {
        self.boundary = Some(Given::Compiled(p));
        self
    }
    /// Add a session policy.
    pub fn session(mut self, p: Policy) -> Self {
        self.session.push(Given::Parsed(p));
        self
    }
    /// Add one SCP level (root, then each OU, then the account); every level must allow.
    pub fn scp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.scps
            .push(level.into_iter().map(Given::Parsed).collect());
        self
    }
    /// Add one SCP level of compiled policies, shared.
    pub fn scp_level_compiled(mut self, level: impl IntoIterator<Item = CompiledPolicy>) -> Self {
        self.scps
            .push(level.into_iter().map(Given::Compiled).collect());
        self
    }
    /// Add one RCP level; each level implicitly carries `RCPFullAWSAccess`, so RCPs can only deny.
    pub fn rcp_level(mut self, level: impl IntoIterator<Item = Policy>) -> Self {
        self.rcps
            .push(level.into_iter().map(Given::Parsed).collect());
        self
    }
    /// Set the policy of the VPC endpoint the request came through (an interface endpoint unless
    /// [`PolicySetBuilder::endpoint_kind`] says otherwise).
    pub fn endpoint(mut self, p: Policy) -> Self {
        self.endpoint = Some(Given::Parsed(p));
        self
    }
    /// Set the VPC endpoint's policy, compiled and shared; `None` for none.
    pub fn endpoint_compiled(mut self, p: Option<CompiledPolicy>) -> Self {
        self.endpoint = p.map(Given::Compiled);
        self
    }
    /// Say which kind of VPC endpoint the endpoint policy belongs to (docs/SEMANTICS.md §1.6): in a gateway
    /// endpoint's policy an account principal means only the account's root user.
    pub fn endpoint_kind(mut self, kind: EndpointKind) -> Self {
        self.endpoint_kind = kind;
        self
    }

    /// Compile what is not compiled yet and build the set, with its action index (the fast path of a set that
    /// decides many requests). Every error of every policy is collected (see [`CompileError::errors`]).
    pub fn build(self) -> Result<PolicySet, CompileError> {
        self.build_as(false)
    }

    /// [`PolicySetBuilder::build`] for a set that decides once or a few times: the action index is built on
    /// its second decision, not before (the first walks the policies), and the table of context keys that a
    /// borrowed request ([`PolicySet::decide_ref`]) is read through on its first borrowed decision or its second
    /// decision, whichever comes first. The same decisions.
    pub fn build_lazy(self) -> Result<PolicySet, CompileError> {
        self.build_as(true)
    }

    fn build_as(self, lazy: bool) -> Result<PolicySet, CompileError> {
        let plain = ResourceKind::Resource;
        let mut errors: Vec<CompileError> = Vec::new();
        let mut keep = |r: Result<CompiledPolicy, CompileError>| match r {
            Ok(c) => Some(c),
            Err(e) => {
                errors.extend(e.flatten());
                None
            }
        };
        let mut inner = Inner::default();
        for (l, level) in self.scps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.extend(keep(p.compile(PolicyRef::Scp(l, j), plain)));
            }
            inner.scps.push(out);
        }
        for (l, level) in self.rcps.into_iter().enumerate() {
            let mut out = Vec::with_capacity(level.len());
            for (j, p) in level.into_iter().enumerate() {
                out.extend(keep(p.compile(PolicyRef::Rcp(l, j), plain)));
            }
            inner.rcps.push(out);
        }
        let kind = self.resource_kind;
        inner.resource = self
            .resource
            .and_then(|p| keep(p.compile(PolicyRef::Resource, kind)));
        inner.resource_kind = kind;
        inner.endpoint_kind = self.endpoint_kind;
        for (i, p) in self.identity.into_iter().enumerate() {
            inner
                .identity
                .extend(keep(p.compile(PolicyRef::Identity(i), plain)));
        }
        inner.boundary = self
            .boundary
            .and_then(|p| keep(p.compile(PolicyRef::Boundary, plain)));
        for (i, p) in self.session.into_iter().enumerate() {
            inner
                .session
                .extend(keep(p.compile(PolicyRef::Session(i), plain)));
        }
        inner.endpoint = self
            .endpoint
            .and_then(|p| keep(p.compile(PolicyRef::Endpoint, plain)));
        if let Some(e) = CompileError::gather(errors) {
            return Err(e);
        }
        Ok(PolicySet {
            inner: Arc::new(inner.intern(lazy)),
        })
    }
}

impl PolicySet {
    /// An empty builder: add the policies of each place, then [`PolicySetBuilder::build`] compiles them once.
    /// A set built from no policy at all denies every request implicitly (no identity policy allows).
    ///
    /// ```
    /// use iamgate::{Decision, PolicySet, Request};
    /// let set = PolicySet::builder().build().unwrap();
    /// assert_eq!(set.decide(&Request::new("s3:GetObject", "arn:aws:s3:::b/k")), Decision::ImplicitDeny);
    /// ```
    pub fn builder() -> PolicySetBuilder {
        PolicySetBuilder::default()
    }

    /// A builder holding this set's compiled policies (shared, not copied) and kinds: swap or add a policy,
    /// then build; only what was given parsed is compiled.
    ///
    /// ```
    /// use iamgate::{Policy, PolicySet, PolicyRef};
    /// let p = |s: &str| Policy::parse(s).unwrap();
    /// let base = PolicySet::builder()
    ///     .identity(p(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#))
    ///     .build().unwrap();
    /// let bounded = base.edit()
    ///     .boundary(p(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#))
    ///     .build().unwrap();
    /// let shared = |s: &PolicySet| s.get(PolicyRef::Identity(0)).unwrap().clone();
    /// assert!(shared(&base).shares(&shared(&bounded)));
    /// ```
    pub fn edit(&self) -> PolicySetBuilder {
        let i = &self.inner;
        let given = |p: &CompiledPolicy| Given::Compiled(p.clone());
        PolicySetBuilder {
            identity: i.identity.iter().map(given).collect(),
            resource: i.resource.as_ref().map(given),
            boundary: i.boundary.as_ref().map(given),
            session: i.session.iter().map(given).collect(),
            scps: i
                .scps
                .iter()
                .map(|l| l.iter().map(given).collect())
                .collect(),
            rcps: i
                .rcps
                .iter()
                .map(|l| l.iter().map(given).collect())
                .collect(),
            endpoint: i.endpoint.as_ref().map(given),
            endpoint_kind: i.endpoint_kind,
            resource_kind: i.resource_kind,
        }
    }

    /// Every policy with its place, in evaluation order: SCPs, RCPs, resource, identity, boundary, session,
    /// endpoint.
    pub fn policies(&self) -> Policies<'_> {
        self.inner.policies()
    }

    /// The policy at `at`, if the set has one there.
    pub fn get(&self, at: PolicyRef) -> Option<&CompiledPolicy> {
        let i = &self.inner;
        match at {
            PolicyRef::Identity(n) => i.identity.get(n),
            PolicyRef::Resource => i.resource.as_ref(),
            PolicyRef::Boundary => i.boundary.as_ref(),
            PolicyRef::Session(n) => i.session.get(n),
            PolicyRef::Scp(l, j) => i.scps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Rcp(l, j) => i.rcps.get(l).and_then(|v| v.get(j)),
            PolicyRef::Endpoint => i.endpoint.as_ref(),
        }
    }

    /// A copy of this set with another endpoint policy (or none), an interface endpoint's: the same
    /// identity-side policies decided through a different endpoint. The compiled policies are shared, not
    /// copied; the set's tables are rebuilt, its action index on its second decision (as
    /// [`PolicySetBuilder::build_lazy`]).
    pub fn with_endpoint(&self, endpoint: Option<CompiledPolicy>) -> PolicySet {
        let i = &self.inner;
        if endpoint.is_none() && i.endpoint.is_none() {
            // Nothing to swap: the same policies, already compiled (bulk callers ask for this per step).
            return self.clone();
        }
        PolicySet {
            inner: Arc::new(
                Inner {
                    scps: i.scps.clone(),
                    rcps: i.rcps.clone(),
                    resource: i.resource.clone(),
                    identity: i.identity.clone(),
                    boundary: i.boundary.clone(),
                    session: i.session.clone(),
                    endpoint,
                    resource_kind: i.resource_kind,
                    // The endpoints of a network are interface endpoints (the SageMaker API and Studio).
                    endpoint_kind: EndpointKind::Interface,
                    ..Inner::default()
                }
                .intern(true),
            ),
        }
    }

    /// Whether at least one SCP level was given ([`PolicySetBuilder::scp_level`]); if so, every level must allow
    /// (docs/SEMANTICS.md §4.1).
    pub fn has_scps(&self) -> bool {
        !self.inner.scps.is_empty()
    }

    /// The kind of VPC endpoint the set's endpoint policy belongs to.
    pub fn endpoint_kind(&self) -> EndpointKind {
        self.inner.endpoint_kind
    }

    /// What the set's resource-based policy is.
    pub fn resource_kind(&self) -> ResourceKind {
        self.inner.resource_kind
    }
}

/// Compile a single endpoint policy, for [`PolicySet::with_endpoint`].
pub(crate) fn compile_endpoint_policy(p: Policy) -> Result<CompiledPolicy, CompileError> {
    CompiledPolicy::compile(p, PolicyRef::Endpoint)
}

/// Sets cut down for the analyses (`crate::analyse`), which decide a class of requests on the statements that can
/// apply to it.
impl PolicySet {
    /// This set with each policy's statements replaced by `statements(k, at, policy)` (`k` counts the policies in
    /// the order of [`PolicySet::policies`]), renumbered from 0 in the order given. Every policy keeps its place,
    /// so that reasons name the same policies; built lazily (such a set decides once).
    pub(crate) fn with_statements(
        &self,
        mut statements: impl FnMut(usize, PolicyRef, &CompiledPolicy) -> Vec<CStatement>,
    ) -> PolicySet {
        let i = &*self.inner;
        let mut k = 0usize;
        let mut cut = |at: PolicyRef, p: &CompiledPolicy| {
            let mut list = statements(k, at, p);
            k += 1;
            let mut cond_at = 0;
            for (n, st) in list.iter_mut().enumerate() {
                st.index = n;
                st.cond_at = cond_at;
                cond_at += st.conditions.len();
            }
            CompiledPolicy {
                policy: p.policy.clone(),
                statements: Statements(list.into()),
                kind: p.kind,
            }
        };
        let mut inner = Inner {
            endpoint_kind: i.endpoint_kind,
            resource_kind: i.resource_kind,
            ..Inner::default()
        };
        // INVARIANT: the same order as `Inner::policies`, which numbers `k`.
        for (l, level) in i.scps.iter().enumerate() {
            let level = level.iter().enumerate();
            inner
                .scps
                .push(level.map(|(j, p)| cut(PolicyRef::Scp(l, j), p)).collect());
        }
        for (l, level) in i.rcps.iter().enumerate() {
            let level = level.iter().enumerate();
            inner
                .rcps
                .push(level.map(|(j, p)| cut(PolicyRef::Rcp(l, j), p)).collect());
        }
        inner.resource = i.resource.as_ref().map(|p| cut(PolicyRef::Resource, p));
        for (n, p) in i.identity.iter().enumerate() {
            inner.identity.push(cut(PolicyRef::Identity(n), p));
        }
        inner.boundary = i.boundary.as_ref().map(|p| cut(PolicyRef::Boundary, p));
        for (n, p) in i.session.iter().enumerate() {
            inner.session.push(cut(PolicyRef::Session(n), p));
        }
        inner.endpoint = i.endpoint.as_ref().map(|p| cut(PolicyRef::Endpoint, p));
        PolicySet {
            inner: Arc::new(inner.intern(true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    const IDENTITY: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*",
         "Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"},"IpAddress":{"aws:VpcSourceIp":"10.0.0.0/8"}}},
        {"Effect":"Deny","Action":"sagemaker:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    const ENDPOINT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",
        "Action":"sagemaker:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"},
        "IpAddress":{"aws:VpcSourceIp":"10.1.0.0/16"}}}]}"#;
    const BOUNDARY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:*",
        "Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#;
    const SCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:VpcSourceIp":"10.1.2.0/24"}}}]}"#;

    /// Requests over the keys the policies above test, present or not: `(action, context)`.
    fn requests() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
        let mut out = Vec::new();
        for action in [
            "sagemaker:CreatePresignedDomainUrl",
            "sagemaker:DescribeDomain",
            "s3:GetObject",
        ] {
            for vpce in [None, Some("vpce-1"), Some("vpce-2")] {
                for ip in [None, Some("10.1.2.3"), Some("10.1.9.9"), Some("10.2.0.1")] {
                    for tls in [None, Some("true"), Some("false")] {
                        let context = [
                            ("aws:SourceVpce", vpce),
                            ("aws:VpcSourceIp", ip),
                            ("aws:SecureTransport", tls),
                            ("aws:PrincipalAccount", Some("111122223333")),
                        ]
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v?)))
                        .collect();
                        out.push((action, context));
                    }
                }
            }
        }
        out
    }

    const RESOURCE: &str = "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-1/alice";
    const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/R";

    fn owned(action: &str, context: &[(&str, &str)]) -> crate::Request {
        let mut ctx = crate::Context::new();
        for (k, v) in context {
            ctx = ctx.with(k, *v).unwrap();
        }
        crate::Request::new(action, RESOURCE)
            .principal(PRINCIPAL)
            .context(ctx)
    }

    /// Two sets decide alike, explanations included, on [`requests`], owned and borrowed.
    fn same_decisions(a: &PolicySet, b: &PolicySet) {
        for (action, context) in requests() {
            let r = owned(action, &context);
            assert_eq!(a.decide(&r), b.decide(&r), "{r:?}");
            assert_eq!(a.explain(&r), b.explain(&r), "{r:?}");
            let values: Vec<(&str, crate::ValueRef<'_>)> = context
                .iter()
                .map(|&(k, v)| (k, crate::ValueRef::One(v)))
                .collect();
            let borrowed = crate::RequestRef {
                principal: Some(PRINCIPAL),
                action,
                resource: RESOURCE,
                context: &values,
                ..crate::RequestRef::default()
            };
            assert_eq!(a.decide_ref(&borrowed), b.decide_ref(&borrowed), "{r:?}");
            assert_eq!(a.decide_ref(&borrowed), Ok(a.decide(&r)), "{r:?}");
        }
    }

    /// A set composed of compiled policies (with `with_endpoint`, `edit`) shares them, and decides as the set
    /// built from the parsed policies.
    #[test]
    fn composed_sets_share_policies_and_decide_alike() {
        let identity = CompiledPolicy::compile(parsed(IDENTITY), PolicyRef::Identity(0)).unwrap();
        let endpoint = compile_endpoint_policy(parsed(ENDPOINT)).unwrap();
        let base = PolicySet::builder()
            .identity_compiled(identity.clone())
            .identity(parsed(BOUNDARY))
            .build()
            .unwrap();
        let through = base.with_endpoint(Some(endpoint.clone()));
        for set in [&base, &through] {
            assert!(set.get(PolicyRef::Identity(0)).unwrap().shares(&identity));
        }
        assert!(through.get(PolicyRef::Endpoint).unwrap().shares(&endpoint));
        let fresh = PolicySet::builder()
            .identity(parsed(IDENTITY))
            .identity(parsed(BOUNDARY))
            .endpoint(parsed(ENDPOINT))
            .build()
            .unwrap();
        same_decisions(&through, &fresh);
        // Swap back: the same decisions as without an endpoint.
        same_decisions(&through.with_endpoint(None), &base);
        // A boundary and an SCP level added to the composed set: only they are compiled.
        let edited = through
            .edit()
            .boundary(parsed(BOUNDARY))
            .scp_level([parsed(SCP)])
            .build()
            .unwrap();
        assert!(
            edited
                .get(PolicyRef::Identity(0))
                .unwrap()
                .shares(&identity)
        );
        assert!(edited.get(PolicyRef::Endpoint).unwrap().shares(&endpoint));
        let fresh = PolicySet::builder()
            .scp_level([parsed(SCP)])
            .identity(parsed(IDENTITY))
            .identity(parsed(BOUNDARY))
            .boundary(parsed(BOUNDARY))
            .endpoint(parsed(ENDPOINT))
            .build()
            .unwrap();
        same_decisions(&edited, &fresh);
        // The composed sets number statements and slots in their own tables: an SCP level ahead moves every id.
        assert_eq!(
            edited
                .inner
                .placed(PolicyRef::Identity(0))
                .id(&identity.statements[0]),
            2
        );
        assert_eq!(
            through
                .inner
                .placed(PolicyRef::Identity(0))
                .id(&identity.statements[0]),
            0
        );
    }

    /// A compiled policy given at a place of another kind is compiled afresh for it, with that kind's rules.
    #[test]
    fn compiled_policy_of_another_kind_is_recompiled() {
        let identity = CompiledPolicy::compile(parsed(IDENTITY), PolicyRef::Identity(0)).unwrap();
        let e = PolicySet::builder()
            .endpoint_compiled(Some(identity.clone()))
            .build()
            .unwrap_err();
        assert_eq!(e.policy, PolicyRef::Endpoint);
        assert_eq!(e.diagnostic.code, "missing-principal");
        let boundary = PolicySet::builder()
            .boundary_compiled(identity.clone())
            .build()
            .unwrap();
        assert!(!boundary.get(PolicyRef::Boundary).unwrap().shares(&identity));
    }

    /// A lazy set indexes its actions on its second decision, not before, and decides as an eager one.
    #[test]
    fn lazy_set_indexes_on_its_second_decision() {
        let build = |b: PolicySetBuilder, lazy: bool| if lazy { b.build_lazy() } else { b.build() };
        let builder = || {
            PolicySet::builder()
                .identity(parsed(IDENTITY))
                .endpoint(parsed(ENDPOINT))
        };
        let eager = build(builder(), false).unwrap();
        assert!(eager.inner.indexed());
        let (action, context) = requests().swap_remove(20);
        let r = owned(action, &context);
        let lazy = build(builder(), true).unwrap();
        assert!(!lazy.inner.indexed());
        assert_eq!(lazy.decide(&r), eager.decide(&r));
        assert!(!lazy.inner.indexed());
        assert_eq!(lazy.decide(&r), eager.decide(&r));
        assert!(lazy.inner.indexed());
        assert!(lazy.inner.actions().is_some());
        same_decisions(&build(builder(), true).unwrap(), &eager);
    }

    /// A condition key's slot is the same wherever the key is tested, whether the set's keys are few (found in
    /// their list) or many (found through a map): 40 keys, in two policies, each in both of them.
    #[test]
    fn cold_slots_shared_by_equal_keys_few_or_many() {
        for n in [3usize, 16, 17, 40] {
            let conds: Vec<String> = (0..n).map(|i| format!(r#""test:key{i}":"v""#)).collect();
            let policy = |keys: &[String]| {
                Policy::parse(&format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"StringEquals":{{{}}}}}}}}}"#,
                    keys.join(",")
                ))
                .unwrap()
            };
            let mut reversed = conds.clone();
            reversed.reverse();
            let set = PolicySet::builder()
                .identity(policy(&conds))
                .identity(policy(&reversed))
                .build_lazy()
                .unwrap();
            let slots = &set.inner.slots;
            assert_eq!(slots.len(), 2 * n);
            let (first, second) = slots.split_at(n);
            // The first policy gives keys 0..n their slots in order; the second, reversed, finds the same ones.
            assert_eq!(first, (0..n as u32).collect::<Vec<_>>());
            assert_eq!(second, (0..n as u32).rev().collect::<Vec<_>>());
        }
    }

    /// cold7: a set of many conditions (past the size where a cache of recent keys sits in front of the list)
    /// gives each condition the slot of its key's first appearance, for 3 to 40 keys (so also when keys share
    /// the cache's place, and past the list's size, through the map), in 12 policies whose keys turn around.
    #[test]
    fn cold7_many_conditions_take_their_keys_first_slots() {
        for n in [3usize, 15, 16, 17, 40] {
            let mut order: Vec<usize> = Vec::new();
            let mut builder = PolicySet::builder();
            for p in 0..12 {
                // Rotated by `p`, every second policy reversed: the keys in many orders.
                let mut keys: Vec<usize> = (0..n).map(|i| (i + p) % n).collect();
                if p % 2 == 1 {
                    keys.reverse();
                }
                // Each key twice in a policy: once in each of two statements.
                let conds: Vec<String> = keys
                    .iter()
                    .map(|i| format!(r#""test:key{i}":"v""#))
                    .collect();
                let text = format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"StringEquals":{{{c}}}}}}},{{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{{"StringLike":{{{c}}}}}}}]}}"#,
                    c = conds.join(",")
                );
                builder = builder.identity(Policy::parse(&text).unwrap());
                order.extend(keys.iter().chain(keys.iter()));
            }
            let set = builder.build_lazy().unwrap();
            let slots = &set.inner.slots;
            assert_eq!(slots.len(), order.len());
            assert!(
                order.len() > 4 * 32 || n < 16,
                "{n}: {} conditions",
                order.len()
            );
            // A key's slot is the number of distinct keys before its first appearance.
            let mut first: Vec<usize> = Vec::new();
            for (k, s) in order.iter().zip(slots.iter()) {
                let want = first.iter().position(|f| f == k).unwrap_or_else(|| {
                    first.push(*k);
                    first.len() - 1
                });
                assert_eq!(*s as usize, want, "{n} keys: key {k}");
            }
        }
    }

    /// cold4: a set built to decide once makes its key table on its first borrowed request, not when it is built
    /// nor for owned requests (which find their values by key); the table it makes is the eager set's: each key
    /// found in any case, with its slot and type, keys tested in several places or documented included.
    #[test]
    fn cold4_lazy_sets_make_their_key_table_on_first_borrowed_request() {
        for n in [2usize, 16, 17, 40] {
            let mut conds: Vec<String> = (0..n).map(|i| format!(r#""test:Key{i}":"v""#)).collect();
            conds.push(r#""AWS:SourceVpce":"vpce-1""#.into());
            let policy = |keys: &[String], ip: &str| {
                Policy::parse(&format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{{"StringEquals":{{{}}}}}}},
                    {{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{{"IpAddress":{{"{ip}":"10.0.0.0/8"}}}}}}]}}"#,
                    keys.join(",")
                ))
                .unwrap()
            };
            let mut reversed = conds.clone();
            reversed.reverse();
            let builder = || {
                PolicySet::builder()
                    .identity(policy(&conds, "aws:SourceIp"))
                    .identity(policy(&reversed, "aws:sourceip"))
            };
            let eager = builder().build().unwrap();
            let lazy = builder().build_lazy().unwrap();
            assert!(eager.inner.keys.get().is_some());
            assert!(lazy.inner.keys.get().is_none(), "built with the set");
            let context: Vec<(String, String)> = (0..n)
                .map(|i| (format!("TEST:key{i}"), "v".to_string()))
                .chain([("aws:SourceIp".to_string(), "10.1.2.3".to_string())])
                .collect();
            use crate::{ContextValue, Decision, Request, Scalar};
            let mut r = Request::new("s3:GetObject", "arn:aws:s3:::b/k");
            for (k, v) in &context {
                r.context
                    .insert(k, ContextValue::One(Scalar::String(v.clone())))
                    .unwrap();
            }
            assert_eq!(lazy.decide(&r), Decision::ExplicitDeny);
            assert!(lazy.inner.keys.get().is_none(), "made for an owned request");
            let values: Vec<(&str, crate::ValueRef<'_>)> = context
                .iter()
                .map(|(k, v)| (k.as_str(), crate::ValueRef::One(v.as_str())))
                .collect();
            let borrowed = crate::RequestRef {
                action: "s3:GetObject",
                resource: "arn:aws:s3:::b/k",
                context: &values,
                ..crate::RequestRef::default()
            };
            assert_eq!(lazy.decide_ref(&borrowed), Ok(Decision::ExplicitDeny));
            assert!(
                lazy.inner.keys.get().is_some(),
                "not made on a borrowed request"
            );
            // Owned requests only: made with the action index on the second decision, so that a lazy set
            // allocates nothing after it, whatever the next request.
            let owned_only = builder().build_lazy().unwrap();
            let _ = owned_only.decide(&r);
            assert!(owned_only.inner.keys.get().is_none());
            let _ = owned_only.decide(&r);
            assert!(
                owned_only.inner.keys.get().is_some(),
                "not made on the second decision"
            );
            let probes = (0..n + 2).map(|i| format!("Test:KEY{i}")).chain(
                [
                    "aws:sourcevpce",
                    "AWS:SOURCEIP",
                    "aws:SourceVpc",
                    "aws:PrincipalArn",
                    "no:such",
                ]
                .map(String::from),
            );
            for k in probes {
                let entry = |s: &PolicySet| {
                    s.inner
                        .keys()
                        .get_any_case(&k)
                        .map(|e| (e.key.as_str().to_string(), e.slot, e.ty))
                };
                assert_eq!(entry(&lazy), entry(&eager), "{k} of {n}");
            }
        }
    }

    /// Every error of a set is collected, in the order of its policies and statements; the first stays where
    /// callers read it.
    #[test]
    fn compile_error_collects_every_error() {
        let with_principal = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
        let e = PolicySet::builder()
            .scp_level([parsed(IDENTITY)])
            .identity(parsed(with_principal))
            .identity(parsed(IDENTITY))
            .endpoint(parsed(IDENTITY))
            .build()
            .unwrap_err();
        let all: Vec<(PolicyRef, &str, u32)> = e
            .errors()
            .map(|e| (e.policy, e.diagnostic.code, e.diagnostic.span.start))
            .collect();
        let codes: Vec<(PolicyRef, &str)> = all.iter().map(|&(p, c, _)| (p, c)).collect();
        assert_eq!(
            codes,
            [
                (PolicyRef::Identity(0), "principal-not-allowed"),
                (PolicyRef::Identity(0), "principal-not-allowed"),
                (PolicyRef::Endpoint, "missing-principal"),
                (PolicyRef::Endpoint, "missing-principal"),
            ]
        );
        assert!(all.first().unwrap().2 < all.get(1).unwrap().2);
        assert_eq!(e.policy, PolicyRef::Identity(0));
        assert_eq!(
            e.to_string(),
            format!("identity[0]: {}", e.diagnostic.message)
        );
        assert!(e.others.iter().all(|o| o.others.is_empty()));
    }
}

#[cfg(test)]
mod policies_order {
    use super::*;

    /// A one-statement policy named by its `Sid`; RCPs deny and name a principal, resource and endpoint policies
    /// name one, as compile requires of them.
    fn p(sid: &str) -> Policy {
        let principal = if matches!(sid, "r00" | "res" | "end") {
            r#""Principal":"*","#
        } else {
            ""
        };
        let effect = if sid == "r00" { "Deny" } else { "Allow" };
        Policy::parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"{effect}",{principal}"Action":"*","Resource":"*"}}]}}"#
        ))
        .unwrap()
    }

    /// `policies` walks every list in evaluation order, skipping empty SCP and RCP levels wherever they are, and
    /// each place it gives is the one `get` finds the policy at and the one its ordinal (the set's ids) counts.
    #[test]
    fn policies_come_in_evaluation_order_past_empty_levels() {
        let full = PolicySet::builder()
            .scp_level([])
            .scp_level([p("s00"), p("s01")])
            .scp_level([])
            .scp_level([p("s30")])
            .rcp_level([p("r00")])
            .rcp_level([])
            .resource(p("res"))
            .identity(p("i0"))
            .identity(p("i1"))
            .boundary(p("bnd"))
            .session(p("ss0"))
            .endpoint(p("end"))
            .build()
            .unwrap();
        let got: Vec<_> = full.policies().map(|(at, _)| at).collect();
        let want = vec![
            PolicyRef::Scp(1, 0),
            PolicyRef::Scp(1, 1),
            PolicyRef::Scp(3, 0),
            PolicyRef::Rcp(0, 0),
            PolicyRef::Resource,
            PolicyRef::Identity(0),
            PolicyRef::Identity(1),
            PolicyRef::Boundary,
            PolicyRef::Session(0),
            PolicyRef::Endpoint,
        ];
        assert_eq!(got, want);
        let sids = [
            "s00", "s01", "s30", "r00", "res", "i0", "i1", "bnd", "ss0", "end",
        ];
        for (n, ((at, policy), sid)) in full.policies().zip(sids).enumerate() {
            assert!(std::ptr::eq(full.get(at).unwrap(), policy), "{at:?}");
            assert_eq!(policy.statements[0].sid.as_deref(), Some(sid), "{at:?}");
            assert_eq!(full.inner.ordinal(at), n, "{at:?}");
        }
        // Only some lists, and none at all.
        let some = PolicySet::builder()
            .rcp_level([p("r00")])
            .session(p("ss0"))
            .build()
            .unwrap();
        let got: Vec<_> = some.policies().map(|(at, _)| at).collect();
        assert_eq!(got, vec![PolicyRef::Rcp(0, 0), PolicyRef::Session(0)]);
        assert_eq!(PolicySet::builder().build().unwrap().policies().count(), 0);
    }
}
