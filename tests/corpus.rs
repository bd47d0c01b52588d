//! One named test per file of corpus/cases: decide the case and compare the decision and the reasons with the
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! case's `expect`.

use iamgate::Limits;
use iamgate::api::case::Case;
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn run(path: &Path) -> Result<(), Failed> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let case =
        Case::parse(&text, &Limits::default()).map_err(|(_, e)| format!("invalid case: {e}"))?;
    let expect = case.expect.as_ref().ok_or("the case has no `expect`")?;
    if expect.reasons.is_none() {
        return Err("the case has no expected `reasons`".into());
    }
    let record = case.decide(false);
    match expect.check(&record) {
        None => Ok(()),
        Some(m) => Err(m.into()),
    }
}

fn main() {
    let mut args = Arguments::from_args();
    // Cargo passes `--quiet` only to libtest harnesses, so `cargo test -q` cannot reach this one: one character
    // per case unless a format is asked for (`cargo test --test corpus -- --format pretty` lists every case).
    if args.format.is_none() {
        args.quiet = true;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/cases");
    let mut all = Vec::new();
    files(&root, &mut all);
    all.sort();
    let trials = all
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(&root)
                .unwrap_or(&p)
                .with_extension("")
                .display()
                .to_string();
            Trial::test(name, move || run(&p))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
