//! Checks feed the findings: every failed or warning check of the newest results becomes a
//! finding (origin `probe`, keyed `probe:<check id>`), linked to the check as evidence. A check
//! that passes again resolves its finding; a check that could not run leaves it as it is.
use std::collections::HashSet;

use super::model::{CheckResult, CheckStatus};
use super::store::latest_checks;
use crate::activity::Actor;
use crate::db::Db;
use crate::error::Result;
use crate::findings::{
    apply_proposals, Confidence, EvidenceKind, EvidenceLink, FindingOrigin, Proposal, Severity,
    SuggestReport,
};
use crate::questionnaire::{engagement_bank, Area, Bank};

/// A warning is one step less severe than the check's failure.
fn severity_of(check: &CheckResult) -> Severity {
    match (check.status, check.severity) {
        (CheckStatus::Warn, Severity::Critical) => Severity::High,
        (CheckStatus::Warn, Severity::High) => Severity::Medium,
        (CheckStatus::Warn, _) => Severity::Low,
        (_, severity) => severity,
    }
}

/// The area a check's finding belongs to: the area of the question that names the check, else
/// the check's own area; API design and security checks go with deployment & infrastructure.
fn area_of(bank: &Bank, check: &CheckResult) -> Area {
    bank.questions()
        .find(|q| q.probe_checks.iter().any(|id| id == &check.id))
        .map(|q| q.area)
        .or_else(|| check.area.audit_area())
        .unwrap_or(Area::DeploymentInfrastructure)
}

fn description_of(check: &CheckResult, run_id: i64) -> String {
    let mut text = format!(
        "**Observed by probe run #{run_id}:** {}\n\n**Threshold:** {} (source: {}).",
        check.summary, check.threshold, check.source
    );
    if !check.evidence.is_empty() {
        text.push_str("\n\n**Evidence:**\n\n~~~~\n");
        for line in check.evidence.iter().take(30) {
            text.push_str(&line.replace("~~~~", "~ ~ ~ ~"));
            text.push('\n');
        }
        if check.evidence.len() > 30 {
            text.push_str(&format!("… and {} more\n", check.evidence.len() - 30));
        }
        text.push_str("~~~~");
    }
    text
}

/// Brings the probe findings in line with the newest check results of the engagement.
pub async fn findings_from_checks(
    db: &Db,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
) -> Result<SuggestReport> {
    let (_, bank) = engagement_bank(db, firm_id, engagement_id).await?;
    let latest = latest_checks(db, firm_id, engagement_id).await?;
    let mut proposals = Vec::new();
    let mut keep = HashSet::new();
    for (check, run_id) in &latest {
        let origin_key = format!("probe:{}", check.id);
        match check.status {
            CheckStatus::Pass => {}
            CheckStatus::CouldNotRun => {
                keep.insert(origin_key);
            }
            CheckStatus::Warn | CheckStatus::Fail => proposals.push(Proposal {
                origin_key,
                area: area_of(&bank, check),
                severity: severity_of(check),
                title: format!("{}: {}", check.title, check.summary)
                    .chars()
                    .take(200)
                    .collect(),
                description: description_of(check, *run_id),
                // Observed on the real system, not claimed: as sure as a finding gets.
                confidence: Confidence::High,
                evidence: vec![EvidenceLink {
                    kind: EvidenceKind::Probe,
                    target: format!("{run_id}:{}", check.id),
                    label: format!("{} — {} in run #{run_id}", check.id, check.status.label()),
                }],
            }),
        }
    }
    crate::findings::with_retry(|| {
        apply_proposals(
            db,
            actor,
            firm_id,
            engagement_id,
            FindingOrigin::Probe,
            &proposals,
            &keep,
        )
    })
    .await
}
