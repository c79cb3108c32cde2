//! Which addresses a webhook may be delivered to: public ones only, unless the operator
//! allows private and loopback targets (`--webhook-allow-private`). Checked when an endpoint
//! is registered and again at every delivery, on the addresses the name resolves to then
//! (a name that later resolves to an internal address is refused, not followed).

use std::net::{IpAddr, SocketAddr};

use chat_core::error::InvalidInput;
use chat_core::webhooks::WebhookUrl;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Checks that `url`'s host resolves to allowed addresses only.
pub async fn check_target(url: &WebhookUrl, allow_private: bool) -> Result<(), InvalidInput> {
    let invalid = |why: String| InvalidInput::new("url", why);
    let parsed = reqwest::Url::parse(url.as_str()).map_err(|e| invalid(e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| invalid("must name a host".into()))?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses = resolve(host.trim_matches(['[', ']']), port, allow_private)
        .await
        .map_err(|e| invalid(e.to_string()))?;
    if addresses.is_empty() {
        return Err(invalid(format!("{host} does not resolve")));
    }
    Ok(())
}

/// A resolver for the delivery client that drops refused addresses.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addresses = resolve(name.as_str(), 0, allow_private).await?;
            let addrs: Addrs = Box::new(addresses.into_iter());
            Ok(addrs)
        })
    }
}

/// The allowed addresses of `host`; an error when it resolves only to refused ones.
async fn resolve(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let all: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port)).await?.collect(),
    };
    let allowed: Vec<SocketAddr> = all
        .iter()
        .copied()
        .filter(|a| allow_private || is_public(a.ip()))
        .collect();
    if allowed.is_empty() && !all.is_empty() {
        return Err(Box::new(Refused(format!(
            "{host} is a private or loopback address (start the server with --webhook-allow-private to allow it)"
        ))));
    }
    Ok(allowed)
}

/// A target refused because of where it points (not a failure to reach it).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Whether `error`, or anything it came from, is a [`Refused`] target.
pub fn is_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<Refused>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// Refuses a URL whose host is a literal private or loopback address (literals never reach
/// the resolver).
pub fn check_literal(url: &reqwest::Url, allow_private: bool) -> Result<(), String> {
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    if allow_private || is_public(ip) {
        Ok(())
    } else {
        Err(format!("{ip} is a private or loopback address"))
    }
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space
                || (a == 198 && (18..20).contains(&b)) // benchmarking
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || a >= 240)
        }
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let [first, second, ..] = v6.segments();
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00 // unique local
                    || (first & 0xffc0) == 0xfe80 // link local
                    || (first & 0xffc0) == 0xfec0 // site local (deprecated)
                    || first == 0x2001 && second == 0x0db8) // documentation
            }
        },
    }
}

/// The IPv4 address an IPv6 address carries, in the forms that reach IPv4 hosts: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`)
/// and 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let from = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        std::net::Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    match s {
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) > (0, 1) => Some(from(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        // The local-use NAT64 prefix may embed the address anywhere in its /48: refuse it
        // whole (IANA marks it not globally reachable) by reading it as 0.0.0.0.
        [0x64, 0xff9b, 1, ..] => Some(std::net::Ipv4Addr::UNSPECIFIED),
        // IPv4-translated, `::ffff:0:a.b.c.d`.
        [0, 0, 0, 0, 0xffff, 0, hi, lo] => Some(from(hi, lo)),
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "64:ff9b:1:a00:0:100:808:808",
            "::ffff:0:a00:1",
            "2002:a9fe:a9fe::1",
            "fec0::1",
            "192.0.0.8",
        ] {
            assert!(!is_public(refused.parse().unwrap()), "{refused}");
        }
        for allowed in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(allowed.parse().unwrap()), "{allowed}");
        }
    }

    #[tokio::test]
    async fn loopback_targets_are_refused_unless_allowed() {
        let url = WebhookUrl::parse("http://127.0.0.1:9/hook").unwrap();
        assert!(check_target(&url, false).await.is_err());
        assert!(check_target(&url, true).await.is_ok());
        let named = WebhookUrl::parse("http://localhost:9/hook").unwrap();
        assert!(check_target(&named, false).await.is_err());
    }
}
