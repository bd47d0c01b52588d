//! The layout of src/: the stages import each other one way only (src/lib.rs says which way).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level modules each top-level module of src/ names as `crate::NAME` outside comments and unit tests.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + 7..];
                // `crate::{a, b::c}` names several.
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group
                        .split(',')
                        .map(|n| n.trim().split("::").next().unwrap_or(""))
                        .collect(),
                    None => vec![
                        rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                            .next()
                            .unwrap(),
                    ],
                };
                for n in names {
                    if !n.is_empty()
                        && n.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        && n != module
                    {
                        deps.entry(module.clone())
                            .or_default()
                            .insert(n.to_string());
                    }
                }
            }
        }
    }
    deps
}

#[test]
fn stages_import_each_other_one_way() {
    let deps = imports();
    let mut both = BTreeSet::new();
    for (a, targets) in &deps {
        for b in targets {
            if deps.get(b).is_some_and(|t| t.contains(a)) {
                both.insert(if a < b {
                    (a.clone(), b.clone())
                } else {
                    (b.clone(), a.clone())
                });
            }
        }
    }
    // The cycles issue 15 named and this layout removed must not come back (policy and context, network's findings
    // and report, compile and decide, context and shape, compile and lower); none remains.
    assert!(both.is_empty(), "modules that import each other: {both:?}");
    assert!(deps["compile"].contains("rules") && !deps["compile"].contains("decide"));
    // The compiled statements live in `ir`, which compile builds and lower reads: lower never names compile.
    assert!(deps["lower"].contains("ir") && !deps["lower"].contains("compile"));
    assert!(!deps["ir"].contains("compile") && !deps["ir"].contains("lower"));
    assert!(!deps["policy"].contains("context"));
    // shape (the request's shape) is read by context, which builds the error; shape reads nothing of context.
    assert!(deps["context"].contains("shape") && !deps["shape"].contains("context"));
}

/// network/findings and network/report no longer import each other: both read the steps from network/step.
#[test]
fn network_findings_and_report_import_one_way() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/network");
    let findings = std::fs::read_to_string(dir.join("findings.rs")).unwrap();
    let report = std::fs::read_to_string(dir.join("report.rs")).unwrap();
    assert!(report.contains("use super::findings"));
    assert!(
        !findings.contains("super::report"),
        "findings imports report again"
    );
}

/// What each module of `src/DIR/` names of its siblings in `order` (as `super::NAME`, outside comments and its
/// tests), failing when one names a sibling that comes after it.
fn imports_in_order<'a>(dir: &str, order: &[&'a str]) -> BTreeMap<&'a str, BTreeSet<&'a str>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut names = BTreeMap::new();
    for (at, module) in order.iter().enumerate() {
        let text = std::fs::read_to_string(root.join(format!("{module}.rs"))).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
        let mut named = BTreeSet::new();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (k, other) in order.iter().enumerate() {
                if k != at && line.contains(&format!("super::{other}")) {
                    named.insert(*other);
                    assert!(
                        k < at,
                        "{dir}/{module}.rs names {dir}/{other}.rs, which comes after it"
                    );
                }
            }
        }
        names.insert(*module, named);
    }
    names
}

/// The modules of src/decide/ that a decision passes through, in order: each names (as `super::NAME`) only those
/// before it, so the request, the condition kernel, the statement tests and the walk stay one-way.
#[test]
fn decide_modules_import_in_pipeline_order() {
    let names = imports_in_order(
        "decide",
        &["input", "condition", "statement", "lowered", "walk"],
    );
    // The imports the order allows are there: the check above is not vacuous.
    assert!(names["walk"].contains("statement") && names["walk"].contains("lowered"));
    assert!(names["lowered"].contains("condition") && names["statement"].contains("input"));
    assert!(names["condition"].is_empty() && names["input"].is_empty());
}

/// The modules of src/compile/ in the order compiling meets them: each names (as `super::NAME`) only those before
/// it. The set builds its key table and action index, so the index names nothing of the set.
#[test]
fn compile_modules_import_in_pipeline_order() {
    let names = imports_in_order(
        "compile",
        &["place", "error", "policy", "keys", "index", "set"],
    );
    // The imports the order allows are there: the check above is not vacuous.
    assert!(names["set"].contains("index") && names["set"].contains("keys"));
    assert!(names["set"].contains("policy") && names["index"].contains("place"));
    assert!(names["policy"].contains("error") && names["error"].contains("place"));
    assert!(names["place"].is_empty() && names["keys"].is_empty());
}

/// src/analyse/: the addresses (`ips`, with its `sweep`) are below the network origins (`reach`, with its `pairs`),
/// which build on them; the addresses name nothing of the origins.
#[test]
fn analyse_addresses_do_not_import_reach() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/analyse");
    let code = |m: &str| {
        let text = std::fs::read_to_string(dir.join(format!("{m}.rs"))).unwrap();
        text.split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for low in ["ips", "sweep"] {
        for high in ["reach", "pairs"] {
            assert!(
                !code(low).contains(&format!("super::{high}")),
                "analyse/{low}.rs names analyse/{high}.rs"
            );
        }
    }
    assert!(code("reach").contains("super::ips") && code("reach").contains("super::pairs"));
}

/// The parser's JSON tree is private to the crate: only the non-default `internals` feature (fuzz targets,
/// benches, these tests) makes `parse::json` reachable, hidden from the documentation.
#[test]
fn the_json_tree_is_private_without_internals() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let parse = std::fs::read_to_string(dir.join("src/parse/mod.rs")).unwrap();
    assert!(parse.contains("#[cfg(not(feature = \"internals\"))]\npub(crate) mod json;"));
    assert!(parse.contains("#[cfg(feature = \"internals\")]\n#[doc(hidden)]\npub mod json;"));
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("default = []") && manifest.contains("internals = []"));
    let fuzz = std::fs::read_to_string(dir.join("fuzz/Cargo.toml")).unwrap();
    assert!(fuzz.contains(r#"features = ["internals"]"#));
}
