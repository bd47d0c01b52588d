//! Address helpers: which blocks AWS can never see as `aws:SourceIp`, and how blocks are shown.

use ipnet::IpNet;

pub use crate::policy::value::is_private;
use crate::policy::value::private_blocks;

/// Whether `net` shares any address with a private block.
pub(crate) fn touches_private(net: &IpNet) -> bool {
    private_blocks().any(|p| overlaps(&p, net))
}

/// Whether two CIDR blocks share an address (for blocks: one contains the other).
pub(crate) fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    crate::ip::overlaps(a, b)
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
        crate::ip::addr_text(net.addr())
    } else {
        crate::ip::net_text(net)
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
