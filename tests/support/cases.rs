//! Shared by test binaries (a `#[path]` module): the cases of `corpus/cases` that parse, and a `Request` borrowed
//! as a `RequestRef`.

use iamgate::api::case::Case;
use iamgate::context::{ContextValue, RequestRef, ValueRef};
use iamgate::{Limits, Request};
use std::path::{Path, PathBuf};

/// Every `*.json` file under `dir`, in a stable order.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Every `*.json` file under `corpus/cases`, in a stable order.
pub fn case_files() -> Vec<PathBuf> {
    json_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cases"))
}

/// Every `*.json` file under `corpus/cases` that parses as a case, in a stable order.
pub fn corpus_cases() -> Vec<(PathBuf, Case)> {
    let files = case_files();
    let cases: Vec<(PathBuf, Case)> = files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let case = Case::parse(&text, &Limits::default()).ok()?;
            Some((p, case))
        })
        .collect();
    assert!(cases.len() > 100, "only {} cases found", cases.len());
    cases
}

/// The request's context as text, keys in a case chosen by `upper` (per key index), for a `RequestRef`.
struct Texts {
    one: Vec<(String, String)>,
    many: Vec<(String, Vec<String>)>,
}

fn texts(req: &Request, upper: impl Fn(usize) -> bool) -> Texts {
    let mut t = Texts {
        one: Vec::new(),
        many: Vec::new(),
    };
    for (i, (k, v)) in req.context.iter().enumerate() {
        let key = if upper(i) {
            k.to_ascii_uppercase()
        } else {
            k.to_string()
        };
        match v {
            ContextValue::One(s) => t.one.push((key, s.text().to_string())),
            ContextValue::Many(vs) => t
                .many
                .push((key, vs.iter().map(|s| s.text().to_string()).collect())),
        }
    }
    t
}

/// Call `f` with `req` borrowed as a `RequestRef`.
pub fn with_ref<T>(
    req: &Request,
    upper: impl Fn(usize) -> bool,
    f: impl FnOnce(&RequestRef<'_>) -> T,
) -> T {
    let t = texts(req, upper);
    let many: Vec<(&str, Vec<&str>)> = t
        .many
        .iter()
        .map(|(k, vs)| (k.as_str(), vs.iter().map(String::as_str).collect()))
        .collect();
    let mut context: Vec<(&str, ValueRef<'_>)> = t
        .one
        .iter()
        .map(|(k, v)| (k.as_str(), ValueRef::One(v.as_str())))
        .collect();
    context.extend(
        many.iter()
            .map(|(k, vs)| (*k, ValueRef::Many(vs.as_slice()))),
    );
    let r = RequestRef {
        principal: req.principal.as_deref(),
        action: &req.action,
        resource: &req.resource,
        resource_account: req.resource_account.as_deref(),
        context: &context,
    };
    f(&r)
}
