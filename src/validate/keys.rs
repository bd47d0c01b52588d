//! What lint makes of a condition key, from the catalog of crate::keys, and the did-you-mean suggestions for
//! misspelt ones (docs/SEMANTICS.md §5, §7.5).

pub(super) use crate::keys::{
    ENDPOINT_ID_KEYS, ENDPOINT_KEYS, FAS_KEYS, GLOBAL_KEYS, KeyType, NETWORK_KEYS,
    NOT_FOR_SAGEMAKER, TAG_KEYS,
};

/// What a condition key is.
pub(super) enum KeyInfo {
    /// Not an `aws:` key: a service key, not checked here.
    Service,
    Global {
        name: std::borrow::Cow<'static, str>,
        multivalued: bool,
        ty: KeyType,
    },
    /// An `aws:` key that does not exist.
    Unknown,
}

pub(super) fn key_info(key: &str) -> KeyInfo {
    if strip_prefix_ignore_case(key, "aws:").is_none() {
        return KeyInfo::Service;
    }
    // Eight bytes at a time (`str::eq_ignore_ascii_case` goes byte by byte): every condition of every policy
    // linted is looked up here.
    if let Some(k) = GLOBAL_KEYS
        .iter()
        .find(|k| crate::bytes::eq_ignore_ascii_case(k.name.as_bytes(), key.as_bytes()))
    {
        return KeyInfo::Global {
            name: std::borrow::Cow::Borrowed(k.name),
            multivalued: k.multivalued,
            ty: k.ty,
        };
    }
    for prefix in TAG_KEYS {
        if let Some(rest) = strip_prefix_ignore_case(key, prefix) {
            if !rest.is_empty() {
                return KeyInfo::Global {
                    name: format!("{prefix}{rest}").into(),
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
