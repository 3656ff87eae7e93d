//! The host names under which the runner's own endpoints answer.
//!
//! A web page can make the browser send requests to `127.0.0.1` by rebinding
//! its own domain name to that address (DNS rebinding); the browser then
//! treats the runner as the page's own origin and lets the page read the
//! answers. What gives it away is the `Host` header, which still carries the
//! page's domain. So `/_nubes/` answers only for the addresses the runner is
//! bound to and the names the developer allowed.

use std::net::IpAddr;

use nubes_core::Error;

/// The hosts `/_nubes/` answers for: loopback names and addresses, the bound
/// address (any address when bound to all interfaces: an IP address cannot be
/// rebound), and `NUBES_ALLOWED_HOSTS`.
#[derive(Debug, Clone)]
pub(crate) struct AllowedHosts {
    bound: IpAddr,
    /// Lower-case names; `.example.test` stands for that domain and its
    /// subdomains, `*` for every host.
    extra: Vec<String>,
}

impl AllowedHosts {
    pub(crate) fn new(bound: IpAddr, extra: &[String]) -> Self {
        AllowedHosts {
            bound,
            extra: extra.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether `host` (a `Host` header's host part, without the port) may
    /// reach `/_nubes/`.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host == "localhost" {
            return true;
        }
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            return ip.is_loopback()
                || ip == self.bound
                || self.bound.is_unspecified()
                || self.extra.iter().any(|e| e.parse::<IpAddr>() == Ok(ip));
        }
        self.extra.iter().any(|allowed| match allowed.as_str() {
            "*" => true,
            domain if domain.starts_with('.') => {
                host.ends_with(domain) || host == domain.trim_start_matches('.')
            }
            name => host == name,
        })
    }
}

/// `NUBES_ALLOWED_HOSTS`: comma-separated host names (no scheme, no port).
pub(crate) fn parse(value: &str) -> Result<Vec<String>, Error> {
    let mut hosts = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bare = entry.trim_start_matches('[').trim_end_matches(']');
        let is_ipv6 = bare.parse::<std::net::Ipv6Addr>().is_ok();
        let malformed = entry.contains(['/', ' ', '@']) || (entry.contains(':') && !is_ipv6);
        if malformed {
            return Err(Error::config(format!(
                "NUBES_ALLOWED_HOSTS=`{value}`: `{entry}` is not a host name; list names only \
                 (`myapp.test,.tunnel.example`), without scheme or port: any port is accepted"
            )));
        }
        hosts.push(bare.to_ascii_lowercase());
    }
    Ok(hosts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn on(bound: [u8; 4], extra: &str) -> AllowedHosts {
        AllowedHosts::new(
            IpAddr::V4(Ipv4Addr::from(bound)),
            &parse(extra).expect("a valid list"),
        )
    }

    #[test]
    fn loopback_and_the_bound_address_are_allowed() {
        let hosts = on([127, 0, 0, 1], "");
        for ok in [
            "localhost",
            "LOCALHOST",
            "localhost.",
            "127.0.0.1",
            "[::1]",
            "127.1.2.3",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for refused in ["evil.example", "localhost.evil.example", "10.0.0.2", ""] {
            assert!(!hosts.allows(refused), "{refused}");
        }
        let lan = on([192, 168, 1, 7], "");
        assert!(lan.allows("192.168.1.7"));
        assert!(!lan.allows("192.168.1.8"));
        let everywhere = on([0, 0, 0, 0], "");
        assert!(everywhere.allows("192.168.1.8"));
        assert!(!everywhere.allows("evil.example"));
    }

    #[test]
    fn the_allow_list_takes_names_domains_and_a_wildcard() {
        let hosts = on([127, 0, 0, 1], " myapp.test , .tunnel.example,[fe80::1]");
        assert!(hosts.allows("MyApp.test"));
        assert!(hosts.allows("abc.tunnel.example"));
        assert!(hosts.allows("tunnel.example"));
        assert!(hosts.allows("[fe80::1]"));
        assert!(!hosts.allows("eviltunnel.example"));
        assert!(!hosts.allows("myapp.test.evil.example"));
        assert!(on([127, 0, 0, 1], "*").allows("anything.example"));
    }

    #[test]
    fn malformed_entries_are_configuration_errors() {
        for bad in ["http://myapp.test", "myapp.test:3000", "my app"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.to_string().contains("NUBES_ALLOWED_HOSTS"), "{err}");
        }
        assert_eq!(
            parse(" ,").expect("blank entries are skipped"),
            Vec::<String>::new()
        );
    }
}
