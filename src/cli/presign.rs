//! `iamgate presign`: both steps of the presigned-URL flow along a network path (docs/network.md).

use super::decide::parse_context;
use super::policies::{LoadError, Loaded, PolicyArgs};
use super::{CliError, read};
use crate::context::{ContextValue, Scalar};
use crate::network::feeds::{self, CenrFilter, IpRangesFilter};
use crate::network::{Finding, Network, PresignReport, StepDecision, StepReport, Verdict, presign};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    policies: PolicyArgs,
    /// The network file that describes the path (docs/FORMATS.md §3; docs/network.md).
    #[arg(long, value_name = "FILE")]
    network: PathBuf,
    /// A Zscaler CENR JSON feed whose ranges count as shared egress for the findings (repeat for several).
    #[arg(long = "cenr", value_name = "FILE")]
    cenr: Vec<PathBuf>,
    /// A feed file (CENR or ip-ranges.json) that the network file may name outside its own folder (repeat for
    /// several). Without it, a network file reads feeds only from its folder.
    #[arg(long = "feed", value_name = "FILE")]
    feeds: Vec<PathBuf>,
    /// An AWS ip-ranges.json whose ranges count as shared egress for the findings (repeat for several).
    #[arg(long = "ip-ranges", value_name = "FILE")]
    ip_ranges: Vec<PathBuf>,
    /// A context entry every request of the flow carries, as `KEY=VALUE` (repeat a key to give a list). The
    /// network keys come from the path and cannot be set here. `aws:username` (for an IAM user) and `aws:userid`
    /// (for the root user and federated users) are derived from the principal, as AWS sets them, unless given.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Print the presign record as JSON (docs/FORMATS.md §4), with `warnings`.
    #[arg(long)]
    json: bool,
}

/// Keys the network path sets: `--context` cannot override them.
const PATH_KEYS: [&str; 5] = [
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:viaawsservice",
];

/// The keys AWS derives from the caller's identity and iamgate can read off its ARN: `aws:username` for an IAM
/// user (the name after the path), `aws:userid` for the root user (the account id) and for a federated user
/// (`ACCOUNT:NAME`). For a role session AWS sets `aws:userid` to `ROLEID:SESSION`, where ROLEID is the role's
/// unique id, which the ARN does not hold, so it is left out; give it with `--context` when a policy tests it.
/// (docs/SEMANTICS.md §2.3; AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)
pub(crate) fn derived_identity_keys(principal: &str) -> Vec<(&'static str, String)> {
    let mut parts = principal.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(_region), Some(account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Vec::new();
    };
    match (service, rest.split_once('/')) {
        ("iam", Some(("user", path_and_name))) => {
            let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
            vec![("aws:username", name.to_string())]
        }
        ("iam", None) if rest == "root" => vec![("aws:userid", account.to_string())],
        ("sts", Some(("federated-user", name))) => {
            vec![("aws:userid", format!("{account}:{name}"))]
        }
        _ => Vec::new(),
    }
}

/// Exit 0 when the flow works and there are no findings, 1 otherwise (findings, a denied or unreachable step, or
/// a bad policy or network file), 2 for usage and unreadable files.
pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    let (set, loaded) = match a.policies.build_loaded(None) {
        Ok(s) => s,
        Err(LoadError::Unreadable(e)) => return Err(e),
        Err(LoadError::Invalid(e)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut extra = parse_context(&a.context)?;
    for (k, _) in extra.iter() {
        if PATH_KEYS.contains(&k) {
            return Err(CliError::Usage(format!(
                "--context cannot set `{k}`: the network path sets it; describe the path in the network file instead"
            )));
        }
    }
    let text = super::read_capped_text(
        &a.network,
        crate::limits::Limits::default().max_document_bytes,
    )?;
    let mut net = match Network::parse_allowing_feeds(&text, a.network.parent(), &a.feeds) {
        Ok(n) => n,
        Err(e) => {
            eprintln!(
                "{}",
                super::render::located(
                    &e.message,
                    &text,
                    &a.network.display().to_string(),
                    (e.line, e.column),
                    &e.path,
                    e.help.as_deref(),
                    super::render::colour(super::render::Stream::Stderr),
                )
            );
            return Ok(ExitCode::from(1));
        }
    };
    for (k, v) in derived_identity_keys(&net.principal) {
        if extra.get(k).is_none() {
            let _ = extra.insert(k, ContextValue::One(Scalar::String(v)));
        }
    }
    net.context = extra;
    for p in &a.cenr {
        let t = read(p)?;
        match feeds::parse_cenr(&t, &CenrFilter::default()) {
            Ok(r) => net.shared_ranges.extend(r),
            Err(e) => {
                eprintln!("{}", feed_error(&e, &t, p));
                return Ok(ExitCode::from(1));
            }
        }
    }
    for p in &a.ip_ranges {
        let t = read(p)?;
        match feeds::parse_aws_ip_ranges(&t, &IpRangesFilter::default()) {
            Ok(r) => net.shared_ranges.extend(r),
            Err(e) => {
                eprintln!("{}", feed_error(&e, &t, p));
                return Ok(ExitCode::from(1));
            }
        }
    }
    let report = presign(&set, &net);
    let skipped = super::warnings::rcps_skipped(&a.policies, crate::network::ACTION);
    if a.json {
        let mut warnings = super::warnings::lint_warnings(&a.policies, &loaded);
        warnings.extend(skipped);
        // The record's own field order, then `warnings`, written as it is serialised (the answer can be
        // quadratic in the statements: 140 MB for 1,000 of them, held whole three times over before).
        let record = Record {
            report: &report,
            warnings: &warnings,
        };
        let mut w = RenamingWriter::new(std::io::stdout().lock(), &a.policies, CHUNK);
        match serde_json::to_writer(&mut w, &record)
            .map_err(std::io::Error::from)
            .and_then(|()| w.finish())
        {
            Ok(()) => outln!(),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                std::process::exit(i32::from(super::BROKEN_PIPE))
            }
            Err(e) => return Err(CliError::Write(e)),
        }
    } else {
        print_human(&report, &net, &a, &loaded, &text);
        for w in super::warnings::lint_rendered(&a.policies, &loaded) {
            outln!();
            outln!("{w}");
        }
        if let Some(w) = skipped {
            outln!();
            outln!("warning: {w}");
        }
    }
    Ok(
        if report.verdict == Verdict::Works && report.findings.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// The JSON record: the report's fields in their order, then `warnings`.
#[derive(serde::Serialize)]
struct Record<'r, W: serde::Serialize> {
    #[serde(flatten)]
    report: &'r PresignReport,
    warnings: &'r W,
}

/// How much JSON text [`RenamingWriter`] holds before it renames and writes it.
const CHUNK: usize = 64 * 1024;

/// Writes serialised JSON through [`PolicyArgs::rename_json_text`] a chunk at a time. Each chunk ends just before
/// a `"policy":"`, where every renamed text starts, so no renaming spans two chunks and the output is that of
/// renaming the whole text at once.
struct RenamingWriter<'a, W: std::io::Write> {
    out: W,
    names: &'a PolicyArgs,
    held: Vec<u8>,
    /// How much of `held` has been searched for a place to cut.
    scanned: usize,
    chunk: usize,
}

impl<'a, W: std::io::Write> RenamingWriter<'a, W> {
    fn new(out: W, names: &'a PolicyArgs, chunk: usize) -> Self {
        RenamingWriter {
            out,
            names,
            held: Vec::new(),
            scanned: 0,
            chunk,
        }
    }

    /// Rename and write `held[..end]` (which ends before a `"policy":"`, or is the whole text).
    fn emit(&mut self, end: usize) -> std::io::Result<()> {
        let rest = self.held.split_off(end);
        let text = std::str::from_utf8(&self.held).map_err(std::io::Error::other)?;
        self.out
            .write_all(self.names.rename_json_text(text).as_bytes())?;
        self.held = rest;
        self.scanned = self.held.len();
        Ok(())
    }

    /// Write what is held.
    fn finish(&mut self) -> std::io::Result<()> {
        self.emit(self.held.len())?;
        self.out.flush()
    }
}

impl<W: std::io::Write> std::io::Write for RenamingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.held.extend_from_slice(buf);
        if self.held.len() >= self.chunk {
            const START: &[u8] = b"\"policy\":\"";
            // The last `"policy":"` after the first byte (a cut there is on a character boundary, a `"`), looked
            // for only in what was not searched before (and the few bytes an occurrence may straddle).
            let from = self.scanned.saturating_sub(START.len()).max(1);
            let cut = self
                .held
                .get(from..)
                .and_then(|h| h.windows(START.len()).rposition(|w| w == START))
                .map(|i| i + from);
            self.scanned = self.held.len();
            if let Some(end) = cut {
                self.emit(end)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A feed that cannot be read, in the one error style.
fn feed_error(e: &feeds::FeedError, text: &str, path: &std::path::Path) -> String {
    super::render::located(
        &e.message,
        text,
        &path.display().to_string(),
        (e.line, e.column),
        &e.path,
        Some(
            "a feed is a Zscaler CENR JSON (`--cenr`) or AWS's ip-ranges.json (`--ip-ranges`); docs/FORMATS.md §3",
        ),
        super::render::colour(super::render::Stream::Stderr),
    )
}

fn context_line(step: &StepReport) -> String {
    if step.context.is_empty() {
        return "(no request arrives)".into();
    }
    step.context
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" | "),
                other => other.to_string(),
            };
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict_line(r: &PresignReport) -> String {
    let d =
        |k: crate::network::StepKind| r.step(k).map_or(StepDecision::Unreachable, |s| s.decision);
    let create = d(crate::network::StepKind::Create);
    let use_ = d(crate::network::StepKind::Use);
    let what = match r.verdict {
        Verdict::Works => "the URL can be created and used along this path".to_string(),
        Verdict::CreateDenied => format!("the URL cannot be created ({create})"),
        Verdict::UseDenied => format!("the URL can be created, but not used ({use_})"),
        Verdict::Partial => "it works from part of the source range only".to_string(),
        Verdict::SsoDomain => format!(
            "the domain uses IAM Identity Center (SSO): CreatePresignedDomainUrl is not the way in (the steps would decide: create {create}, use {use_})"
        ),
        Verdict::Unreachable => {
            if create == StepDecision::Unreachable {
                "the create request never reaches AWS".to_string()
            } else {
                "the URL can be created, but the browser never reaches Studio".to_string()
            }
        }
    };
    format!("verdict: {} - {what}", r.verdict)
}

fn print_human(r: &PresignReport, net: &Network, a: &Args, loaded: &Loaded, net_text: &str) {
    outln!(
        "network {} ({}): {} on {}",
        r.network,
        net.region,
        net.principal,
        net.resource_arn()
    );
    for s in &r.steps {
        outln!();
        outln!(
            "{}: sagemaker:CreatePresignedDomainUrl to {}",
            s.step,
            s.host
        );
        for (i, p) in s.path.iter().enumerate() {
            outln!("  {}. {p}", i + 1);
        }
        outln!("  context: {}", context_line(s));
        outln!("  decision: {}", s.decision);
        // One block of reasons when every address decides alike for the same reasons, else one per block.
        let uniform = s.outcomes.split_first().is_some_and(|(f, rest)| {
            rest.iter()
                .all(|o| o.decision == f.decision && o.reasons == f.reasons)
        });
        for o in &s.outcomes {
            let indent = if uniform {
                "    "
            } else {
                outln!("    {}: {}", o.source_ip, o.decision);
                "      "
            };
            for reason in &o.reasons {
                outln!("{indent}{}", a.policies.reason_text(reason));
            }
            if uniform {
                break;
            }
        }
    }
    outln!();
    outln!("{}", verdict_line(r));
    if !r.findings.is_empty() {
        outln!();
        // Each file parsed and indexed once for all its findings.
        let arena = crate::parse::json::Arena::new();
        let mut docs: Vec<(*const u8, super::render::Document<'_>)> = Vec::new();
        for f in &r.findings {
            print_finding(f, a, loaded, net_text, &arena, &mut docs);
            outln!();
        }
    }
}

/// A finding in the one error style: the policy's file and line:column, the snippet, the JSON path, which
/// policy and statement, and the help.
fn print_finding<'t>(
    f: &Finding,
    a: &Args,
    loaded: &'t Loaded,
    net_text: &'t str,
    arena: &'t crate::parse::json::Arena,
    docs: &mut Vec<(*const u8, super::render::Document<'t>)>,
) {
    let name = a.policies.rename(&f.policy);
    // Inline endpoint policies and findings about the network itself live in the network file.
    let (file, text) = if f.policy == "endpoint" || f.policy == "network" {
        (a.network.display().to_string(), net_text)
    } else {
        match loaded.sources.iter().find(|s| s.0 == f.policy) {
            Some(s) => (s.1.display().to_string(), s.2.as_str()),
            None => (name.clone(), ""),
        }
    };
    let endpoint = f
        .endpoint
        .as_deref()
        .map(|e| format!(" of {e}"))
        .unwrap_or_default();
    let stmt = f
        .statement
        .map(|i| format!(" statement {i}"))
        .unwrap_or_default();
    let extra = super::render::Extra {
        warning: f.severity == crate::diagnostic::Severity::Warning,
        code: Some(f.code),
        notes: vec![format!("in {name}{endpoint}{stmt}")],
        help: Some(&f.help),
        ..super::render::Extra::default()
    };
    let colour = super::render::colour(super::render::Stream::Stdout);
    let key = text.as_ptr();
    let at = match docs.iter().position(|(k, _)| *k == key) {
        Some(i) => i,
        None => {
            docs.push((key, super::render::Document::new(text, arena)));
            docs.len() - 1
        }
    };
    let Some((_, doc)) = docs.get(at) else {
        return;
    };
    out!(
        "{}",
        super::render::at_place_in(&f.message, doc, &file, (f.line, f.column), extra, colour)
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::policies::Level;
    use super::*;
    use std::io::Write;

    /// The streamed record is the text that renaming it whole gives: chunks cut only before a `"policy":"`, even
    /// when the serialiser's writes straddle them, with a chunk far smaller than one reason.
    #[test]
    fn presign2_streamed_json_renames_as_the_whole_text() {
        let names = PolicyArgs {
            policies: vec![],
            resource_policy: None,
            boundary: None,
            session: vec![],
            scps: vec![
                Level {
                    name: Some("root".into()),
                    files: vec![],
                },
                Level {
                    name: None,
                    files: vec![],
                },
                Level {
                    name: Some("ou".into()),
                    files: vec![],
                },
            ],
            rcps: vec![Level {
                name: Some("r".into()),
                files: vec![],
            }],
        };
        let mut whole = String::from("{\"steps\":[");
        for i in 0..200 {
            whole.push_str(&format!(
                "{{\"policy\":\"scps[{}][{}]\",\"sid\":\"policy\\\":\\\"x\",\"statement\":{i}}},{{\"policy\":\"rcps[0]\",\"effect\":\"NoAllow\"}},",
                i % 3,
                i % 7
            ));
        }
        whole.push_str("\"é\"]}");
        let expected = names.rename_json_text(&whole);
        assert_ne!(expected, whole);
        for chunk in [1, 16, 100, 1 << 20] {
            for piece in [1, 7, 64] {
                let mut out = Vec::new();
                let mut w = RenamingWriter::new(&mut out, &names, chunk);
                for part in whole.as_bytes().chunks(piece) {
                    w.write_all(part).unwrap();
                }
                w.finish().unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    expected,
                    "chunk {chunk}, piece {piece}"
                );
            }
        }
    }

    /// The record as one serialisation (the report flattened, then `warnings`) is byte-identical to the report
    /// serialised with `warnings` spliced in before its closing brace, as the record was printed before.
    #[test]
    fn presign2_record_is_the_report_then_warnings() {
        let p = crate::Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"165.225.0.7/32"}}}]}"#,
        )
        .unwrap();
        let set = crate::PolicySet::builder().identity(p).build().unwrap();
        let net = Network::parse(
            r#"{"name":"wide","region":"eu-west-1","account":"111122223333",
                "principal":"arn:aws:iam::111122223333:role/DataSci","domain_id":"d-abc123","user_profile":"alice",
                "client":{"ip":"10.20.1.5","egress":{"kind":"zscaler","ips":["165.225.0.0/24"]}},
                "create":{"via":"client"}}"#,
            None,
        )
        .unwrap();
        let report = presign(&set, &net);
        let warnings = vec![serde_json::json!({"policy": "identity[0]", "code": "x"})];
        let old = serde_json::to_string(&report).unwrap();
        let old = format!(
            "{},\"warnings\":{}}}",
            old.strip_suffix('}').unwrap(),
            serde_json::to_string(&warnings).unwrap()
        );
        let new = serde_json::to_string(&Record {
            report: &report,
            warnings: &warnings,
        })
        .unwrap();
        assert_eq!(new, old);
        assert!(new.contains("\"outcomes\":[{\"source_ip\":\"165.225.0.0/30\""));
    }
}
