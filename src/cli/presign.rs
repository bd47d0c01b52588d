//! `iamgate presign`: both steps of the presigned-URL flow along a network path (docs/network.md).

use super::policies::PolicyArgs;
use super::{CliError, read};
use crate::network::feeds::{self, CenrFilter, IpRangesFilter};
use crate::network::{Finding, Network, PresignReport, StepDecision, StepReport, Verdict, presign};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    policies: PolicyArgs,
    /// The network file (DESIGN.md, Network; docs/network.md).
    #[arg(long, value_name = "FILE")]
    network: PathBuf,
    /// A Zscaler CENR JSON feed whose ranges count as shared egress for the findings (repeat for several).
    #[arg(long = "cenr", value_name = "FILE")]
    cenr: Vec<PathBuf>,
    /// An AWS ip-ranges.json whose ranges count as shared egress for the findings (repeat for several).
    #[arg(long = "ip-ranges", value_name = "FILE")]
    ip_ranges: Vec<PathBuf>,
    /// Print the `presign --json` record of DESIGN.md.
    #[arg(long)]
    json: bool,
}

/// Exit 0 when the flow works and there are no findings, 1 otherwise (findings, a denied or unreachable step, or
/// a bad policy or network file), 2 for usage and unreadable files.
pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    let set = match a.policies.build(None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let text = read(&a.network)?;
    let mut net = match Network::parse(&text, a.network.parent()) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {}: {e}", a.network.display());
            if let Some(h) = &e.help {
                eprintln!("  help: {h}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    for p in &a.cenr {
        let t = read(p)?;
        match feeds::parse_cenr(&t, &CenrFilter::default()) {
            Ok(r) => net.shared_ranges.extend(r),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                return Ok(ExitCode::from(1));
            }
        }
    }
    for p in &a.ip_ranges {
        let t = read(p)?;
        match feeds::parse_aws_ip_ranges(&t, &IpRangesFilter::default()) {
            Ok(r) => net.shared_ranges.extend(r),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                return Ok(ExitCode::from(1));
            }
        }
    }
    let report = presign(&set, &net);
    if a.json {
        let v = serde_json::to_string(&report)
            .map_err(|e| CliError::Usage(format!("cannot print JSON: {e}")))?;
        println!("{v}");
    } else {
        print_human(&report, &net, &a);
    }
    Ok(
        if report.verdict == Verdict::Works && report.findings.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

/// The file a policy name (`identity[0]`, `scps[1][0]`, `endpoint`) was read from.
fn file_of(name: &str, a: &Args) -> Option<String> {
    let p = &a.policies;
    let index = |prefix: &str| -> Option<usize> {
        name.strip_prefix(prefix)?.split(']').next()?.parse().ok()
    };
    let path = if let Some(i) = index("identity[") {
        p.policies.get(i)
    } else if let Some(i) = index("session[") {
        p.session.get(i)
    } else if let Some(i) = index("scps[") {
        p.scps.get(i)
    } else if let Some(i) = index("rcps[") {
        p.rcps.get(i)
    } else if name == "boundary" {
        p.boundary.as_ref()
    } else if name == "resource" {
        p.resource_policy.as_ref()
    } else if name == "endpoint" {
        Some(&a.network)
    } else {
        None
    };
    path.map(|p| p.display().to_string())
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

fn print_human(r: &PresignReport, net: &Network, a: &Args) {
    println!(
        "network {} ({}): {} on {}",
        r.network,
        net.region,
        net.principal,
        net.resource_arn()
    );
    for s in &r.steps {
        println!();
        println!(
            "{}: sagemaker:CreatePresignedDomainUrl to {}",
            s.step, s.host
        );
        for (i, p) in s.path.iter().enumerate() {
            println!("  {}. {p}", i + 1);
        }
        println!("  context: {}", context_line(s));
        println!("  decision: {}", s.decision);
        // One block of reasons when every address decides alike for the same reasons, else one per block.
        let uniform = s.outcomes.split_first().is_some_and(|(f, rest)| {
            rest.iter()
                .all(|o| o.decision == f.decision && o.reasons == f.reasons)
        });
        for o in &s.outcomes {
            let indent = if uniform {
                "    "
            } else {
                println!("    {}: {}", o.source_ip, o.decision);
                "      "
            };
            for reason in &o.reasons {
                println!("{indent}{reason}");
            }
            if uniform {
                break;
            }
        }
    }
    println!();
    println!("{}", verdict_line(r));
    if !r.findings.is_empty() {
        println!();
        for f in &r.findings {
            print_finding(f, a);
        }
    }
}

fn print_finding(f: &Finding, a: &Args) {
    let sev = match f.severity {
        crate::diagnostic::Severity::Error => "error",
        crate::diagnostic::Severity::Warning => "warning",
    };
    println!("{sev}[{}]: {}", f.code, f.message);
    let file = file_of(&f.policy, a).map(|p| format!("{p}:{}:{}", f.line, f.column));
    let endpoint = f
        .endpoint
        .as_deref()
        .map(|e| format!(" of {e}"))
        .unwrap_or_default();
    let stmt = f
        .statement
        .map(|i| format!(" statement {i}"))
        .unwrap_or_default();
    match file {
        Some(loc) => println!("  --> {loc} ({}{endpoint}{stmt})", f.policy),
        None => println!(
            "  --> {}{endpoint}{stmt}, line {}, column {}",
            f.policy, f.line, f.column
        ),
    }
    println!("  help: {}", f.help);
}
