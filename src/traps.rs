//! The traps of docs/SEMANTICS.md §7, named once: one stable code per trap, with a title, a general help and the
//! section that explains it. `lint` (crate::validate) and `presign`'s findings (crate::network) take their codes
//! from here, so a trap reads the same whichever reports it; each keeps its own message and help for the place
//! it points at.
//!
//! Codes are a contract (docs/FORMATS.md §4, §7; docs/network.md, Findings). A code that was renamed stays in
//! [`Trap::formerly`], and [`find`] still accepts it.
//!
//! ```
//! use iamgate::traps;
//! let t = traps::find("deny-locks-out-endpoints").unwrap(); // lint's name before the two were made one
//! assert_eq!(t.code, "not-ip-lockout");
//! assert_eq!(t.anchor(), "docs/SEMANTICS.md §7.1");
//! ```

/// Who reports a trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reporter {
    /// `lint`, from the policy text alone.
    Lint,
    /// `presign` (and `whatif`), from the policies and the network's steps.
    Presign,
    /// Both.
    Both,
}

/// One trap of docs/SEMANTICS.md §7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Trap {
    /// The stable kebab-case code diagnostics and findings carry.
    pub code: &'static str,
    /// The items of docs/SEMANTICS.md §7 it is about: `"7.1"`.
    pub sections: &'static [&'static str],
    /// What goes wrong, in one line.
    pub title: &'static str,
    /// What to write instead, in general (each report says it for its place).
    pub help: &'static str,
    /// Who reports it.
    pub reporter: Reporter,
    /// Codes it was reported under before, still accepted by [`find`].
    pub formerly: &'static [&'static str],
}

impl Trap {
    /// Where the trap is explained: `docs/SEMANTICS.md §7.1`.
    pub fn anchor(&self) -> String {
        let first = self.sections.first().copied().unwrap_or("7");
        // `\u{a7}` is `§`: written so, the citation checker (tests/it/readme.rs) does not read a format string as a
        // citation.
        format!("docs/SEMANTICS.md \u{a7}{first}")
    }

    /// Whether `lint` reports it.
    pub fn by_lint(&self) -> bool {
        matches!(self.reporter, Reporter::Lint | Reporter::Both)
    }

    /// Whether `presign` reports it.
    pub fn by_presign(&self) -> bool {
        matches!(self.reporter, Reporter::Presign | Reporter::Both)
    }
}

const fn trap(
    code: &'static str,
    sections: &'static [&'static str],
    reporter: Reporter,
    title: &'static str,
    help: &'static str,
) -> Trap {
    Trap {
        code,
        sections,
        title,
        help,
        reporter,
        formerly: &[],
    }
}

/// §7.1: a Deny with `NotIpAddress` on `aws:SourceIp` denies every request through an endpoint.
pub const NOT_IP_LOCKOUT: Trap = Trap {
    formerly: &["deny-locks-out-endpoints"],
    ..trap(
        "not-ip-lockout",
        &["7.1"],
        Reporter::Both,
        "a Deny with `NotIpAddress` on `aws:SourceIp` denies every request through a VPC endpoint",
        "exclude endpoint traffic in the same condition block: `StringNotEqualsIfExists` on `aws:SourceVpc`",
    )
};
/// §7.2, §7.14: a Deny unless a VPC key denies the console and public-endpoint calls.
pub const CONSOLE_BROKEN: Trap = Trap {
    formerly: &["deny-outside-endpoint"],
    ..trap(
        "console-broken",
        &["7.2", "7.14"],
        Reporter::Both,
        "endpoint conditions deny the console and every public-endpoint call",
        "exclude the public egress ranges with `NotIpAddressIfExists` on `aws:SourceIp` in the same block",
    )
};
/// §7.3: an `aws:SourceVpce` allow-list with one of the two endpoints.
pub const ONE_ENDPOINT_ONLY: Trap = trap(
    "one-endpoint-only",
    &["7.3"],
    Reporter::Presign,
    "an `aws:SourceVpce` allow-list holds one of the two endpoints the flow uses",
    "list both the SageMaker API endpoint and the Studio endpoint",
);
/// §7.4: private ranges in `aws:SourceIp`.
pub const PRIVATE_SOURCE_IP: Trap = trap(
    "private-source-ip",
    &["7.4"],
    Reporter::Both,
    "`aws:SourceIp` never holds a private address",
    "for addresses inside a VPC use `aws:VpcSourceIp` with `aws:SourceVpc` or `aws:SourceVpce`",
);
/// §7.5: a misspelt key.
pub const UNKNOWN_GLOBAL_KEY: Trap = trap(
    "unknown-global-key",
    &["7.5"],
    Reporter::Lint,
    "an `aws:` key that does not exist is absent from every request",
    "correct the spelling; lint names the nearest real key",
);
/// §7.5: a key SageMaker does not populate.
pub const KEY_ABSENT_FOR_SAGEMAKER: Trap = trap(
    "key-absent-for-sagemaker",
    &["7.5"],
    Reporter::Lint,
    "a global key SageMaker does not populate is absent from every SageMaker request",
    "use `aws:SourceVpce` or `aws:SourceVpc` instead",
);
/// §7.6: a security cloud's shared egress allow-listed.
pub const SHARED_EGRESS_ALLOWED: Trap = trap(
    "shared-egress-allowed",
    &["7.6"],
    Reporter::Presign,
    "an `aws:SourceIp` allow-list holds egress ranges shared by every tenant of a security cloud",
    "allow-list addresses the enterprise owns, or the VPC endpoint path",
);
/// §7.7: `ForAllValues:` on a single-valued network key in an Allow.
pub const FORALLVALUES_NETWORK_KEY: Trap = trap(
    "forallvalues-network-key",
    &["7.7"],
    Reporter::Both,
    "`ForAllValues:` on a single-valued network key in an Allow admits requests without the key",
    "drop the `ForAllValues:` qualifier",
);
/// §7.8: `...IfExists` on network keys in an Allow.
pub const IFEXISTS_WIDENING: Trap = Trap {
    formerly: &["ifexists-widens-access"],
    ..trap(
        "ifexists-widening",
        &["7.8"],
        Reporter::Both,
        "`IfExists` on a network key in an Allow also allows requests without the key",
        "drop `IfExists`, or pair `aws:SourceIp` with a VPC key, both with `IfExists`, for \"IP or VPC\"",
    )
};
/// §7.9: `aws:VpcSourceIp` without a VPC key.
pub const VPC_SOURCE_IP_WITHOUT_VPC: Trap = trap(
    "vpc-source-ip-without-vpc",
    &["7.9"],
    Reporter::Lint,
    "`aws:VpcSourceIp` without a VPC key matches the same range in any VPC",
    "add `aws:SourceVpc` or `aws:SourceVpce` to the same statement",
);
/// §7.10: a wildcard under an operator that compares literally.
pub const WILDCARD_WITHOUT_LIKE: Trap = trap(
    "wildcard-without-like",
    &["7.10"],
    Reporter::Lint,
    "`StringEquals` with `*` compares the star literally",
    "use `StringLike`, or write the exact value",
);
/// §7.10: wildcards on system identifiers in an endpoint policy.
pub const ENDPOINT_WILDCARD_ID_KEY: Trap = trap(
    "endpoint-wildcard-id-key",
    &["7.10"],
    Reporter::Lint,
    "VPC endpoint policies refuse wildcards in values of system identifier keys",
    "write each identifier in full",
);
/// §7.11: policy variables without Version `2012-10-17`.
pub const VARIABLE_WITHOUT_VERSION: Trap = trap(
    "variable-without-version",
    &["7.11"],
    Reporter::Lint,
    "policy variables are literal text without `\"Version\": \"2012-10-17\"`",
    "set `\"Version\": \"2012-10-17\"`",
);
/// §7.12: user-profile ARNs with capitals.
pub const SAGEMAKER_ARN_UPPERCASE: Trap = trap(
    "sagemaker-arn-uppercase",
    &["7.12"],
    Reporter::Lint,
    "SageMaker may lowercase names in ARNs, so a user-profile ARN with capitals may never match",
    "use lowercase profile names, or list both spellings",
);
/// §7.13: Sids with spaces, as AWS's examples have them.
pub const INVALID_SID: Trap = trap(
    "invalid-sid",
    &["7.13"],
    Reporter::Lint,
    "IAM refuses statement ids that are not alphanumeric",
    "write the Sid with `A-Z`, `a-z` and `0-9` only",
);
/// §7.13: `Id` in an identity policy, as AWS's examples have it.
pub const ID_IN_IDENTITY_POLICY: Trap = trap(
    "id-in-identity-policy",
    &["7.13"],
    Reporter::Lint,
    "`Id` does not belong in policies IAM stores",
    "remove the `Id` element",
);
/// §7.15: network Denies that block forward access sessions.
pub const DENY_BLOCKS_FAS: Trap = trap(
    "deny-blocks-fas",
    &["7.15"],
    Reporter::Lint,
    "a network Deny without an `aws:ViaAWSService` exclusion blocks calls services make for the principal",
    "add `\"BoolIfExists\": {\"aws:ViaAWSService\": \"false\"}` to the same condition block",
);
/// §7.16: the endpoint policy of the endpoint reached denies the step.
pub const ENDPOINT_POLICY_DENIES: Trap = trap(
    "endpoint-policy-denies",
    &["7.16"],
    Reporter::Presign,
    "the policy of the endpoint a step reaches does not allow it",
    "allow `sagemaker:CreatePresignedDomainUrl` on the API endpoint and `sagemaker:CreateApp` on the Studio endpoint",
);
/// §7.17: a policy over its kind's size limit.
pub const POLICY_TOO_LARGE: Trap = trap(
    "policy-too-large",
    &["7.17"],
    Reporter::Lint,
    "the policy is larger than its kind allows (SCPs and endpoint policies count whitespace)",
    "minify the JSON or split the policy",
);
/// §7.17: characters above U+00FF.
pub const INVALID_CHARACTER: Trap = trap(
    "invalid-character",
    &["7.17"],
    Reporter::Lint,
    "IAM refuses characters above U+00FF",
    "replace them with plain ASCII",
);

/// Every trap, in the order of docs/SEMANTICS.md §7.
pub const ALL: [Trap; 20] = [
    NOT_IP_LOCKOUT,
    CONSOLE_BROKEN,
    ONE_ENDPOINT_ONLY,
    PRIVATE_SOURCE_IP,
    UNKNOWN_GLOBAL_KEY,
    KEY_ABSENT_FOR_SAGEMAKER,
    SHARED_EGRESS_ALLOWED,
    FORALLVALUES_NETWORK_KEY,
    IFEXISTS_WIDENING,
    VPC_SOURCE_IP_WITHOUT_VPC,
    WILDCARD_WITHOUT_LIKE,
    ENDPOINT_WILDCARD_ID_KEY,
    VARIABLE_WITHOUT_VERSION,
    SAGEMAKER_ARN_UPPERCASE,
    INVALID_SID,
    ID_IN_IDENTITY_POLICY,
    DENY_BLOCKS_FAS,
    ENDPOINT_POLICY_DENIES,
    POLICY_TOO_LARGE,
    INVALID_CHARACTER,
];

/// The trap with this code, or with this former code (codes ignore ASCII case).
pub fn find(code: &str) -> Option<&'static Trap> {
    ALL.iter().find(|t| {
        t.code.eq_ignore_ascii_case(code) || t.formerly.iter().any(|f| f.eq_ignore_ascii_case(code))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_codes_are_unique_kebab_case_and_former_codes_lead_to_them() {
        let mut seen = std::collections::HashSet::new();
        for t in ALL {
            for c in std::iter::once(t.code).chain(t.formerly.iter().copied()) {
                assert!(seen.insert(c), "`{c}` names two traps");
                assert!(
                    c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                    "`{c}` is not kebab-case"
                );
                assert_eq!(find(c).map(|f| f.code), Some(t.code));
            }
        }
        assert_eq!(
            find("IFEXISTS-WIDENS-ACCESS").map(|t| t.code),
            Some("ifexists-widening")
        );
        assert!(find("no-such-trap").is_none());
    }

    /// Every trap cites an item that docs/SEMANTICS.md §7 has, and every item of §7 has a trap.
    #[test]
    fn every_trap_is_an_item_of_semantics_section_7() {
        let doc = include_str!("../docs/SEMANTICS.md");
        let start = doc.find("## 7.").unwrap();
        let end = doc[start..].find("\n## 8.").unwrap() + start;
        let items: Vec<String> = doc[start..end]
            .lines()
            .filter_map(|l| {
                let (n, _) = l.split_once(". ")?;
                n.parse::<u32>().ok().map(|n| format!("7.{n}"))
            })
            .collect();
        assert_eq!(items.len(), 17, "{items:?}");
        for t in ALL {
            for s in t.sections {
                assert!(
                    items.iter().any(|i| i == s),
                    "{}: no item {s} in §7",
                    t.code
                );
            }
        }
        for i in &items {
            assert!(
                ALL.iter().any(|t| t.sections.contains(&i.as_str())),
                "§{i} has no trap"
            );
        }
    }

    /// docs/network.md's findings table lists exactly the traps `presign` reports, with their section.
    #[test]
    fn network_doc_lists_the_presign_traps() {
        let doc = include_str!("../docs/network.md");
        let listed: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(c, _)| c))
            .filter(|c| find(c).is_some())
            .collect();
        let want: Vec<&str> = ALL
            .iter()
            .filter(|t| t.by_presign())
            .map(|t| t.code)
            .collect();
        for c in &want {
            assert!(listed.contains(c), "docs/network.md does not list `{c}`");
        }
        for c in &listed {
            assert!(
                want.contains(c),
                "docs/network.md lists `{c}`, which presign does not report"
            );
        }
    }
}
