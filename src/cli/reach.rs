use super::CliError;
use super::decide::parse_context;
use super::policies::{LoadError, PolicyArgs, load};
use crate::analyse::{OTHER, Origin, ReachQuery, Values, reach};
use crate::compile::compile_endpoint_policy;
use crate::context::Request;
use crate::decide::Reason;
use ipnet::IpNet;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    policies: PolicyArgs,
    /// The ARN of the principal that creates and uses the URL (required).
    #[arg(long)]
    principal: Option<String>,
    /// The ARN of the user profile the URL opens (required).
    #[arg(long)]
    resource: Option<String>,
    /// The action to analyse.
    #[arg(long, default_value = "sagemaker:CreatePresignedDomainUrl")]
    action: String,
    /// The SageMaker API endpoint id, optionally with its policy: `vpce-...` or `vpce-...=policy.json`.
    #[arg(long = "api-endpoint", value_name = "ID[=FILE]")]
    api_endpoint: Option<String>,
    /// The Studio endpoint id, optionally with its policy: `vpce-...` or `vpce-...=policy.json`.
    #[arg(long = "studio-endpoint", value_name = "ID[=FILE]")]
    studio_endpoint: Option<String>,
    /// A further request context entry as `KEY=VALUE`; the analysis sets the network keys, and `aws:username` and
    /// `aws:userid` are derived from the principal as in `presign`, unless given.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Print the origins as JSON (docs/FORMATS.md §5; docs/reach.md).
    #[arg(long)]
    json: bool,
}

type Endpoint = Option<(String, Option<crate::compile::CompiledPolicy>)>;

fn endpoint(arg: &Option<String>) -> Result<Endpoint, LoadError> {
    let Some(a) = arg else { return Ok(None) };
    let (id, file) = match a.split_once('=') {
        Some((id, f)) => (id, Some(f)),
        None => (a.as_str(), None),
    };
    let policy = match file {
        Some(f) => Some(compile_endpoint_policy(load(f.as_ref())?).map_err(|e| {
            let colour = super::render::colour(super::render::Stream::Stderr);
            LoadError::Invalid(super::render::diagnostic(
                &e.diagnostic,
                &e.source_text,
                f,
                colour,
            ))
        })?),
        None => None,
    };
    Ok(Some((id.to_string(), policy)))
}

pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    let built = a.policies.build(None).and_then(|set| {
        Ok((
            set,
            endpoint(&a.api_endpoint)?,
            endpoint(&a.studio_endpoint)?,
        ))
    });
    let (set, api, studio) = match built {
        Ok(x) => x,
        Err(LoadError::Unreadable(e)) => return Err(e),
        Err(LoadError::Invalid(e)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(1));
        }
    };
    let (Some(principal), Some(resource)) = (a.principal.clone(), a.resource.clone()) else {
        let missing = match (&a.principal, &a.resource) {
            (None, None) => "--principal and --resource",
            (None, _) => "--principal",
            _ => "--resource",
        };
        return Err(CliError::Usage(format!(
            "reach needs {missing}: the principal that creates the URL and the user profile it opens, for example \
             --principal arn:aws:iam::111122223333:role/DataSci \
             --resource arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice"
        )));
    };
    let mut template = Request::new(&a.action, &resource);
    template.principal = Some(principal);
    template.context = parse_context(&a.context)?;
    // As AWS sets them for this principal, unless given (docs/SEMANTICS.md §2.3).
    if let Some(p) = &template.principal {
        for (k, v) in super::presign::derived_identity_keys(p) {
            if template.context.get(k).is_none() {
                let _ = template.context.insert(
                    k,
                    crate::context::ContextValue::One(crate::context::Scalar::String(v)),
                );
            }
        }
    }
    let q = ReachQuery {
        template,
        api_endpoint: api,
        studio_endpoint: studio,
    };
    let steps = reach(&set, &q);
    if a.json {
        print_json(&steps, &a.policies)?;
    } else {
        for s in &steps {
            outln!(
                "{}:",
                serde_json::to_value(s.step)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            );
            for o in &s.origins {
                outln!("  {}", describe(o, &a.policies));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ranges(r: &[IpNet]) -> String {
    let all4 = r.iter().any(|n| n.to_string() == "0.0.0.0/0");
    let all6 = r.iter().any(|n| n.to_string() == "::/0");
    if all4 && all6 {
        return "every IPv4 and IPv6 address".into();
    }
    const SHOWN: usize = 6;
    if r.len() > SHOWN {
        // The complement of the other classes: say so rather than list it.
        return format!("every other IPv4 and IPv6 address ({} blocks)", r.len());
    }
    let mut s = r
        .iter()
        .take(SHOWN)
        .map(IpNet::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if r.len() > SHOWN {
        s.push_str(&format!(" and {} more blocks", r.len() - SHOWN));
    }
    s
}

fn values(v: &Values, what: &str) -> String {
    match v {
        Values::Any => format!("any {what}"),
        Values::List(l) => l
            .iter()
            .map(|x| {
                if x == OTHER {
                    format!("any other {what}")
                } else {
                    x.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn why(reasons: &[Reason], names: &PolicyArgs) -> String {
    let parts: Vec<String> = reasons
        .iter()
        .map(|r| match r {
            Reason::Statement {
                policy,
                sid,
                statement,
                ..
            } => {
                let policy = names.rename(&policy.to_string());
                match sid {
                    Some(s) => format!("{policy} {s}"),
                    None => format!("{policy} statement {statement}"),
                }
            }
            Reason::NoAllow(g) => format!("no Allow in {}", names.rename(&g.to_string())),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
}

fn describe(o: &Origin, names: &PolicyArgs) -> String {
    match o {
        Origin::Public {
            source_ip,
            decision,
            reasons,
        } => {
            format!(
                "public path from {}: {decision}{}",
                ranges(source_ip),
                why(reasons, names)
            )
        }
        Origin::Endpoint {
            vpce,
            vpc,
            vpc_source_ip,
            decision,
            reasons,
        } => format!(
            "through {} in {} from {}: {decision}{}",
            values(vpce, "endpoint"),
            values(vpc, "VPC"),
            ranges(vpc_source_ip),
            why(reasons, names)
        ),
        Origin::ViaAwsService {
            source_ip,
            decision,
            reasons,
        } => format!(
            "by an AWS service on the principal's behalf, from {}: {decision}{}",
            ranges(source_ip),
            why(reasons, names)
        ),
    }
}

/// Print `{"steps":[...]}` as `serde_json::json!` would (keys in order, compact), one origin at a time: the
/// answer can be quadratic in the statements (105 MB for 2,000 statements that each name their own endpoint and
/// VPC), and a JSON tree of all of it took several times its size.
fn print_json(steps: &[crate::analyse::ReachStep], names: &PolicyArgs) -> Result<(), CliError> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match write_json(&mut out, steps, names) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::exit(i32::from(super::BROKEN_PIPE))
        }
        r => r.map_err(CliError::Write),
    }
}

/// The record of [`print_json`], with its newline, to `out`.
fn write_json(
    out: &mut impl std::io::Write,
    steps: &[crate::analyse::ReachStep],
    names: &PolicyArgs,
) -> std::io::Result<()> {
    out.write_all(b"{\"steps\":[")?;
    for (i, step) in steps.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{\"origins\":[")?;
        for (j, o) in step.origins.iter().enumerate() {
            let mut v = serde_json::to_value(o)?;
            names.rename_json(&mut v);
            if j > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut *out, &v)?;
        }
        out.write_all(b"],\"step\":")?;
        serde_json::to_writer(&mut *out, &step.step)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"]}\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::policies::Level;
    use super::*;

    /// The record written one origin at a time is the text of the whole answer as one JSON value (keys sorted,
    /// level names put in), as it was printed before.
    #[test]
    fn presign2_reach_json_streamed_is_the_json_value() {
        let p = crate::Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:CreatePresignedDomainUrl","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"],"aws:SourceVpc":"vpc-1"}}},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Null":{"aws:SourceVpc":"true"}}}]}"#,
        )
        .unwrap();
        let scp = crate::Policy::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap();
        let set = crate::PolicySet::builder()
            .identity(p)
            .scp_level(vec![scp])
            .build()
            .unwrap();
        let q = ReachQuery {
            template: Request::new(
                "sagemaker:CreatePresignedDomainUrl",
                "arn:aws:sagemaker:eu-west-1:111122223333:user-profile/d-abc123/alice",
            )
            .principal("arn:aws:iam::111122223333:role/DataSci"),
            ..ReachQuery::default()
        };
        let steps = reach(&set, &q);
        let names = PolicyArgs {
            policies: vec![],
            resource_policy: None,
            boundary: None,
            session: vec![],
            scps: vec![Level {
                name: Some("root".into()),
                files: vec![],
            }],
            rcps: vec![],
        };
        let mut v = serde_json::json!({ "steps": steps });
        names.rename_json(&mut v);
        let mut out = Vec::new();
        write_json(&mut out, &steps, &names).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, format!("{v}\n"));
        assert!(text.contains("scps[root]"), "{text}");
        assert!(steps.iter().all(|s| s.origins.len() > 2));
    }
}
