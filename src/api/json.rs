//! The answers written as JSON by one small writer: the same bytes as `serde_json::to_string` of their `Serialize`
//! impls (tests compare the two on every answer of the corpus), without serde's machinery, which the WebAssembly
//! module would otherwise carry once per field type (about 36 KB of it).
//!
//! Each type writes its fields into an object the caller opened ([`WriteJson::fields`]), so that a flattened
//! field and the `result` tag of [`Answer`] need nothing more than writing fields in order.

use super::{Answer, ApiError, Place};
use super::{
    ConditionOut, Decided, Explained, LintDiagnostic, Linted, PlacedReason, Reached, Related,
    StatementOut,
};
use crate::analyse::{Origin, ReachStep, Values};
use crate::decide::{Decision, Reason};
use crate::diagnostic::Severity;
use crate::network::Finding;
use crate::network::{KeyValue, KeyValues};
use crate::network::{PresignReport, StepDecision, StepReport};
use crate::policy::Effect;
use crate::span::Span;
use ipnet::IpNet;
#[cfg(not(target_arch = "wasm32"))]
use serde_json::Value;

/// The text being written.
pub struct Out(String);

impl Out {
    fn comma(&mut self) {
        if !matches!(self.0.as_bytes().last(), Some(b'{' | b'[') | None) {
            self.0.push(',');
        }
    }

    /// The name of the next field of the object being written.
    fn key(&mut self, name: &str) {
        self.comma();
        self.str(name);
        self.0.push(':');
    }

    /// A JSON string, escaped as serde_json escapes: `"`, `\` and the control characters, nothing else.
    fn str(&mut self, s: &str) {
        self.0.reserve(s.len() + 2);
        self.0.push('"');
        let mut from = 0;
        for (i, b) in s.bytes().enumerate() {
            let short = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..0x20 => "",
                _ => continue,
            };
            self.0.push_str(s.get(from..i).unwrap_or_default());
            from = i + 1;
            if short.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.0.push_str("\\u00");
                for nibble in [b >> 4, b & 0xf] {
                    self.0
                        .push(char::from(*HEX.get(usize::from(nibble)).unwrap_or(&b'0')));
                }
            } else {
                self.0.push_str(short);
            }
        }
        self.0.push_str(s.get(from..).unwrap_or_default());
        self.0.push('"');
    }

    fn num(&mut self, n: usize) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = n;
        loop {
            at -= 1;
            if let Some(d) = digits.get_mut(at) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for d in digits.get(at..).unwrap_or_default() {
            self.0.push(char::from(*d));
        }
    }

    fn bool(&mut self, b: bool) {
        self.0.push_str(if b { "true" } else { "false" });
    }

    fn null(&mut self) {
        self.0.push_str("null");
    }

    /// `{`, the fields of `v`, `}`.
    fn object(&mut self, v: &dyn WriteJson) {
        self.0.push('{');
        v.fields(self);
        self.0.push('}');
    }

    /// A field holding an object.
    fn field(&mut self, name: &str, v: &dyn WriteJson) {
        self.key(name);
        self.object(v);
    }

    fn field_str(&mut self, name: &str, s: &str) {
        self.key(name);
        self.str(s);
    }

    fn field_num(&mut self, name: &str, n: usize) {
        self.key(name);
        self.num(n);
    }

    fn field_bool(&mut self, name: &str, b: bool) {
        self.key(name);
        self.bool(b);
    }

    /// A string field that is null when absent.
    fn field_opt_str(&mut self, name: &str, s: Option<&str>) {
        self.key(name);
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// A string field left out when absent.
    fn field_some_str(&mut self, name: &str, s: Option<&str>) {
        if let Some(s) = s {
            self.field_str(name, s);
        }
    }

    /// An array of `n` items, each written by `item`.
    fn array(&mut self, n: usize, item: &mut dyn FnMut(&mut Out, usize)) {
        self.0.push('[');
        for i in 0..n {
            self.comma();
            item(self, i);
        }
        self.0.push(']');
    }

    fn field_strs(&mut self, name: &str, v: &[String]) {
        self.key(name);
        self.strs(v);
    }

    fn strs(&mut self, v: &[String]) {
        self.array(v.len(), &mut |o, i| {
            o.str(v.get(i).map_or("", String::as_str))
        });
    }

    /// An array of objects.
    fn field_objects<T: WriteJson>(&mut self, name: &str, v: &[T]) {
        self.key(name);
        self.objects(v);
    }

    fn objects<T: WriteJson>(&mut self, v: &[T]) {
        self.0.push('[');
        for x in v {
            self.comma();
            self.object(x);
        }
        self.0.push(']');
    }

    fn nets(&mut self, name: &str, v: &[IpNet]) {
        self.key(name);
        let v: Vec<String> = v.iter().map(crate::ip::net_text).collect();
        self.strs(&v);
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => self.0.push_str(&n.to_string()),
            Value::String(s) => self.str(s),
            Value::Array(a) => self.array(a.len(), &mut |o, i| {
                if let Some(x) = a.get(i) {
                    o.value(x);
                }
            }),
            Value::Object(m) => self.map(m),
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn map(&mut self, m: &serde_json::Map<String, Value>) {
        self.0.push('{');
        for (k, x) in m {
            self.key(k);
            self.value(x);
        }
        self.0.push('}');
    }
}

/// An answer's type, written as the fields of a JSON object ([`Answer::to_json`]).
pub trait WriteJson {
    /// Write this value's fields, each as `"name":value` with the commas between them, into the object the
    /// caller opened.
    fn fields(&self, out: &mut Out);
}

impl<T: WriteJson> Answer<T> {
    /// The answer as one line of JSON (what `serde_json::to_string` writes of it).
    pub fn to_json(&self) -> String {
        match self {
            Answer::Success(v) => answer(Ok(v)),
            Answer::Failure { errors } => answer(Err(errors)),
        }
    }
}

/// An answer's JSON, written by one copy of code for every kind of answer.
fn answer(a: Result<&dyn WriteJson, &[ApiError]>) -> String {
    let mut o = Out(String::new());
    o.0.push('{');
    match a {
        Ok(v) => {
            o.field_str("result", "success");
            v.fields(&mut o);
        }
        Err(errors) => {
            o.field_str("result", "failure");
            o.field_objects("errors", errors);
        }
    }
    o.0.push('}');
    o.0
}

impl WriteJson for () {
    fn fields(&self, _: &mut Out) {}
}

impl WriteJson for ApiError {
    fn fields(&self, o: &mut Out) {
        o.field_str("message", &self.message);
        o.field_some_str("help", self.help.as_deref());
        o.field_some_str("code", self.code);
        o.field_some_str("policy", self.policy.as_deref());
        o.field_some_str("path", self.path.as_deref());
        if let Some(p) = &self.place {
            p.fields(o);
        }
    }
}

impl WriteJson for Place {
    fn fields(&self, o: &mut Out) {
        o.field_num("line", self.line);
        o.field_num("column", self.column);
        o.field_num("end_line", self.end_line);
        o.field_num("end_column", self.end_column);
        o.field("span", &self.span);
    }
}

impl WriteJson for Span {
    fn fields(&self, o: &mut Out) {
        o.field_num("start", self.start as usize);
        o.field_num("end", self.end as usize);
    }
}

/// A place that is null when absent.
fn field_place(o: &mut Out, place: Option<&Place>) {
    match place {
        Some(p) => o.field("place", p),
        None => {
            o.key("place");
            o.null();
        }
    }
}

fn decision(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "Allow",
        Decision::ExplicitDeny => "ExplicitDeny",
        Decision::ImplicitDeny => "ImplicitDeny",
    }
}

fn effect(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "Allow",
        Effect::Deny => "Deny",
    }
}

impl WriteJson for Reason {
    fn fields(&self, o: &mut Out) {
        match self {
            Reason::Statement {
                policy,
                sid,
                statement,
                effect: e,
                ..
            } => {
                o.field_str("policy", &policy.to_string());
                o.field_opt_str("sid", sid.as_deref());
                o.field_num("statement", *statement);
                o.field_str("effect", effect(*e));
            }
            Reason::NoAllow(g) => {
                o.field_str("policy", &g.to_string());
                o.field_str("effect", "NoAllow");
            }
        }
    }
}

impl WriteJson for Decided {
    fn fields(&self, o: &mut Out) {
        o.field_str("decision", decision(self.decision));
        o.field_objects("reasons", &self.reasons);
    }
}

impl WriteJson for Explained {
    fn fields(&self, o: &mut Out) {
        o.field_str("decision", decision(self.decision));
        o.field_objects("reasons", &self.reasons);
        o.field_strs("warnings", &self.warnings);
        o.field_objects("deciding", &self.deciding);
        o.field_objects("statements", &self.statements);
    }
}

impl WriteJson for PlacedReason {
    fn fields(&self, o: &mut Out) {
        self.reason.fields(o);
        if let Some(p) = &self.place {
            o.field("place", p);
        }
    }
}

impl WriteJson for StatementOut {
    fn fields(&self, o: &mut Out) {
        o.field_str("policy", &self.policy);
        o.field_num("statement", self.statement);
        o.field_opt_str("sid", self.sid.as_deref());
        o.field_str("effect", effect(self.effect));
        o.field_bool("applies", self.applies);
        o.field_bool("action_matched", self.action_matched);
        o.field_bool("resource_matched", self.resource_matched);
        o.field_bool("principal_matched", self.principal_matched);
        field_place(o, self.place.as_ref());
        o.field_objects("conditions", &self.conditions);
    }
}

impl WriteJson for ConditionOut {
    fn fields(&self, o: &mut Out) {
        o.field_str("operator", &self.operator);
        o.field_str("key", &self.key);
        o.field_bool("held", self.held);
        o.field_str("why", &self.why);
        o.field_some_str("uncertain", self.uncertain);
        field_place(o, self.place.as_ref());
        o.field_str("outcome", self.outcome.name());
        o.field_strs("values", &self.values);
        o.key("request_values");
        match &self.request_values {
            Some(v) => o.strs(v),
            None => o.null(),
        }
        o.field_strs("matched_values", &self.matched_values);
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

impl WriteJson for Linted {
    fn fields(&self, o: &mut Out) {
        o.field_objects("diagnostics", &self.diagnostics);
        o.field_num("errors", self.errors);
        o.field_num("warnings", self.warnings);
    }
}

impl WriteJson for LintDiagnostic {
    fn fields(&self, o: &mut Out) {
        o.field_str("severity", severity(self.severity));
        o.field_str("code", self.code);
        o.field_str("message", &self.message);
        o.field_some_str("help", self.help.as_deref());
        self.place.fields(o);
        if !self.related.is_empty() {
            o.field_objects("related", &self.related);
        }
    }
}

impl WriteJson for Related {
    fn fields(&self, o: &mut Out) {
        o.field_str("label", &self.label);
        self.place.fields(o);
    }
}

impl WriteJson for PresignReport {
    fn fields(&self, o: &mut Out) {
        o.field_str("network", &self.network);
        o.field_objects("steps", &self.steps);
        o.field_str("verdict", self.verdict.name());
        o.field_objects("findings", &self.findings);
    }
}

fn step_decision(d: StepDecision) -> &'static str {
    match d {
        StepDecision::Allow => "Allow",
        StepDecision::ExplicitDeny => "ExplicitDeny",
        StepDecision::ImplicitDeny => "ImplicitDeny",
        StepDecision::Mixed => "Mixed",
        StepDecision::Unreachable => "Unreachable",
    }
}

impl WriteJson for StepReport {
    fn fields(&self, o: &mut Out) {
        o.field_str("step", &self.step.to_string());
        o.field_str("host", &self.host);
        o.field_opt_str("endpoint", self.endpoint.as_deref());
        o.field_strs("path", &self.path);
        #[cfg(target_arch = "wasm32")]
        o.field("context", &self.context);
        #[cfg(not(target_arch = "wasm32"))]
        {
            o.key("context");
            o.map(&self.context);
        }
        o.field_objects("outcomes", &self.outcomes);
        o.field_str("decision", step_decision(self.decision));
    }
}

impl WriteJson for crate::network::Outcome {
    fn fields(&self, o: &mut Out) {
        o.field_str("source_ip", &self.source_ip);
        o.field_str("decision", decision(self.decision));
        o.field_objects("reasons", &self.reasons);
    }
}

impl WriteJson for Finding {
    fn fields(&self, o: &mut Out) {
        o.field_str("code", self.code);
        o.field_str("severity", severity(self.severity));
        o.field_str("message", &self.message);
        o.field_str("policy", &self.policy);
        o.field_some_str("endpoint", self.endpoint.as_deref());
        o.field_opt_str("sid", self.sid.as_deref());
        o.key("statement");
        match self.statement {
            Some(n) => o.num(n),
            None => o.null(),
        }
        o.field_num("line", self.line);
        o.field_num("column", self.column);
        o.field_str("help", &self.help);
        if let Some(s) = self.step {
            o.field_str("step", &s.to_string());
        }
    }
}

impl WriteJson for Reached {
    fn fields(&self, o: &mut Out) {
        o.field_objects("steps", &self.steps);
    }
}

impl WriteJson for ReachStep {
    fn fields(&self, o: &mut Out) {
        o.field_str(
            "step",
            match self.step {
                crate::analyse::Step::Create => "create",
                crate::analyse::Step::Use => "use",
            },
        );
        o.field_objects("origins", &self.origins);
    }
}

fn values(o: &mut Out, name: &str, v: &Values) {
    match v {
        Values::Any => o.field_str(name, "*"),
        Values::List(l)
            if l.len() == 1 && l.first().is_some_and(|x| x == crate::analyse::OTHER) =>
        {
            o.field_str(name, crate::analyse::OTHER)
        }
        Values::List(l) => o.field_strs(name, l),
    }
}

impl WriteJson for Origin {
    fn fields(&self, o: &mut Out) {
        let (decision_, reasons) = match self {
            Origin::Public {
                source_ip,
                decision,
                reasons,
            } => {
                o.field_str("path", "public");
                o.nets("source_ip", source_ip);
                (decision, reasons)
            }
            Origin::Endpoint {
                vpce,
                vpc,
                vpc_source_ip,
                decision,
                reasons,
            } => {
                o.field_str("path", "endpoint");
                values(o, "vpce", vpce);
                values(o, "vpc", vpc);
                o.nets("vpc_source_ip", vpc_source_ip);
                (decision, reasons)
            }
            Origin::ViaAwsService {
                source_ip,
                decision,
                reasons,
            } => {
                o.field_str("path", "via-aws-service");
                o.nets("source_ip", source_ip);
                (decision, reasons)
            }
        };
        o.field_str("decision", decision(*decision_));
        o.field_objects("reasons", reasons);
    }
}

/// A step's keys on `wasm32` ([`crate::network::StepContext`]), as serde_json writes its map natively.
impl WriteJson for KeyValues {
    fn fields(&self, o: &mut Out) {
        for (k, v) in &self.0 {
            o.key(k);
            match v {
                KeyValue::Bool(b) => o.bool(*b),
                KeyValue::String(s) => o.str(s),
                KeyValue::Strings(l) => o.strs(l),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wasm32 form of a step's keys writes what serde_json writes of the native form, for the same puts.
    #[test]
    fn wasm5_key_values_write_as_the_native_map() {
        let puts = [
            (
                "aws:SourceIp",
                KeyValue::String("203.0.113.0/24".into()),
                true,
            ),
            ("aws:ViaAWSService", KeyValue::Bool(false), true),
            (
                "aws:SourceIp",
                KeyValue::Strings(vec!["a".into(), "b\"".into()]),
                true,
            ),
            ("aws:PrincipalTag/team", KeyValue::String("x".into()), false),
            ("aws:ViaAWSService", KeyValue::Bool(true), false),
            ("aws:SourceVpc", KeyValue::Strings(Vec::new()), false),
        ];
        let (mut native, mut small) = (serde_json::Map::new(), KeyValues::default());
        for (k, v, replace) in puts {
            crate::network::step_put(&mut native, k, v.clone(), replace);
            small.put(k, v, replace);
        }
        let mut o = Out(String::new());
        o.object(&small);
        assert_eq!(o.0, serde_json::to_string(&native).unwrap_or_default());
        assert_eq!(
            o.0,
            r#"{"aws:PrincipalTag/team":"x","aws:SourceIp":["a","b\""],"aws:SourceVpc":[],"aws:ViaAWSService":false}"#
        );
        assert_eq!(serde_json::to_string(&small).unwrap_or_default(), o.0);
        assert!(KeyValues::default().is_empty() && !small.is_empty());
    }
}
