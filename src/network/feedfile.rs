//! Reading a feed file that a network file names (`cenr`, `aws_ip_ranges`), without trusting the network file:
//! only inside the network file's folder (no `..`, no absolute path, no link that leads out) unless the user named
//! the file on the command line; only a regular file (a FIFO would block, `/dev/zero` never ends); at most
//! [`MAX_FEED_BYTES`]; and no error ever quotes the file's text (`/etc/passwd` named as a feed must not leak its
//! first line into a message).

use std::path::{Path, PathBuf};

/// The largest feed read: a real `ip-ranges.json` is a few megabytes, Zscaler's CENR file less.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub const MAX_FEED_BYTES: usize = 64 << 20;

/// In WebAssembly there are no files to read (`wasm32-unknown-unknown` has no file system: every `std::fs` call
/// fails), so the module carries none of the path handling below; feeds come as texts given by name.
#[cfg(target_arch = "wasm32")]
pub(crate) fn read(_base: &Path, file: &str, _allowed: &[PathBuf]) -> Result<String, String> {
    Err(format!(
        "cannot read feed `{file}`: WebAssembly has no files; give the feed's text by name"
    ))
}

/// Read the feed `file` named in a network file whose folder is `base`. `allowed` are feed files the user named
/// (canonical paths): those may lie anywhere. The error is a message for the network file's error.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn read(base: &Path, file: &str, allowed: &[PathBuf]) -> Result<String, String> {
    use std::io::Read;
    use std::path::Component;
    let given = Path::new(file);
    let canonical = base.join(given).canonicalize();
    let named = canonical.as_ref().is_ok_and(|c| allowed.contains(c));
    let outside = || {
        format!(
            "feed `{file}` is outside the network file's folder; a network file may only name feeds in its folder (name the file with `--feed` to allow it)"
        )
    };
    if !named {
        // By its text first (`..`, absolute), whether or not it exists; then where it really is (links).
        let escapes = given.is_absolute()
            || given
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)));
        if escapes {
            return Err(outside());
        }
        if let Ok(c) = &canonical {
            if !base.canonicalize().is_ok_and(|b| c.starts_with(b)) {
                return Err(outside());
            }
        }
    }
    let canonical = canonical.map_err(|e| format!("cannot read feed `{file}`: {e}"))?;
    let meta =
        std::fs::metadata(&canonical).map_err(|e| format!("cannot read feed `{file}`: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "feed `{file}` is not a regular file (a FIFO, a device or a folder)"
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&canonical)
        .and_then(|f| f.take(MAX_FEED_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read feed `{file}`: {e}"))?;
    if bytes.len() > MAX_FEED_BYTES {
        return Err(format!(
            "feed `{file}` is larger than the limit of {MAX_FEED_BYTES} bytes"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "feed `{file}` is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to() + 1
        )
    })
}

/// A feed's parse error that quotes nothing of the feed: each backquoted part of the message that the network
/// file's own text (`network`) does not hold (a filter value it gave is kept) is shown as `…`, and the JSON
/// path (made of the feed's keys) is left out. The feed may be any file; its text stays out of messages.
pub(crate) fn describe(file: &str, network: &str, e: &super::feeds::FeedError) -> String {
    let mut message = String::with_capacity(e.message.len());
    let mut parts = e.message.split('`');
    if let Some(first) = parts.next() {
        message.push_str(first);
    }
    // Odd parts are quoted, even parts plain; an unpaired quote leaves the rest quoted (and hidden).
    for (i, part) in parts.enumerate() {
        message.push('`');
        if i % 2 == 0 && !(part.is_empty() || crate::bytes::find(network, part).is_some()) {
            message.push('…');
        } else {
            message.push_str(part);
        }
    }
    format!(
        "in feed `{file}`: {message} (line {}, column {} of the feed)",
        e.line, e.column
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(message: &str) -> super::super::feeds::FeedError {
        super::super::feeds::FeedError {
            message: message.into(),
            line: 2,
            column: 3,
            path: "$[\"secret-key\"]".into(),
        }
    }

    #[test]
    fn feed_errors_quote_only_what_the_network_file_holds() {
        let net = r#"{"cenr": {"path": "f.json", "city": "Atlantis"}}"#;
        assert_eq!(
            describe(
                "f.json",
                net,
                &err("found `root:x:0:0:root:/root:/bin/bash`")
            ),
            "in feed `f.json`: found `…` (line 2, column 3 of the feed)"
        );
        assert_eq!(
            describe(
                "f.json",
                net,
                &err("the filter `Atlantis` matches no city; known: `Paris`")
            ),
            "in feed `f.json`: the filter `Atlantis` matches no city; known: `…` (line 2, column 3 of the feed)"
        );
        // An unpaired quote hides the rest.
        assert_eq!(
            describe("f.json", net, &err("found `secret")),
            "in feed `f.json`: found `… (line 2, column 3 of the feed)"
        );
    }
}
