//! The condition-key catalog: every global condition key iamgate knows, once, with its canonical spelling, whether
//! a request carries it as a list, what it holds, and whether a request's value is checked when it is given
//! (docs/SEMANTICS.md §3.5, §5; AWS's global condition key reference).
//!
//! Two stages read it. `lint` (crate::validate) checks operators against a key's type and names the nearest real
//! key to a misspelt one. The request context (crate::context) refuses a malformed value of a key marked
//! `checked` at ingest: for those keys `checked_key_type` and `CHECKED_KEYS` are the fast forms, generated
//! from the same rows by the macro below, so there is no second list to drift.
//!
//! Dependencies: this module depends on nothing else in the crate; `context`, `compile`, `validate` and `network`
//! depend on it.

/// What a global condition key holds, as AWS documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// Text, compared with `String*` operators.
    String,
    /// An ARN: `Arn*` operators, or `String*` ones.
    Arn,
    /// An IP address: `IpAddress`, `NotIpAddress`.
    Ip,
    /// `true` or `false`: `Bool`.
    Bool,
    /// A date and time: `Date*` operators.
    Date,
    /// A number: `Numeric*` operators.
    Numeric,
    /// `aws:EpochTime`: works with Date and Numeric operators (docs/SEMANTICS.md §3.5).
    Epoch,
}

/// How a request's value of a checked key is checked when it is given (crate::context re-exports it as
/// `KeyType`): ARNs are checked as strings, epoch times as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IngestType {
    /// An IP address (an IPv4-mapped IPv6 address is read as IPv4).
    Ip,
    /// `true` or `false`, as a JSON boolean or a string.
    Bool,
    /// A finite number, as a JSON number or a string.
    Numeric,
    /// A date: ISO 8601 text or epoch seconds.
    Date,
    /// Any text: not checked.
    String,
}

impl KeyType {
    /// How a value of a key of this type is checked at ingest.
    pub(crate) const fn ingest(self) -> IngestType {
        match self {
            KeyType::String | KeyType::Arn => IngestType::String,
            KeyType::Ip => IngestType::Ip,
            KeyType::Bool => IngestType::Bool,
            KeyType::Date => IngestType::Date,
            KeyType::Numeric | KeyType::Epoch => IngestType::Numeric,
        }
    }
}

/// One global condition key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GlobalKey {
    /// The canonical spelling: `aws:SourceVpce`.
    pub name: &'static str,
    /// The same, lowercase (keys ignore case).
    pub lower: &'static str,
    /// Whether a request carries it as a list (docs/SEMANTICS.md §3.4).
    pub multivalued: bool,
    /// What it holds.
    pub ty: KeyType,
    /// Whether a request's value is checked against `ty` when given (`checked_key_type`).
    pub checked: bool,
}

macro_rules! multivalued {
    (one) => {
        false
    };
    (list) => {
        true
    };
}

macro_rules! checked {
    (checked) => {
        true
    };
    (unchecked) => {
        false
    };
}

/// `match lower { KEY => Some(TYPE), ... _ => None }` over the checked rows only.
macro_rules! checked_match {
    ($s:ident; [$($arms:tt)*];) => {
        match $s {
            $($arms)*
            _ => None,
        }
    };
    ($s:ident; [$($arms:tt)*]; checked $l:literal $ty:ident, $($rest:tt)*) => {
        checked_match!($s; [$($arms)* $l => Some(KeyType::$ty.ingest()),]; $($rest)*)
    };
    ($s:ident; [$($arms:tt)*]; unchecked $l:literal $ty:ident, $($rest:tt)*) => {
        checked_match!($s; [$($arms)*]; $($rest)*)
    };
}

/// `[(KEY, TYPE), ...]` over the checked rows only.
macro_rules! checked_list {
    ([$($items:tt)*];) => {
        &[$($items)*]
    };
    ([$($items:tt)*]; checked $l:literal $ty:ident, $($rest:tt)*) => {
        checked_list!([$($items)* ($l, KeyType::$ty.ingest()),]; $($rest)*)
    };
    ([$($items:tt)*]; unchecked $l:literal $ty:ident, $($rest:tt)*) => {
        checked_list!([$($items)*]; $($rest)*)
    };
}

macro_rules! catalog {
    ($($mark:ident $name:literal $lower:literal $multi:ident $ty:ident,)*) => {
        /// The global keys of docs/SEMANTICS.md §5 and the AWS global condition key reference. Order matters only
        /// for lint's did-you-mean ties (`aws:SourceVpc` before `aws:SourceVpce`).
        pub const GLOBAL_KEYS: &[GlobalKey] = &[
            $(GlobalKey {
                name: $name,
                lower: $lower,
                multivalued: multivalued!($multi),
                ty: KeyType::$ty,
                checked: checked!($mark),
            },)*
        ];

        /// How a value of the checked key `lower` (lowercase) is checked at ingest; `None` for any other key.
        #[inline]
        pub(crate) fn checked_key_type(lower: &str) -> Option<IngestType> {
            checked_match!(lower; []; $($mark $lower $ty,)*)
        }

        /// Every key [`checked_key_type`] knows (lowercase), with its check.
        pub(crate) const CHECKED_KEYS: &[(&str, IngestType)] = checked_list!([]; $($mark $lower $ty,)*);
    };
}

// checked: the request's value is refused at ingest unless it fits the type; these are the keys the evaluator and
// the network model read as typed values. Each is single-valued.
catalog! {
    checked "aws:SourceIp" "aws:sourceip" one Ip,
    checked "aws:SourceVpc" "aws:sourcevpc" one String,
    checked "aws:SourceVpce" "aws:sourcevpce" one String,
    checked "aws:VpcSourceIp" "aws:vpcsourceip" one Ip,
    checked "aws:SourceVpcArn" "aws:sourcevpcarn" one Arn,
    checked "aws:ViaAWSService" "aws:viaawsservice" one Bool,
    unchecked "aws:CalledVia" "aws:calledvia" list String,
    unchecked "aws:CalledViaFirst" "aws:calledviafirst" one String,
    unchecked "aws:CalledViaLast" "aws:calledvialast" one String,
    checked "aws:PrincipalArn" "aws:principalarn" one Arn,
    checked "aws:PrincipalAccount" "aws:principalaccount" one String,
    checked "aws:PrincipalOrgID" "aws:principalorgid" one String,
    unchecked "aws:PrincipalOrgPaths" "aws:principalorgpaths" list String,
    checked "aws:PrincipalType" "aws:principaltype" one String,
    checked "aws:PrincipalIsAWSService" "aws:principalisawsservice" one Bool,
    unchecked "aws:PrincipalServiceName" "aws:principalservicename" one String,
    unchecked "aws:PrincipalServiceNamesList" "aws:principalservicenameslist" list String,
    checked "aws:userid" "aws:userid" one String,
    checked "aws:username" "aws:username" one String,
    unchecked "aws:SourceAccount" "aws:sourceaccount" one String,
    unchecked "aws:SourceArn" "aws:sourcearn" one Arn,
    unchecked "aws:SourceOrgID" "aws:sourceorgid" one String,
    unchecked "aws:SourceOrgPaths" "aws:sourceorgpaths" list String,
    checked "aws:RequestedRegion" "aws:requestedregion" one String,
    unchecked "aws:TagKeys" "aws:tagkeys" list String,
    unchecked "aws:ResourceAccount" "aws:resourceaccount" one String,
    unchecked "aws:ResourceOrgID" "aws:resourceorgid" one String,
    unchecked "aws:ResourceOrgPaths" "aws:resourceorgpaths" list String,
    checked "aws:CurrentTime" "aws:currenttime" one Date,
    checked "aws:EpochTime" "aws:epochtime" one Epoch,
    checked "aws:TokenIssueTime" "aws:tokenissuetime" one Date,
    checked "aws:MultiFactorAuthAge" "aws:multifactorauthage" one Numeric,
    checked "aws:MultiFactorAuthPresent" "aws:multifactorauthpresent" one Bool,
    checked "aws:SecureTransport" "aws:securetransport" one Bool,
    unchecked "aws:Referer" "aws:referer" one String,
    unchecked "aws:UserAgent" "aws:useragent" one String,
    unchecked "aws:FederatedProvider" "aws:federatedprovider" one String,
    unchecked "aws:SourceIdentity" "aws:sourceidentity" one String,
    unchecked "aws:ec2InstanceSourceVpc" "aws:ec2instancesourcevpc" one String,
    unchecked "aws:ec2InstanceSourcePrivateIPv4" "aws:ec2instancesourceprivateipv4" one Ip,
    unchecked "aws:VpceAccount" "aws:vpceaccount" one String,
    unchecked "aws:VpceOrgID" "aws:vpceorgid" one String,
    unchecked "aws:VpceOrgPaths" "aws:vpceorgpaths" list String,
    unchecked "aws:AssumedRoot" "aws:assumedroot" one Bool,
}

/// Global keys with a tag-key suffix: `aws:PrincipalTag/<tag-key>` and so on. Single-valued strings.
pub(crate) const TAG_KEYS: [&str; 3] = ["aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/"];

/// Keys a SageMaker request never carries although they are global keys (docs/SEMANTICS.md §5.1, §7.5).
pub(crate) const NOT_FOR_SAGEMAKER: [&str; 4] = [
    "aws:sourcevpcarn",
    "aws:vpceaccount",
    "aws:vpceorgid",
    "aws:vpceorgpaths",
];

/// Keys present only on requests through a VPC endpoint, for every service (docs/SEMANTICS.md §5.2).
pub(crate) const ENDPOINT_KEYS: [&str; 3] = ["aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip"];

/// Network keys whose presence depends on the path (docs/SEMANTICS.md §7.8).
pub(crate) const NETWORK_KEYS: [&str; 5] = [
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpcsourceip",
    "aws:sourcevpcarn",
];

/// Keys that exclude forward-access-session calls from a Deny (docs/SEMANTICS.md §7.15).
pub(crate) const FAS_KEYS: [&str; 4] = [
    "aws:viaawsservice",
    "aws:calledvia",
    "aws:calledviafirst",
    "aws:calledvialast",
];

/// Keys naming system-generated identifiers, on which endpoint policies allow no wildcards and no numeric
/// operators (docs/SEMANTICS.md §4.1).
pub(crate) const ENDPOINT_ID_KEYS: [&str; 3] =
    ["aws:sourcevpc", "aws:sourcevpce", "aws:principalaccount"];

/// The catalog's row for `key`, in any ASCII case.
///
/// ```
/// use iamgate::keys::{global_key, KeyType};
/// let k = global_key("AWS:SOURCEVPCE").unwrap();
/// assert_eq!((k.name, k.ty, k.multivalued), ("aws:SourceVpce", KeyType::String, false));
/// assert!(global_key("aws:SourceVpcID").is_none());
/// ```
pub fn global_key(key: &str) -> Option<&'static GlobalKey> {
    GLOBAL_KEYS
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_rows_are_consistent() {
        let mut seen = std::collections::HashSet::new();
        for k in GLOBAL_KEYS {
            assert_eq!(k.lower, k.name.to_ascii_lowercase(), "{}", k.name);
            assert!(seen.insert(k.lower), "{} twice", k.name);
            assert_eq!(
                checked_key_type(k.lower),
                k.checked.then(|| k.ty.ingest()),
                "{}",
                k.name
            );
            // Ingest refuses a list for a checked key: each must be single-valued.
            assert!(!(k.checked && k.multivalued), "{}", k.name);
        }
        assert_eq!(
            CHECKED_KEYS.len(),
            GLOBAL_KEYS.iter().filter(|k| k.checked).count()
        );
        for (lower, ty) in CHECKED_KEYS {
            assert_eq!(global_key(lower).map(|k| k.ty.ingest()), Some(*ty));
        }
        for set in [
            &NOT_FOR_SAGEMAKER[..],
            &ENDPOINT_KEYS,
            &NETWORK_KEYS,
            &FAS_KEYS,
            &ENDPOINT_ID_KEYS,
        ] {
            for k in set {
                assert!(global_key(k).is_some_and(|g| g.lower == *k), "{k}");
            }
        }
        assert_eq!(checked_key_type("aws:calledvia"), None);
        assert_eq!(checked_key_type("s3:prefix"), None);
    }
}
