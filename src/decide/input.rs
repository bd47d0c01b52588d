//! The request as a decision reads it, prepared once per decision ([`Input`]): the statements its action matches
//! (from the set's action index), a borrowed request's context keys in their slots (resolved beforehand by a
//! [`KeyLayout`]), each key's value as the conditions read it, and whether principal and resource share an account.
//! The first step of the pipeline: the conditions, the statement tests and the walk read it; it reads none of them.

use super::Decision;
use crate::compile::{CStatement, Inner, KeyEntry, KeyInfo, MASK_WORDS, PolicySet};
use crate::context::{
    Context, ContextError, ContextValue, Entry, Found, KeyType, Request, RequestRef, Scalar,
    ScalarRef, ValueRef, Values, check_type, is_account_id,
};
use crate::lower::LCondition;
use crate::policy::pattern::Vars;
use std::cell::{Cell, OnceCell};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// How many condition keys a decision keeps on the stack; a set with more looks the others up each time.
const SLOTS: usize = 16;

/// Where a request's context comes from.
#[derive(Clone, Copy)]
enum Source<'r> {
    Owned(&'r Context),
    Borrowed(&'r RequestRef<'r>),
}

/// A request prepared once per decision: the statements its action matches (from the set's action index), for a
/// borrowed request where each condition key's value is, and, computed on first use, whether principal and
/// resource share an account. Nothing is allocated.
#[derive(Clone)]
pub(crate) struct Input<'r> {
    pub(super) principal: Option<&'r str>,
    pub(super) action: &'r str,
    pub(super) resource: &'r str,
    resource_account: Option<&'r str>,
    source: Source<'r>,
    /// One bit per statement id: whether its `Action`/`NotAction` matches. `None` for an action the set names
    /// (its plan decides it, and the full walk reads the mask from its entry) and for a set too large to index
    /// (each statement matches its patterns).
    pub(super) mask: Option<[u64; MASK_WORDS]>,
    /// The action's entry in the set's action index, when the set names it.
    pub(super) entry: Option<usize>,
    /// `service_bit` of the action's service (every bit when it has none), for a set without an index.
    service: u64,
    /// For a borrowed request, the value of each slot's key (`None`: absent). The keys of slots past `SLOTS`
    /// are looked up by name.
    vals: [Option<&'r ValueRef<'r>>; SLOTS],
    /// For a borrowed request, the addresses parsed at ingest: `(1 + slot, address)`, 0 unused.
    ips: [(u8, IpAddr); 2],
    same_account: OnceCell<bool>,
    /// Where the resource's account field lies (`start..end`), once a literal resource pattern holding it has
    /// matched (see `crate::lower::LLiteral::account`); `(0, 0)` until then.
    pub(super) resource_account_at: Cell<(u16, u16)>,
}

/// The context keys a caller sends, in its order, resolved against one [`PolicySet`] by
/// [`PolicySet::key_layout`]: see [`PolicySet::decide_ref_with`].
#[derive(Clone)]
pub struct KeyLayout {
    pub(super) set: Arc<Inner>,
    /// Each key as given, and what the set knows of it.
    keys: Box<[LaidKey]>,
}

/// A key of a [`KeyLayout`].
#[derive(Clone)]
struct LaidKey {
    text: Box<str>,
    shape: crate::context::Shape,
    /// What the set knows of it.
    info: Option<KeyInfo>,
}

impl fmt::Debug for LaidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("")
            .field(&self.text)
            .field(&self.info)
            .finish()
    }
}

impl fmt::Debug for KeyLayout {
    /// The keys and what the set knows of them (not the set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLayout")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl PolicySet {
    /// Resolve the context keys a caller sends, in its order, for [`PolicySet::decide_ref_with`]. Keys the set
    /// does not know are kept too (they are then skipped by one comparison). Keys are matched as
    /// [`RequestRef`] matches them: in any case.
    pub fn key_layout<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> KeyLayout {
        KeyLayout {
            set: Arc::clone(&self.inner),
            keys: keys
                .into_iter()
                .map(|k| LaidKey {
                    shape: crate::context::Shape::of(k.as_bytes()),
                    text: k.into(),
                    info: self.inner.keys().get_any_case(k).map(KeyEntry::info),
                })
                .collect(),
        }
    }
}

impl KeyLayout {
    /// How many places past the last key found a request's key is looked for in the layout before it is
    /// looked up in the set: keys left out of a request cost a comparison each, a key out of order at most this
    /// many.
    const LOOK_AHEAD: usize = 8;

    /// Where `key` (the same bytes) is among the [`KeyLayout::LOOK_AHEAD`] keys from `from`, and what the set
    /// knows of it.
    #[inline]
    fn find(&self, from: usize, key: &str) -> Option<(usize, Option<KeyInfo>)> {
        let ahead = self.keys.get(from..)?.iter().take(Self::LOOK_AHEAD);
        let (j, k) = ahead
            .enumerate()
            .find(|(_, k)| k.shape.is(k.text.as_bytes(), key.as_bytes()))?;
        Some((from + j, k.info))
    }
}

impl<'r> Input<'r> {
    fn base(
        set: &Inner,
        source: Source<'r>,
        action: &'r str,
        resource: &'r str,
        principal: Option<&'r str>,
        resource_account: Option<&'r str>,
    ) -> Input<'r> {
        let (entry, mask, service) = action_mask(set, action);
        Input {
            principal,
            action,
            resource,
            resource_account,
            source,
            mask,
            entry,
            service,
            vals: [None; SLOTS],
            ips: [(0, IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)); 2],
            same_account: OnceCell::new(),
            resource_account_at: Cell::new((0, 0)),
        }
    }

    /// This input with `mask` for its statements' actions (the full walk's, see [`Input::mask`]).
    #[inline]
    pub(super) fn with_mask(&self, mask: Option<[u64; MASK_WORDS]>) -> Input<'r> {
        Input {
            mask,
            ..self.clone()
        }
    }

    /// Whether the action and resource have the shape [`crate::context::check_shape`] asks for. An action the set's
    /// index names has it (only well-formed literals get an entry), so only another is read; a resource whose
    /// account field a decision has located (`resource_account_at`) has its five colons.
    #[inline(always)]
    pub(super) fn well_formed(&self) -> bool {
        !self.suspect(Decision::Allow)
    }

    /// Whether the checked forms must look at the request's shape after `decision`: always when the action is
    /// malformed or the resource does not start as `*` or an ARN does; when the resource only lacks an ARN's
    /// six fields, only if `decision` allows (a deny stands: finding the colons would cost every denied request
    /// a scan of its resource). Checked after the decision, which has often found the colons.
    #[inline(always)]
    pub(super) fn suspect(&self, decision: Decision) -> bool {
        let colons_known = decision != Decision::Allow || self.resource_account_at.get().1 != 0;
        !((self.entry.is_some() || action_ok_out_of_line(self.action))
            && crate::shape::resource_ok_given(self.resource, colons_known))
    }

    /// An owned, already checked request: its entries carry their keys' hashes, so a condition finds its key
    /// by scanning them (see `Input::entry`).
    #[inline]
    pub(super) fn owned(set: &Inner, req: &'r Request) -> Input<'r> {
        Input::base(
            set,
            Source::Owned(&req.context),
            &req.action,
            &req.resource,
            req.principal.as_deref(),
            req.resource_account.as_deref(),
        )
    }

    /// A borrowed request: each key matched to the set's keys case-insensitively, the values of keys with a
    /// documented type checked (an IP parsed once, here), each condition key's value put in its slot.
    #[inline]
    pub(super) fn borrowed(
        set: &Inner,
        req: &'r RequestRef<'r>,
        layout: Option<&KeyLayout>,
    ) -> Result<Input<'r>, ContextError> {
        let mut inp = Input::unchecked(set, req);
        inp.ingest(set, req, layout)?;
        Ok(inp)
    }

    /// A borrowed request before [`Input::ingest`]: no context key in a slot yet.
    #[inline]
    pub(super) fn unchecked(set: &Inner, req: &'r RequestRef<'r>) -> Input<'r> {
        Input::base(
            set,
            Source::Borrowed(req),
            req.action,
            req.resource,
            req.principal,
            req.resource_account,
        )
    }

    /// Put each context key of `req` in its slot (see [`Input::borrowed`]), in place.
    #[inline]
    pub(super) fn ingest(
        &mut self,
        set: &Inner,
        req: &'r RequestRef<'r>,
        layout: Option<&KeyLayout>,
    ) -> Result<(), ContextError> {
        let mut next = 0;
        // Once per request: a set built to decide once makes its key table here, on its first borrowed request.
        let keys = set.keys();
        for (key, value) in req.context {
            let known = match layout.and_then(|l| l.find(next, key)) {
                Some((at, info)) => {
                    next = at + 1;
                    info
                }
                None => keys.get_any_case(key).map(KeyEntry::info),
            };
            let Some(k) = known else {
                continue;
            };
            // Text needs no check; an IP key's single address is kept.
            // A key with a documented type is single-valued: a list is refused, as `Context::insert` refuses it.
            let ip = match (k.ty, value) {
                (None, _) | (Some(KeyType::String), ValueRef::One(_)) => None,
                (Some(ty), ValueRef::One(s)) => check_type(key, ty, ScalarRef::String(s))?,
                (Some(_), ValueRef::Many(_)) => return Err(crate::context::listed(key)),
            };
            let Some((slot, cell)) = k.slot.and_then(|s| Some((s, self.vals.get_mut(s)?))) else {
                continue;
            };
            *cell = Some(value);
            if k.ty == Some(KeyType::Ip) {
                self.note_ip(slot, ip);
            }
        }
        Ok(())
    }

    /// Keep `ip`, the address of the key of `slot` (`None`: its value has none to keep), in place of any
    /// address the key had.
    #[inline]
    fn note_ip(&mut self, slot: usize, ip: Option<IpAddr>) {
        let tag = u8::try_from(slot + 1).unwrap_or(0);
        let at = match self.ips.iter().position(|&(s, _)| s == tag) {
            Some(at) => at,
            None => match self.ips.iter().position(|&(s, _)| s == 0) {
                Some(at) => at,
                // Both taken: the key is looked up and parsed again when read.
                None => return,
            },
        };
        if let Some(cell) = self.ips.get_mut(at) {
            *cell = match ip {
                Some(a) => (tag, a),
                None => (0, IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            };
        }
    }

    /// The value of the key `key` (lowercase, `text_hash` `hash`), whose slot in the set is `slot`.
    #[inline]
    pub(super) fn value(&self, slot: usize, key: &str, hash: u64) -> Option<Found<'r>> {
        let req = match self.source {
            Source::Owned(ctx) => return ctx.entry_hashed(key, hash).map(Found::entry),
            Source::Borrowed(req) => req,
        };
        match self.vals.get(slot) {
            Some(v) => v.map(|v| Found {
                values: Values::of(v),
                ip: self.noted_ip(slot),
            }),
            None => req.get_lower(key).map(|v| Found {
                values: Values::of(v),
                ip: None,
            }),
        }
    }

    /// The address parsed at ingest for the key of `slot`, if any (a borrowed request's).
    #[inline]
    pub(super) fn noted_ip(&self, slot: usize) -> Option<IpAddr> {
        self.ips
            .iter()
            .find(|(s, _)| usize::from(*s) == slot + 1)
            .map(|(_, a)| *a)
    }

    /// The value of the key lowered condition `c` reads, as the lowered tests take it.
    #[inline]
    pub(super) fn quick(&self, c: &LCondition) -> Quick<'r> {
        let slot = c.slot as usize;
        if let Source::Owned(ctx) = self.source {
            return match ctx.entry_hashed(&c.key, c.hash) {
                None => Quick::Absent,
                Some(Entry {
                    value: ContextValue::One(Scalar::String(s)),
                    ip,
                    ..
                }) => Quick::One(s, *ip),
                Some(e) => Quick::Other(Found::entry(e)),
            };
        }
        if let Some(v) = self.vals.get(slot) {
            return match v {
                None => Quick::Absent,
                Some(ValueRef::One(s)) => Quick::One(s, None),
                Some(v) => Quick::Other(Found {
                    values: Values::of(v),
                    ip: None,
                }),
            };
        }
        match self.value(slot, &c.key, c.hash) {
            None => Quick::Absent,
            Some(f) => match f.one_str() {
                Some(s) => Quick::One(s, f.ip),
                None => Quick::Other(f),
            },
        }
    }

    pub(super) fn vars(&self) -> &'r dyn Vars {
        match self.source {
            Source::Owned(ctx) => ctx,
            Source::Borrowed(req) => req,
        }
    }

    /// Whether statement `st`'s `Action`/`NotAction` matches.
    #[inline]
    pub(super) fn action_matches(&self, id: usize, st: &CStatement) -> bool {
        match &self.mask {
            Some(m) => m.get(id / 64).is_some_and(|w| w >> (id % 64) & 1 == 1),
            // A service whose bit the statement lacks matches none of its patterns (`NotAction` has every bit).
            None => {
                (st.any_action
                    || (st.services & self.service != 0
                        && st.actions.iter().any(|a| a.matches(self.action))))
                    != st.not_action
            }
        }
    }

    /// Whether principal and resource are in the same account (true when either is unknown), computed once.
    pub(super) fn same_account(&self) -> bool {
        *self.same_account.get_or_init(|| self.accounts_agree())
    }

    /// [`Input::same_account`], computed each time (the fast path asks at most once).
    pub(super) fn accounts_agree(&self) -> bool {
        use crate::policy::arn::{account_field, account_field_at, account_is};
        let Some(principal) = self.principal else {
            return true;
        };
        let (start, end) = self.resource_account_at.get();
        // An account field read from the resource ARN has no colon, as `account_is` needs.
        let (resource_account, field) = match self.resource_account {
            Some(a) => (Some(a.as_bytes()), false),
            None if end != 0 => (
                self.resource
                    .as_bytes()
                    .get(usize::from(start)..usize::from(end)),
                true,
            ),
            None => {
                let at = account_field_at(self.resource);
                // Kept for `well_formed` (and any later gate), as a literal resource test keeps it.
                if let Some((fourth, fifth)) = at.filter(|(f, e)| f + 1 < *e) {
                    if let (Ok(s), Ok(e)) = (u16::try_from(fourth + 1), u16::try_from(fifth)) {
                        self.resource_account_at.set((s, e));
                    }
                }
                let field = at.and_then(|(f, e)| self.resource.get(f + 1..e));
                (field.filter(|a| !a.is_empty()).map(str::as_bytes), true)
            }
        };
        // Without its own, the resource is in the principal's account.
        let Some(resource_account) = resource_account else {
            return true;
        };
        if field && account_is(principal.as_bytes(), resource_account) {
            return true;
        }
        let principal_account =
            account_field(principal).or_else(|| Some(principal).filter(|p| is_account_id(p)));
        principal_account.is_none_or(|p| crate::context::eq_bytes(p.as_bytes(), resource_account))
    }
}

/// [`crate::shape::action_ok`], out of line: only an action the set's index does not name needs it.
#[inline(never)]
fn action_ok_out_of_line(action: &str) -> bool {
    crate::shape::action_ok(action)
}

/// `service_bit` of the service of `action` (every bit when it has none). Out of line: only a set without an
/// action index needs it.
#[inline(never)]
fn service_bit(action: &str) -> u64 {
    action.split_once(':').map_or(u64::MAX, |(s, _)| {
        1 << (crate::context::key_hash(s.as_bytes()) & 63)
    })
}

/// A key's value as a lowered condition reads it.
pub(super) enum Quick<'r> {
    Absent,
    /// One string, and its address when one was parsed already.
    One(&'r str, Option<IpAddr>),
    /// Anything else: a list, or a typed value.
    Other(Found<'r>),
}

/// For `Input`: the action's entry in the set's action index, when the set names it; otherwise, when the set has
/// an index, which of its statements the action matches; and `service_bit` of the action when it has none.
#[inline]
fn action_mask(set: &Inner, action: &str) -> (Option<usize>, Option<[u64; MASK_WORDS]>, u64) {
    let Some(index) = set.actions_for_decision() else {
        return (None, None, service_bit(action));
    };
    if let Some(i) = index.find(action) {
        return (Some(i), None, u64::MAX);
    }
    let mut m = index.unknown;
    let wild = &index.wild;
    for st in &wild.statements {
        if wild.matches(st, action) != st.not_action {
            if let Some(w) = m.get_mut(st.id / 64) {
                *w |= 1 << (st.id % 64);
            }
        }
    }
    (None, Some(m), u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    /// `decide_ref_with` reads the layout rather than looking keys up: a forged layout that calls the set's key
    /// unknown makes the request decide as if the key were absent. (`key_layout` never builds such a layout;
    /// the forgery only shows which path the decision took.)
    #[test]
    fn decide_ref_with_reads_the_layout() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#;
        let build = || {
            PolicySet::builder()
                .identity(Policy::parse(text).unwrap())
                .build()
                .unwrap()
        };
        let set = build();
        let context = [("aws:SourceVpce", ValueRef::One("vpce-1"))];
        let req = RequestRef {
            principal: Some("arn:aws:iam::111122223333:role/R"),
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/k",
            context: &context,
            ..RequestRef::default()
        };
        let layout = set.key_layout(["aws:SourceVpce"]);
        assert_eq!(set.decide_ref_with(&layout, &req), Ok(Decision::Allow));
        let mut forged = layout.clone();
        if let Some(k) = forged.keys.get_mut(0) {
            k.info = None;
        }
        assert_eq!(
            set.decide_ref_with(&forged, &req),
            Ok(Decision::ImplicitDeny)
        );
        // A clone of the set shares its layouts; an equal set built again ignores them.
        assert_eq!(
            set.clone().decide_ref_with(&forged, &req),
            Ok(Decision::ImplicitDeny)
        );
        assert_eq!(build().decide_ref_with(&forged, &req), Ok(Decision::Allow));
    }
}
