use super::CliError;
use super::policies::{LoadError, PolicyArgs};
use crate::context::{Context, ContextValue, Request, Scalar};
use crate::decide::{Decision, Explanation};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    policies: PolicyArgs,
    /// The policy of the VPC endpoint the request comes through.
    #[arg(long = "endpoint-policy", value_name = "FILE")]
    endpoint: Option<PathBuf>,
    /// The action to decide, as `service:ActionName`.
    #[arg(long)]
    action: String,
    /// The ARN of the resource the action is on.
    #[arg(long)]
    resource: String,
    /// The ARN of the calling principal.
    #[arg(long)]
    principal: Option<String>,
    /// The resource's account, for a resource ARN that has none (S3, for example).
    #[arg(long = "resource-account")]
    resource_account: Option<String>,
    /// A request context entry as `KEY=VALUE`; repeat a key to give a list.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Show every statement consulted and each condition's result.
    #[arg(long)]
    explain: bool,
    /// Print the decision record as JSON, in the shape `batch` prints (`id`, `decision`, `reasons`,
    /// `warnings`).
    #[arg(long)]
    json: bool,
    /// Exit with status 3 when the request is denied (explicitly or implicitly), for scripts.
    #[arg(long = "exit-code")]
    exit_code: bool,
}

/// The exit status of `decide --exit-code` for a denied request.
pub(crate) const DENIED: u8 = 3;

pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    let (set, loaded) = match a.policies.build_loaded(a.endpoint.as_deref()) {
        Ok(x) => x,
        Err(LoadError::Unreadable(e)) => return Err(e),
        Err(LoadError::Invalid(e)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let mut request = Request::new(&a.action, &a.resource);
    request.principal = a.principal.clone();
    request.resource_account = a.resource_account.clone();
    request.context = parse_context(&a.context)?;
    request
        .check()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let ex = set.explain(&request);
    let warnings =
        super::warnings::for_request(&a.policies, &loaded, &request, &ex.statements, !a.json);
    if a.json {
        // The record `batch` prints, field for field and in its order.
        let record = crate::api::case::DecisionRecord::Decided {
            id: None,
            decision: ex.decision,
            reasons: ex.reasons.clone(),
            warnings: warnings.clone(),
            statements: a.explain.then(|| ex.statements.clone()),
        };
        let v = serde_json::to_string(&record)
            .map_err(|e| CliError::Usage(format!("cannot print JSON: {e}")))?;
        let v = a.policies.rename_json_text(&v);
        outln!("{v}");
    } else {
        print_human(&ex, a.explain, &a.policies);
        for w in &warnings {
            outln!();
            outln!("{w}");
        }
    }
    Ok(if a.exit_code && ex.decision != Decision::Allow {
        ExitCode::from(DENIED)
    } else {
        ExitCode::SUCCESS
    })
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
        ctx.insert(&k, value)
            .map_err(|e| CliError::Usage(e.to_string()))?;
    }
    Ok(ctx)
}

pub(crate) fn print_human(ex: &Explanation, explain: bool, names: &PolicyArgs) {
    outln!("{}", ex.decision);
    for r in &ex.reasons {
        outln!("  {}", names.reason_text(r));
    }
    if explain {
        for s in &ex.statements {
            let mark = if s.applies {
                "applies"
            } else {
                "does not apply"
            };
            outln!(
                "{} statement {}{} ({}): {mark}",
                names.rename(&s.policy.to_string()),
                s.statement,
                s.sid
                    .as_deref()
                    .map(|x| format!(" {x}"))
                    .unwrap_or_default(),
                s.effect
            );
            if !s.action_matched {
                outln!("    action does not match");
            }
            if !s.resource_matched {
                outln!("    resource does not match");
            }
            if !s.principal_matched {
                outln!("    principal does not match");
            }
            for c in &s.conditions {
                outln!(
                    "    {} {} {}: {}",
                    if c.held { "✓" } else { "✗" },
                    c.operator,
                    c.key,
                    c.why()
                );
            }
        }
    }
}
