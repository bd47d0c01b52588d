//! The policy options shared by `decide`, `reach` and `presign`, and the SCP/RCP level syntax
//! (`[NAME:]FILE[,FILE...]` or a folder) that `whatif` shares.

use super::{CliError, read};
use crate::compile::PolicySet;
use crate::policy::Policy;
use std::path::{Path, PathBuf};

/// What `--scp` and `--rcp` take, in the words of `--help`.
const LEVEL_HELP: &str = "A level is the set of policies attached at one node of the organization: the root, an \
OU, or the account. Give a level as `[NAME:]FILE[,FILE...]` or as a folder whose .json files are that level's \
policies; repeat the flag for each level, root first. Reasons name a level by NAME when given (`scps[root][1]`), \
else by its position (`scps[0][1]`).";

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct PolicyArgs {
    /// An identity-based policy file (repeat the flag for several).
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// The resource-based policy file.
    #[arg(long = "resource-policy", value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// The permissions boundary file.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// A session policy file (repeat the flag for several).
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session: Vec<PathBuf>,
    /// One level of service control policies (SCPs), as `[NAME:]FILE[,FILE...]` or a folder; repeat the flag
    /// for each level, root first (`--help` says what a level is).
    #[arg(long = "scp", value_name = "[NAME:]FILE[,FILE...]", value_parser = parse_level,
          long_help = format!("One level of service control policies (SCPs). {LEVEL_HELP} A request needs an \
          Allow at every level."))]
    pub scps: Vec<Level>,
    /// One level of resource control policies (RCPs), written as for `--scp`; RCPs can only deny.
    #[arg(long = "rcp", value_name = "[NAME:]FILE[,FILE...]", value_parser = parse_level,
          long_help = format!("One level of resource control policies (RCPs). Each level also allows everything by \
          itself (AWS attaches RCPFullAWSAccess at every node), so RCPs can only deny. {LEVEL_HELP}"))]
    pub rcps: Vec<Level>,
}

/// One SCP or RCP level: its name, when given, and its policy files in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Level {
    pub name: Option<String>,
    pub files: Vec<PathBuf>,
}

/// Parse one level: `[NAME:]FILE[,FILE...]`, where each FILE may be a folder whose `.json` files (sorted by name,
/// not recursed) are taken in its place. NAME is letters, digits, `-` and `_`; an argument that names an existing
/// file or folder as a whole is read as a path, never as `NAME:FILE`.
///
/// ```text
/// --scp root:full-access.json,perimeter.json   the level `root`, two policies
/// --scp scps/ou-data                          every .json file of the folder, one level named by position
/// ```
pub(crate) fn parse_level(arg: &str) -> Result<Level, String> {
    let (name, rest) = match arg.split_once(':') {
        // `C:\x.json` and `C:/x.json` are Windows paths, not a level named `C`.
        Some((n, rest))
            if !Path::new(arg).exists()
                && is_level_name(n)
                && !(n.len() == 1 && rest.starts_with(['/', '\\'])) =>
        {
            (Some(n.to_string()), rest)
        }
        _ => (None, arg),
    };
    let mut files = Vec::new();
    for part in rest.split(',') {
        if part.is_empty() {
            return Err(format!(
                "`{arg}` has an empty file name; write `[NAME:]FILE[,FILE...]`, for example `root:full-access.json,perimeter.json`"
            ));
        }
        let p = PathBuf::from(part);
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&p)
                .map_err(|e| format!("cannot read the folder `{part}`: {e}"))?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "json"))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "the folder `{part}` holds no .json policy files; a folder given as a level must hold that level's policies"
                ));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(p);
        }
    }
    Ok(Level { name, files })
}

fn is_level_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Why the policies could not be loaded: an unreadable file (exit 2) or a policy that is not valid (exit 1, the
/// rendered diagnostics).
#[derive(Debug)]
pub(crate) enum LoadError {
    Unreadable(CliError),
    Invalid(String),
}

impl From<CliError> for LoadError {
    fn from(e: CliError) -> Self {
        LoadError::Unreadable(e)
    }
}

/// Read and parse one policy file; errors are rendered with the file's name, line:column and a snippet.
pub(crate) fn load(path: &Path) -> Result<Policy, LoadError> {
    let text = read(path)?;
    Policy::parse(&text).map_err(|e| invalid(&e, path))
}

/// Every error of a policy that could not be parsed, rendered for stderr.
fn invalid(e: &crate::policy::PolicyError, path: &Path) -> LoadError {
    let colour = super::render::colour(super::render::Stream::Stderr);
    let origin = path.display().to_string();
    let all: Vec<String> = e
        .diagnostics
        .iter()
        .map(|d| super::render::diagnostic(d, &e.source_text, &origin, colour))
        .collect();
    LoadError::Invalid(all.join("\n\n"))
}

/// The policies read for one command, with the text of each, to render warnings against.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// `(name as in reasons, file, text, policy)`, in the order given.
    pub sources: Vec<(String, PathBuf, String, Policy)>,
}

impl PolicyArgs {
    /// Build the set, with `endpoint` as the endpoint policy when given.
    pub(crate) fn build(&self, endpoint: Option<&Path>) -> Result<PolicySet, LoadError> {
        self.build_loaded(endpoint).map(|(s, _)| s)
    }

    /// Build the set and keep what was read (for warnings and file names).
    pub(crate) fn build_loaded(
        &self,
        endpoint: Option<&Path>,
    ) -> Result<(PolicySet, Loaded), LoadError> {
        let mut loaded = Loaded::default();
        let mut one = |name: String, path: &Path| -> Result<Policy, LoadError> {
            let text = read(path)?;
            let p = Policy::parse(&text).map_err(|e| invalid(&e, path))?;
            loaded
                .sources
                .push((name, path.to_path_buf(), text, p.clone()));
            Ok(p)
        };
        let mut b = PolicySet::builder();
        for (i, p) in self.policies.iter().enumerate() {
            b = b.identity(one(format!("identity[{i}]"), p)?);
        }
        if let Some(p) = &self.resource_policy {
            b = b.resource(one("resource".into(), p)?);
        }
        if let Some(p) = &self.boundary {
            b = b.boundary(one("boundary".into(), p)?);
        }
        for (i, p) in self.session.iter().enumerate() {
            b = b.session(one(format!("session[{i}]"), p)?);
        }
        for (l, level) in self.scps.iter().enumerate() {
            let mut ps = Vec::new();
            for (j, f) in level.files.iter().enumerate() {
                ps.push(one(format!("scps[{l}][{j}]"), f)?);
            }
            b = b.scp_level(ps);
        }
        for (l, level) in self.rcps.iter().enumerate() {
            let mut ps = Vec::new();
            for (j, f) in level.files.iter().enumerate() {
                ps.push(one(format!("rcps[{l}][{j}]"), f)?);
            }
            b = b.rcp_level(ps);
        }
        if let Some(p) = endpoint {
            b = b.endpoint(one("endpoint".into(), p)?);
        }
        let set = b.build().map_err(|e| {
            let name = e.policy.to_string();
            let file = loaded
                .sources
                .iter()
                .find(|s| s.0 == name)
                .map_or_else(|| name.clone(), |s| s.1.display().to_string());
            let colour = super::render::colour(super::render::Stream::Stderr);
            let note = format!("the policy is used as {}", self.rename(&name));
            LoadError::Invalid(super::render::diagnostic_with(
                &e.diagnostic,
                &e.source_text,
                &file,
                &[note],
                colour,
            ))
        })?;
        Ok((set, loaded))
    }

    /// The file a policy name (`identity[0]`, `scps[1][0]`, `boundary`) was read from; the endpoint policy's
    /// file is not among these options.
    pub(crate) fn file_of(&self, name: &str) -> Option<&Path> {
        let index = |prefix: &str| -> Option<(usize, Option<usize>)> {
            let rest = name.strip_prefix(prefix)?;
            let mut parts = rest.split(']');
            let a = parts.next()?.parse().ok()?;
            let b = parts
                .next()
                .and_then(|s| s.strip_prefix('['))
                .and_then(|s| s.parse().ok());
            Some((a, b))
        };
        fn level(levels: &[Level], (l, j): (usize, Option<usize>)) -> Option<&Path> {
            levels
                .get(l)
                .and_then(|lv| lv.files.get(j?))
                .map(PathBuf::as_path)
        }
        if let Some((i, _)) = index("identity[") {
            self.policies.get(i).map(PathBuf::as_path)
        } else if let Some((i, _)) = index("session[") {
            self.session.get(i).map(PathBuf::as_path)
        } else if let Some(at) = index("scps[") {
            level(&self.scps, at)
        } else if let Some(at) = index("rcps[") {
            level(&self.rcps, at)
        } else if name == "boundary" {
            self.boundary.as_deref()
        } else if name == "resource" {
            self.resource_policy.as_deref()
        } else {
            None
        }
    }

    /// A policy or gate name as reasons print it, with the level's NAME in place of its position when the level
    /// has one: `scps[0][1]` -> `scps[root][1]`, `scps[0]` -> `scps[root]`.
    pub(crate) fn rename(&self, name: &str) -> String {
        for (prefix, levels) in [("scps[", &self.scps), ("rcps[", &self.rcps)] {
            let Some(rest) = name.strip_prefix(prefix) else {
                continue;
            };
            let Some((n, tail)) = rest.split_once(']') else {
                continue;
            };
            let named = n
                .parse::<usize>()
                .ok()
                .and_then(|l| levels.get(l))
                .and_then(|lv| lv.name.as_deref());
            if let Some(level) = named {
                return format!("{prefix}{level}]{tail}");
            }
        }
        name.to_string()
    }

    /// Rename every `"policy"` field of a JSON value (reasons, findings) as [`PolicyArgs::rename`] does.
    pub(crate) fn rename_json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if k == "policy" {
                        if let serde_json::Value::String(s) = x {
                            *s = self.rename(s);
                        }
                    } else {
                        self.rename_json(x);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.rename_json(x)),
            _ => {}
        }
    }

    /// [`PolicyArgs::rename_json`] on serialized JSON, keeping its field order: `"policy":"scps[0]` becomes
    /// `"policy":"scps[root]` for each named level.
    pub(crate) fn rename_json_text(&self, json: &str) -> String {
        let mut out = json.to_string();
        for (prefix, levels) in [("scps[", &self.scps), ("rcps[", &self.rcps)] {
            for (l, level) in levels.iter().enumerate() {
                if let Some(name) = &level.name {
                    out = out.replace(
                        &format!("\"policy\":\"{prefix}{l}]"),
                        &format!("\"policy\":\"{prefix}{name}]"),
                    );
                }
            }
        }
        out
    }

    /// A reason as text, with level names.
    pub(crate) fn reason_text(&self, r: &crate::decide::Reason) -> String {
        use crate::decide::Reason;
        match r {
            Reason::Statement { policy, .. } => {
                let p = policy.to_string();
                let text = r.to_string().replacen(&p, &self.rename(&p), 1);
                match self.file_of(&p) {
                    Some(f) => format!("{text} in {}", f.display()),
                    None => text,
                }
            }
            Reason::NoAllow(g) => {
                let g = g.to_string();
                r.to_string().replacen(&g, &self.rename(&g), 1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn newuser_level_name_and_files() {
        let l = parse_level("root:a.json,b.json").unwrap();
        assert_eq!(l.name.as_deref(), Some("root"));
        assert_eq!(
            l.files,
            vec![PathBuf::from("a.json"), PathBuf::from("b.json")]
        );
        let l = parse_level("a.json").unwrap();
        assert_eq!(l.name, None);
        // A drive letter is not a level name.
        assert_eq!(parse_level("C:/x.json").unwrap().name, None);
        assert_eq!(parse_level("r:x.json").unwrap().name.as_deref(), Some("r"));
        assert!(parse_level("root:a.json,,b.json").is_err());
    }

    #[test]
    fn newuser_level_folder_is_its_json_files_sorted() {
        let dir = std::env::temp_dir().join(format!("iamgate-level-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["b.json", "a.json", "notes.txt"] {
            std::fs::write(dir.join(f), "{}").unwrap();
        }
        let arg = format!("ou:{}", dir.display());
        let l = parse_level(&arg).unwrap();
        assert_eq!(l.name.as_deref(), Some("ou"));
        assert_eq!(l.files, vec![dir.join("a.json"), dir.join("b.json")]);
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(
            parse_level(&empty.display().to_string())
                .unwrap_err()
                .contains("holds no .json")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn newuser_rename_uses_level_names() {
        let a = PolicyArgs {
            policies: vec![],
            resource_policy: None,
            boundary: None,
            session: vec![],
            scps: vec![
                parse_level("root:a.json,b.json").unwrap(),
                parse_level("c.json").unwrap(),
            ],
            rcps: vec![],
        };
        assert_eq!(a.rename("scps[0][1]"), "scps[root][1]");
        assert_eq!(a.rename("scps[0]"), "scps[root]");
        assert_eq!(a.rename("scps[1][0]"), "scps[1][0]");
        assert_eq!(a.file_of("scps[0][1]"), Some(Path::new("b.json")));
        assert_eq!(
            a.rename_json_text(r#"{"z":1,"policy":"scps[0][1]","b":{"policy":"scps[1][0]"}}"#),
            r#"{"z":1,"policy":"scps[root][1]","b":{"policy":"scps[1][0]"}}"#
        );
    }
}
