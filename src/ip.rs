//! IP addresses and CIDR blocks, read and written by the crate's own code.
//!
//! The types stay `std::net`'s and `ipnet`'s; only the text goes through here. std's address parser and
//! `Display`, and ipnet's parser and subnet iterators, were about 15 KB of the WebAssembly module between them
//! (benches/README.md, "Size, seventh pass"); what the crate needs of them is a few dozen lines.
//!
//! - [`parse_addr`] accepts and refuses exactly what `s.parse::<IpAddr>()` does, with the same address: std's
//!   grammar, reproduced step by step (an IPv4 address is tried first; an IPv6 address reads groups up to `::`,
//!   then the groups after it, an embedded IPv4 tail counting as two groups).
//! - [`addr_text`], [`Net`] and [`net_text`] print what `IpAddr`'s and `IpNet`'s `Display` print: RFC 5952 as std writes it (the
//!   longest run of two or more zero groups as `::`, the first on a tie; lowercase hex; an IPv4-mapped address as
//!   `::ffff:a.b.c.d`), and ipnet's `addr/len`. Neither pads to a width: no caller asks for one.
//! - [`cover`] is ipnet's `Ipv4Subnets` / `Ipv6Subnets` with no minimum prefix: the fewest blocks, in order, that
//!   cover an inclusive range.
//!
//! The property tests below hold each of them to the code it replaces.

use std::fmt::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// Parse an IP address as `s.parse::<IpAddr>()` does: no leading zeros in IPv4 octets, no zone ids, no spaces.
pub(crate) fn parse_addr(s: &str) -> Option<IpAddr> {
    let b = s.as_bytes();
    // As std: an IPv4 address that parses but leaves text over is refused, not retried as IPv6 (which would
    // refuse it too: IPv6 text never starts with an IPv4 address). An IPv4 address is 7 to 15 bytes; the
    // bound spares the first bounds checks.
    if (7..=15).contains(&b.len()) {
        if let Some((a, n)) = v4_prefix(b) {
            return (n == b.len()).then_some(IpAddr::V4(a));
        }
    }
    let mut c = Cursor { b, at: 0 };
    let a = c.v6()?;
    c.done().then_some(IpAddr::V6(a))
}

/// An IPv4 address at the start of `b`, and how many bytes it takes: four decimal octets of one to three digits,
/// no leading zero, at most 255. Straight-line code: most IP values are IPv4, and a request's `aws:SourceIp` is
/// read on the decide path.
// INVARIANT: where std reads a fourth digit of the last octet and refuses the address, this returns it with the
// digit left over. Every caller then refuses the whole text as std does: `parse_addr` and `v6` end at the
// address (nothing may follow it but the end of the text), so a digit after it fails them.
// Inlined into `parse_addr` natively (the decide path reads a request's address); one copy in WebAssembly.
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
fn v4_prefix(b: &[u8]) -> Option<(Ipv4Addr, usize)> {
    // A function, not a closure: in WebAssembly at `opt-level = "z"` a closure stayed a call per digit.
    #[cfg_attr(target_arch = "wasm32", inline(always))]
    fn digit(b: &[u8], at: usize) -> Option<u8> {
        b.get(at).map(|c| c.wrapping_sub(b'0')).filter(|&d| d < 10)
    }
    let mut octets = [0u8; 4];
    let mut at = 0;
    for (i, o) in octets.iter_mut().enumerate() {
        if i > 0 {
            if b.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        let first = digit(b, at)?;
        let mut v = u32::from(first);
        at += 1;
        if let Some(d) = digit(b, at) {
            if first == 0 {
                return None;
            }
            v = v * 10 + u32::from(d);
            at += 1;
            if let Some(d) = digit(b, at) {
                v = v * 10 + u32::from(d);
                at += 1;
            }
        }
        *o = u8::try_from(v).ok()?;
    }
    Some((octets.into(), at))
}

/// A position in the text. Each reader leaves `at` anywhere when it fails; the caller puts it back.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at == self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.at) == Some(&c);
        self.at += usize::from(hit);
        hit
    }

    /// The value of the hex digit at `at`, if there is one there.
    fn hex(&self, at: usize) -> Option<u16> {
        let c = *self.b.get(at)?;
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        Some(u16::from(d))
    }

    /// A group: a run of hex digits read to its end (as std does), refused when empty or longer than four.
    fn group(&mut self) -> Option<u16> {
        let mut v = self.hex(self.at)?;
        let mut n = 1;
        while let Some(d) = self.hex(self.at + n) {
            n += 1;
            if n > 4 {
                return None;
            }
            v = v << 4 | d;
        }
        self.at += n;
        Some(v)
    }

    /// `a.b.c.d` here.
    fn v4(&mut self) -> Option<Ipv4Addr> {
        let (a, n) = v4_prefix(self.b.get(self.at..)?)?;
        self.at += n;
        Some(a)
    }

    /// Colon-separated groups into `groups`, the first without a colon before it: how many were read, and
    /// whether the last two were an embedded IPv4 address (which ends the run).
    fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
        let limit = groups.len();
        for i in 0..limit {
            let back = self.at;
            // An IPv4 tail fills two groups, so only where two are left.
            if i + 1 < limit {
                if let Some(a) = (i == 0 || self.eat(b':')).then(|| self.v4()).flatten() {
                    let [a, b, c, d] = a.octets();
                    if let Some([hi, lo]) = groups.get_mut(i..i + 2) {
                        *hi = u16::from_be_bytes([a, b]);
                        *lo = u16::from_be_bytes([c, d]);
                    }
                    return (i + 2, true);
                }
                self.at = back;
            }
            let group = (i == 0 || self.eat(b':')).then(|| self.group()).flatten();
            match (group, groups.get_mut(i)) {
                (Some(g), Some(slot)) => *slot = g,
                _ => {
                    self.at = back;
                    return (i, false);
                }
            }
        }
        (limit, false)
    }

    /// Eight groups, or fewer with one `::` standing for at least one zero group.
    fn v6(&mut self) -> Option<Ipv6Addr> {
        let mut head = [0u16; 8];
        let (n, v4) = self.groups(&mut head);
        if n == 8 {
            return Some(head.into());
        }
        // An IPv4 tail ends the address, so it cannot come before `::`.
        if v4 || !(self.eat(b':') && self.eat(b':')) {
            return None;
        }
        let mut tail = [0u16; 7];
        let (t, _) = self.groups(tail.get_mut(..7 - n)?);
        for (slot, g) in head.iter_mut().skip(8 - t).zip(tail) {
            *slot = g;
        }
        Some(head.into())
    }
}

/// A block printed as `IpNet`'s `Display` prints it: `addr/len`, the address as written (host bits kept).
#[derive(Clone, Copy)]
pub(crate) struct Net(pub IpNet);

impl fmt::Display for Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_addr(f, self.0.addr())?;
        f.write_char('/')?;
        write_decimal(f, self.0.prefix_len())
    }
}

/// An address as `IpAddr`'s `Display` prints it.
pub(crate) fn addr_text(a: IpAddr) -> String {
    let mut s = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_addr(&mut s, a);
    s
}

/// `Net(n).to_string()`.
pub(crate) fn net_text(n: &IpNet) -> String {
    let mut s = String::new();
    let _ = write!(s, "{}", Net(*n));
    s
}

fn write_addr(w: &mut dyn Write, a: IpAddr) -> fmt::Result {
    match a {
        IpAddr::V4(a) => write_v4(w, a),
        IpAddr::V6(a) => write_v6(w, a),
    }
}

fn write_v4(w: &mut dyn Write, a: Ipv4Addr) -> fmt::Result {
    for (i, o) in a.octets().into_iter().enumerate() {
        if i > 0 {
            w.write_char('.')?;
        }
        write_decimal(w, o)?;
    }
    Ok(())
}

fn write_decimal(w: &mut dyn Write, n: u8) -> fmt::Result {
    let digit = |d: u8| char::from(b'0' + d % 10);
    if n >= 100 {
        w.write_char(digit(n / 100))?;
    }
    if n >= 10 {
        w.write_char(digit(n / 10))?;
    }
    w.write_char(digit(n))
}

fn write_v6(w: &mut dyn Write, a: Ipv6Addr) -> fmt::Result {
    if let Some(v4) = mapped_v4(a) {
        w.write_str("::ffff:")?;
        return write_v4(w, v4);
    }
    let seg = a.segments();
    // The longest run of zero groups, the first of equals.
    let (mut start, mut len, mut run) = (0, 0, 0);
    for (i, &g) in seg.iter().enumerate() {
        run = if g == 0 { run + 1 } else { 0 };
        if run > len {
            (start, len) = (i + 1 - run, run);
        }
    }
    if len > 1 {
        write_groups(w, seg.get(..start).unwrap_or_default())?;
        w.write_str("::")?;
        write_groups(w, seg.get(start + len..).unwrap_or_default())
    } else {
        write_groups(w, &seg)
    }
}

fn write_groups(w: &mut dyn Write, groups: &[u16]) -> fmt::Result {
    for (i, &g) in groups.iter().enumerate() {
        if i > 0 {
            w.write_char(':')?;
        }
        // Lowercase hex without leading zeros.
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let d = u32::from(g >> shift) & 0xf;
            if d != 0 || started || shift == 0 {
                started = true;
                w.write_char(char::from_digit(d, 16).unwrap_or('0'))?;
            }
        }
    }
    Ok(())
}

/// Whether `net` is IPv6, and its first and last addresses as numbers (an IPv4 block's below 2^32): ipnet's
/// `network()` and `broadcast()`.
pub(crate) fn bounds(net: &IpNet) -> (bool, u128, u128) {
    // The host bits are the low `bits - prefix_len` bits (none for a single address: the shift is then `bits`).
    match net {
        IpNet::V4(n) => {
            let a = u32::from(n.addr());
            let host = u32::MAX.checked_shr(u32::from(n.prefix_len())).unwrap_or(0);
            (false, u128::from(a & !host), u128::from(a | host))
        }
        IpNet::V6(n) => {
            let a = u128::from(n.addr());
            let host = u128::MAX
                .checked_shr(u32::from(n.prefix_len()))
                .unwrap_or(0);
            (true, a & !host, a | host)
        }
    }
}

/// The address of a family from its number.
fn addr_of(v6: bool, a: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(a.into())
    } else {
        IpAddr::V4(Ipv4Addr::from(a as u32))
    }
}

/// The first address of `net`: ipnet's `network()`.
pub(crate) fn first(net: &IpNet) -> IpAddr {
    trunc(net).addr()
}

/// The IPv4 address of an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`): std's `Ipv6Addr::to_ipv4_mapped`.
pub(crate) fn mapped_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let n = u128::from(a);
    (n >> 32 == 0xffff).then_some(Ipv4Addr::from(n as u32))
}

/// An IPv4-mapped IPv6 address as its IPv4 address, any other as it is: std's `IpAddr::to_canonical`.
pub(crate) fn canonical(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => mapped_v4(v6).map_or(a, IpAddr::V4),
        IpAddr::V4(_) => a,
    }
}

/// `net` with the bits after its prefix cleared: ipnet's `trunc()`.
pub(crate) fn trunc(net: &IpNet) -> IpNet {
    let (_, lo, _) = bounds(net);
    match *net {
        IpNet::V4(n) => {
            Ipv4Net::new(Ipv4Addr::from(lo as u32), n.prefix_len()).map_or(*net, IpNet::V4)
        }
        IpNet::V6(n) => Ipv6Net::new(lo.into(), n.prefix_len()).map_or(*net, IpNet::V6),
    }
}

/// Whether every address of `inner` is in `outer` (never across families): ipnet's `contains`.
pub(crate) fn contains(outer: &IpNet, inner: &IpNet) -> bool {
    let (f, lo, hi) = bounds(outer);
    let (g, l, h) = bounds(inner);
    f == g && lo <= l && h <= hi
}

/// Whether two blocks share an address (for blocks: one contains the other).
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    let (f, lo, hi) = bounds(a);
    let (g, l, h) = bounds(b);
    f == g && lo <= h && l <= hi
}

/// The fewest CIDR blocks covering the inclusive range `lo..=hi` of one family (`v6` false: IPv4, the values
/// below 2^32), in order: each the largest block that starts at the first address not yet covered and ends by `hi`.
pub(crate) fn cover(lo: u128, hi: u128, v6: bool) -> Vec<IpNet> {
    let bits: u32 = if v6 { 128 } else { 32 };
    let mut out = Vec::new();
    let mut at = lo;
    while at <= hi {
        // The block's size is 2^k: aligned at `at`, and no more addresses than are left.
        let left = hi - at; // one less than the count left, which may be 2^128
        let fits = if left == u128::MAX {
            128
        } else {
            127 - (left + 1).leading_zeros()
        };
        let k = at.trailing_zeros().min(bits).min(fits);
        let prefix = (bits - k) as u8;
        if let Ok(n) = IpNet::new(addr_of(v6, at), prefix) {
            out.push(n);
        }
        match at.checked_add(1u128.checked_shl(k).unwrap_or(0)) {
            Some(next) if k < 128 => at = next,
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What std says of `s`, and what `parse_addr` says.
    fn both(s: &str) -> (Option<IpAddr>, Option<IpAddr>) {
        (s.parse::<IpAddr>().ok(), parse_addr(s))
    }

    #[test]
    fn addr_parse_edge_cases_agree_with_std() {
        let cases = [
            "",
            ".",
            ":",
            "::",
            ":::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "1::2::3",
            ":1::2",
            "1::2:",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.0",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.02.3.4",
            "1.2.3.00",
            "1.2.3.0",
            "1234.2.3.4",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.4/8",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "::1.2.3.04",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "1.2.3.4::",
            "1.2.3.4::5",
            "::1.2.3.4:5",
            "::1.2.3.4567",
            "::1.2.3",
            "::123",
            "::1234",
            "::12345",
            "::00000",
            "::0000",
            "ABCD::EF01",
            "abcd::ef01",
            "fe80::1%eth0",
            "[::1]",
            "::ffff:0:1.2.3.4",
            "2001:db8::7",
            "+1.2.3.4",
            "1.+2.3.4",
            "::+1",
            "١.2.3.4",
        ];
        for s in cases {
            let (std, own) = both(s);
            assert_eq!(own, std, "`{s}`");
        }
    }

    #[test]
    fn addr_print_edge_cases_agree_with_std() {
        let cases = [
            "0.0.0.0",
            "10.0.0.255",
            "::",
            "::1",
            "1::",
            "1:0:0:2:0:0:0:3",
            "1:0:0:2:0:0:3:4",
            "1:0:2:0:3:0:4:0",
            "0:1:0:0:0:0:0:0",
            "::ffff:1.2.3.4",
            "::ffff:0.0.0.0",
            "::1.2.3.4",
            "::ffff:0:1.2.3.4",
            "64:ff9b::1.2.3.4",
            "2001:db8:abcd:12:ffff:ffff:ffff:ffff",
            "fe80::a:b:c:d",
        ];
        for s in cases {
            let a: IpAddr = s.parse().unwrap();
            assert_eq!(addr_text(a), a.to_string(), "`{s}`");
        }
    }

    #[test]
    fn addr_cover_edge_cases_agree_with_ipnet() {
        let v4 = [
            (0, u128::from(u32::MAX)),
            (0, 0),
            (u128::from(u32::MAX), u128::from(u32::MAX)),
            (1, u128::from(u32::MAX) - 1),
            (5, 1000),
        ];
        for (lo, hi) in v4 {
            assert_eq!(
                cover(lo, hi, false),
                ipnet_v4(lo as u32, hi as u32),
                "{lo}..={hi}"
            );
        }
        let v6 = [
            (0, u128::MAX),
            (0, 0),
            (u128::MAX, u128::MAX),
            (1, u128::MAX - 1),
            (u128::MAX - 7, u128::MAX),
        ];
        for (lo, hi) in v6 {
            assert_eq!(cover(lo, hi, true), ipnet_v6(lo, hi), "{lo}..={hi}");
        }
    }

    fn ipnet_v4(lo: u32, hi: u32) -> Vec<IpNet> {
        ipnet::Ipv4Subnets::new(lo.into(), hi.into(), 0)
            .map(IpNet::V4)
            .collect()
    }

    fn ipnet_v6(lo: u128, hi: u128) -> Vec<IpNet> {
        ipnet::Ipv6Subnets::new(lo.into(), hi.into(), 0)
            .map(IpNet::V6)
            .collect()
    }

    /// A block of either family with any prefix and host bits set or not.
    fn net() -> impl Strategy<Value = IpNet> {
        (addr(), 0u8..=128, any::<bool>()).prop_map(|(a, len, clear)| {
            let max = if a.is_ipv4() { 32 } else { 128 };
            let n = IpNet::new(a, len % (max + 1)).unwrap();
            if clear { n.trunc() } else { n }
        })
    }

    /// A block inside, around or beside `net`, or of the other family: pairs that relate in every way.
    fn near(n: IpNet) -> impl Strategy<Value = IpNet> {
        (0u8..=128, any::<bool>(), net()).prop_map(move |(len, up, other)| {
            if up {
                IpNet::new(n.addr(), len % (n.max_prefix_len() + 1)).unwrap()
            } else {
                other
            }
        })
    }

    /// IPv6 addresses with long zero runs and mapped forms as likely as any other.
    fn v6() -> impl Strategy<Value = Ipv6Addr> {
        prop_oneof![
            any::<u128>().prop_map(Ipv6Addr::from),
            proptest::array::uniform8(prop_oneof![Just(0u16), Just(0xffff), any::<u16>()])
                .prop_map(Ipv6Addr::from),
            any::<u32>().prop_map(|a| Ipv4Addr::from(a).to_ipv6_mapped()),
        ]
    }

    fn addr() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|a| IpAddr::V4(a.into())),
            v6().prop_map(IpAddr::V6),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn addr_prints_as_std_and_reads_back(a in addr()) {
            let text = addr_text(a);
            prop_assert_eq!(&text, &a.to_string());
            prop_assert_eq!(parse_addr(&text), Some(a));
            prop_assert_eq!(canonical(a), a.to_canonical());
            if let IpAddr::V6(v6) = a {
                prop_assert_eq!(mapped_v4(v6), v6.to_ipv4_mapped());
            }
        }

        #[test]
        fn addr_net_prints_as_ipnet(a in addr(), len in 0u8..=128) {
            let max = if a.is_ipv4() { 32 } else { 128 };
            let n = IpNet::new(a, len % (max + 1)).unwrap();
            prop_assert_eq!(net_text(&n), n.to_string());
            prop_assert_eq!(Net(n).to_string(), n.to_string());
        }

        #[test]
        fn addr_parse_agrees_with_std_on_noise(s in "[0-9a-fA-F.:/]{0,24}|[0-9.:%\\[\\] gx+-]{0,20}") {
            let (std, own) = both(&s);
            prop_assert_eq!(own, std);
        }

        #[test]
        fn addr_parse_agrees_with_std_near_addresses(a in addr(), at in any::<usize>(), edit in 0u8..4, b in "[0-9a-f.:]") {
            // A printed address with one byte inserted, replaced or removed: text that is almost an address.
            let mut text = a.to_string().into_bytes();
            let at = at % (text.len() + 1);
            match edit {
                0 => text.insert(at, b.as_bytes()[0]),
                1 if at < text.len() => text[at] = b.as_bytes()[0],
                2 if at < text.len() => { text.remove(at); }
                _ => { text.splice(at..at, *b"::"); }
            };
            let s = String::from_utf8(text).unwrap();
            let (std, own) = both(&s);
            prop_assert_eq!(own, std, "`{}`", s);
        }

        #[test]
        fn addr_block_arithmetic_agrees_with_ipnet((a, b) in net().prop_flat_map(|a| (Just(a), near(a)))) {
            let (v6, lo, hi) = bounds(&a);
            prop_assert_eq!(v6, a.addr().is_ipv6());
            prop_assert_eq!(addr_of(v6, lo), a.network());
            prop_assert_eq!(addr_of(v6, hi), a.broadcast());
            prop_assert_eq!(first(&a), a.network());
            prop_assert_eq!(trunc(&a), a.trunc());
            prop_assert_eq!(contains(&a, &b), a.contains(&b));
            prop_assert_eq!(contains(&b, &a), b.contains(&a));
            let theirs = a.contains(&b.network()) || b.contains(&a.network());
            prop_assert_eq!(overlaps(&a, &b), theirs);
        }

        #[test]
        fn addr_cover_agrees_with_ipnet_v4(a in any::<u32>(), b in any::<u32>()) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert_eq!(cover(lo.into(), hi.into(), false), ipnet_v4(lo, hi));
        }

        #[test]
        fn addr_cover_agrees_with_ipnet_v6(a in any::<u128>(), b in any::<u128>(), shift in 0u32..128) {
            // Shifted so that small and aligned ranges are common, not only ranges of ~2^127.
            let (a, b) = (a >> shift, b >> shift);
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert_eq!(cover(lo, hi, true), ipnet_v6(lo, hi));
        }
    }
}
