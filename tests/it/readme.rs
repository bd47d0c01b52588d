//! The README runs as written: every command of its ` ```sh ` blocks (but ` ```sh no-run `), run by bash in a
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
            in_block = words.first() == Some(&"sh") && !words.contains(&"no-run");
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
    let text = "x\n```sh\n# c\na \\\n  b\n\nc\n```\n```sh no-run\nd\n```\n```json\n{}\n```\n```sh,no-run\ne\n```\n";
    assert_eq!(sh_commands(text), vec!["a \\\n  b\n", "c\n"]);
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
        let code = out.status.code().unwrap_or(-1);
        if code != 0 && code != 1 {
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
    // The same runner as above, on a command whose file a clone does not have: it must exit 2, not 0 or 1.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_iamgate"));
    let out = Command::new(bin)
        .args(["lint", "no/such/policy.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
