//! The global condition keys lint knows: their types, whether they are multivalued, and the did-you-mean
//! suggestions for misspelt ones (docs/SEMANTICS.md §5, §7.5).

/// What a global condition key holds, for the operator-type check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyType {
    String,
    Arn,
    Ip,
    Bool,
    Date,
    Numeric,
    /// `aws:EpochTime`: works with Date and Numeric operators (§3.5).
    Epoch,
}

/// One global condition key: canonical spelling, whether the request carries it as a list (§3.4), type.
pub(super) struct GlobalKey {
    name: &'static str,
    multivalued: bool,
    ty: KeyType,
}

pub(super) const fn key(name: &'static str, multivalued: bool, ty: KeyType) -> GlobalKey {
    GlobalKey {
        name,
        multivalued,
        ty,
    }
}

/// The global keys of docs/SEMANTICS.md §5 and the AWS global condition key reference. Order matters only for
/// did-you-mean ties (`aws:SourceVpc` before `aws:SourceVpce`).
pub(super) const GLOBAL_KEYS: [GlobalKey; 44] = [
    key("aws:SourceIp", false, KeyType::Ip),
    key("aws:SourceVpc", false, KeyType::String),
    key("aws:SourceVpce", false, KeyType::String),
    key("aws:VpcSourceIp", false, KeyType::Ip),
    key("aws:SourceVpcArn", false, KeyType::Arn),
    key("aws:ViaAWSService", false, KeyType::Bool),
    key("aws:CalledVia", true, KeyType::String),
    key("aws:CalledViaFirst", false, KeyType::String),
    key("aws:CalledViaLast", false, KeyType::String),
    key("aws:PrincipalArn", false, KeyType::Arn),
    key("aws:PrincipalAccount", false, KeyType::String),
    key("aws:PrincipalOrgID", false, KeyType::String),
    key("aws:PrincipalOrgPaths", true, KeyType::String),
    key("aws:PrincipalType", false, KeyType::String),
    key("aws:PrincipalIsAWSService", false, KeyType::Bool),
    key("aws:PrincipalServiceName", false, KeyType::String),
    key("aws:PrincipalServiceNamesList", true, KeyType::String),
    key("aws:userid", false, KeyType::String),
    key("aws:username", false, KeyType::String),
    key("aws:SourceAccount", false, KeyType::String),
    key("aws:SourceArn", false, KeyType::Arn),
    key("aws:SourceOrgID", false, KeyType::String),
    key("aws:SourceOrgPaths", true, KeyType::String),
    key("aws:RequestedRegion", false, KeyType::String),
    key("aws:TagKeys", true, KeyType::String),
    key("aws:ResourceAccount", false, KeyType::String),
    key("aws:ResourceOrgID", false, KeyType::String),
    key("aws:ResourceOrgPaths", true, KeyType::String),
    key("aws:CurrentTime", false, KeyType::Date),
    key("aws:EpochTime", false, KeyType::Epoch),
    key("aws:TokenIssueTime", false, KeyType::Date),
    key("aws:MultiFactorAuthAge", false, KeyType::Numeric),
    key("aws:MultiFactorAuthPresent", false, KeyType::Bool),
    key("aws:SecureTransport", false, KeyType::Bool),
    key("aws:Referer", false, KeyType::String),
    key("aws:UserAgent", false, KeyType::String),
    key("aws:FederatedProvider", false, KeyType::String),
    key("aws:SourceIdentity", false, KeyType::String),
    key("aws:ec2InstanceSourceVpc", false, KeyType::String),
    key("aws:ec2InstanceSourcePrivateIPv4", false, KeyType::Ip),
    key("aws:VpceAccount", false, KeyType::String),
    key("aws:VpceOrgID", false, KeyType::String),
    key("aws:VpceOrgPaths", true, KeyType::String),
    key("aws:AssumedRoot", false, KeyType::Bool),
];

/// Global keys with a tag-key suffix: `aws:PrincipalTag/<tag-key>` and so on. Single-valued strings.
pub(super) const TAG_KEYS: [&str; 3] = ["aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/"];

/// Keys a SageMaker request never carries although they are global keys (§5.1, §7.5).
pub(super) const NOT_FOR_SAGEMAKER: [&str; 4] = [
    "aws:sourcevpcarn",
    "aws:vpceaccount",
    "aws:vpceorgid",
    "aws:vpceorgpaths",
];

/// Keys present only on requests through a VPC endpoint, for every service (§5.2).
pub(super) const ENDPOINT_KEYS: [&str; 3] = ["aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"];

/// Network keys whose presence depends on the path (§7.8).
pub(super) const NETWORK_KEYS: [&str; 5] = [
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:sourcevpcarn",
];

/// Keys that exclude forward-access-session calls from a Deny (§7.15).
pub(super) const FAS_KEYS: [&str; 4] = [
    "aws:viaawsservice",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
];

/// Keys naming system-generated identifiers, on which endpoint policies allow no wildcards and no numeric
/// operators (§4.1).
pub(super) const ENDPOINT_ID_KEYS: [&str; 3] =
    ["aws:sourcevpc", "aws:sourcevpce", "aws:principalaccount"];

/// What a condition key is.
pub(super) enum KeyInfo {
    /// Not an `aws:` key: a service key, not checked here.
    Service,
    Global {
        name: String,
        multivalued: bool,
        ty: KeyType,
    },
    /// An `aws:` key that does not exist.
    Unknown,
}

pub(super) fn key_info(key: &str) -> KeyInfo {
    let lower = key.to_ascii_lowercase();
    if !lower.starts_with("aws:") {
        return KeyInfo::Service;
    }
    if let Some(k) = GLOBAL_KEYS
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(key))
    {
        return KeyInfo::Global {
            name: k.name.to_string(),
            multivalued: k.multivalued,
            ty: k.ty,
        };
    }
    for prefix in TAG_KEYS {
        if let Some(rest) = strip_prefix_ignore_case(key, prefix) {
            if !rest.is_empty() {
                return KeyInfo::Global {
                    name: format!("{prefix}{rest}"),
                    multivalued: false,
                    ty: KeyType::String,
                };
            }
        }
    }
    KeyInfo::Unknown
}

pub(super) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Names people write for a network key that edit distance would not lead back to it (§7.5).
pub(super) const CONFUSIONS: [(&str, &str); 10] = [
    ("aws:sourceendpoint", "aws:SourceVpce"),
    ("aws:sourcevpcendpoint", "aws:SourceVpce"),
    ("aws:vpcendpoint", "aws:SourceVpce"),
    ("aws:vpce", "aws:SourceVpce"),
    ("aws:vpcendpointid", "aws:SourceVpce"),
    ("aws:vpc", "aws:SourceVpc"),
    ("aws:vpcid", "aws:SourceVpc"),
    ("aws:ipaddress", "aws:SourceIp"),
    ("aws:sourceaddress", "aws:SourceIp"),
    ("aws:clientip", "aws:SourceIp"),
];

/// The closest real global key to a misspelled one, by edit distance (case-insensitive).
pub(super) fn suggest_key(key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    // A tag key: compare the part up to and including the slash with the tag prefixes, keep the tag name.
    if let Some((head, tag)) = lower.split_once('/') {
        let head = format!("{head}/");
        let original_tag = key.get(head.len()..).unwrap_or(tag);
        return TAG_KEYS
            .iter()
            .filter_map(|p| {
                Some((
                    edit_distance_within(&head, &p.to_ascii_lowercase(), threshold(p))?,
                    *p,
                ))
            })
            .min_by_key(|(d, _)| *d)
            .map(|(_, p)| format!("{p}{original_tag}"));
    }
    if let Some((_, real)) = CONFUSIONS.iter().find(|(wrong, _)| *wrong == lower) {
        return Some((*real).to_string());
    }
    // `aws:SourceVpcID`, `aws:SourceIpAddress`: a real key with something appended.
    if let Some(k) = GLOBAL_KEYS
        .iter()
        .filter(|k| lower.starts_with(&k.name.to_ascii_lowercase()))
        .max_by_key(|k| k.name.len())
    {
        return Some(k.name.to_string());
    }
    let mut best: Option<(usize, String)> = None;
    let candidates = GLOBAL_KEYS
        .iter()
        .map(|k| (k.name.to_string(), k.name.to_ascii_lowercase()))
        .chain(TAG_KEYS.iter().map(|p| {
            let bare = p.trim_end_matches('/');
            (format!("{p}<tag-key>"), bare.to_ascii_lowercase())
        }));
    for (name, lower_name) in candidates {
        let Some(d) = edit_distance_within(&lower, &lower_name, threshold(&lower_name)) else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| d < *b) {
            best = Some((d, name));
        }
    }
    best.map(|(_, name)| name)
}

/// How far a misspelling may be from `name` to still be suggested: half the length after `aws:`, at least 2.
pub(super) fn threshold(name: &str) -> usize {
    (name.len().saturating_sub(4) / 2).max(2)
}

/// [`edit_distance`] when it is at most `max`, else `None` ([`crate::suggest::distance_within`]): a lint of
/// 40,000 unknown keys spends most of its time here.
pub(super) fn edit_distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    crate::suggest::distance_within(a, b, max)
}

/// Edit distance with swaps of neighbours costing 1 (`aws:SourceVcpe` is nearer `aws:SourceVpce` than
/// `aws:SourceVpc`).
#[cfg(test)]
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    crate::suggest::distance(a, b)
}
