//! The outbound guard: every connection any probe makes goes through here.
//!
//! A hosted scanner connects to addresses users type, so it must not become a way into the
//! networks it runs in (SSRF). The rules follow smokescreen's `classifyAddr` and the additions
//! in `reference/probes.md` §5: parse strictly, resolve once, refuse the whole name if any
//! address is blocked, connect only to the address that was checked, and let the firm owner and
//! the operator (`PLUMBLINE_PROBE_ALLOW`) allow-list ranges (how tests and on-premise use reach
//! loopback).
//!
//! The order of the address check (`Guard::check_ip`):
//! 1. IPv4-mapped (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) IPv6 addresses are
//!    turned into the IPv4 address they carry, because that is where the packets go.
//! 2. An address inside an allow-listed range is allowed (the allow-list only ever opens the
//!    ranges it names).
//! 3. An address in a blocked range is refused, naming the range and why.
//! 4. Any other IPv6 address outside the global unicast space `2000::/3` is refused (smokescreen
//!    refuses everything that is not global unicast; the table above names the common cases).
//!
//! Host names (`Guard::check_url`, `Guard::resolve`): local-only names (`localhost`,
//! `*.localhost`, `*.internal` including `metadata.google.internal`, `*.local`,
//! `*.cluster.local`, `*.svc`) and single-label names (`db`, `redis`: they resolve through the
//! machine's search domains, which is how a Kubernetes service is reached) are refused, unless
//! *every* address the name resolves to is inside the allow-list. So an operator allow-list of
//! `127.0.0.0/8, ::1` lets `localhost` through for tests and on-premise use, while
//! `metadata.google.internal` stays refused because its address is not allow-listed.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tokio::net::TcpStream;
use url::{Host, Url};

/// Why the guard said no, in words a consultant can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    // Evaluated at compile time (the tables are constants), so a bad prefix fails the build.
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

#[allow(clippy::too_many_arguments)]
const fn v6(a: u16, b: u16, c: u16, d: u16, e: u16, f: u16, g: u16, h: u16, prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// IPv4 ranges refused (reference/probes.md §5.1: smokescreen plus IANA special-purpose ranges).
pub const BLOCKED_V4: &[(Ipv4Net, &str)] = &[
    (v4(0, 0, 0, 0, 8), "\"this network\", never a destination"),
    (v4(10, 0, 0, 0, 8), "private network, RFC 1918"),
    (
        v4(100, 64, 0, 0, 10),
        "shared address space (carrier-grade NAT), includes Alibaba Cloud metadata 100.100.100.200",
    ),
    (v4(127, 0, 0, 0, 8), "loopback"),
    (
        v4(169, 254, 0, 0, 16),
        "link-local, cloud metadata (AWS, GCP, Azure 169.254.169.254; ECS 169.254.170.2)",
    ),
    (v4(172, 16, 0, 0, 12), "private network, RFC 1918"),
    (v4(192, 0, 0, 0, 24), "IETF protocol assignments"),
    (v4(192, 0, 2, 0, 24), "documentation (TEST-NET-1)"),
    (v4(192, 168, 0, 0, 16), "private network, RFC 1918"),
    (v4(198, 18, 0, 0, 15), "benchmarking"),
    (v4(198, 51, 100, 0, 24), "documentation (TEST-NET-2)"),
    (v4(203, 0, 113, 0, 24), "documentation (TEST-NET-3)"),
    (v4(224, 0, 0, 0, 4), "multicast"),
    (
        v4(240, 0, 0, 0, 4),
        "reserved, includes the broadcast address 255.255.255.255",
    ),
    (
        v4(168, 63, 129, 16, 32),
        "Azure platform endpoint (wire server, DNS, metadata)",
    ),
];

/// IPv6 ranges refused. IPv4-mapped and IPv4-compatible addresses never reach this table: they
/// are checked as the IPv4 address they carry.
pub const BLOCKED_V6: &[(Ipv6Net, &str)] = &[
    (v6(0, 0, 0, 0, 0, 0, 0, 0, 128), "the unspecified address"),
    (v6(0, 0, 0, 0, 0, 0, 0, 1, 128), "loopback"),
    (
        v6(0x64, 0xff9b, 0, 0, 0, 0, 0, 0, 96),
        "NAT64, embeds an IPv4 address the gateway would reach",
    ),
    (
        v6(0x64, 0xff9b, 1, 0, 0, 0, 0, 0, 48),
        "local-use NAT64, embeds an IPv4 address the gateway would reach",
    ),
    (
        v6(0x2001, 0, 0, 0, 0, 0, 0, 0, 32),
        "Teredo tunnelling, embeds an IPv4 address",
    ),
    (v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0, 32), "documentation"),
    (
        v6(0x2002, 0, 0, 0, 0, 0, 0, 0, 16),
        "6to4 tunnelling, embeds an IPv4 address",
    ),
    (
        v6(0xfc00, 0, 0, 0, 0, 0, 0, 0, 7),
        "unique local (private) addresses, includes AWS metadata fd00:ec2::254",
    ),
    (v6(0xfe80, 0, 0, 0, 0, 0, 0, 0, 10), "link-local"),
    (v6(0xff00, 0, 0, 0, 0, 0, 0, 0, 8), "multicast"),
];

/// The IPv6 global unicast space; anything else not named above is reserved or local.
const GLOBAL_UNICAST_V6: Ipv6Net = v6(0x2000, 0, 0, 0, 0, 0, 0, 0, 3);

/// The guard with its allow-list (operator ranges plus the firm's).
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<IpNet>,
}

impl Guard {
    pub fn new(allow: Vec<IpNet>) -> Guard {
        Guard { allow }
    }

    /// The same guard with `more` ranges allowed too (a firm's list on top of the operator's).
    pub fn with_allowed(&self, more: &[IpNet]) -> Guard {
        let mut allow = self.allow.clone();
        allow.extend_from_slice(more);
        Guard { allow }
    }

    /// The allow-listed ranges.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// Parses comma-, newline- or whitespace-separated CIDRs (a bare address means /32 or
    /// /128). Errors name the bad entry.
    pub fn parse_allow_list(text: &str) -> Result<Vec<IpNet>, String> {
        let mut nets = Vec::new();
        for entry in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
        {
            let net = if entry.contains('/') {
                entry.parse::<IpNet>().map_err(|_| {
                    format!(
                        "\"{entry}\" is not a CIDR range (expected e.g. 10.1.0.0/16 or fd00::/8)"
                    )
                })?
            } else {
                let ip = entry
                    .parse::<IpAddr>()
                    .map_err(|_| format!("\"{entry}\" is not an IP address or CIDR range"))?;
                IpNet::from(ip)
            };
            // `10.1.2.3/16` is accepted as meaning 10.1.0.0/16, the range it names.
            nets.push(net.trunc());
        }
        Ok(nets)
    }

    fn is_allowed(&self, ip: IpAddr) -> bool {
        self.allow.iter().any(|net| net.contains(&ip))
    }

    /// Allowed to connect to `ip`? Blocked ranges are refused unless allow-listed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        let carried = embedded_ipv4(ip);
        let effective = carried.map(IpAddr::V4).unwrap_or(ip);
        if self.is_allowed(ip) || self.is_allowed(effective) {
            return Ok(());
        }
        let shown = match carried {
            Some(v4) if IpAddr::V4(v4) != ip => format!("{ip} (IPv4 {v4})"),
            _ => ip.to_string(),
        };
        match effective {
            IpAddr::V4(v4) => {
                if let Some((net, why)) = BLOCKED_V4.iter().find(|(net, _)| net.contains(&v4)) {
                    return Err(Refusal(format!("{shown} is in {net} ({why})")));
                }
            }
            IpAddr::V6(v6) => {
                if let Some((net, why)) = BLOCKED_V6.iter().find(|(net, _)| net.contains(&v6)) {
                    return Err(Refusal(format!("{shown} is in {net} ({why})")));
                }
                if !GLOBAL_UNICAST_V6.contains(&v6) {
                    return Err(Refusal(format!(
                        "{shown} is outside the IPv6 global unicast range {GLOBAL_UNICAST_V6} (reserved)"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Parses a URL strictly (WHATWG: decimal, octal and hex IPv4 forms are normalised),
    /// allowing only `schemes`, refusing userinfo, blocked host names and blocked IP literals.
    pub fn check_url(&self, url: &str, schemes: &[&str]) -> Result<Url, Refusal> {
        let parsed = Url::parse(url.trim())
            .map_err(|e| Refusal(format!("\"{}\" is not a valid URL: {e}", shorten(url))))?;
        let scheme = parsed.scheme();
        if !schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
            return Err(Refusal(format!(
                "the scheme \"{scheme}\" is not allowed here (allowed: {})",
                schemes.join(", ")
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(Refusal(
                "URLs with a user name or password (user:pass@host) are refused; \
                 give credentials separately"
                    .to_owned(),
            ));
        }
        match parsed.host() {
            None => return Err(Refusal(format!("\"{}\" has no host", shorten(url)))),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(Host::Domain(name)) => {
                // Schemes the WHATWG parser does not know (postgres://, git://) keep numeric
                // IPv4 forms as names; read them the way a resolver would.
                if let Some(ip) = ip_literal(name) {
                    self.check_ip(ip)?;
                } else {
                    self.check_name(name)?;
                }
            }
        }
        Ok(parsed)
    }

    /// Refuses a local-only or single-label name outright when nothing is allow-listed (no
    /// address could ever let it through). With an allow-list, `resolve` decides: the name
    /// passes only if every address it resolves to is allow-listed.
    fn check_name(&self, name: &str) -> Result<(), Refusal> {
        let normal = normalise_name(name);
        if normal.is_empty() {
            return Err(Refusal("the URL has an empty host".to_owned()));
        }
        match local_name_reason(&normal) {
            Some(why) if self.allow.is_empty() => Err(Refusal(format!(
                "the host name \"{normal}\" is refused ({why})"
            ))),
            _ => Ok(()),
        }
    }

    /// Resolves `host` once; refuses the whole name if any address is blocked.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        self.lookup(host, port).await.map_err(|e| match e {
            LookupError::Refused(refusal) => refusal,
            LookupError::NotFound(why) => Refusal(why),
        })
    }

    /// Like `resolve`, but tells a refusal from a name that does not resolve, so a probe can
    /// report "refused" and "unreachable" apart.
    pub async fn lookup(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupError> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if let Some(ip) = ip_literal(bare) {
            // IP literals never go through a resolver: check them here.
            self.check_ip(ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        self.check_name(bare)?;
        let name = normalise_name(bare);
        let local_reason = local_name_reason(&name);
        // One lookup; the addresses checked here are the only ones ever dialled (no second
        // lookup, which is what defeats DNS rebinding).
        let found = tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|e| LookupError::NotFound(format!("could not resolve \"{name}\": {e}")))?;
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for addr in found {
            if !addrs.contains(&addr) {
                addrs.push(addr);
            }
        }
        if addrs.is_empty() {
            return Err(LookupError::NotFound(format!(
                "\"{name}\" did not resolve to any address"
            )));
        }
        for addr in &addrs {
            let ip = addr.ip();
            if let Some(why) = local_reason {
                let carried = embedded_ipv4(ip).map(IpAddr::V4).unwrap_or(ip);
                if !self.is_allowed(ip) && !self.is_allowed(carried) {
                    return Err(LookupError::Refused(Refusal(format!(
                        "the host name \"{name}\" is refused ({why}); it resolves to {ip}, \
                         which is not allow-listed"
                    ))));
                }
            } else if let Err(Refusal(why)) = self.check_ip(ip) {
                return Err(LookupError::Refused(Refusal(format!(
                    "\"{name}\" resolves to a refused address: {why}"
                ))));
            }
        }
        Ok(addrs)
    }

    /// Resolves, checks, and connects to the first checked address that answers.
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<(TcpStream, SocketAddr), Refusal> {
        let deadline = tokio::time::Instant::now() + timeout;
        let addrs = tokio::time::timeout_at(deadline, self.resolve(host, port))
            .await
            .map_err(|_| Refusal(format!("resolving \"{host}\" took longer than {timeout:?}")))??;
        self.connect_checked(&addrs, deadline)
            .await
            .map_err(|e| Refusal(e.to_string()))
    }

    /// Connects to the first of `addrs` that answers before `deadline`. Each address is checked
    /// again (cheap, and it keeps this function safe whatever a caller passes).
    pub(crate) async fn connect_checked(
        &self,
        addrs: &[SocketAddr],
        deadline: tokio::time::Instant,
    ) -> Result<(TcpStream, SocketAddr), ConnectError> {
        let mut last = None;
        for addr in addrs {
            self.check_ip(addr.ip()).map_err(ConnectError::Refused)?;
            match tokio::time::timeout_at(deadline, TcpStream::connect(addr)).await {
                Err(_) => return Err(ConnectError::TimedOut),
                Ok(Ok(stream)) => {
                    // Requests are small and latency is what we measure: no Nagle delay.
                    let _ = stream.set_nodelay(true);
                    return Ok((stream, *addr));
                }
                Ok(Err(e)) => last = Some(format!("{addr}: {e}")),
            }
        }
        Err(ConnectError::Failed(
            last.unwrap_or_else(|| "no address to connect to".to_owned()),
        ))
    }
}

/// Why `Guard::lookup` gave no addresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The guard refused the name or one of its addresses.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The name did not resolve.
    #[error("{0}")]
    NotFound(String),
}

/// Why a connection to checked addresses failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("connecting timed out")]
    TimedOut,
    #[error("{0}")]
    Failed(String),
}

/// The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`, but not
/// `::` or `::1`) IPv6 address carries, or the address itself when it is IPv4.
fn embedded_ipv4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4);
            }
            let s = v6.segments();
            let compatible = s[..6].iter().all(|&x| x == 0);
            if compatible && v6 != Ipv6Addr::UNSPECIFIED && v6 != Ipv6Addr::LOCALHOST {
                let [.., a, b, c, d] = v6.octets();
                return Some(Ipv4Addr::new(a, b, c, d));
            }
            None
        }
    }
}

/// Reads `host` as an IP address the way a resolver would, including the decimal, octal and
/// hex IPv4 forms (`2130706433`, `0177.0.0.1`, `0x7f.1`) that `getaddrinfo` also accepts.
fn ip_literal(host: &str) -> Option<IpAddr> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Some(ip);
    }
    let numeric = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '.' || c == 'x' || c == 'X');
    if !numeric {
        return None;
    }
    // The WHATWG host parser implements exactly these forms for special schemes.
    match Url::parse(&format!("http://{host}/")).ok()?.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        _ => None,
    }
}

fn normalise_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Why a host name is local-only, if it is.
fn local_name_reason(name: &str) -> Option<&'static str> {
    let is = |suffix: &str| name == suffix || name.ends_with(&format!(".{suffix}"));
    if is("localhost") {
        Some("a loopback name")
    } else if name == "metadata.google.internal" {
        Some("the Google Cloud metadata server")
    } else if is("internal") {
        Some("an internal-only name")
    } else if is("local") {
        // Also covers *.cluster.local, Kubernetes' service domain.
        Some("a local-network (mDNS or cluster) name")
    } else if is("svc") {
        Some("a Kubernetes service name")
    } else if !name.contains('.') {
        Some("a single-label name, resolved through the local search domains")
    } else {
        None
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 120;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}
