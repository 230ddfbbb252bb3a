//! The outbound guard: every connection any probe makes goes through here.
//!
//! A hosted scanner connects to addresses users type, so it must not become a way into the
//! networks it runs in (SSRF). The rules follow smokescreen's `classifyAddr` and the additions
//! in `reference/probes.md` §5: parse strictly, resolve once, refuse the whole name if any
//! address is blocked, connect only to the address that was checked, and let the firm owner and
//! the operator (`PLUMBLINE_PROBE_ALLOW`) allow-list ranges (how tests and on-premise use reach
//! loopback).
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use tokio::net::TcpStream;
use url::Url;

/// Why the guard said no, in words a consultant can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// The guard with its allow-list (operator ranges plus the firm's).
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow: Vec<IpNet>,
}

impl Guard {
    pub fn new(allow: Vec<IpNet>) -> Guard {
        Guard { allow }
    }

    /// Parses comma- or newline-separated CIDRs (a bare address means /32 or /128).
    pub fn parse_allow_list(text: &str) -> Result<Vec<IpNet>, String> {
        let _ = text;
        todo!()
    }

    /// Allowed to connect to `ip`? Blocked ranges are refused unless allow-listed.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        let _ = ip;
        todo!()
    }

    /// Parses a URL strictly (WHATWG: decimal, octal and hex IPv4 forms are normalised),
    /// allowing only `schemes`, refusing userinfo, blocked host names and blocked IP literals.
    pub fn check_url(&self, url: &str, schemes: &[&str]) -> Result<Url, Refusal> {
        let _ = (url, schemes);
        todo!()
    }

    /// Resolves `host` once; refuses the whole name if any address is blocked.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
        let _ = (host, port);
        todo!()
    }

    /// Resolves, checks, and connects to the first checked address that answers.
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<(TcpStream, SocketAddr), Refusal> {
        let _ = (host, port, timeout);
        todo!()
    }
}
