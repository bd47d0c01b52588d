//! Bulk what-if: every principal of a corpus against every network scenario, and what a guardrail would change
//! (docs/whatif.md).
//!
//! The inputs ([`inputs`]) are policy files and folders (one principal per identity-policy file), Case JSONL
//! files and `aws iam get-account-authorization-details` exports ([`gaad`], read as a stream). Each yields
//! [`Item`]s: a [`Principal`] with its policies, or an [`InputError`] naming the file and the place. The
//! [`runner`] decides both steps of the presigned-URL flow for each principal on each network, compiling each
//! distinct policy combination once and deciding principals in parallel; [`summary`] counts the rows and
//! gathers the findings.

pub mod gaad;
pub mod inputs;
pub mod runner;
pub mod summary;
pub mod synth;

use serde::Serialize;
use std::sync::Arc;

/// One policy document as a principal carries it.
#[derive(Debug, Clone)]
pub struct PolicyDoc {
    /// How the output names it: a managed policy's ARN, `inline:NAME`, `group:GROUP/inline:NAME`, or a file path.
    pub name: Arc<str>,
    /// Where it was read: `FILE` or `FILE#JSONPATH`.
    pub place: Arc<str>,
    /// The policy text.
    pub text: Arc<str>,
}

/// A principal: its ARN and the policies that apply to it.
#[derive(Debug, Clone)]
pub struct Principal {
    pub arn: Arc<str>,
    /// Where it was read: `FILE` or `FILE#JSONPATH`.
    pub source: Arc<str>,
    /// Inline, attached managed and group policies, in that order.
    pub identity: Vec<PolicyDoc>,
    pub boundary: Option<PolicyDoc>,
    /// Its own SCP levels (a Case that lists `scps`), in place of the run's `--scp` levels.
    pub scps: Option<Vec<Vec<PolicyDoc>>>,
    /// Its own RCP levels (a Case that lists `rcps`), in place of the run's `--rcp` levels.
    pub rcps: Option<Vec<Vec<PolicyDoc>>>,
    /// IAM tags, for `aws:PrincipalTag/KEY` and the user-profile tag mapping.
    pub tags: Vec<(String, String)>,
}

impl Principal {
    /// A principal with only identity policies.
    pub fn new(arn: &str, source: &str, identity: Vec<PolicyDoc>) -> Principal {
        Principal {
            arn: arn.into(),
            source: source.into(),
            identity,
            boundary: None,
            scps: None,
            rcps: None,
            tags: Vec::new(),
        }
    }

    /// The account id field of the ARN, if it has one.
    pub fn account(&self) -> Option<&str> {
        self.arn.split(':').nth(4).filter(|a| !a.is_empty())
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// An input, policy or principal that yields no rows: the error record of docs/whatif.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// `FILE` or `FILE#JSONPATH`.
    pub source: String,
    pub error: ErrorDetail,
}

/// What went wrong and where: 1-based line and column in the file (or in the embedded policy document), and the
/// JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorDetail {
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub path: String,
}

impl InputError {
    pub fn new(source: &str, message: String, line: usize, column: usize, path: &str) -> Self {
        InputError {
            source: source.into(),
            error: ErrorDetail {
                message,
                line,
                column,
                path: path.into(),
            },
        }
    }
}

/// What an input yields.
#[derive(Debug, Clone)]
pub enum Item {
    Principal(Box<Principal>),
    Error(InputError),
}

/// A stable 64-bit hash (FNV-1a) of `text`: the shard of a principal does not depend on the run, the machine
/// or the Rust version.
pub fn stable_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `--shard K/N`: the K-th (1-based) of N stable parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// Whether the principal (or error record) keyed by `key` belongs to this shard.
    pub fn holds(&self, key: &str) -> bool {
        self.n <= 1 || stable_hash(key) % self.n == self.k - 1
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad =
            || format!("`{s}` is not a shard; write `K/N` with 1 <= K <= N, for example `1/4`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key lands in exactly one shard of N, and the split is roughly even.
    #[test]
    fn whatif_shards_partition_principals() {
        let n = 4;
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let key = format!("arn:aws:iam::111122223333:role/r{i}");
            let holders: Vec<u64> = (1..=n).filter(|&k| Shard { k, n }.holds(&key)).collect();
            assert_eq!(holders.len(), 1, "{key}");
            counts[(holders[0] - 1) as usize] += 1;
        }
        for c in counts {
            assert!((800..1200).contains(&c), "{counts:?}");
        }
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { k: 2, n: 4 }));
        assert!("0/4".parse::<Shard>().is_err());
        assert!("5/4".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
    }

    /// The hash is FNV-1a: fixed values, so shards agree across machines and versions.
    #[test]
    fn whatif_stable_hash_is_fnv1a() {
        assert_eq!(stable_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
