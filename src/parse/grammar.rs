//! nom parsers for the micro-grammars inside policy strings: operator names, action patterns, ARNs, numbers and
//! dates. Private to the crate: the public surface is the `FromStr` of the leaf types in [`crate::policy`].

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{take_while_m_n, take_while1},
    character::complete::{char, one_of},
    combinator::{all_consuming, map_res, opt},
    sequence::preceded,
};

/// `[ForAllValues:|ForAnyValue:] Base [IfExists]` split into its three parts (the base is not checked here,
/// beyond being ASCII letters). By hand: every condition of every policy goes through here.
pub(crate) fn operator_name(i: &str) -> Option<(Option<&str>, &str, bool)> {
    let (q, rest) = if let Some(rest) = i.strip_prefix("ForAllValues:") {
        (Some("ForAllValues"), rest)
    } else if let Some(rest) = i.strip_prefix("ForAnyValue:") {
        (Some("ForAnyValue"), rest)
    } else {
        (None, i)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let letters = !base.is_empty() && base.bytes().all(|c| c.is_ascii_alphabetic());
    letters.then_some((q, base, if_exists))
}

/// `*`, or `prefix:name` where the prefix is letters, digits, `-` and wildcards and the name is not empty.
/// Returns `(prefix, name)`; `None` for `*`. By hand: every action of every policy goes through here.
pub(crate) fn action(i: &str) -> Result<Option<(&str, &str)>, ActionShape> {
    if i == "*" {
        return Ok(None);
    }
    let b = i.as_bytes();
    let n = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'-' || c == b'*' || c == b'?'))
        .unwrap_or(b.len());
    // `n` is the index of an ASCII byte (or the length), so a char boundary. Bytes, not characters, below: the
    // bytes looked for are ASCII, and in UTF-8 an ASCII byte is always that character.
    match (i.split_at_checked(n), b.get(n)) {
        (Some((p, rest)), Some(b':')) if n > 0 => {
            let name = rest.get(1..).unwrap_or_default();
            // A name that starts with a visible ASCII character is not blank: only others need `trim`.
            let blank = !name.as_bytes().first().is_some_and(u8::is_ascii_graphic)
                && name.trim().is_empty();
            // IAM refuses these when the policy is saved (docs/SEMANTICS.md §1.7).
            if blank {
                Err(ActionShape::EmptyName)
            } else if p.bytes().any(|c| c == b'*' || c == b'?') {
                Err(ActionShape::WildPrefix)
            } else if name.as_bytes().contains(&b':') && !crate::bytes::has_variable(name) {
                Err(ActionShape::ExtraColon)
            } else {
                Ok(Some((p, name)))
            }
        }
        _ if !b.contains(&b':') => Err(ActionShape::NoPrefix),
        _ => Err(ActionShape::BadPrefix),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionShape {
    NoPrefix,
    BadPrefix,
    EmptyName,
    WildPrefix,
    ExtraColon,
}

/// The six colon-separated fields of an ARN; the last keeps any further colons. The grammar that
/// `policy::arn::split`, which policies and requests use, is held to (tests).
#[cfg(test)]
pub(crate) fn arn_fields(i: &str) -> Option<[&str; 6]> {
    use nom::bytes::complete::take_while;
    use nom::error::Error;
    let field = || take_while::<_, _, Error<&str>>(|c: char| c != ':');
    let mut parser = (
        field(),
        preceded(char(':'), field()),
        preceded(char(':'), field()),
        preceded(char(':'), field()),
        preceded(char(':'), field()),
        preceded(char(':'), take_while(|_| true)),
    );
    let (_, (a, b, c, d, e, f)) = parser.parse(i).ok()?;
    Some([a, b, c, d, e, f])
}

/// A decimal number: `-?digits(.digits)?([eE][+-]?digits)?` (a leading `+` is accepted too), finite. By hand in
/// `crate::decimal`, rounded as `str::parse::<f64>` rounds.
pub(crate) fn number(i: &str) -> Option<f64> {
    crate::decimal::parse(i).filter(|n| n.is_finite())
}

fn fixed(n: usize) -> impl FnMut(&str) -> IResult<&str, i64> {
    move |i| {
        map_res(
            take_while_m_n(n, n, |c: char| c.is_ascii_digit()),
            str::parse::<i64>,
        )
        .parse(i)
    }
}

/// The parts of an ISO 8601 date in the W3C profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateParts {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    /// `(hour, minute, second, nanos, offset seconds east of UTC)`.
    pub time: Option<(i64, i64, i64, i64, i64)>,
}

/// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mmTZD`, `YYYY-MM-DDThh:mm:ss[.s+]TZD` (ranges not checked).
pub(crate) fn iso8601(i: &str) -> Option<DateParts> {
    iso8601_parts(i).ok().map(|(_, d)| d)
}

type Time<'a> = (i64, char, i64, Option<(i64, Option<&'a str>)>, Option<i64>);
type DateTail<'a> = Option<(i64, Option<(i64, Option<Time<'a>>)>)>;

fn iso8601_parts(i: &str) -> IResult<&str, DateParts> {
    let fraction = preceded(char('.'), take_while1(|c: char| c.is_ascii_digit()));
    let seconds = preceded(char(':'), (fixed(2), opt(fraction)));
    let offset = alt((
        nom::combinator::value(None, one_of("Zz")),
        nom::combinator::map(
            (one_of("+-"), fixed(2), opt(char(':')), fixed(2)),
            |(s, h, _, m)| {
                Some(if s == '-' {
                    -(h * 3600 + m * 60)
                } else {
                    h * 3600 + m * 60
                })
            },
        ),
    ));
    let time = preceded(
        char('T'),
        (fixed(2), char(':'), fixed(2), opt(seconds), offset),
    );
    let day = opt((preceded(char('-'), fixed(2)), opt(time)));
    let date = (fixed(4), opt((preceded(char('-'), fixed(2)), day)));
    let (rest_input, (year, rest)): (&str, (i64, DateTail<'_>)) = all_consuming(date).parse(i)?;
    let (month, day, time) = match rest {
        None => (1, 1, None),
        Some((m, None)) => (m, 1, None),
        Some((m, Some((d, t)))) => (m, d, t),
    };
    let time = time.map(|(h, _, min, sec, off)| {
        let (s, nanos) = match sec {
            None => (0, 0),
            Some((s, frac)) => (s, frac.map_or(0, nanos_of)),
        };
        (h, min, s, nanos, off.unwrap_or(0))
    });
    Ok((
        rest_input,
        DateParts {
            year,
            month,
            day,
            time,
        },
    ))
}

/// The first nine digits of a fraction of a second, as nanoseconds.
fn nanos_of(digits: &str) -> i64 {
    let mut n: i64 = 0;
    let mut count = 0;
    for d in digits.bytes().take(9) {
        n = n * 10 + i64::from(d - b'0');
        count += 1;
    }
    for _ in count..9 {
        n *= 10;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        assert_eq!(
            operator_name("ForAnyValue:StringLikeIfExists"),
            Some((Some("ForAnyValue"), "StringLike", true))
        );
        assert_eq!(operator_name("Bool"), Some((None, "Bool", false)));
        assert_eq!(operator_name("For:Bool"), None);
        assert_eq!(operator_name(""), None);
        assert_eq!(
            operator_name("ForAllValues:StringEquals"),
            Some((Some("ForAllValues"), "StringEquals", false))
        );
        assert_eq!(operator_name("BoolIfExists"), Some((None, "Bool", true)));
        // The base is letters only, and not empty.
        assert_eq!(operator_name("IfExists"), None);
        assert_eq!(operator_name("ForAnyValue:"), None);
        assert_eq!(operator_name("ForAnyValue:IfExists"), None);
        assert_eq!(operator_name("ForAllValues:ForAnyValue:Bool"), None);
        assert_eq!(operator_name("String Equals"), None);
        assert_eq!(operator_name("StringEquals1"), None);
        assert_eq!(operator_name("StringÉquals"), None);
        // Case matters here; `Operator::from_str` names a wrong case.
        assert_eq!(operator_name("forallvalues:Bool"), None);
    }

    #[test]
    fn actions() {
        assert_eq!(action("*"), Ok(None));
        assert_eq!(action("s3:Get*"), Ok(Some(("s3", "Get*"))));
        assert_eq!(action("s3"), Err(ActionShape::NoPrefix));
        assert_eq!(action("s 3:x"), Err(ActionShape::BadPrefix));
        assert_eq!(action("s3:"), Err(ActionShape::EmptyName));
        assert_eq!(action("s3:  "), Err(ActionShape::EmptyName));
        // Blank is Unicode's whitespace, whatever the first byte: a name that starts with a space or another
        // character is checked in full.
        assert_eq!(action("s3:\u{3000}\t"), Err(ActionShape::EmptyName));
        assert_eq!(action("s3: x"), Ok(Some(("s3", " x"))));
        assert_eq!(action("s3:\u{a0}x"), Ok(Some(("s3", "\u{a0}x"))));
        assert_eq!(action("s3:éx"), Ok(Some(("s3", "éx"))));
        assert_eq!(action("*:GetObject"), Err(ActionShape::WildPrefix));
        assert_eq!(action("s*:GetObject"), Err(ActionShape::WildPrefix));
        assert_eq!(action("sagemaker:*:x"), Err(ActionShape::ExtraColon));
        assert_eq!(action(":x"), Err(ActionShape::BadPrefix));
        assert_eq!(action("s3::"), Err(ActionShape::ExtraColon));
        assert_eq!(action("é:x"), Err(ActionShape::BadPrefix));
        assert_eq!(action("s3-x:é"), Ok(Some(("s3-x", "é"))));
        // A variable is `validate`'s to report (`variable-in-action`).
        assert_eq!(
            action("s3:${aws:username}"),
            Ok(Some(("s3", "${aws:username}")))
        );
        assert_eq!(action(""), Err(ActionShape::NoPrefix));
    }

    #[test]
    fn arns() {
        assert_eq!(
            arn_fields("arn:aws:s3:::b/k:x"),
            Some(["arn", "aws", "s3", "", "", "b/k:x"])
        );
        assert_eq!(arn_fields("arn:aws:s3::"), None);
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(number("1.5e2"), Some(150.0));
        assert_eq!(number("1."), None);
        assert_eq!(number(".5"), None);
        let d = iso8601("2024-03-01T10:20:30.25+01:00").unwrap();
        assert_eq!((d.year, d.month, d.day), (2024, 3, 1));
        assert_eq!(d.time, Some((10, 20, 30, 250_000_000, 3600)));
        assert_eq!(iso8601("2024").map(|d| d.month), Some(1));
        assert_eq!(iso8601("2024-03-01T10:20"), None);
        assert_eq!(iso8601("2024-3-01"), None);
    }
}
