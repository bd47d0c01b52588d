//! Condition operator names: `[ForAllValues:|ForAnyValue:] Base [IfExists]` (docs/SEMANTICS.md §3.1).

use std::fmt;
use std::str::FromStr;

/// The base operators of docs/SEMANTICS.md §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    /// Exact match, case-sensitive.
    StringEquals,
    /// Negated `StringEquals`.
    StringNotEquals,
    /// Exact match, ignoring ASCII case.
    StringEqualsIgnoreCase,
    /// Negated `StringEqualsIgnoreCase`.
    StringNotEqualsIgnoreCase,
    /// Match with `*` and `?` wildcards, case-sensitive.
    StringLike,
    /// Negated `StringLike`.
    StringNotLike,
    /// Numbers equal.
    NumericEquals,
    /// Negated `NumericEquals`.
    NumericNotEquals,
    /// The request's number is less than the policy's.
    NumericLessThan,
    /// Less than or equal.
    NumericLessThanEquals,
    /// Greater than.
    NumericGreaterThan,
    /// Greater than or equal.
    NumericGreaterThanEquals,
    /// Dates equal.
    DateEquals,
    /// Negated `DateEquals`.
    DateNotEquals,
    /// The request's date is before the policy's.
    DateLessThan,
    /// Before or at.
    DateLessThanEquals,
    /// After.
    DateGreaterThan,
    /// At or after.
    DateGreaterThanEquals,
    /// Booleans equal.
    Bool,
    /// Bytes equal, the policy's written in base-64.
    BinaryEquals,
    /// The address is in one of the CIDR blocks.
    IpAddress,
    /// Negated `IpAddress`.
    NotIpAddress,
    /// ARN match per field, with wildcards (as `ArnLike`, docs/SEMANTICS.md §2.1).
    ArnEquals,
    /// ARN match per field, with wildcards.
    ArnLike,
    /// Negated `ArnEquals`.
    ArnNotEquals,
    /// Negated `ArnLike`.
    ArnNotLike,
    /// Whether the key is absent (`true`) or present (`false`).
    Null,
}

/// How two values are ordered for the numeric and date operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// Equal.
    Equal,
    /// The request's value is less.
    Less,
    /// Less or equal.
    LessOrEqual,
    /// Greater.
    Greater,
    /// Greater or equal.
    GreaterOrEqual,
}

impl Comparison {
    /// Whether `ordering` (the request's value against the policy's) satisfies this comparison.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Comparison::Equal => ordering == Equal,
            Comparison::Less => ordering == Less,
            Comparison::LessOrEqual => ordering != Greater,
            Comparison::Greater => ordering == Greater,
            Comparison::GreaterOrEqual => ordering != Less,
        }
    }
}

/// What an operator compares, after negation is taken out (docs/SEMANTICS.md §3.6: `base_match` always uses the
/// positive counterpart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Exact string comparison, optionally ignoring case.
    String {
        /// Whether ASCII case is ignored.
        ignore_case: bool,
    },
    /// Glob comparison (`*`, `?`) over the whole string.
    StringLike,
    /// Numbers, compared so.
    Numeric(Comparison),
    /// Dates, compared so.
    Date(Comparison),
    /// Booleans.
    Bool,
    /// Bytes.
    Binary,
    /// IP addresses against CIDR blocks.
    Ip,
    /// ARN comparison per colon-separated field; ArnEquals and ArnLike behave the same (§2.1).
    Arn,
    /// Presence of the key.
    Null,
}

const BASES: [(&str, BaseOperator); 27] = [
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl BaseOperator {
    /// Every base operator, in the order of docs/SEMANTICS.md §3.1.
    pub fn all() -> impl Iterator<Item = BaseOperator> {
        BASES.iter().map(|(_, op)| *op)
    }

    /// The operator's name as written in policies.
    pub fn name(self) -> &'static str {
        BASES
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("Null", |(name, _)| name)
    }

    /// True for the negated operators (`StringNotEquals`, `NotIpAddress`, ...): they are true when the key is
    /// absent (§3.3) and are evaluated as the negation of their positive counterpart (§3.6).
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// What it compares, negation taken out.
    pub fn family(self) -> Family {
        use BaseOperator::*;
        match self {
            StringEquals | StringNotEquals => Family::String { ignore_case: false },
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                Family::String { ignore_case: true }
            }
            StringLike | StringNotLike => Family::StringLike,
            NumericEquals | NumericNotEquals => Family::Numeric(Comparison::Equal),
            NumericLessThan => Family::Numeric(Comparison::Less),
            NumericLessThanEquals => Family::Numeric(Comparison::LessOrEqual),
            NumericGreaterThan => Family::Numeric(Comparison::Greater),
            NumericGreaterThanEquals => Family::Numeric(Comparison::GreaterOrEqual),
            DateEquals | DateNotEquals => Family::Date(Comparison::Equal),
            DateLessThan => Family::Date(Comparison::Less),
            DateLessThanEquals => Family::Date(Comparison::LessOrEqual),
            DateGreaterThan => Family::Date(Comparison::Greater),
            DateGreaterThanEquals => Family::Date(Comparison::GreaterOrEqual),
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Whether policy variables are expanded in this operator's values (§2.3: String and ARN operators; Bool
    /// leniently, UNCERTAIN).
    pub fn accepts_variables(self) -> bool {
        matches!(
            self.family(),
            Family::String { .. } | Family::StringLike | Family::Arn | Family::Bool
        )
    }
}

/// A set qualifier (§3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `ForAllValues:`: every value of the request's key must match (true when there is none).
    ForAllValues,
    /// `ForAnyValue:`: some value of the request's key must match.
    ForAnyValue,
}

/// A full condition operator, for example `ForAnyValue:StringNotLikeIfExists`.
///
/// ```
/// use iamgate::policy::operator::{BaseOperator, Operator, Qualifier};
/// let op: Operator = "ForAnyValue:StringLikeIfExists".parse().unwrap();
/// assert_eq!(op.base, BaseOperator::StringLike);
/// assert_eq!(op.qualifier, Some(Qualifier::ForAnyValue));
/// assert!(op.if_exists);
/// assert_eq!(op.to_string(), "ForAnyValue:StringLikeIfExists");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The set qualifier, if any.
    pub qualifier: Option<Qualifier>,
    /// The base operator.
    pub base: BaseOperator,
    /// The `IfExists` suffix: true when the key is absent.
    pub if_exists: bool,
}

/// Why an operator name is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    /// No operator has this name.
    #[error("unknown condition operator `{0}`")]
    Unknown(String),
    /// `NullIfExists` is not an operator.
    #[error("`Null` cannot be combined with `IfExists`")]
    NullIfExists,
    /// The name differs from a real operator only in letter case.
    #[error("unknown condition operator `{given}`; operator names are case-sensitive")]
    WrongCase {
        /// The name as written.
        given: String,
        /// The operator it differs from only in case.
        expected: String,
    },
}

impl FromStr for Operator {
    type Err = OperatorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || match case_insensitive_match(s) {
            Some(expected) => OperatorError::WrongCase {
                given: s.to_string(),
                expected,
            },
            None => OperatorError::Unknown(s.to_string()),
        };
        let Some((q, base_name, if_exists)) = crate::parse::grammar::operator_name(s) else {
            return Err(unknown());
        };
        let qualifier = match q {
            Some("ForAllValues") => Some(Qualifier::ForAllValues),
            Some(_) => Some(Qualifier::ForAnyValue),
            None => None,
        };
        let Some(base) = BASES.iter().find(|(n, _)| *n == base_name).map(|(_, b)| *b) else {
            return Err(unknown());
        };
        if base == BaseOperator::Null && if_exists {
            return Err(OperatorError::NullIfExists);
        }
        Ok(Operator {
            qualifier,
            base,
            if_exists,
        })
    }
}

fn case_insensitive_match(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let (q, rest) = if let Some(r) = lower.strip_prefix("forallvalues:") {
        ("ForAllValues:", r)
    } else if let Some(r) = lower.strip_prefix("foranyvalue:") {
        ("ForAnyValue:", r)
    } else {
        ("", lower.as_str())
    };
    let (b, ie) = match rest.strip_suffix("ifexists") {
        Some(b) => (b, "IfExists"),
        None => (rest, ""),
    };
    BASES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(b))
        .map(|(n, _)| format!("{q}{n}{ie}"))
}

/// The valid operator nearest to a misspelt one (`NotIpAdress` -> `NotIpAddress`,
/// `ForAllValue:StringEquals` -> `ForAllValues:StringEquals`), qualifier, base and `IfExists` matched apart.
pub(crate) fn suggest(s: &str) -> Option<String> {
    let (q, rest) = match s.split_once(':') {
        Some((q, rest)) => (
            Some(crate::suggest::nearest(q, ["ForAllValues", "ForAnyValue"])?),
            rest,
        ),
        None => (None, s),
    };
    let lower = rest.to_ascii_lowercase();
    let (base, if_exists) = match lower.len().checked_sub("ifexists".len()) {
        Some(cut) if lower.ends_with("ifexists") => (rest.get(..cut).unwrap_or(rest), "IfExists"),
        _ => (rest, ""),
    };
    let names = BASES.iter().map(|(n, _)| *n);
    let b = match crate::suggest::nearest(base, names.clone()) {
        Some(b) => b,
        // `StringEqualsIfExist`: the whole name against the bases with `IfExists`.
        None => {
            let with: Vec<String> = BASES.iter().map(|(n, _)| format!("{n}IfExists")).collect();
            let hit = crate::suggest::nearest(rest, with.iter().map(String::as_str))?;
            return Some(format!(
                "{}{hit}",
                q.map(|q| format!("{q}:")).unwrap_or_default()
            ));
        }
    };
    Some(format!(
        "{}{b}{if_exists}",
        q.map(|q| format!("{q}:")).unwrap_or_default()
    ))
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(Qualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(Qualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_round_trips_with_every_affix() {
        for base in BaseOperator::all() {
            for q in ["", "ForAllValues:", "ForAnyValue:"] {
                for ie in ["", "IfExists"] {
                    let name = format!("{q}{}{ie}", base.name());
                    let parsed = name.parse::<Operator>();
                    if base == BaseOperator::Null && ie == "IfExists" {
                        assert_eq!(parsed, Err(OperatorError::NullIfExists));
                    } else {
                        assert_eq!(parsed.map(|o| o.to_string()), Ok(name));
                    }
                }
            }
        }
    }

    #[test]
    fn newuser_operator_typos_get_the_nearest_name() {
        assert_eq!(suggest("NotIpAdress").as_deref(), Some("NotIpAddress"));
        assert_eq!(suggest("StringEqual").as_deref(), Some("StringEquals"));
        assert_eq!(
            suggest("ForAllValue:StringLike").as_deref(),
            Some("ForAllValues:StringLike")
        );
        assert_eq!(
            suggest("StringEqualsIfExist").as_deref(),
            Some("StringEqualsIfExists")
        );
        assert_eq!(
            suggest("IpAdressIfExists").as_deref(),
            Some("IpAddressIfExists")
        );
        assert_eq!(suggest("Frobnicate"), None);
    }

    #[test]
    fn wrong_case_names_the_right_spelling() {
        assert_eq!(
            "stringequalsifexists".parse::<Operator>(),
            Err(OperatorError::WrongCase {
                given: "stringequalsifexists".into(),
                expected: "StringEqualsIfExists".into()
            })
        );
        assert!(matches!(
            "StringEqual".parse::<Operator>(),
            Err(OperatorError::Unknown(_))
        ));
    }

    #[test]
    fn negation_and_families() {
        let negated: Vec<_> = BaseOperator::all().filter(|b| b.is_negated()).collect();
        assert_eq!(negated.len(), 8);
        assert_eq!(
            BaseOperator::ArnLike.family(),
            BaseOperator::ArnEquals.family()
        );
        assert!(!BaseOperator::IpAddress.accepts_variables());
        assert!(BaseOperator::ArnNotLike.accepts_variables());
    }
}
