//! One step of the flow, decided: what the presign record holds per step, and what the findings read.
//!
//! Dependencies: `report` (which decides the steps) and `findings` (which reads them) both depend on this
//! module, and `report` on `findings`; neither is imported here, so the two no longer import each other.

use super::derive::{DerivedStep, StepKind};
use crate::compile::PolicySet;
use crate::context::Request;
use crate::decide::{Decision, Explanation, Reason};
use serde::Serialize;
#[cfg(not(target_arch = "wasm32"))]
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// A step's decision over every address it may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum StepDecision {
    /// Allowed from every address.
    Allow,
    /// Explicitly denied from every address.
    ExplicitDeny,
    /// Denied from every address, with no explicit Deny.
    ImplicitDeny,
    /// The outcomes differ across the source range.
    Mixed,
    /// The request never arrives.
    Unreachable,
}

impl fmt::Display for StepDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepDecision::Allow => "Allow",
            StepDecision::ExplicitDeny => "ExplicitDeny",
            StepDecision::ImplicitDeny => "ImplicitDeny",
            StepDecision::Mixed => "Mixed",
            StepDecision::Unreachable => "Unreachable",
        })
    }
}

impl From<Decision> for StepDecision {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Allow => StepDecision::Allow,
            Decision::ExplicitDeny => StepDecision::ExplicitDeny,
            Decision::ImplicitDeny => StepDecision::ImplicitDeny,
        }
    }
}

/// The decision for one block of source addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The block: a bare address for one host, else a CIDR (`aws:SourceIp` on the public path,
    /// `aws:VpcSourceIp` through an endpoint).
    pub source_ip: String,
    /// The decision for every address of the block.
    pub decision: Decision,
    /// Why (docs/FORMATS.md §2). Shared by every block of the class (and the class itself).
    pub reasons: SharedReasons,
}

/// The reasons of one class of addresses, shared by each of its CIDR blocks: one copy per class, not one per
/// block (1,000 classes of 1,000 reasons over 2,000 blocks held 140 MB of answer several times over). Reads as a
/// slice; serialises as the list of reasons.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SharedReasons(Arc<[Reason]>);

impl SharedReasons {
    /// Whether `self` and `other` are the same list, not only equal ones.
    pub fn same_list(&self, other: &SharedReasons) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl From<Vec<Reason>> for SharedReasons {
    fn from(v: Vec<Reason>) -> Self {
        SharedReasons(v.into())
    }
}

impl std::ops::Deref for SharedReasons {
    type Target = [Reason];
    fn deref(&self) -> &[Reason] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a SharedReasons {
    type Item = &'a Reason;
    type IntoIter = std::slice::Iter<'a, Reason>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for SharedReasons {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl std::borrow::Borrow<[Reason]> for SharedReasons {
    fn borrow(&self) -> &[Reason] {
        &self.0
    }
}

/// Lists of reasons already built, so that equal lists share one allocation across classes and steps (the two
/// steps of one flow often decide each class for the same reasons).
#[derive(Default)]
pub(crate) struct ReasonLists(crate::map::Set<SharedReasons>);

impl ReasonLists {
    /// `reasons` as a shared list: the one already built if an equal one was.
    pub(crate) fn share(&mut self, reasons: Vec<Reason>) -> SharedReasons {
        if let Some(known) = self.0.get(reasons.as_slice()) {
            return known.clone();
        }
        let shared = SharedReasons::from(reasons);
        self.0.insert(shared.clone());
        shared
    }
}

/// One class of addresses that decide alike: the decision, its reasons, and the request of its first address.
#[derive(Debug, Clone)]
pub(crate) struct Class {
    pub decision: Decision,
    pub reasons: SharedReasons,
    pub request: Request,
}

/// The network keys of a step ([`StepReport::context`]) by name, in name order: natively serde_json's map; on
/// `wasm32` [`KeyValues`], a sorted vector, so the module carries no B-tree for it.
#[cfg(not(target_arch = "wasm32"))]
pub type StepContext = Map<String, Value>;
/// The network keys of a step ([`StepReport::context`]) by name, in name order.
#[cfg(target_arch = "wasm32")]
pub type StepContext = KeyValues;

/// A step's keys as a vector sorted by name (see [`StepContext`]); written as the JSON object of its keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub struct KeyValues(pub(crate) Vec<(String, KeyValue)>);

/// One value of [`StepContext`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    /// `true` or `false`.
    Bool(bool),
    /// One string.
    String(String),
    /// A list of strings.
    Strings(Vec<String>),
}

impl KeyValues {
    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Set `key` to `v`; when `key` has a value already, replace it only if `replace`.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn put(&mut self, key: &str, v: KeyValue, replace: bool) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(at) if replace => {
                if let Some(e) = self.0.get_mut(at) {
                    e.1 = v;
                }
            }
            Ok(_) => {}
            Err(at) => self.0.insert(at, (key.to_string(), v)),
        }
    }
}

/// As serde_json's map of the same keys (`Answer::to_json` writes it by hand; this is for other serializers).
impl Serialize for KeyValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            match v {
                KeyValue::Bool(b) => m.serialize_entry(k, b)?,
                KeyValue::String(x) => m.serialize_entry(k, x)?,
                KeyValue::Strings(l) => m.serialize_entry(k, l)?,
            }
        }
        m.end()
    }
}

/// Set `key` to `v` in a step's context; when `key` has a value already, replace it only if `replace`.
pub(crate) fn put(ctx: &mut StepContext, key: &str, v: KeyValue, replace: bool) {
    #[cfg(target_arch = "wasm32")]
    ctx.put(key, v, replace);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let v = match v {
            KeyValue::Bool(b) => Value::Bool(b),
            KeyValue::String(s) => Value::String(s),
            KeyValue::Strings(l) => Value::Array(l.into_iter().map(Value::String).collect()),
        };
        if replace {
            ctx.insert(key.to_string(), v);
        } else {
            ctx.entry(key.to_string()).or_insert(v);
        }
    }
}

/// One step, decided.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Which step: `create` or `use`.
    pub step: StepKind,
    /// The host the request is sent to.
    pub host: String,
    /// The endpoint id, `public`, or null when unreachable.
    pub endpoint: Option<String>,
    /// The path in plain words, one sentence per hop.
    pub path: Vec<String>,
    /// The network keys of the request. A range (the egress, or a range of clients) stands for every address in
    /// it; several ranges are a list.
    pub context: StepContext,
    /// One per CIDR block, in address order; empty when unreachable.
    pub outcomes: Vec<Outcome>,
    /// The step's decision over all its outcomes.
    pub decision: StepDecision,
    /// The step as derived from the network, before any policy was consulted.
    #[serde(skip)]
    pub derived: DerivedStep,
    #[serde(skip)]
    pub(crate) classes: Vec<Class>,
    /// The full explanation of the first class of each distinct decision (at most three): classes differ only in
    /// the address, which decides conditions, never whether a statement's action, resource and principal match.
    /// One per class made 2,000 one-address statements take 2.8 GB.
    #[serde(skip)]
    pub(crate) explanations: Vec<Explanation>,
    /// The policies that decided this step (with the endpoint policy of the endpoint reached, if any).
    #[serde(skip)]
    pub(crate) set: PolicySet,
}
