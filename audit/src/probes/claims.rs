//! Claimed versus observed: each question whose probe checks ran, set beside the founders'
//! answer. A "yes" the checks fail (or warn on) is a contradiction, and stands out.
use std::collections::HashMap;

use super::model::{CheckStatus, ClaimComparison, ObservedCheck, Verdict};
use super::store::latest_checks;
use crate::db::Db;
use crate::error::Result;
use crate::questionnaire::{choices_of, engagement_bank, Choice};

/// How the observed status bears on the claimed answer.
pub fn verdict(claimed: Option<Choice>, observed: CheckStatus) -> Verdict {
    match (claimed, observed) {
        (None | Some(Choice::DontKnow | Choice::NotApplicable), _) => Verdict::Settles,
        (Some(Choice::Yes), CheckStatus::Pass) => Verdict::Confirms,
        (Some(Choice::Yes), _) => Verdict::Contradicts,
        (Some(Choice::Partly | Choice::No), CheckStatus::Pass) => Verdict::BetterThanClaimed,
        (Some(Choice::Partly | Choice::No), _) => Verdict::Confirms,
    }
}

fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Contradicts => 0,
        Verdict::Settles => 1,
        Verdict::BetterThanClaimed => 2,
        Verdict::Confirms => 3,
    }
}

/// Every question with at least one check that ran, contradictions first.
pub async fn compare(db: &Db, firm_id: i64, engagement_id: i64) -> Result<Vec<ClaimComparison>> {
    let (_, bank) = engagement_bank(db, firm_id, engagement_id).await?;
    let choices = choices_of(db, engagement_id).await?;
    let latest = latest_checks(db, firm_id, engagement_id).await?;
    let by_id: HashMap<&str, (&super::CheckResult, i64)> = latest
        .iter()
        .map(|(check, run)| (check.id.as_str(), (check, *run)))
        .collect();
    let mut out = Vec::new();
    for question in bank.questions() {
        let checks: Vec<ObservedCheck> = question
            .probe_checks
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .filter(|(check, _)| check.status != CheckStatus::CouldNotRun)
            .map(|(check, run_id)| ObservedCheck {
                id: check.id.clone(),
                title: check.title.clone(),
                status: check.status,
                summary: check.summary.clone(),
                run_id: *run_id,
            })
            .collect();
        let Some(observed) = checks.iter().map(|c| c.status).max_by_key(|s| match s {
            CheckStatus::Fail => 2,
            CheckStatus::Warn => 1,
            _ => 0,
        }) else {
            continue;
        };
        let claimed = choices.get(&question.id).copied();
        out.push(ClaimComparison {
            question_id: question.id.clone(),
            area: question.area,
            prompt: question.prompt.clone(),
            red_flag: question.red_flag,
            claimed,
            observed,
            verdict: verdict(claimed, observed),
            checks,
        });
    }
    out.sort_by_key(|c| (rank(c.verdict), c.area));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yes_the_checks_fail_is_a_contradiction() {
        assert_eq!(
            verdict(Some(Choice::Yes), CheckStatus::Fail),
            Verdict::Contradicts
        );
        assert_eq!(
            verdict(Some(Choice::Yes), CheckStatus::Warn),
            Verdict::Contradicts
        );
        assert_eq!(
            verdict(Some(Choice::Yes), CheckStatus::Pass),
            Verdict::Confirms
        );
        assert_eq!(
            verdict(Some(Choice::No), CheckStatus::Fail),
            Verdict::Confirms
        );
        assert_eq!(
            verdict(Some(Choice::No), CheckStatus::Pass),
            Verdict::BetterThanClaimed
        );
        assert_eq!(
            verdict(Some(Choice::Partly), CheckStatus::Warn),
            Verdict::Confirms
        );
        assert_eq!(
            verdict(Some(Choice::DontKnow), CheckStatus::Fail),
            Verdict::Settles
        );
        assert_eq!(verdict(None, CheckStatus::Pass), Verdict::Settles);
    }
}
