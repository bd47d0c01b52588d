//! The command line's inputs and outputs under hostile conditions (issue 14, items 5 and 12-14): a producer that
//! waits for each answer, a run killed midway, a line far over the case limit, folders holding FIFOs, links and
//! empty files, non-UTF-8 policies, and a reader that closes the pipe early. No time is asserted: a deadlock
//! would fail the test through the guard of [`line_within`], which only bounds how long a broken run may hang.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

const ALLOW: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

fn case(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","identity_policies":[{ALLOW}],"request":{{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}}}}"#
    )
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The lines of `child`'s stdout, as they arrive, through a channel.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { return };
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next line, failing the test rather than hanging forever if it never comes (a deadlock).
fn line_within(rx: &mpsc::Receiver<String>) -> String {
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .expect("no record came: the run waits for input it already has")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iamgate-streams-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn batch_answers_each_line_before_the_next_arrives() {
    let mut child = spawn(&["batch"]);
    let mut stdin = child.stdin.take().unwrap();
    let rx = lines_of(&mut child);
    // A producer that writes one case and waits for its record, three times: each record must come while
    // stdin stays open.
    for id in ["one", "two", "three"] {
        writeln!(stdin, "{}", case(id)).unwrap();
        stdin.flush().unwrap();
        let v: serde_json::Value = serde_json::from_str(&line_within(&rx)).unwrap();
        assert_eq!(v["id"], id);
        assert_eq!(v["decision"], "Allow");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn batch_killed_midway_leaves_only_whole_lines() {
    let mut child = spawn(&["batch", "--explain"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = std::thread::spawn(move || {
        for i in 0..20_000 {
            if writeln!(stdin, "{}", case(&i.to_string())).is_err() {
                return;
            }
        }
    });
    // Read some output, then kill the run while it is still writing.
    let mut first = [0u8; 4096];
    let mut got = Vec::new();
    while got.len() < 100_000 {
        let n = std::io::Read::read(&mut stdout, &mut first).unwrap();
        assert!(n > 0, "the run ended early");
        got.extend_from_slice(&first[..n]);
    }
    child.kill().unwrap();
    std::io::Read::read_to_end(&mut stdout, &mut got).unwrap();
    child.wait().unwrap();
    let _ = writer.join();
    assert_eq!(got.last(), Some(&b'\n'), "the output ends inside a record");
    let text = String::from_utf8(got).unwrap();
    for (i, l) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["id"], i.to_string());
    }
}

/// The peak resident memory of a live process, in KiB (Linux).
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn batch_refuses_an_oversized_line_without_holding_it() {
    let mut child = spawn(&["batch"]);
    let mut stdin = child.stdin.take().unwrap();
    let rx = lines_of(&mut child);
    // 256 MiB on one line, then a good case; written in blocks, so the test holds one block.
    const BIG: usize = 256 << 20;
    let block = vec![b' '; 1 << 20];
    let writer = std::thread::spawn(move || {
        stdin.write_all(b"{\"id\":\"big\",").unwrap();
        for _ in 0..BIG >> 20 {
            stdin.write_all(&block).unwrap();
        }
        stdin.write_all(b"}\n").unwrap();
        writeln!(stdin, "{}", case("after")).unwrap();
        stdin
    });
    let big: serde_json::Value = serde_json::from_str(&line_within(&rx)).unwrap();
    assert_eq!(
        big["error"]["message"],
        format!(
            "the case is {} bytes, more than the limit of 1048576 bytes; it was skipped unread",
            BIG + 13
        )
    );
    let after: serde_json::Value = serde_json::from_str(&line_within(&rx)).unwrap();
    assert_eq!(after["decision"], "Allow");
    // Still running (stdin open): its peak memory is that of a run, far under the line's 256 MiB.
    let peak = peak_kib(child.id());
    assert!(peak < 64 << 10, "peak {peak} KiB");
    drop(writer.join().unwrap());
    assert_eq!(child.wait().unwrap().code(), Some(1));
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn errors(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter_map(|v| v["error"]["message"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn batch_gives_every_file_in_a_folder_its_record() {
    let d = temp_dir("folder");
    std::fs::write(d.join("a.json"), case("a")).unwrap();
    std::fs::write(
        d.join("b.jsonl"),
        format!("{}\n{}\n", case("b1"), case("b2")),
    )
    .unwrap();
    std::fs::write(d.join("c-empty.jsonl"), "").unwrap();
    // A FIFO nobody writes: read, it would block the run for ever.
    assert!(
        Command::new("mkfifo")
            .arg(d.join("d-fifo.jsonl"))
            .status()
            .unwrap()
            .success()
    );
    std::os::unix::fs::symlink("/nonexistent/x", d.join("e-dangling.json")).unwrap();
    // A link back to the folder: followed, the walk would never end.
    std::os::unix::fs::symlink(&d, d.join("f-loop")).unwrap();
    std::fs::write(d.join("g.jsonl"), case("g")).unwrap();
    // A link to a device that never ends.
    std::os::unix::fs::symlink("/dev/zero", d.join("h-zero.jsonl")).unwrap();
    let (code, out, err) = run(&["batch", d.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let ids: Vec<String> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    assert_eq!(
        ids,
        ["\"a\"", "\"b1\"", "\"b2\"", "null", "null", "\"g\"", "null"]
    );
    let e = errors(&out);
    let name = |f: &str| d.join(f).display().to_string();
    assert_eq!(
        e,
        [
            format!(
                "cannot read `{}`: not a regular file (a FIFO, a device or a folder); name it on the command line to read it",
                name("d-fifo.jsonl")
            ),
            format!(
                "cannot read `{}`: No such file or directory (os error 2)",
                name("e-dangling.json")
            ),
            format!(
                "cannot read `{}`: not a regular file (a FIFO, a device or a folder); name it on the command line to read it",
                name("h-zero.jsonl")
            ),
        ]
    );
    assert!(err.contains("7 cases: 4 Allow"), "{err}");
}

#[test]
fn an_empty_jsonl_file_gives_no_record_and_exit_zero() {
    let d = temp_dir("empty");
    let f = d.join("empty.jsonl");
    std::fs::write(&f, "").unwrap();
    let (code, out, _) = run(&["batch", f.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (0, ""));
    // As empty stdin.
    let (code, out, _) = run(&["batch"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn lint_reports_every_file_after_a_non_utf8_one() {
    let d = temp_dir("lint");
    std::fs::write(d.join("a.json"), b"{\"Version\":\"2012-10-17\xff\"}").unwrap();
    std::fs::write(d.join("b.json"), "\u{feff}{}").unwrap();
    std::fs::write(d.join("c.json"), ALLOW).unwrap();
    std::fs::write(
        d.join("d.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
    )
    .unwrap();
    let (code, out, _) = run(&["lint", "--json", d.to_str().unwrap()]);
    // An unreadable file makes the exit code 2, as for every command; the others are still reported.
    assert_eq!(code, 2);
    let got: Vec<(String, String, String)> = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            let file = Path::new(v["file"].as_str().unwrap());
            (
                file.file_name().unwrap().to_str().unwrap().to_string(),
                v["code"].as_str().unwrap().to_string(),
                v["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let a = d.join("a.json").display().to_string();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        got[0],
        (
            "a.json".into(),
            "unreadable".into(),
            format!("cannot read `{a}`: not valid UTF-8 (byte 23); policies are UTF-8 text")
        )
    );
    // The byte order mark is named (issue 14, item 16).
    assert_eq!(got[1].0, "b.json");
    assert_eq!(
        got[1].2,
        "the text starts with a UTF-8 byte order mark (U+FEFF), which JSON does not allow"
    );
    assert_eq!(got[2].0, "d.json");
    assert_eq!(got[2].1, "private-source-ip");
}

/// Run `args` with its stdout a pipe whose reader is already gone: every write fails with `EPIPE`.
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    // The write end of a pipe whose reader, `true`, has exited.
    let mut reader = Command::new("true").stdin(Stdio::piped()).spawn().unwrap();
    let writer = reader.stdin.take().unwrap();
    reader.wait().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_iamgate"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let d = temp_dir("pipe");
    let p = d.join("p.json");
    std::fs::write(&p, ALLOW).unwrap();
    let p = p.to_str().unwrap();
    let cases = d.join("c.jsonl");
    std::fs::write(&cases, format!("{}\n", case("a"))).unwrap();
    let net = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/networks/zscaler-only.json"
    );
    let commands: [&[&str]; 6] = [
        &["lint", concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/bench")],
        &[
            "lint",
            "--json",
            concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/bench"),
        ],
        &[
            "decide",
            "--policy",
            p,
            "--action",
            "s3:GetObject",
            "--resource",
            "*",
        ],
        &[
            "reach",
            "--policy",
            p,
            "--principal",
            "arn:aws:iam::111122223333:role/DataSci",
            "--resource",
            "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
        ],
        &["presign", "--policy", p, "--network", net],
        &["batch", cases.to_str().unwrap()],
    ];
    for args in commands {
        // A child that another test thread forks while this pipe is being made holds a copy of its read end
        // until that child's `exec` closes it; on a loaded machine that can be after our command has written,
        // and the write then succeeds (exit 0). A real regression gives the same wrong code every time: three
        // tries tell the two apart.
        let (mut code, mut err) = into_closed_pipe(args);
        for _ in 0..2 {
            if code != Some(0) {
                break;
            }
            (code, err) = into_closed_pipe(args);
        }
        // 141: what a shell reports for a tool that SIGPIPE ended; never 101 (a panic), nothing on stderr but
        // batch's summary.
        assert_eq!(code, Some(141), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
    }
}

#[test]
fn presign_reads_a_feed_outside_the_folder_only_when_named() {
    let d = temp_dir("feed");
    let feed = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/networks/feeds/zscaler-cenr-sample.json"
    );
    let net = d.join("n.json");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/networks/zscaler-cenr-emea.json"
    ))
    .unwrap()
    .replace("\"feeds/zscaler-cenr-sample.json\"", &format!("\"{feed}\""));
    std::fs::write(&net, text).unwrap();
    let p = d.join("p.json");
    std::fs::write(&p, ALLOW).unwrap();
    let base = [
        "presign",
        "--policy",
        p.to_str().unwrap(),
        "--network",
        net.to_str().unwrap(),
    ];
    let (code, _, err) = run(&base);
    assert_eq!(code, 1);
    assert!(
        err.contains("is outside the network file's folder"),
        "{err}"
    );
    let (_, out, err) = run(&[&base[..], &["--feed", feed, "--json"]].concat());
    assert!(!err.contains("outside"), "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["network"], "zscaler-cenr-emea");
}
