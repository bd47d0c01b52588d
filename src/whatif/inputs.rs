//! What-if inputs: policy files and folders of them, Case JSONL files and authorization-details exports.
//!
//! - A `.json` file that is an `aws iam get-account-authorization-details` export ([`super::gaad`]) yields its
//!   users and roles.
//! - Any other `.json` file is one identity policy, and one principal named by the file:
//!   `arn:aws:iam::ACCOUNT:role/STEM` where STEM is the file name without `.json` (ACCOUNT from the first
//!   network, or `000000000000`).
//! - A `.jsonl` file holds Cases (docs/FORMATS.md §1; docs/whatif.md): each line is a principal with its
//!   `identity_policies`, `permissions_boundary`, `scps` and `rcps`, named by `request.principal` (or `id`); the
//!   request's action, resource and context are ignored, the networks supply them.
//! - A `.json` file with a top-level `request` and no `Statement` is one Case, pretty-printed (as in
//!   corpus/cases/).
//! - A folder contributes every `.json` and `.jsonl` file under it, sorted.

use super::{InputError, Item, PolicyDoc, Principal, gaad};
use crate::limits::Limits;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The files under `paths` (folders recursed and sorted) that what-if reads; unreadable folders become errors.
pub fn files(paths: &[PathBuf], errors: &mut Vec<InputError>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let mut found = Vec::new();
        let mut stack = vec![p.clone()];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) => {
                    let s = dir.display().to_string();
                    errors.push(InputError::new(
                        &s,
                        format!("cannot read `{s}`: {e}"),
                        1,
                        1,
                        "$",
                    ));
                    continue;
                }
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else if matches!(
                    path.extension().and_then(|x| x.to_str()),
                    Some("json" | "jsonl")
                ) {
                    found.push(path);
                }
            }
        }
        found.sort();
        out.extend(found);
    }
    out
}

/// Read one input file and hand each principal or error to `sink`. `account` names the principals of plain
/// policy files.
pub fn read(path: &Path, account: &str, sink: &mut dyn FnMut(Item)) {
    let source = path.display().to_string();
    let err = |m: String| Item::Error(InputError::new(&source, m, 1, 1, "$"));
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return sink(err(format!("cannot read `{source}`: {e}"))),
    };
    if path.extension().and_then(|x| x.to_str()) == Some("jsonl") {
        return read_cases(BufReader::new(file), &source, sink);
    }
    let mut head = Vec::with_capacity(4096);
    if let Err(e) = file.take(4096).read_to_end(&mut head) {
        return sink(err(format!("cannot read `{source}`: {e}")));
    }
    if gaad::looks_like_gaad(&String::from_utf8_lossy(&head)) {
        return gaad::read(path, &source, sink);
    }
    let limits = Limits::default();
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if len > limits.max_document_bytes as u64 {
        return sink(err(format!(
            "`{source}` is {len} bytes, over the policy limit of {} bytes, and not an authorization-details export",
            limits.max_document_bytes
        )));
    }
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return sink(err(format!("cannot read `{source}`: {e}"))),
    };
    // A pretty-printed Case (corpus/cases/) rather than a policy: a top-level `request` and no `Statement`.
    if text.contains("\"request\"") {
        if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&text) {
            if o.contains_key("request") && !o.contains_key("Statement") {
                let one_line = Value::Object(o).to_string();
                return sink(match case(&one_line, &source) {
                    Ok(p) => Item::Principal(Box::new(p)),
                    Err((message, _, path)) => {
                        Item::Error(InputError::new(&source, message, 1, 1, &path))
                    }
                });
            }
        }
    }
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("policy")
        .to_string();
    let arn = format!("arn:aws:iam::{account}:role/{}", role_name(&stem));
    let doc = PolicyDoc {
        name: source.as_str().into(),
        place: source.as_str().into(),
        text: text.into(),
    };
    sink(Item::Principal(Box::new(Principal::new(
        &arn,
        &source,
        vec![doc],
    ))));
}

/// A role name from a file stem: characters IAM does not allow in role names become `-`.
fn role_name(stem: &str) -> String {
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn read_cases(r: impl BufRead, source: &str, sink: &mut dyn FnMut(Item)) {
    for (n, line) in r.lines().enumerate() {
        let line_no = n + 1;
        let place = format!("{source}#{line_no}");
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                sink(Item::Error(InputError::new(
                    source,
                    format!("cannot read line {line_no}: {e}"),
                    line_no,
                    1,
                    "$",
                )));
                return;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        sink(match case(&line, &place) {
            Ok(p) => Item::Principal(Box::new(p)),
            Err((message, column, path)) => {
                Item::Error(InputError::new(&place, message, line_no, column, &path))
            }
        });
    }
}

type CaseError = (String, usize, String);

fn policy_doc(v: &Value, name: String, place: &str, path: &str) -> Result<PolicyDoc, CaseError> {
    let text: Arc<str> = match v {
        Value::String(s) => s.as_str().into(),
        Value::Object(_) => serde_json::to_string(v)
            .map_err(|e| (format!("cannot print the policy: {e}"), 1, path.to_string()))?
            .into(),
        _ => {
            return Err((
                "a policy is a JSON object or a string holding the policy text".into(),
                1,
                path.to_string(),
            ));
        }
    };
    Ok(PolicyDoc {
        name: name.into(),
        place: format!("{place}{}", path.trim_start_matches('$')).into(),
        text,
    })
}

fn levels(
    v: Option<&Value>,
    key: &str,
    place: &str,
) -> Result<Option<Vec<Vec<PolicyDoc>>>, CaseError> {
    let Some(v) = v else { return Ok(None) };
    let bad = || {
        (
            format!("`{key}` is a list of levels, each a list of policies"),
            1,
            format!("$.{key}"),
        )
    };
    let mut out = Vec::new();
    for (l, level) in v.as_array().ok_or_else(bad)?.iter().enumerate() {
        let mut docs = Vec::new();
        for (j, p) in level.as_array().ok_or_else(bad)?.iter().enumerate() {
            docs.push(policy_doc(
                p,
                format!("{key}[{l}][{j}]"),
                place,
                &format!("$.{key}[{l}][{j}]"),
            )?);
        }
        out.push(docs);
    }
    Ok(Some(out))
}

/// A Case line as a principal.
fn case(line: &str, place: &str) -> Result<Principal, CaseError> {
    let v: Value = serde_json::from_str(line)
        .map_err(|e| (format!("not valid JSON: {e}"), e.column(), "$".to_string()))?;
    if !v.is_object() {
        return Err(("a case is a JSON object".into(), 1, "$".into()));
    }
    let principal = v
        .pointer("/request/principal")
        .and_then(Value::as_str)
        .or_else(|| v.get("id").and_then(Value::as_str))
        .ok_or_else(|| {
            (
                "a what-if case names its principal in `request.principal` (or `id`)".to_string(),
                1,
                "$.request.principal".to_string(),
            )
        })?;
    let mut identity = Vec::new();
    if let Some(list) = v.get("identity_policies") {
        let list = list.as_array().ok_or_else(|| {
            (
                "`identity_policies` is a list of policies".to_string(),
                1,
                "$.identity_policies".to_string(),
            )
        })?;
        for (i, p) in list.iter().enumerate() {
            identity.push(policy_doc(
                p,
                format!("identity_policies[{i}]"),
                place,
                &format!("$.identity_policies[{i}]"),
            )?);
        }
    }
    let mut p = Principal::new(principal, place, identity);
    if let Some(b) = v.get("permissions_boundary") {
        p.boundary = Some(policy_doc(
            b,
            "permissions_boundary".into(),
            place,
            "$.permissions_boundary",
        )?);
    }
    p.scps = levels(v.get("scps"), "scps", place)?;
    p.rcps = levels(v.get("rcps"), "rcps", place)?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatif_case_lines_become_principals() {
        let line = r#"{"id":"c1","identity_policies":[{"Statement":[]}, "{\"Statement\":[]}"],
            "permissions_boundary":{"Statement":[]},"scps":[[{"Statement":[]}]],
            "request":{"principal":"arn:aws:iam::111122223333:role/R","action":"x:y","resource":"*"}}"#
            .replace('\n', " ");
        let p = case(&line, "cases.jsonl#1").unwrap();
        assert_eq!(&*p.arn, "arn:aws:iam::111122223333:role/R");
        assert_eq!(p.identity.len(), 2);
        assert_eq!(&*p.identity[1].place, "cases.jsonl#1.identity_policies[1]");
        assert!(p.boundary.is_some());
        assert_eq!(p.scps.as_ref().map(Vec::len), Some(1));
        let (m, _, path) = case(r#"{"identity_policies": 3, "id": "x"}"#, "f#1").unwrap_err();
        assert_eq!(path, "$.identity_policies", "{m}");
        assert!(case("{", "f#1").is_err());
    }

    /// A pretty-printed Case file is one principal; a policy file is one principal named by its file.
    #[test]
    fn whatif_json_files_are_cases_or_policies() {
        let dir = std::env::temp_dir().join(format!("iamgate-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let case = dir.join("case.json");
        std::fs::write(&case, "{\n \"identity_policies\": [{\"Statement\": []}],\n \"request\": {\"principal\": \"arn:aws:iam::111122223333:role/FromCase\", \"action\": \"x:y\", \"resource\": \"*\"}\n}").unwrap();
        let policy = dir.join("data sci.json");
        std::fs::write(&policy, r#"{"Statement": [], "request": 1}"#).unwrap();
        let mut got = Vec::new();
        for f in [&case, &policy] {
            read(f, "444455556666", &mut |i| match i {
                Item::Principal(p) => got.push(p.arn.to_string()),
                Item::Error(e) => panic!("{e:?}"),
            });
        }
        assert_eq!(
            got,
            [
                "arn:aws:iam::111122223333:role/FromCase",
                "arn:aws:iam::444455556666:role/data-sci"
            ]
        );
    }

    #[test]
    fn whatif_role_names_from_file_stems() {
        assert_eq!(role_name("data sci/ü"), "data-sci--");
        assert_eq!(role_name("a.b_c@d"), "a.b_c@d");
    }
}
