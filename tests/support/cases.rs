//! The cases of `corpus/cases` that parse, with their paths: shared by test binaries (`#[path]` module).

use iamgate::Limits;
use iamgate::ffi::Case;
use std::path::{Path, PathBuf};

/// Every `*.json` file under `corpus/cases` that parses as a case, in a stable order.
pub fn corpus_cases() -> Vec<(PathBuf, Case)> {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cases")];
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
