//! The policy options shared by `decide`, `reach` and `presign`.

use super::read;
use crate::compile::PolicySet;
use crate::policy::Policy;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct PolicyArgs {
    /// An identity-based policy file (repeat for several).
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// The resource-based policy.
    #[arg(long = "resource-policy", value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// The permissions boundary.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// A session policy (repeat for several).
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session: Vec<PathBuf>,
    /// An SCP level, root first; each file is one level (repeat for each level).
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,
    /// An RCP level (repeat for each level).
    #[arg(long = "rcp", value_name = "FILE")]
    pub rcps: Vec<PathBuf>,
}

/// Read and parse one policy file; the error is rendered rustc-style.
pub(crate) fn load(path: &Path) -> Result<Policy, String> {
    let text = read(path).map_err(|e| e.to_string())?;
    Policy::parse(&text).map_err(|e| e.render(&path.display().to_string()))
}

impl PolicyArgs {
    /// Build the set, with `endpoint` as the endpoint policy when given.
    pub(crate) fn build(&self, endpoint: Option<&Path>) -> Result<PolicySet, String> {
        let mut b = PolicySet::builder();
        for p in &self.policies {
            b = b.identity(load(p)?);
        }
        if let Some(p) = &self.resource_policy {
            b = b.resource(load(p)?);
        }
        if let Some(p) = &self.boundary {
            b = b.boundary(load(p)?);
        }
        for p in &self.session {
            b = b.session(load(p)?);
        }
        for p in &self.scps {
            b = b.scp_level([load(p)?]);
        }
        for p in &self.rcps {
            b = b.rcp_level([load(p)?]);
        }
        if let Some(p) = endpoint {
            b = b.endpoint(load(p)?);
        }
        b.build().map_err(|e| {
            let (line, col) =
                crate::span::line_col(&e.source_text, e.diagnostic.span.start as usize);
            format!(
                "{}: {} (line {line}, column {col})",
                e.policy, e.diagnostic.message
            )
        })
    }
}
