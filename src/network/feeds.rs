//! External IP-range feeds (docs/SEMANTICS.md §6.6): Zscaler's CENR JSON and AWS's `ip-ranges.json`.
//!
//! Real feeds are the user's to download (`https://config.zscaler.com/api/<cloud>/cenr/json`,
//! `https://ip-ranges.amazonaws.com/ip-ranges.json`); `corpus/feeds/` holds small hand-made samples for tests.
//! A network's egress can name a feed (its ranges become the egress addresses), and every feed's ranges count as
//! shared egress for the `shared-egress-allowed` finding (§7.6).
//!
//! ```
//! use iamgate::network::feeds::{parse_cenr, CenrFilter};
//! let text = r#"{"zscalerthree.net": {"continent : EMEA": {"city : Frankfurt II": [
//!   {"range": "165.225.72.0/22", "vpn": "", "gre": "", "hostname": "", "latitude": "50", "longitude": "8"},
//!   {"range": "2400:7aa0:1200::/40", "vpn": "", "gre": "", "hostname": "", "latitude": "50", "longitude": "8"}]}}}"#;
//! let all = parse_cenr(text, &CenrFilter::default()).unwrap();
//! assert_eq!(all.len(), 2);
//! assert_eq!(all[0].source, "Zscaler zscalerthree.net EMEA, Frankfurt II");
//! let filter = CenrFilter { continents: vec!["Americas".into()], ..CenrFilter::default() };
//! assert!(parse_cenr(text, &filter).unwrap_err().message.contains("matches no continent"));
//! ```

use crate::limits::Limits;
use crate::parse::json::{self, Node, Value};
use crate::policy::value::parse_cidr;
use crate::span::line_col;
use ipnet::IpNet;
use serde::Serialize;

/// One range of a feed, with where it came from in words (`Zscaler zscaler.net EMEA, Frankfurt II`,
/// `AWS EC2 eu-west-1`, `client.egress.ips`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedRange {
    /// The range, IPv4 or IPv6, host bits cleared.
    pub net: IpNet,
    /// Where it came from, in words, for findings and messages (`AWS EC2 eu-west-1`).
    pub source: String,
}

/// A feed that cannot be read: the message, its place in the feed, and the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message} (line {line}, column {column})")]
pub struct FeedError {
    /// What is wrong, in one line; a filter that matches nothing lists what the feed has.
    pub message: String,
    /// 1-based line of the value at fault in the feed's text.
    pub line: usize,
    /// 1-based column of the value at fault, counted in characters.
    pub column: usize,
    /// The JSON path of the value at fault in the feed, `$` for the whole feed.
    pub path: String,
}

/// Which parts of a CENR feed to take; empty lists take everything. Names compare case-insensitively, with or
/// without the `continent : ` / `city : ` prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CenrFilter {
    /// The Zscaler clouds to take (the feed's top-level keys, `zscaler.net`, `zscalerthree.net`).
    pub clouds: Vec<String>,
    /// The continents to take (`EMEA`, `Americas`, or `continent : EMEA`).
    pub continents: Vec<String>,
    /// The cities to take (`Frankfurt II`, or `city : Frankfurt II`).
    pub cities: Vec<String>,
}

/// Which prefixes of `ip-ranges.json` to take; empty lists take everything. Compared case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpRangesFilter {
    /// `AMAZON`, `EC2`, `CLOUDFRONT`, ...
    pub services: Vec<String>,
    /// `eu-west-1`, `GLOBAL`, ...
    pub regions: Vec<String>,
}

/// Feeds are larger than policies: a real `ip-ranges.json` is a few megabytes.
fn feed_limits() -> Limits {
    Limits {
        max_document_bytes: 64 << 20,
        ..Limits::default()
    }
}

struct Reader<'t> {
    text: &'t str,
}

impl Reader<'_> {
    fn err(&self, node: &Node<'_>, path: &str, message: impl Into<String>) -> FeedError {
        let (line, column) = line_col(self.text, node.span.start as usize);
        FeedError {
            message: message.into(),
            line,
            column,
            path: path.to_string(),
        }
    }

    fn range(&self, node: &Node<'_>, path: &str) -> Result<IpNet, FeedError> {
        match &node.value {
            Value::String(s) => {
                parse_cidr(s.trim()).map_err(|e| self.err(node, path, e.to_string()))
            }
            v => Err(self.err(
                node,
                path,
                format!("expected a CIDR string, found {}", v.kind_name()),
            )),
        }
    }
}

fn parse_root<'a>(text: &'a str, arena: &'a json::Arena) -> Result<Node<'a>, FeedError> {
    json::parse(text, arena, &feed_limits()).map_err(|e| {
        let (line, column) = e.line_col(text);
        FeedError {
            message: e.message,
            line,
            column,
            path: "$".into(),
        }
    })
}

/// The name after `prefix :`, trimmed (`continent : EMEA` → `EMEA`); the whole key if it has no such prefix.
fn label<'k>(key: &'k str, prefix: &str) -> &'k str {
    match key.split_once(':') {
        Some((p, rest)) if p.trim().eq_ignore_ascii_case(prefix) => rest.trim(),
        _ => key.trim(),
    }
}

fn wanted(filter: &[String], name: &str, prefix: &str) -> bool {
    filter.is_empty()
        || filter
            .iter()
            .any(|f| label(f, prefix).eq_ignore_ascii_case(name))
}

/// Check that every filter value matched something; list what exists otherwise.
fn all_used(
    root: &Reader<'_>,
    node: &Node<'_>,
    filter: &[String],
    seen: &[String],
    what: &str,
    prefix: &str,
) -> Result<(), FeedError> {
    for f in filter {
        let name = label(f, prefix);
        if !seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            let mut known: Vec<&str> = seen.iter().map(String::as_str).collect();
            crate::sort::unstable(&mut known);
            known.dedup();
            let more = known.len().saturating_sub(12);
            let mut list = known
                .iter()
                .take(12)
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if more > 0 {
                list.push_str(&format!(" and {more} more"));
            }
            return Err(root.err(
                node,
                "$",
                format!("the filter `{name}` matches no {what} in the feed; the feed has {list}"),
            ));
        }
    }
    Ok(())
}

/// Read a Zscaler CENR feed: `{CLOUD: {"continent : X": {"city : Y": [{"range": CIDR, ...}, ...]}}}`, any cloud
/// name, IPv4 and IPv6. Entries' other fields are ignored. A filter value that matches nothing is an error.
pub fn parse_cenr(text: &str, filter: &CenrFilter) -> Result<Vec<FeedRange>, FeedError> {
    let arena = crate::parse::json::Arena::new();
    let root = parse_root(text, &arena)?;
    let r = Reader { text };
    let Value::Object(clouds) = &root.value else {
        return Err(r.err(
            &root,
            "$",
            format!(
                "a CENR feed is an object keyed by cloud name, found {}",
                root.kind_name()
            ),
        ));
    };
    let (mut seen_clouds, mut seen_continents, mut seen_cities) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut out = Vec::new();
    for cloud in *clouds {
        let cpath = format!("$[\"{}\"]", cloud.key);
        seen_clouds.push(cloud.key.to_string());
        let Value::Object(continents) = &cloud.value.value else {
            return Err(r.err(
                &cloud.value,
                &cpath,
                format!(
                    "expected an object of continents, found {}",
                    cloud.value.kind_name()
                ),
            ));
        };
        let take_cloud = wanted(&filter.clouds, cloud.key, "cloud");
        for cont in *continents {
            let name = label(cont.key, "continent");
            seen_continents.push(name.to_string());
            let copath = format!("{cpath}[\"{}\"]", cont.key);
            let Value::Object(cities) = &cont.value.value else {
                return Err(r.err(
                    &cont.value,
                    &copath,
                    format!(
                        "expected an object of cities, found {}",
                        cont.value.kind_name()
                    ),
                ));
            };
            let take_cont = take_cloud && wanted(&filter.continents, name, "continent");
            for city in cities.iter() {
                let city_name = label(city.key, "city");
                seen_cities.push(city_name.to_string());
                let cipath = format!("{copath}[\"{}\"]", city.key);
                let Value::Array(entries) = &city.value.value else {
                    return Err(r.err(
                        &city.value,
                        &cipath,
                        format!(
                            "expected an array of ranges, found {}",
                            city.value.kind_name()
                        ),
                    ));
                };
                let take = take_cont && wanted(&filter.cities, city_name, "city");
                for (i, e) in entries.iter().enumerate() {
                    let epath = format!("{cipath}[{i}]");
                    let Some(range) = e.get("range") else {
                        return Err(r.err(e, &epath, "the entry has no `range`"));
                    };
                    let net = r.range(range, &format!("{epath}.range"))?;
                    if take {
                        out.push(FeedRange {
                            net,
                            source: format!("Zscaler {} {name}, {city_name}", cloud.key),
                        });
                    }
                }
            }
        }
    }
    all_used(&r, &root, &filter.clouds, &seen_clouds, "cloud", "cloud")?;
    all_used(
        &r,
        &root,
        &filter.continents,
        &seen_continents,
        "continent",
        "continent",
    )?;
    all_used(&r, &root, &filter.cities, &seen_cities, "city", "city")?;
    Ok(out)
}

/// Read AWS's `ip-ranges.json`: `prefixes` (`ip_prefix`) and `ipv6_prefixes` (`ipv6_prefix`), each with
/// `region`, `network_border_group` and `service`. A filter value that matches nothing is an error.
///
/// ```
/// use iamgate::network::feeds::{parse_aws_ip_ranges, IpRangesFilter};
/// let text = r#"{"syncToken": "1", "createDate": "2024-01-01-00-00-00",
///   "prefixes": [{"ip_prefix": "3.248.0.0/13", "region": "eu-west-1", "network_border_group": "eu-west-1", "service": "EC2"},
///                {"ip_prefix": "52.94.0.0/22", "region": "us-east-1", "network_border_group": "us-east-1", "service": "AMAZON"}],
///   "ipv6_prefixes": [{"ipv6_prefix": "2a05:d018::/36", "region": "eu-west-1", "network_border_group": "eu-west-1", "service": "EC2"}]}"#;
/// let f = IpRangesFilter { services: vec!["ec2".into()], regions: vec!["eu-west-1".into()] };
/// let r = parse_aws_ip_ranges(text, &f).unwrap();
/// assert_eq!(r.len(), 2);
/// assert_eq!(r[0].source, "AWS EC2 eu-west-1");
/// ```
pub fn parse_aws_ip_ranges(
    text: &str,
    filter: &IpRangesFilter,
) -> Result<Vec<FeedRange>, FeedError> {
    let arena = crate::parse::json::Arena::new();
    let root = parse_root(text, &arena)?;
    let r = Reader { text };
    if root.as_object().is_none() {
        return Err(r.err(
            &root,
            "$",
            format!(
                "ip-ranges.json is an object with `prefixes`, found {}",
                root.kind_name()
            ),
        ));
    }
    let (mut seen_services, mut seen_regions) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    let mut any_list = false;
    for (list, key) in [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")] {
        let Some(items) = root.get(list) else {
            continue;
        };
        any_list = true;
        let Value::Array(items) = &items.value else {
            return Err(r.err(
                items,
                &format!("$.{list}"),
                format!("expected an array, found {}", items.kind_name()),
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let path = format!("$.{list}[{i}]");
            let text_of = |k: &str| {
                item.get(k)
                    .and_then(|n| n.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let Some(prefix) = item.get(key) else {
                return Err(r.err(item, &path, format!("the entry has no `{key}`")));
            };
            let net = r.range(prefix, &format!("{path}.{key}"))?;
            let (service, region) = (text_of("service"), text_of("region"));
            seen_services.push(service.clone());
            seen_regions.push(region.clone());
            let take = wanted(&filter.services, &service, "service")
                && wanted(&filter.regions, &region, "region");
            if take {
                out.push(FeedRange {
                    net,
                    source: format!("AWS {service} {region}"),
                });
            }
        }
    }
    if !any_list {
        return Err(r.err(
            &root,
            "$",
            "ip-ranges.json has neither `prefixes` nor `ipv6_prefixes`",
        ));
    }
    all_used(
        &r,
        &root,
        &filter.services,
        &seen_services,
        "service",
        "service",
    )?;
    all_used(
        &r,
        &root,
        &filter.regions,
        &seen_regions,
        "region",
        "region",
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_range_names_its_place() {
        let text = "{\"zscaler.net\": {\"continent : EMEA\": {\"city : Paris\": [\n  {\"range\": \"165.225.300.0/22\"}]}}}";
        let e = parse_cenr(text, &CenrFilter::default()).unwrap_err();
        assert_eq!(
            e.path,
            "$[\"zscaler.net\"][\"continent : EMEA\"][\"city : Paris\"][0].range"
        );
        assert_eq!((e.line, e.column), (2, 13));
    }

    #[test]
    fn filters_accept_prefixed_names() {
        let text = r#"{"z": {"continent : EMEA": {"city : Paris": [{"range": "165.225.0.0/23"}], "city : Oslo": [{"range": "165.225.2.0/23"}]}}}"#;
        let f = CenrFilter {
            cities: vec!["city : paris".into()],
            ..CenrFilter::default()
        };
        let r = parse_cenr(text, &f).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].net.to_string(), "165.225.0.0/23");
    }
}
