//! Typed condition values: numbers, dates, booleans, binary, and IP address sets (docs/SEMANTICS.md §3.5).

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Parse a decimal number as IAM's numeric operators accept it: an integer or a decimal, optionally signed.
pub fn parse_number(s: &str) -> Option<f64> {
    crate::parse::grammar::number(s)
}

/// A point in time as nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i128);

impl FromStr for Timestamp {
    type Err = ();

    /// The W3C ISO 8601 profile (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mmTZD`,
    /// `YYYY-MM-DDThh:mm:ss[.s+]TZD`) or epoch seconds (docs/SEMANTICS.md §3.5).
    fn from_str(s: &str) -> Result<Self, ()> {
        let b = s.as_bytes();
        if !b.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) && b.len() != 4 {
            let secs: i128 = s.parse().map_err(|_| ())?;
            return secs.checked_mul(1_000_000_000).map(Timestamp).ok_or(());
        }
        if let Some(rest) = s.strip_prefix('-') {
            if rest.bytes().all(|c| c.is_ascii_digit()) && !rest.is_empty() {
                let secs: i128 = rest.parse().map_err(|_| ())?;
                return secs.checked_mul(-1_000_000_000).map(Timestamp).ok_or(());
            }
        }
        iso8601(s).ok_or(())
    }
}

fn iso8601(s: &str) -> Option<Timestamp> {
    let d = crate::parse::grammar::iso8601(s)?;
    if !(1..=12).contains(&d.month) || d.day < 1 || d.day > days_in_month(d.year, d.month) {
        return None;
    }
    let mut nanos: i128 = 0;
    if let Some((hh, mm, ss, frac, offset)) = d.time {
        if hh > 23 || mm > 59 || ss > 60 || offset.abs() >= 24 * 3600 {
            return None;
        }
        nanos = i128::from(hh * 3600 + mm * 60 + ss - offset) * 1_000_000_000 + i128::from(frac);
    }
    let days = days_from_civil(d.year, d.month, d.day);
    Some(Timestamp(i128::from(days) * 86_400 * 1_000_000_000 + nanos))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `"true"` / `"false"`, case-insensitively (docs/SEMANTICS.md §3.5, UNCERTAIN: case handling).
pub fn parse_bool(s: &str) -> Option<bool> {
    // ORing 0x20 into a byte gives one of `true`'s or `false`'s letters only from that letter in either case.
    let head = |b: &[u8]| {
        b.first_chunk::<4>()
            .map(|c| u32::from_le_bytes(*c) | 0x2020_2020)
    };
    match s.as_bytes() {
        b if b.len() == 4 && head(b) == Some(u32::from_le_bytes(*b"true")) => Some(true),
        b if b.len() == 5
            && head(b) == Some(u32::from_le_bytes(*b"fals"))
            && b.get(4).is_some_and(|&c| c | 0x20 == b'e') =>
        {
            Some(false)
        }
        _ => None,
    }
}

/// Whether the base-64 text `s` decodes to exactly `bytes`, without allocating.
pub fn base64_equals(s: &str, bytes: &[u8]) -> bool {
    let s = s.trim_end_matches('=');
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut i = 0;
    for c in s.bytes() {
        let Some(v) = sextet(c) else { return false };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if bytes.get(i) != Some(&((acc >> bits) as u8)) {
                return false;
            }
            i += 1;
        }
    }
    bits < 6 && i == bytes.len()
}

fn sextet(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

/// Decode standard base-64 (with or without padding).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = sextet(c)?;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits >= 6 {
        return None;
    }
    Some(out)
}

/// Why an address or CIDR is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an IP address or CIDR block; write for example `203.0.113.0/24` or `2001:db8::/32`"
)]
pub struct IpError(pub String);

/// Parse an IP condition value: a CIDR, or a bare address (IPv4 /32, IPv6 /128). Host bits are ignored (§3.5).
/// The spelling is strict: no leading zeros, no surrounding spaces, no zone ids.
pub fn parse_cidr(s: &str) -> Result<IpNet, IpError> {
    parse_cidr_as_written(s).map(|net| crate::ip::trunc(&net))
}

/// [`parse_cidr`] before the bits after the prefix are cleared: the address as written, with its prefix (lint
/// compares the two to report host bits).
pub(crate) fn parse_cidr_as_written(s: &str) -> Result<IpNet, IpError> {
    let err = || IpError(s.to_string());
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => {
            if p.is_empty()
                || p.len() > 3
                || !p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0'))
            {
                return Err(err());
            }
            (a, Some(p.parse::<u8>().map_err(|_| err())?))
        }
        None => (s, None),
    };
    let ip = parse_ip(addr).ok_or_else(err)?;
    let net = match ip {
        IpAddr::V4(a) => IpNet::V4(Ipv4Net::new(a, prefix.unwrap_or(32)).map_err(|_| err())?),
        IpAddr::V6(a) => IpNet::V6(Ipv6Net::new(a, prefix.unwrap_or(128)).map_err(|_| err())?),
    };
    Ok(net)
}

/// Parse one IP address strictly: what std's parser accepts (no leading zeros, octal/hex forms, zone ids or
/// whitespace), read by the crate's own code (`crate::ip`).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    crate::ip::parse_addr(s)
}

/// An IP address of a request (a context value), as AWS sees it: an IPv4-mapped IPv6 address
/// (`::ffff:203.0.113.7`, how a dual-stack socket reports an IPv4 peer) is its IPv4 address, since the request
/// reached AWS over IPv4. Policy values are read by [`parse_cidr`], where families never cross
/// (docs/SEMANTICS.md §9 row 16).
#[inline]
pub fn parse_request_ip(s: &str) -> Option<IpAddr> {
    parse_ip(s).map(crate::ip::canonical)
}

/// Blocks that never appear as a public source address (`aws:SourceIp`, docs/SEMANTICS.md §7.4): RFC 1918, shared
/// address space (RFC 6598), loopback, link-local, "this network", unique-local and link-local IPv6.
pub const PRIVATE_RANGES: [&str; 10] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "0.0.0.0/8",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
];

/// The blocks of [`PRIVATE_RANGES`].
pub fn private_blocks() -> impl Iterator<Item = IpNet> {
    // Parsed once per process: lint asks for every IP value of every condition.
    static BLOCKS: std::sync::OnceLock<Vec<IpNet>> = std::sync::OnceLock::new();
    BLOCKS
        .get_or_init(|| {
            PRIVATE_RANGES
                .iter()
                .filter_map(|s| parse_cidr(s).ok())
                .collect()
        })
        .iter()
        .copied()
}

/// Whether every address of `net` is private, so never an `aws:SourceIp`.
pub fn is_private(net: &IpNet) -> bool {
    private_blocks().any(|p| crate::ip::contains(&p, net))
}

/// A set of addresses as sorted, merged, inclusive integer ranges per family.
///
/// Membership is a bucket lookup then a short bisection. A family holding at least 16 merged ranges gets an
/// index by the top `k` bits of the address (`k` = the bit length of the range count plus one, at most 16) giving,
/// for each bucket, the first range that starts at or after it; the candidate range is then found by bisecting the
/// starts of that one bucket. For the 9,810 ranges of a random 10,000-CIDR list (`k` = 15) that is one or two
/// comparisons instead of 14. The index costs `4 * (2^k + 1)` bytes: at most about 16 bytes per merged range and
/// never more than 256 KiB (65,537 `u32`) per family (128 KiB in that example). Smaller families keep a plain
/// bisection. The bisections are branchless for IPv4.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrSet {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

/// Below this many merged ranges a family has no bucket index: a bisection of at most 4 steps is as fast.
const INDEX_MIN_RANGES: usize = 16;

/// The merged ranges of one family, their starts alone (a denser bisection) and the bucket index.
#[derive(Clone, Default, PartialEq, Eq)]
struct Ranges<T> {
    ranges: Vec<(T, T)>,
    starts: Vec<T>,
    /// `index[b]` is the number of ranges starting before bucket `b` (the addresses whose top bits, `addr >>
    /// shift`, are `b`), so the ranges starting inside bucket `b` are `index[b]..index[b + 1]`; its last entry
    /// is the range count. Empty below [`INDEX_MIN_RANGES`] ranges.
    index: Box<[u32]>,
    shift: u32,
}

impl<T> fmt::Debug for Ranges<T>
where
    T: fmt::Debug,
{
    // The ranges only: the index is derived from them and would print up to 65,537 numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.ranges.fmt(f)
    }
}

impl<T: num_like::Addr> Ranges<T> {
    fn new(ranges: Vec<(T, T)>) -> Self {
        let ranges = merge(ranges);
        let n = ranges.len();
        if n < INDEX_MIN_RANGES || u32::try_from(n).is_err() {
            // Few ranges are bisected as they are (at most four steps): no list of their starts.
            return Ranges {
                ranges,
                starts: Vec::new(),
                index: Box::default(),
                shift: 0,
            };
        }
        let starts: Vec<T> = ranges.iter().map(|r| r.0).collect();
        // Two to four buckets per range, at most 2^16: the bit length of `n` plus one.
        let bits = (usize::BITS - n.leading_zeros() + 1).min(16);
        let shift = T::BITS - bits;
        // Count the starts of each bucket into the slot after it, then a running sum turns slot `b` into the
        // number of starts in buckets before `b`.
        let mut index = vec![0u32; (1usize << bits) + 1];
        for &s in &starts {
            if let Some(c) = index.get_mut(s.top(shift) + 1) {
                *c += 1;
            }
        }
        let mut acc = 0u32;
        for c in &mut index {
            acc += *c;
            *c = acc;
        }
        Ranges {
            ranges,
            starts,
            index: index.into_boxed_slice(),
            shift,
        }
    }

    #[inline]
    fn contains(&self, x: T) -> bool {
        // The ranges that may hold `x` are those starting at or before it; the candidate is the last of them.
        let before = if self.index.is_empty() {
            // No index, no starts: the few ranges are bisected by their starts in place.
            self.ranges.partition_point(|&(s, _)| s <= x)
        } else {
            // Every range starting in an earlier bucket, then those of `x`'s bucket up to `x`.
            let b = x.top(self.shift);
            let Some(&[lo, hi]) = self.index.get(b..b + 2) else {
                return false; // unreachable: `b` < 2^bits
            };
            let (lo, hi) = (lo as usize, hi as usize);
            // `partition_point` bisects with a conditional move, not a branch, for `u32` (for `u128` LLVM emits a
            // branch; the bucket keeps the IPv6 bisection short all the same).
            lo + self
                .starts
                .get(lo..hi)
                .map_or(0, |bucket| bucket.partition_point(|&s| s <= x))
        };
        before
            .checked_sub(1)
            .and_then(|i| self.ranges.get(i))
            .is_some_and(|&(_, end)| x <= end)
    }
}

impl FromIterator<IpNet> for CidrSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        let mut iter = iter.into_iter();
        // Each family's list sized at its first range from what is left, up to a bound (no growth for the usual
        // short list, nothing allocated for a family without ranges).
        let room = |hint: (usize, Option<usize>)| hint.1.unwrap_or(hint.0).min(1024) + 1;
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        while let Some(net) = iter.next() {
            match net {
                IpNet::V4(n) => {
                    if v4.capacity() == 0 {
                        v4.reserve_exact(room(iter.size_hint()));
                    }
                    let (_, lo, hi) = crate::ip::bounds(&IpNet::V4(n));
                    v4.push((lo as u32, hi as u32));
                }
                IpNet::V6(n) => {
                    if v6.capacity() == 0 {
                        v6.reserve_exact(room(iter.size_hint()));
                    }
                    let (_, lo, hi) = crate::ip::bounds(&IpNet::V6(n));
                    v6.push((lo, hi));
                }
            }
        }
        CidrSet {
            v4: Ranges::new(v4),
            v6: Ranges::new(v6),
        }
    }
}

fn merge<T: num_like::Addr>(mut ranges: Vec<(T, T)>) -> Vec<(T, T)> {
    crate::sort::unstable(&mut ranges);
    // In place: a range that overlaps or touches the last one kept widens it and goes.
    ranges.dedup_by(|next, last| {
        let joins = next.0 <= last.1.next_or_max();
        if joins && next.1 > last.1 {
            last.1 = next.1;
        }
        joins
    });
    ranges
}

mod num_like {
    /// An address as an unsigned integer.
    pub trait Addr: Ord + Copy {
        const BITS: u32;
        fn next_or_max(self) -> Self;
        /// `self >> shift` as an index; `shift` leaves at most 16 bits.
        fn top(self, shift: u32) -> usize;
    }
    impl Addr for u32 {
        const BITS: u32 = u32::BITS;
        fn next_or_max(self) -> Self {
            self.saturating_add(1)
        }
        #[inline]
        fn top(self, shift: u32) -> usize {
            (self >> shift) as usize
        }
    }
    impl Addr for u128 {
        const BITS: u32 = u128::BITS;
        fn next_or_max(self) -> Self {
            self.saturating_add(1)
        }
        #[inline]
        fn top(self, shift: u32) -> usize {
            (self >> shift) as usize
        }
    }
}

impl CidrSet {
    /// Whether `ip` is in the set. IPv4 and IPv6 never cross-match (docs/SEMANTICS.md §3.5, UNCERTAIN).
    #[inline]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }

    /// The merged IPv4 ranges, inclusive.
    pub fn v4_ranges(&self) -> &[(u32, u32)] {
        &self.v4.ranges
    }

    /// The merged IPv6 ranges, inclusive.
    pub fn v6_ranges(&self) -> &[(u128, u128)] {
        &self.v6.ranges
    }
}

impl fmt::Display for CidrSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v4 = self
            .v4
            .ranges
            .iter()
            .map(|&(lo, hi)| (u128::from(lo), u128::from(hi), false));
        let v6 = self.v6.ranges.iter().map(|&(lo, hi)| (lo, hi, true));
        let mut first = true;
        for (lo, hi, v6) in v4.chain(v6) {
            for n in crate::ip::cover(lo, hi, v6) {
                if !first {
                    f.write_str(", ")?;
                }
                first = false;
                write!(f, "{}", crate::ip::Net(n))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn private_blocks_are_every_private_range() {
        let blocks: Vec<IpNet> = super::private_blocks().collect();
        let parsed: Vec<IpNet> = super::PRIVATE_RANGES
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(blocks, parsed);
        // Twice: the second call reads the blocks parsed by the first.
        assert_eq!(super::private_blocks().count(), super::PRIVATE_RANGES.len());
    }

    use super::*;

    /// `parse_number` on a few telling inputs.
    #[test]
    fn parse_number_examples() {
        assert_eq!(super::parse_number("10"), Some(10.0));
        assert_eq!(super::parse_number("-1.5"), Some(-1.5));
        assert_eq!(super::parse_number("ten"), None);
    }

    /// `Timestamp::from_str` on a few telling inputs.
    #[test]
    fn timestamp_from_str_examples() {
        use super::Timestamp;
        let a: Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
        let b: Timestamp = "1577836800".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!("2020-01-01".parse::<Timestamp>(), Ok(a));
    }

    /// `base64_equals` on a few telling inputs.
    #[test]
    fn base64_equals_examples() {
        assert!(super::base64_equals("aGk=", b"hi"));
        assert!(!super::base64_equals("aGk=", b"ho"));
    }

    /// `decode_base64` on a few telling inputs.
    #[test]
    fn decode_base64_examples() {
        assert_eq!(super::decode_base64("aGk="), Some(b"hi".to_vec()));
    }

    /// `parse_cidr` on a few telling inputs.
    #[test]
    fn parse_cidr_examples() {
        use super::parse_cidr;
        assert_eq!(
            parse_cidr("203.0.113.7/24").unwrap().to_string(),
            "203.0.113.0/24"
        );
        assert_eq!(
            parse_cidr("2001:db8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert!(parse_cidr("010.0.0.1").is_err());
    }

    /// `parse_request_ip` on a few telling inputs.
    #[test]
    fn parse_request_ip_examples() {
        use super::parse_request_ip;
        assert_eq!(
            parse_request_ip("::ffff:203.0.113.7"),
            "203.0.113.7".parse().ok()
        );
        assert_eq!(parse_request_ip("2001:db8::7"), "2001:db8::7".parse().ok());
    }

    /// `is_private` on a few telling inputs.
    #[test]
    fn is_private_examples() {
        use super::is_private;
        assert!(is_private(&"10.20.0.0/16".parse().unwrap()));
        assert!(!is_private(&"198.51.100.0/24".parse().unwrap()));
        assert!(!is_private(&"0.0.0.0/0".parse().unwrap()));
    }

    /// `CidrSet` on a few telling inputs.
    #[test]
    fn cidrset_examples() {
        use super::CidrSet;
        use super::parse_cidr;
        let set: CidrSet = ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.7"]
            .iter()
            .map(|s| parse_cidr(s).unwrap())
            .collect();
        assert!(set.contains("10.200.0.1".parse().unwrap()));
        assert!(set.contains("192.0.2.7".parse().unwrap()));
        assert!(!set.contains("192.0.2.8".parse().unwrap()));
        // Merged: a range inside another goes, ranges that touch join, the rest stay apart, in order.
        let ip = |s: &str| u32::from(s.parse::<std::net::Ipv4Addr>().unwrap());
        assert_eq!(
            set.v4_ranges(),
            &[
                (ip("10.0.0.0"), ip("10.255.255.255")),
                (ip("192.0.2.7"), ip("192.0.2.7"))
            ]
        );
        let set: CidrSet = [
            "192.0.2.9",
            "10.128.0.0/9",
            "192.0.2.8",
            "10.0.0.0/9",
            "192.0.2.11",
        ]
        .iter()
        .map(|s| parse_cidr(s).unwrap())
        .collect();
        assert_eq!(
            set.v4_ranges(),
            &[
                (ip("10.0.0.0"), ip("10.255.255.255")),
                (ip("192.0.2.8"), ip("192.0.2.9")),
                (ip("192.0.2.11"), ip("192.0.2.11"))
            ]
        );
    }

    /// `parse_bool` is `true`/`false` in any ASCII case and nothing else: every text of four and five bytes
    /// over the letters of both words in both cases, `@` and `0`.
    #[test]
    fn parse_bool_is_exactly_true_or_false_in_any_case() {
        // ORing 0x20 gives one of these letters only from the letter in either case; `@` and `0` stand for the rest.
        let bytes = b"truefalsTRUEFALS@0";
        let mut seen = 0;
        for len in [4, 5] {
            let mut ix = vec![0usize; len];
            loop {
                let t: Vec<u8> = ix.iter().map(|&i| bytes[i]).collect();
                let s = String::from_utf8_lossy(&t);
                let want = if s.eq_ignore_ascii_case("true") {
                    Some(true)
                } else if s.eq_ignore_ascii_case("false") {
                    Some(false)
                } else {
                    None
                };
                assert_eq!(parse_bool(&s), want, "{s:?}");
                seen += usize::from(want.is_some());
                // The next combination, odometer style.
                let Some(k) = ix.iter().rposition(|&i| i + 1 < bytes.len()) else {
                    break;
                };
                ix[k] += 1;
                ix.iter_mut().skip(k + 1).for_each(|i| *i = 0);
            }
        }
        assert_eq!(seen, 16 + 32);
        for s in [
            "", "t", "tru", "truee", "falsee", "fals", " true", "true ", "1", "yes",
        ] {
            assert_eq!(parse_bool(s), None, "{s:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0"), Some(0.0));
        assert_eq!(parse_number("1e3"), Some(1000.0));
        assert_eq!(parse_number("1."), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
    }

    #[test]
    fn dates_in_every_form() {
        let t = |s: &str| s.parse::<Timestamp>();
        let base = t("2024-03-01T00:00:00Z").unwrap();
        assert_eq!(t("2024-03-01"), Ok(base));
        assert_eq!(t("2024-03"), Ok(base));
        assert_eq!(t("2024-03-01T00:00Z"), Ok(base));
        assert_eq!(t("2024-03-01T01:00:00+01:00"), Ok(base));
        assert_eq!(t("2024-02-29T19:00:00-05:00"), Ok(base));
        assert!(t("2024-03-01T00:00:00.5Z").unwrap() > base);
        assert_eq!(t("1709251200"), Ok(base));
        assert_eq!(t("2024").unwrap(), t("2024-01-01").unwrap());
        assert!(t("2023-02-29").is_err());
        assert!(t("2024-13-01").is_err());
        assert!(t("yesterday").is_err());
        assert!(t("2024-03-01T25:00Z").is_err());
        assert!(t("2024-03-01T00:00").is_err());
        assert_eq!(t("1969-12-31T23:59:59Z"), Ok(Timestamp(-1_000_000_000)));
    }

    #[test]
    fn bools_and_binary() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("no"), None);
        assert_eq!(decode_base64("QmluYXJ5"), Some(b"Binary".to_vec()));
        assert_eq!(decode_base64("!!"), None);
    }

    #[test]
    fn strict_ip_spelling() {
        for bad in [
            "010.0.0.1",
            "0x7f.0.0.1",
            "1.2.3.4.",
            " 1.2.3.4",
            "1.2.3.4 ",
            "fe80::1%eth0",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/024",
            "::/129",
            "",
        ] {
            assert!(parse_cidr(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(
            parse_cidr("::ffff:1.2.3.4").unwrap().to_string(),
            "::ffff:1.2.3.4/128"
        );
    }

    #[test]
    fn dotted_quad_agrees_with_std() {
        let mut texts: Vec<String> = [
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.02.3.4",
            "1.2.3.00",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            "",
            "1.2.3.999",
            "10.20.1.5",
            "1.2.3.-4",
            "1.2.3.4/8",
            "0.0.0.00",
            "100.200.250.251",
            "1111.1.1.1",
            "1.1.1.1111",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for a in [
            "0", "1", "9", "10", "99", "100", "255", "256", "00", "010", "1000",
        ] {
            texts.push(format!("{a}.{a}.1.{a}"));
        }
        // Random texts over digits and dots (and a stray letter), every length to 17.
        let mut next = crate::xorshift(0x1d0_7ed);
        for _ in 0..200_000 {
            let len = (next() % 18) as usize;
            let t: String = (0..len)
                .map(|_| match next() % 13 {
                    10 | 11 => '.',
                    12 => 'x',
                    d => char::from(b'0' + d as u8),
                })
                .collect();
            texts.push(t);
            // Four numbers, some past 255, some with a leading zero.
            let part = |n: u64| match n % 7 {
                0 => format!("0{}", n % 100),
                _ => (n % 300).to_string(),
            };
            texts.push(format!(
                "{}.{}.{}.{}",
                part(next()),
                part(next()),
                part(next()),
                part(next())
            ));
        }
        assert!(
            texts
                .iter()
                .filter(|t| t.parse::<std::net::Ipv4Addr>().is_ok())
                .count()
                > 10_000
        );
        for t in texts {
            assert_eq!(parse_ip(&t), t.parse::<IpAddr>().ok(), "{t}");
        }
    }

    #[test]
    fn cidr_set_matches_naive_check() {
        let nets: Vec<IpNet> = [
            "0.0.0.0/1",
            "192.168.0.0/16",
            "192.168.1.0/24",
            "255.255.255.255",
            "::/0",
        ]
        .iter()
        .map(|s| parse_cidr(s).unwrap())
        .collect();
        let set: CidrSet = nets.iter().copied().collect();
        for ip in [
            "0.0.0.0",
            "127.255.255.255",
            "128.0.0.0",
            "192.168.5.5",
            "255.255.255.255",
            "255.255.255.254",
            "::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(
                set.contains(ip),
                nets.iter().any(|n| n.contains(&ip)),
                "{ip}"
            );
        }
        // No cross-family matching.
        let v4only: CidrSet = [parse_cidr("1.2.3.4").unwrap()].into_iter().collect();
        assert!(!v4only.contains("::ffff:1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn cold6_small_cidr_sets_bisect_their_ranges_at_every_edge() {
        // Below the index's threshold a family keeps no list of starts; every set size from 1 to the threshold,
        // both families mixed, each range's edges probed (and the lists sized at their first range: a family
        // without ranges allocates nothing).
        let all: Vec<String> = (0..INDEX_MIN_RANGES as u32 + 2)
            .flat_map(|i| {
                [
                    format!("10.{}.0.0/16", i * 3),
                    format!("2001:db8:{:x}::/48", i * 5),
                ]
            })
            .collect();
        for n in 1..=all.len() {
            let nets: Vec<IpNet> = all.iter().take(n).map(|t| parse_cidr(t).unwrap()).collect();
            let set: CidrSet = nets.iter().copied().collect();
            if set.v4.ranges.len() < INDEX_MIN_RANGES {
                assert!(set.v4.starts.is_empty() && set.v4.index.is_empty());
            }
            assert!(set.v4.ranges.capacity() <= n + 1 && set.v6.ranges.capacity() <= n + 1);
            let mut probes: Vec<IpAddr> = Vec::new();
            for &(lo, hi) in set.v4_ranges() {
                for a in [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)] {
                    probes.push(std::net::Ipv4Addr::from(a).into());
                }
            }
            for &(lo, hi) in set.v6_ranges() {
                for a in [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)] {
                    probes.push(std::net::Ipv6Addr::from(a).into());
                }
            }
            probes.push("0.0.0.0".parse().unwrap());
            probes.push("::".parse().unwrap());
            for ip in probes {
                assert_eq!(
                    set.contains(ip),
                    nets.iter().any(|net| net.contains(&ip)),
                    "{n} {ip}"
                );
            }
        }
        let v6only: CidrSet = [parse_cidr("::1").unwrap()].into_iter().collect();
        assert_eq!(v6only.v4.ranges.capacity(), 0);
    }

    #[test]
    fn indexed_cidr_set_matches_naive_check_at_every_edge() {
        // Enough ranges for the bucket index: both ends of the space, a range spanning many buckets, many small
        // ranges inside one bucket, ranges ending and starting at bucket edges; the same shapes in IPv6.
        let mut texts: Vec<String> = vec![
            "0.0.0.0".into(),
            "255.255.255.255".into(),
            "16.0.0.0/6".into(),
            "63.255.0.0/16".into(),
            "64.0.0.0/16".into(),
            "::".into(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".into(),
            "2001:db8::/32".into(),
            "4000::/3".into(),
            "::ffff:192.0.2.0/120".into(),
        ];
        for i in 0..40u32 {
            texts.push(format!("192.0.2.{}/32", i * 6));
            texts.push(format!("198.51.{}.128/25", i * 5));
            texts.push(format!("2600:1f00::{:x}/128", i * 3));
            texts.push(format!("2a05:{:x}::/32", i * 7));
        }
        let nets: Vec<IpNet> = texts.iter().map(|t| parse_cidr(t).unwrap()).collect();
        let set: CidrSet = nets.iter().copied().collect();
        for family in [&set.v4.index, &set.v6.index] {
            assert!(family.len() > 1, "indexed");
        }
        assert_eq!(
            set.v4.index.last().copied(),
            Some(set.v4.ranges.len() as u32)
        );
        assert_eq!(
            set.v6.index.last().copied(),
            Some(set.v6.ranges.len() as u32)
        );
        let mut probes: Vec<IpAddr> = Vec::new();
        for &(lo, hi) in set.v4_ranges() {
            for a in [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)] {
                probes.push(std::net::Ipv4Addr::from(a).into());
                probes.push(std::net::Ipv4Addr::from(a).to_ipv6_mapped().into());
            }
        }
        for &(lo, hi) in set.v6_ranges() {
            for a in [lo.wrapping_sub(1), lo, hi, hi.wrapping_add(1)] {
                probes.push(std::net::Ipv6Addr::from(a).into());
            }
        }
        for b in 0..=u32::from(u16::MAX) {
            probes.push(std::net::Ipv4Addr::from(b << 16).into());
            probes.push(std::net::Ipv4Addr::from((b << 16) | 0xffff).into());
        }
        for ip in probes {
            assert_eq!(
                set.contains(ip),
                nets.iter().any(|n| n.contains(&ip)),
                "{ip}"
            );
        }
        // Debug shows the ranges, not the index.
        assert!(format!("{set:?}").len() < 10_000);
    }
}
