//! Address helpers: which blocks AWS can never see as `aws:SourceIp`, and how blocks are shown.

use ipnet::IpNet;

/// Blocks that never appear as a public source address: RFC 1918, shared address space (RFC 6598), loopback,
/// link-local, "this network", unique-local and link-local IPv6.
const PRIVATE: [&str; 10] = [
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

fn private_blocks() -> impl Iterator<Item = IpNet> {
    PRIVATE.iter().filter_map(|s| s.parse().ok())
}

/// Whether every address of `net` is private (SEMANTICS.md §7.4: such addresses never reach AWS as
/// `aws:SourceIp`).
///
/// ```
/// use iamgate::network::is_private;
/// assert!(is_private(&"10.20.0.0/16".parse().unwrap()));
/// assert!(!is_private(&"198.51.100.0/24".parse().unwrap()));
/// assert!(!is_private(&"0.0.0.0/0".parse().unwrap()));
/// ```
pub fn is_private(net: &IpNet) -> bool {
    private_blocks().any(|p| p.contains(net))
}

/// Whether `net` shares any address with a private block.
pub(crate) fn touches_private(net: &IpNet) -> bool {
    private_blocks().any(|p| overlaps(&p, net))
}

/// Whether two CIDR blocks share an address (for blocks: one contains the other).
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// A block as written by people: a bare address for a single host, else the CIDR.
///
/// ```
/// use iamgate::network::show_net;
/// assert_eq!(show_net(&"203.0.113.7/32".parse().unwrap()), "203.0.113.7");
/// assert_eq!(show_net(&"165.225.0.0/17".parse().unwrap()), "165.225.0.0/17");
/// ```
pub fn show_net(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// Blocks joined for a sentence: `a, b and 3 more`.
pub(crate) fn show_nets(nets: &[IpNet]) -> String {
    const SHOWN: usize = 3;
    let mut parts: Vec<String> = nets.iter().take(SHOWN).map(show_net).collect();
    if nets.len() > SHOWN {
        parts.push(format!("{} more", nets.len() - SHOWN));
    }
    parts.join(", ")
}
