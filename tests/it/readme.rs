//! The README runs as written: every command of its ` ```sh ` blocks (but ` ```sh ignore `, which rustdoc also knows), run by bash in a
//! fresh copy of the repository's tracked files with the built `iamgate` first on `PATH`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The commands of every runnable ` ```sh ` block, in order: comment lines dropped, `\`-continued lines joined.
fn sh_commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    let mut current = String::new();
    for line in readme.lines() {
        let t = line.trim_start();
        if let Some(info) = t.strip_prefix("```") {
            if in_block {
                in_block = false;
                continue;
            }
            let words: Vec<&str> = info.split([' ', ',']).filter(|w| !w.is_empty()).collect();
            in_block = words
                .first()
                .is_some_and(|w| ["sh", "bash", "shell"].contains(w))
                && !words.iter().any(|w| ["ignore", "no-run"].contains(w));
            continue;
        }
        if !in_block {
            continue;
        }
        if current.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if !line.trim_end().ends_with('\\') {
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

#[test]
fn readme_blocks_are_found_and_no_run_is_skipped() {
    let text = "x\n```sh\n# c\na \\\n  b\n\nc\n```\n```sh ignore\nd\n```\n```json\n{}\n```\n```sh,no-run\ne\n```\n```bash\nf\n```\n";
    assert_eq!(sh_commands(text), vec!["a \\\n  b\n", "c\n", "f\n"]);
}

/// The repository's tracked files (`git ls-files`), copied into `to`; what a fresh clone holds.
fn fresh_copy(root: &Path, to: &Path) {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .output()
        .expect("git ls-files (the README test needs git)");
    assert!(out.status.success(), "git ls-files failed");
    let list = String::from_utf8(out.stdout).unwrap();
    let mut n = 0;
    for f in list.split('\0').filter(|f| !f.is_empty()) {
        let from = root.join(f);
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        let dest = to.join(f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
        n += 1;
    }
    assert!(n > 0, "no tracked files");
}

#[test]
fn readme_shell_commands_run_as_written() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = sh_commands(&readme);
    assert!(
        commands.len() >= 5,
        "the README's Use section has at least five commands; found {}",
        commands.len()
    );
    let dir = std::env::temp_dir().join(format!("iamgate-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    fresh_copy(&root, &dir);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_iamgate"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    for c in &commands {
        let out = Command::new("bash")
            .args(["-o", "pipefail", "-c", c])
            .current_dir(&dir)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        // Every command of the README succeeds as written (exit 1 would mean errors in its bundled inputs).
        let code = out.status.code().unwrap_or(-1);
        if code != 0 {
            failures.push(format!(
                "exit {code}: {c}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn readme_test_fails_on_a_missing_file() {
    // A command whose file a clone does not have exits 2: the runner above, which wants 0, would report it.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_iamgate"));
    let out = Command::new(bin)
        .args(["lint", "no/such/policy.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The sections docs/SEMANTICS.md defines: `1`, `1.2`, ... from its `## N.` and `### N.M` headings, and `7.3`
/// for item 3 of the numbered list of section 7.
fn semantics_sections(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("docs/SEMANTICS.md")).unwrap();
    let number = |s: &str| -> Option<String> {
        let num = s.split(' ').next()?.trim_end_matches('.');
        (!num.is_empty() && num.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .then(|| num.to_string())
    };
    let mut out = Vec::new();
    let mut top = String::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("### ") {
            out.extend(number(rest));
        } else if let Some(rest) = l.strip_prefix("## ") {
            if let Some(n) = number(rest) {
                top = n.clone();
                out.push(n);
            }
        } else if let Some(n) =
            number(l).filter(|_| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        {
            out.push(format!("{top}.{n}"));
        }
    }
    out
}

#[test]
fn readme_project_stands_alone_citations_resolve() {
    // A clone has no DESIGN.md or shared SEMANTICS.md: every citation names docs/SEMANTICS.md (or, inside docs/,
    // SEMANTICS.md beside it) and a section that exists there.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let sections = semantics_sections(&root);
    assert!(sections.contains(&"3.3".to_string()) && sections.contains(&"9".to_string()));
    let out = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-z"])
        .output()
        .unwrap();
    let mut bad = Vec::new();
    for f in String::from_utf8(out.stdout).unwrap().split('\0') {
        let Ok(text) = std::fs::read_to_string(root.join(f)) else {
            continue;
        };
        if f == "tests/it/readme.rs" || f == "docs/SEMANTICS.md" {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if line.contains("DESIGN.md") {
                bad.push(format!("{f}:{}: cites DESIGN.md", n + 1));
            }
            let mut rest = line;
            while let Some(at) = rest.find("SEMANTICS.md") {
                let before = &rest[..at];
                if !before.ends_with("docs/") && !f.starts_with("docs/") {
                    bad.push(format!("{f}:{}: SEMANTICS.md without docs/", n + 1));
                }
                let after = &rest[at + "SEMANTICS.md".len()..];
                if let Some(cited) = after.strip_prefix(" §") {
                    let num: String = cited
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    let num = num.trim_end_matches('.');
                    if !sections.iter().any(|s| s == num) {
                        bad.push(format!(
                            "{f}:{}: no section §{num} in docs/SEMANTICS.md",
                            n + 1
                        ));
                    }
                }
                rest = after;
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
