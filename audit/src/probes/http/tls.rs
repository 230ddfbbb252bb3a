//! TLS of the base URL: protocol version, certificate verification and expiry, anchored to
//! testssl.sh's rating caps (its implementation of the SSL Labs guide, reference §2.3) and to
//! Let's Encrypt renewing 30 days before expiry.
use serde_json::json;

use super::super::fetch::FetchResponse;
use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use crate::findings::Severity;

pub const TLS: CheckSpec = CheckSpec {
    id: "http.tls",
    area: CheckArea::Api,
    title: "TLS version and certificate",
    severity: Severity::High,
    threshold: "HTTPS with TLS 1.2 or 1.3 and a certificate that verifies; fail when it is \
                expired or expires within 7 days, warn within 30 days (ours); plain HTTP fails",
    source: "testssl.sh rating caps (untrusted or expired certificate → T, no TLS 1.2/1.3 → C); \
             Let's Encrypt renews at 30 days",
};

pub const FAIL_DAYS: i64 = 7;
pub const WARN_DAYS: i64 = 30;

/// Said on every result: what rustls cannot tell us.
const LEGACY_NOTE: &str = "rustls offers only TLS 1.2 and 1.3, so whether the server also \
                           accepts TLS 1.0/1.1 (testssl.sh caps the grade at B) is not tested";

/// Judges the TLS of the response to the base URL (after redirects). `now` is Unix seconds.
pub fn evaluate(response: &FetchResponse, now: i64) -> CheckResult {
    // An http base URL that redirects to HTTPS on the same host is judged on the HTTPS answer.
    if response.url.scheme() != "https" {
        return TLS
            .result(
                CheckStatus::Fail,
                format!("No TLS: {} is served over plain HTTP", response.url),
            )
            .with_measured(json!({ "scheme": response.url.scheme() }))
            .with_evidence(vec![format!("{} answered without TLS", response.url)]);
    }
    let Some(tls) = &response.tls else {
        return CheckResult::could_not_run(&TLS, "the HTTPS response carried no TLS details");
    };
    let mut problems: Vec<(CheckStatus, String)> = Vec::new();
    let mut evidence = vec![format!("negotiated {}", tls.version)];
    if tls.version != "TLSv1.3" && tls.version != "TLSv1.2" {
        problems.push((
            CheckStatus::Fail,
            format!("{} negotiated (needs TLS 1.2 or 1.3)", tls.version),
        ));
    }
    if !tls.verified {
        let why = tls
            .verify_error
            .clone()
            .unwrap_or_else(|| "no reason given".to_owned());
        evidence.push(format!("certificate does not verify: {why}"));
        problems.push((
            CheckStatus::Fail,
            format!("certificate does not verify ({why})"),
        ));
    } else {
        evidence.push("certificate chain verifies against the web PKI roots".to_owned());
    }
    let days_left = tls
        .cert_not_after
        .map(|not_after| (not_after - now).div_euclid(86_400));
    match (tls.cert_not_after, days_left) {
        (Some(not_after), Some(days)) => {
            let date = time::OffsetDateTime::from_unix_timestamp(not_after)
                .map(|d| d.date().to_string())
                .unwrap_or_else(|_| not_after.to_string());
            evidence.push(format!("certificate valid until {date} ({days} days left)"));
            if not_after <= now {
                problems.push((CheckStatus::Fail, format!("certificate expired on {date}")));
            } else if days < FAIL_DAYS {
                problems.push((
                    CheckStatus::Fail,
                    format!("certificate expires in {days} days ({date})"),
                ));
            } else if days < WARN_DAYS {
                problems.push((
                    CheckStatus::Warn,
                    format!("certificate expires in {days} days ({date})"),
                ));
            }
        }
        _ => {
            evidence.push("certificate expiry unknown".to_owned());
            problems.push((
                CheckStatus::Warn,
                "the certificate's expiry date could not be read".to_owned(),
            ));
        }
    }
    evidence.push(LEGACY_NOTE.to_owned());
    let status = problems
        .iter()
        .map(|(s, _)| *s)
        .max_by_key(|s| match s {
            CheckStatus::Fail => 2,
            CheckStatus::Warn => 1,
            _ => 0,
        })
        .unwrap_or(CheckStatus::Pass);
    let summary = if problems.is_empty() {
        format!(
            "{}, certificate verifies, {} days until expiry",
            tls.version,
            days_left.unwrap_or_default()
        )
    } else {
        problems
            .iter()
            .map(|(_, p)| p.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    TLS.result(status, summary)
        .with_measured(json!({
            "version": tls.version,
            "verified": tls.verified,
            "verify_error": tls.verify_error,
            "cert_not_after": tls.cert_not_after,
            "days_left": days_left,
        }))
        .with_evidence(evidence)
}
