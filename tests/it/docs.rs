//! The public surface stays documented: `missing_docs` warns for the whole crate (and CI's clippy, run with
//! `-D warnings`, fails on a warning), and no module silences it.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The inner attributes at the top of src/lib.rs, before its first item.
fn crate_attributes(lib: &str) -> Vec<&str> {
    lib.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("//") || l.starts_with("#!["))
        .filter(|l| l.starts_with("#!["))
        .collect()
}

#[test]
fn crate_root_warns_on_missing_docs() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let attributes = crate_attributes(&lib);
    assert!(
        attributes.contains(&"#![warn(missing_docs)]"),
        "src/lib.rs's crate attributes lack `#![warn(missing_docs)]`: {attributes:?}"
    );
    // The reader sees an attribute below the first item as none of the crate's.
    assert!(
        !crate_attributes("pub mod a;\n#![warn(missing_docs)]\n")
            .contains(&"#![warn(missing_docs)]")
    );
}

/// Whether a text has an `allow`/`expect` attribute that covers `missing_docs` (alone, among other lints, or as
/// all warnings).
fn silences(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        (l.starts_with("#[") || l.starts_with("#!["))
            && (l.contains("allow(") || l.contains("expect("))
            && (l.contains("missing_docs") || l.contains("warnings"))
    })
}

#[test]
fn no_module_silences_missing_docs() {
    assert!(silences("#[allow(dead_code, missing_docs)]\npub fn f() {}"));
    assert!(silences(
        "  #![expect(missing_docs, reason = \"generated\")]"
    ));
    assert!(silences("#![allow(warnings)]"));
    assert!(!silences(
        "#![warn(missing_docs)]\n// allow(missing_docs) in a comment"
    ));
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 40, "src/ has {} files", files.len());
    let silenced: Vec<String> = files
        .iter()
        .filter(|f| silences(&std::fs::read_to_string(f).unwrap()))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        silenced.is_empty(),
        "files that silence missing_docs: {silenced:?}"
    );
}

/// The crate root's `#![warn(missing_docs)]` covers every module: none repeats it.
#[test]
fn no_module_repeats_the_crate_roots_missing_docs_lint() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let repeated: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("lib.rs"))
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .any(|l| l.trim() == "#![warn(missing_docs)]")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(repeated.is_empty(), "modules that repeat it: {repeated:?}");
}
