use super::{read, CliError};
use crate::compile::PolicySet;
use crate::context::{Context, ContextValue, Request, Scalar};
use crate::decide::{Explanation, Reason};
use crate::policy::Policy;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// An identity-based policy file (repeat for several).
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<PathBuf>,
    /// The resource-based policy.
    #[arg(long = "resource-policy", value_name = "FILE")]
    resource_policy: Option<PathBuf>,
    /// The permissions boundary.
    #[arg(long, value_name = "FILE")]
    boundary: Option<PathBuf>,
    /// A session policy (repeat for several).
    #[arg(long = "session-policy", value_name = "FILE")]
    session: Vec<PathBuf>,
    /// An SCP level, root first; each file is one level (repeat for each level).
    #[arg(long = "scp", value_name = "FILE")]
    scps: Vec<PathBuf>,
    /// An RCP level (repeat for each level).
    #[arg(long = "rcp", value_name = "FILE")]
    rcps: Vec<PathBuf>,
    /// The policy of the VPC endpoint the request comes through.
    #[arg(long = "endpoint-policy", value_name = "FILE")]
    endpoint: Option<PathBuf>,
    /// The action, `service:ActionName`.
    #[arg(long)]
    action: String,
    /// The resource ARN.
    #[arg(long)]
    resource: String,
    /// The calling principal's ARN.
    #[arg(long)]
    principal: Option<String>,
    /// The resource's account, when its ARN has none.
    #[arg(long = "resource-account")]
    resource_account: Option<String>,
    /// A context entry `KEY=VALUE`; repeat a key to give a list.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Show every statement consulted and each condition's result.
    #[arg(long)]
    explain: bool,
    /// Print the decision record as JSON.
    #[arg(long)]
    json: bool,
}

fn load(path: &Path) -> Result<Policy, String> {
    let text = read(path).map_err(|e| e.to_string())?;
    Policy::parse(&text).map_err(|e| e.render(&path.display().to_string()))
}

pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    let built = (|| -> Result<PolicySet, String> {
        let mut b = PolicySet::builder();
        for p in &a.policies {
            b = b.identity(load(p)?);
        }
        if let Some(p) = &a.resource_policy {
            b = b.resource(load(p)?);
        }
        if let Some(p) = &a.boundary {
            b = b.boundary(load(p)?);
        }
        for p in &a.session {
            b = b.session(load(p)?);
        }
        for p in &a.scps {
            b = b.scp_level([load(p)?]);
        }
        for p in &a.rcps {
            b = b.rcp_level([load(p)?]);
        }
        if let Some(p) = &a.endpoint {
            b = b.endpoint(load(p)?);
        }
        b.build().map_err(|e| {
            let (line, col) = crate::span::line_col(&e.source_text, e.diagnostic.span.start as usize);
            format!("{}: {} (line {line}, column {col})", e.policy, e.diagnostic.message)
        })
    })();
    let set = match built {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut request = Request::new(&a.action, &a.resource);
    request.principal = a.principal.clone();
    request.resource_account = a.resource_account.clone();
    request.context = parse_context(&a.context)?;
    let ex = set.explain(&request);
    if a.json {
        let mut v = serde_json::json!({"decision": ex.decision, "reasons": ex.reasons});
        if a.explain {
            if let Some(m) = v.as_object_mut() {
                m.insert("statements".into(), serde_json::to_value(&ex.statements).unwrap_or_default());
            }
        }
        println!("{v}");
    } else {
        print_human(&ex, a.explain);
    }
    Ok(ExitCode::SUCCESS)
}

/// `KEY=VALUE` pairs; a repeated key makes a list.
pub(crate) fn parse_context(pairs: &[String]) -> Result<Context, CliError> {
    let mut grouped: Vec<(String, Vec<Scalar>)> = Vec::new();
    for pair in pairs {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(CliError::Usage(format!(
                "--context `{pair}` must be KEY=VALUE, for example aws:SourceIp=203.0.113.7"
            )));
        };
        match grouped.iter_mut().find(|(g, _)| g.eq_ignore_ascii_case(k)) {
            Some((_, vals)) => vals.push(Scalar::String(v.to_string())),
            None => grouped.push((k.to_string(), vec![Scalar::String(v.to_string())])),
        }
    }
    let mut ctx = Context::new();
    for (k, mut vals) in grouped {
        let value = if vals.len() == 1 {
            ContextValue::One(vals.remove(0))
        } else {
            ContextValue::Many(vals)
        };
        ctx.insert(&k, value).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    Ok(ctx)
}

pub(crate) fn print_human(ex: &Explanation, explain: bool) {
    println!("{}", ex.decision);
    for r in &ex.reasons {
        match r {
            Reason::Statement {
                policy,
                sid,
                statement,
                effect,
            } => println!(
                "  {effect} by {policy} statement {statement}{}",
                sid.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            Reason::NoAllow(g) => println!("  no statement in {g} allows the request"),
        }
    }
    if explain {
        for s in &ex.statements {
            let mark = if s.applies { "applies" } else { "does not apply" };
            println!(
                "{} statement {}{} ({}): {mark}",
                s.policy,
                s.statement,
                s.sid.as_deref().map(|x| format!(" {x}")).unwrap_or_default(),
                s.effect
            );
            if !s.action_matched {
                println!("    action does not match");
            }
            if !s.resource_matched {
                println!("    resource does not match");
            }
            if !s.principal_matched {
                println!("    principal does not match");
            }
            for c in &s.conditions {
                println!(
                    "    {} {} {}: {}",
                    if c.held { "✓" } else { "✗" },
                    c.operator,
                    c.key,
                    c.why
                );
            }
        }
    }
}
