//! `aws iam get-account-authorization-details` exports, read as a stream in two passes so memory stays bounded
//! by the managed policies and groups, never by the roles and users:
//!
//! 1. `Policies` (each managed policy's default version) and `GroupDetailList` (each group's inline and attached
//!    policies);
//! 2. `UserDetailList` and `RoleDetailList`, one element at a time: each user and role becomes a [`Principal`]
//!    with its inline policies, attached managed policies, group policies (users), permissions boundary and tags.
//!
//! Policy documents may be JSON objects (what the AWS CLI writes) or URL-encoded strings (what the IAM API
//! returns). Each document is held to the 1 MiB policy limit of [`Limits`] on its own; the export may be larger.

use super::{InputError, Item, PolicyDoc, Principal};
use crate::limits::Limits;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

/// Whether `head` (the first bytes of a JSON file) looks like an authorization-details export.
pub fn looks_like_gaad(head: &str) -> bool {
    [
        "UserDetailList",
        "RoleDetailList",
        "GroupDetailList",
        "Policies",
    ]
    .iter()
    .any(|k| head.contains(&format!("\"{k}\"")))
}

/// A group: its policies, named `group:NAME/...`.
struct Group {
    inline: Vec<PolicyDoc>,
    attached: Vec<(String, String)>,
}

/// Read the export at `path` (named `source` in the output) and hand each principal, or each error, to `sink`.
pub fn read(path: &Path, source: &str, sink: &mut dyn FnMut(Item)) {
    let limits = Limits::default();
    let mut policies: HashMap<String, PolicyDoc> = HashMap::new();
    let mut groups: HashMap<String, Group> = HashMap::new();
    // Managed policies that are in the export but cannot be used, with where their error record points.
    let mut broken: HashMap<String, String> = HashMap::new();
    // Pass 1: managed policies and groups.
    let pass1 = pass(
        path,
        source,
        &mut |list, i, v| match list {
            List::Policies => match managed_policy(source, i, &v, &limits) {
                Ok(Some((arn, doc))) => {
                    policies.insert(arn, doc);
                }
                Ok(None) => {}
                Err(mut e) => {
                    e.source = format!("{source}#$.Policies[{i}]");
                    if let Some(arn) = str_field(&v, "Arn") {
                        broken.insert(arn.to_string(), e.source.clone());
                    }
                    sink(Item::Error(e));
                }
            },
            List::Groups => match group(source, i, &v, &limits) {
                Ok((name, g)) => {
                    groups.insert(name, g);
                }
                Err(mut e) => {
                    e.source = format!("{source}#$.GroupDetailList[{i}]");
                    sink(Item::Error(e));
                }
            },
            List::Users | List::Roles => {}
        },
        true,
    );
    if let Err(e) = pass1 {
        sink(Item::Error(e));
        return;
    }
    // Pass 2: users and roles, one at a time.
    let pass2 = pass(
        path,
        source,
        &mut |list, i, v| {
            let kind = match list {
                List::Users => "UserDetailList",
                List::Roles => "RoleDetailList",
                List::Policies | List::Groups => return,
            };
            let known = Known {
                policies: &policies,
                broken: &broken,
                groups: &groups,
            };
            sink(principal(source, kind, i, &v, &known, &limits));
        },
        false,
    );
    if let Err(e) = pass2 {
        sink(Item::Error(e));
    }
}

#[derive(Clone, Copy, Debug)]
enum List {
    Policies,
    Groups,
    Users,
    Roles,
}

/// One pass over the file: `first` selects the lists of pass 1, else those of pass 2. A syntax error stops the
/// pass with an error record at its line and column.
fn pass(
    path: &Path,
    source: &str,
    each: &mut dyn FnMut(List, usize, Value),
    first: bool,
) -> Result<(), InputError> {
    let file = std::fs::File::open(path)
        .map_err(|e| InputError::new(source, format!("cannot read `{source}`: {e}"), 1, 1, "$"))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 16, file));
    let mut at = String::from("$");
    let seed = Top {
        each,
        first,
        at: &mut at,
    };
    let result = seed.deserialize(&mut de).and_then(|()| de.end());
    result.map_err(|e| {
        InputError::new(
            source,
            format!("not a valid authorization-details export: {e}"),
            e.line(),
            e.column(),
            &at,
        )
    })
}

struct Top<'a> {
    each: &'a mut dyn FnMut(List, usize, Value),
    first: bool,
    at: &'a mut String,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a JSON object with UserDetailList, GroupDetailList, RoleDetailList and Policies",
        )
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let list = match (key.as_str(), self.first) {
                ("Policies", true) => Some(List::Policies),
                ("GroupDetailList", true) => Some(List::Groups),
                ("UserDetailList", false) => Some(List::Users),
                ("RoleDetailList", false) => Some(List::Roles),
                _ => None,
            };
            *self.at = format!("$.{key}");
            match list {
                Some(list) => map.next_value_seed(Each {
                    list,
                    each: &mut *self.each,
                    at: &mut *self.at,
                    key: &key,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        *self.at = "$".into();
        Ok(())
    }
}

struct Each<'a> {
    list: List,
    each: &'a mut dyn FnMut(List, usize, Value),
    at: &'a mut String,
    key: &'a str,
}

impl<'de> DeserializeSeed<'de> for Each<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Each<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            *self.at = format!("$.{}[{i}]", self.key);
            match seq.next_element::<Value>()? {
                Some(v) => (self.each)(self.list, i, v),
                None => break,
            }
            i += 1;
        }
        Ok(())
    }
}

/// Decode `%XX` escapes (the IAM API's URL-encoded policy documents); `None` if an escape is malformed or the
/// result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The text of a policy document given as an object or as a (possibly URL-encoded) string.
fn document_text(
    v: Option<&Value>,
    source: &str,
    path: &str,
    limits: &Limits,
) -> Result<Arc<str>, InputError> {
    let err = |m: String| InputError::new(source, m, 1, 1, path);
    let text = match v {
        Some(Value::Object(_)) => serde_json::to_string_pretty(v.unwrap_or(&Value::Null))
            .map_err(|e| err(format!("cannot print the policy document: {e}")))?,
        Some(Value::String(s)) if s.trim_start().starts_with('{') => s.clone(),
        Some(Value::String(s)) => percent_decode(s).ok_or_else(|| {
            err("the policy document is neither JSON nor a valid URL-encoded string".into())
        })?,
        Some(_) => {
            return Err(err(
                "the policy document is not an object or a string".into()
            ));
        }
        None => return Err(err("the policy document is missing".into())),
    };
    if text.len() > limits.max_document_bytes {
        return Err(err(format!(
            "the policy document is {} bytes, over the limit of {} bytes",
            text.len(),
            limits.max_document_bytes
        )));
    }
    Ok(text.into())
}

fn str_field<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn missing(source: &str, path: &str, what: &str) -> InputError {
    InputError::new(
        source,
        format!("`{what}` is missing or not a string"),
        1,
        1,
        path,
    )
}

fn managed_policy(
    source: &str,
    i: usize,
    v: &Value,
    limits: &Limits,
) -> Result<Option<(String, PolicyDoc)>, InputError> {
    let path = format!("$.Policies[{i}]");
    let arn = str_field(v, "Arn").ok_or_else(|| missing(source, &path, "Arn"))?;
    let default_id = str_field(v, "DefaultVersionId");
    let versions = v
        .get("PolicyVersionList")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let pick = versions.iter().position(|ver| {
        ver.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true)
            || (default_id.is_some() && str_field(ver, "VersionId") == default_id)
    });
    let Some(j) = pick else {
        return Err(InputError::new(
            source,
            format!("managed policy `{arn}` has no default version in `PolicyVersionList`"),
            1,
            1,
            &path,
        ));
    };
    let doc_path = format!("{path}.PolicyVersionList[{j}].Document");
    let doc = versions.get(j).and_then(|ver| ver.get("Document"));
    let text = document_text(doc, source, &doc_path, limits)?;
    Ok(Some((
        arn.to_string(),
        PolicyDoc {
            name: arn.into(),
            place: format!("{source}#{doc_path}").into(),
            text,
        },
    )))
}

/// Inline policies of a list (`RolePolicyList`, `UserPolicyList`, `GroupPolicyList`).
fn inline_policies(
    v: &Value,
    list: &str,
    prefix: &str,
    source: &str,
    path: &str,
    limits: &Limits,
) -> Result<Vec<PolicyDoc>, InputError> {
    let mut out = Vec::new();
    let items = v
        .get(list)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (k, p) in items.iter().enumerate() {
        let here = format!("{path}.{list}[{k}]");
        let name =
            str_field(p, "PolicyName").ok_or_else(|| missing(source, &here, "PolicyName"))?;
        let doc_path = format!("{here}.PolicyDocument");
        let text = document_text(p.get("PolicyDocument"), source, &doc_path, limits)?;
        out.push(PolicyDoc {
            name: format!("{prefix}inline:{name}").into(),
            place: format!("{source}#{doc_path}").into(),
            text,
        });
    }
    Ok(out)
}

/// The ARNs of `AttachedManagedPolicies`, with the JSON path of each.
fn attached(v: &Value, path: &str) -> Vec<(String, String)> {
    v.get("AttachedManagedPolicies")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(k, p)| {
            (
                str_field(p, "PolicyArn").unwrap_or_default().to_string(),
                format!("{path}.AttachedManagedPolicies[{k}]"),
            )
        })
        .collect()
}

fn group(
    source: &str,
    i: usize,
    v: &Value,
    limits: &Limits,
) -> Result<(String, Group), InputError> {
    let path = format!("$.GroupDetailList[{i}]");
    let name = str_field(v, "GroupName").ok_or_else(|| missing(source, &path, "GroupName"))?;
    let inline = inline_policies(
        v,
        "GroupPolicyList",
        &format!("group:{name}/"),
        source,
        &path,
        limits,
    )?;
    Ok((
        name.to_string(),
        Group {
            inline,
            attached: attached(v, &path),
        },
    ))
}

/// What pass 1 found: the managed policies (and those that could not be read), and the groups.
struct Known<'a> {
    policies: &'a HashMap<String, PolicyDoc>,
    broken: &'a HashMap<String, String>,
    groups: &'a HashMap<String, Group>,
}

fn resolve(
    known: &Known<'_>,
    arn: &str,
    source: &str,
    path: &str,
) -> Result<PolicyDoc, InputError> {
    if let Some(doc) = known.policies.get(arn) {
        return Ok(doc.clone());
    }
    let message = match known.broken.get(arn) {
        Some(at) => {
            format!("managed policy `{arn}` could not be read (see the error record for `{at}`)")
        }
        None => format!(
            "managed policy `{arn}` is not in the export's `Policies` list; export it too (the AWS CLI's default filter includes it)"
        ),
    };
    Err(InputError::new(source, message, 1, 1, path))
}

fn principal(
    source: &str,
    kind: &str,
    i: usize,
    v: &Value,
    known: &Known<'_>,
    limits: &Limits,
) -> Item {
    match build_principal(source, kind, i, v, known, limits) {
        Ok(p) => Item::Principal(Box::new(p)),
        Err(mut e) => {
            // The record names the principal; `path` says where in it.
            e.source = format!("{source}#$.{kind}[{i}]");
            Item::Error(e)
        }
    }
}

fn build_principal(
    source: &str,
    kind: &str,
    i: usize,
    v: &Value,
    known: &Known<'_>,
    limits: &Limits,
) -> Result<Principal, InputError> {
    let path = format!("$.{kind}[{i}]");
    let arn = str_field(v, "Arn").ok_or_else(|| missing(source, &path, "Arn"))?;
    let list = if kind == "RoleDetailList" {
        "RolePolicyList"
    } else {
        "UserPolicyList"
    };
    let mut identity = inline_policies(v, list, "", source, &path, limits)?;
    for (a, p) in attached(v, &path) {
        identity.push(resolve(known, &a, source, &p)?);
    }
    let group_names = v
        .get("GroupList")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (k, g) in group_names.iter().enumerate() {
        let here = format!("{path}.GroupList[{k}]");
        let name = g.as_str().unwrap_or_default();
        let group = known.groups.get(name).ok_or_else(|| {
            InputError::new(
                source,
                format!("group `{name}` is not in the export's `GroupDetailList`"),
                1,
                1,
                &here,
            )
        })?;
        identity.extend(group.inline.iter().cloned());
        for (a, p) in &group.attached {
            identity.push(resolve(known, a, source, p)?);
        }
    }
    let boundary = match v.get("PermissionsBoundary") {
        Some(b) if !b.is_null() => {
            let here = format!("{path}.PermissionsBoundary");
            let a = str_field(b, "PermissionsBoundaryArn")
                .ok_or_else(|| missing(source, &here, "PermissionsBoundaryArn"))?;
            Some(resolve(known, a, source, &here)?)
        }
        _ => None,
    };
    let tags = v
        .get("Tags")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            Some((
                str_field(t, "Key")?.to_string(),
                str_field(t, "Value")?.to_string(),
            ))
        })
        .collect();
    Ok(Principal {
        arn: arn.into(),
        source: format!("{source}#{path}").into(),
        identity,
        boundary,
        scps: None,
        rcps: None,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatif_percent_decode() {
        assert_eq!(
            percent_decode("%7B%22Version%22%3A%222012-10-17%22%7D").as_deref(),
            Some(r#"{"Version":"2012-10-17"}"#)
        );
        assert_eq!(percent_decode("%7"), None);
        assert_eq!(percent_decode("%zz"), None);
    }

    fn items(text: &str) -> Vec<Item> {
        let dir =
            std::env::temp_dir().join(format!("iamgate-gaad-{}", crate::whatif::stable_hash(text)));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gaad.json");
        std::fs::write(&path, text).unwrap();
        let mut out = Vec::new();
        read(&path, "gaad.json", &mut |i| out.push(i));
        out
    }

    /// A role gets its inline, attached managed (default version only, URL-encoded or not) policies, boundary
    /// and tags; a user also gets its groups' policies; the `Policies` list may come after the roles.
    #[test]
    fn whatif_gaad_resolves_policies_as_aws_does() {
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        let encoded: String = allow.bytes().map(|b| format!("%{b:02X}")).collect();
        let text = format!(
            r#"{{"UserDetailList":[{{"UserName":"u","Arn":"arn:aws:iam::111122223333:user/u","GroupList":["g"],
                 "UserPolicyList":[],"AttachedManagedPolicies":[]}}],
               "GroupDetailList":[{{"GroupName":"g","GroupPolicyList":[{{"PolicyName":"gp","PolicyDocument":{allow}}}],
                 "AttachedManagedPolicies":[{{"PolicyName":"M","PolicyArn":"arn:aws:iam::111122223333:policy/M"}}]}}],
               "RoleDetailList":[{{"RoleName":"r","Arn":"arn:aws:iam::111122223333:role/r",
                 "RolePolicyList":[{{"PolicyName":"in","PolicyDocument":"{encoded}"}}],
                 "AttachedManagedPolicies":[{{"PolicyName":"M","PolicyArn":"arn:aws:iam::111122223333:policy/M"}}],
                 "PermissionsBoundary":{{"PermissionsBoundaryType":"Policy","PermissionsBoundaryArn":"arn:aws:iam::111122223333:policy/B"}},
                 "Tags":[{{"Key":"team","Value":"ml"}}]}}],
               "Policies":[{{"PolicyName":"M","Arn":"arn:aws:iam::111122223333:policy/M","DefaultVersionId":"v2",
                  "PolicyVersionList":[{{"VersionId":"v1","IsDefaultVersion":false,"Document":{{"Statement":[]}}}},
                                       {{"VersionId":"v2","IsDefaultVersion":true,"Document":{allow}}}]}},
                 {{"PolicyName":"B","Arn":"arn:aws:iam::111122223333:policy/B",
                  "PolicyVersionList":[{{"VersionId":"v1","IsDefaultVersion":true,"Document":{allow}}}]}}]}}"#
        );
        let out = items(&text);
        assert_eq!(out.len(), 2, "{out:?}");
        let Item::Principal(u) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(&*u.arn, "arn:aws:iam::111122223333:user/u");
        assert_eq!(&*u.source, "gaad.json#$.UserDetailList[0]");
        let names: Vec<&str> = u.identity.iter().map(|d| &*d.name).collect();
        assert_eq!(
            names,
            ["group:g/inline:gp", "arn:aws:iam::111122223333:policy/M"]
        );
        let Item::Principal(r) = &out[1] else {
            panic!("{out:?}")
        };
        let names: Vec<&str> = r.identity.iter().map(|d| &*d.name).collect();
        assert_eq!(names, ["inline:in", "arn:aws:iam::111122223333:policy/M"]);
        assert_eq!(&*r.identity[0].text, allow);
        assert!(
            r.identity[1].text.contains("s3:*"),
            "the default version, not v1"
        );
        assert_eq!(
            &*r.identity[1].place,
            "gaad.json#$.Policies[0].PolicyVersionList[1].Document"
        );
        assert_eq!(
            r.boundary.as_ref().map(|b| &*b.name),
            Some("arn:aws:iam::111122223333:policy/B")
        );
        assert_eq!(r.tag("Team"), Some("ml"));
    }

    /// A dangling managed policy, a missing group and a broken document each give an error record at their
    /// place; the other principals still come through; a syntax error names its line and column.
    #[test]
    fn whatif_gaad_loses_nothing() {
        let text = r#"{"RoleDetailList":[
            {"Arn":"arn:aws:iam::111122223333:role/ok","RolePolicyList":[]},
            {"Arn":"arn:aws:iam::111122223333:role/dangling","AttachedManagedPolicies":[{"PolicyArn":"arn:aws:iam::aws:policy/Gone"}]},
            {"Arn":"arn:aws:iam::111122223333:role/bad","RolePolicyList":[{"PolicyName":"x","PolicyDocument":"%zz"}]},
            {"RoleName":"no-arn"},
            {"Arn":"arn:aws:iam::111122223333:role/uses-broken","AttachedManagedPolicies":[{"PolicyArn":"arn:aws:iam::111122223333:policy/NoDefault"}]}],
          "UserDetailList":[{"Arn":"arn:aws:iam::111122223333:user/u","GroupList":["nope"]}],
          "Policies":[{"Arn":"arn:aws:iam::111122223333:policy/NoDefault","PolicyVersionList":[]}]}"#;
        let out = items(text);
        let errors: Vec<&InputError> = out
            .iter()
            .filter_map(|i| match i {
                Item::Error(e) => Some(e),
                Item::Principal(_) => None,
            })
            .collect();
        // The broken managed policy, then (pass 2) the roles and the user.
        assert_eq!(out.len(), 7);
        assert_eq!(errors.len(), 6);
        assert_eq!(errors[0].source, "gaad.json#$.Policies[0]");
        assert!(
            errors[0].error.message.contains("no default version"),
            "{errors:?}"
        );
        let uses_broken = errors
            .iter()
            .find(|e| e.source == "gaad.json#$.RoleDetailList[4]")
            .unwrap();
        assert!(
            uses_broken
                .error
                .message
                .contains("could not be read (see the error record for `gaad.json#$.Policies[0]`)"),
            "{uses_broken:?}"
        );
        let paths: Vec<&str> = errors.iter().map(|e| e.error.path.as_str()).collect();
        assert!(
            paths.contains(&"$.RoleDetailList[1].AttachedManagedPolicies[0]"),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"$.RoleDetailList[2].RolePolicyList[0].PolicyDocument"),
            "{paths:?}"
        );
        assert!(paths.contains(&"$.RoleDetailList[3]"), "{paths:?}");
        assert!(
            paths.contains(&"$.UserDetailList[0].GroupList[0]"),
            "{paths:?}"
        );

        let broken = items(
            "{\"RoleDetailList\":[\n{\"Arn\":\"arn:aws:iam::111122223333:role/a\"},\n{\"Arn\": }]}",
        );
        let Some(Item::Error(e)) = broken.last() else {
            panic!("{broken:?}")
        };
        assert_eq!(
            (e.error.line, e.error.path.as_str()),
            (3, "$.RoleDetailList")
        );
    }
}
