//! Gathers the report model from an engagement: scores, claims, findings, interventions and
//! roadmap, decisions, answers, milestones, and the firm's branding. Read-only.
use std::collections::HashMap;

use super::model::*;
use crate::accounts::Member;
use crate::db::Db;
use crate::decisions::{self, Decision};
use crate::engagements;
use crate::error::{Error, Result};
use crate::findings::{self, Finding, FindingStatus};
use crate::interventions;
use crate::probes::{self, ClaimComparison, Verdict};
use crate::questionnaire::{self, Area, Bank, Respondent};

/// The accent used when a firm has none, or an old value fails the check.
pub const DEFAULT_ACCENT: &str = "#1f4e79";

/// The firm's report look, with the logo's bytes.
#[derive(Debug, Clone)]
pub struct FirmBranding {
    pub branding: Branding,
    pub logo: Option<Vec<u8>>,
}

/// What a report shows besides the engagement's own records: who prepared it, which version it
/// is, and the day it is dated.
#[derive(Debug, Clone)]
pub struct Edition {
    pub consultant: String,
    pub version_label: String,
    /// YYYY-MM-DD
    pub date: String,
}

/// `#rrggbb` and nothing else, so the value is safe in CSS, SVG and Typst alike.
pub fn is_accent(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// name, accent, logo bytes, logo kind
type BrandingRow = (String, String, Option<Vec<u8>>, Option<String>);

pub async fn firm_branding(db: &Db, firm_id: i64) -> Result<FirmBranding> {
    let row: Option<BrandingRow> = sqlx::query_as(
        "select name, report_accent, report_logo, report_logo_kind from firms where firm_id = $1",
    )
    .bind(firm_id)
    .fetch_optional(db.pool())
    .await?;
    let (name, accent, logo, kind) = row.ok_or(Error::NotFound)?;
    let logo_ref = match (&logo, kind.as_deref().and_then(super::LogoKind::parse)) {
        (Some(_), Some(kind)) => Some(LogoRef {
            extension: kind.extension().to_owned(),
            media_type: kind.media_type().to_owned(),
        }),
        _ => None,
    };
    Ok(FirmBranding {
        branding: Branding {
            name,
            accent: if is_accent(&accent) {
                accent
            } else {
                DEFAULT_ACCENT.to_owned()
            },
            logo: logo_ref.clone(),
        },
        logo: logo_ref.and(logo),
    })
}

/// The report of an engagement as it stands now.
pub async fn build(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    edition: Edition,
) -> Result<(Report, Option<Vec<u8>>)> {
    let firm_id = member.firm_id;
    let engagement = engagements::get(db, firm_id, engagement_id).await?;
    let firm = firm_branding(db, firm_id).await?;
    let draft = super::store::draft(db, member, engagement_id).await?;

    let respondent = Respondent::Member(member.clone());
    let (bank_info, scorecard) = questionnaire::scores(db, &respondent, engagement_id).await?;
    let (bank, answers, _) =
        questionnaire::answers_with_evidence(db, firm_id, engagement_id).await?;
    let claims = probes::claims::compare(db, firm_id, engagement_id).await?;
    let mut found = findings::list_findings(db, firm_id, engagement_id).await?;
    let start = (!draft.roadmap_start.is_empty()).then(|| draft.roadmap_start.clone());
    let (plan, roadmap) =
        interventions::roadmap(db, firm_id, engagement_id, draft.roadmap_capacity, start).await?;
    let records = decisions::list_decisions(db, firm_id, engagement_id).await?;
    let milestones = questionnaire::list_milestones(db, firm_id, engagement_id).await?;
    let bank_hash: String =
        sqlx::query_scalar("select content_hash from bank_versions where bank_version_id = $1")
            .bind(bank_info.bank_version_id)
            .fetch_one(db.pool())
            .await?;

    let area_rank = |area: Area| Area::ALL.iter().position(|a| *a == area).unwrap_or(0);
    found.sort_by_key(|f| (area_rank(f.area), f.severity, f.number));
    let references: HashMap<i64, String> = found
        .iter()
        .map(|f| (f.finding_id, f.reference()))
        .collect();
    let open = |f: &&Finding| f.status == FindingStatus::Open;

    let contradictions = claims
        .iter()
        .filter(|c| c.verdict == Verdict::Contradicts)
        .count();
    let intervention_refs: HashMap<i64, String> = plan
        .interventions
        .iter()
        .map(|i| (i.intervention_id, i.reference()))
        .collect();
    let interventions: Vec<InterventionLine> = plan
        .interventions
        .iter()
        .enumerate()
        .map(|(index, i)| InterventionLine {
            position: index + 1,
            reference: i.reference(),
            title: i.title.clone(),
            impact: i.impact,
            expected_effect: i.expected_effect.clone(),
            effort_weeks: i.effort_weeks,
            confidence: i.confidence.label().to_owned(),
            priority: (i.priority * 100.0).round() / 100.0,
            rationale: i.rationale.clone(),
            depends_on: lookup(&intervention_refs, &i.depends_on),
            fixes: lookup(&references, &i.finding_ids),
        })
        .collect();

    let report = Report {
        cover: Cover {
            client_name: engagement.client_name.clone(),
            system_name: engagement.system_name.clone(),
            start_date: engagement.start_date.clone(),
            due_date: engagement.due_date.clone(),
            consultant: edition.consultant,
            firm: firm.branding.clone(),
            version_label: edition.version_label,
            date: edition.date,
        },
        summary: Summary {
            text: draft.summary.clone(),
            overall_score: scorecard.overall,
            red_flag_count: scorecard.red_flags.len(),
            contradiction_count: contradictions,
            open_finding_count: found.iter().filter(open).count(),
            top_interventions: interventions
                .iter()
                .take(3)
                .map(|i| format!("{} {}", i.reference, i.title))
                .collect(),
            total_effort_weeks: interventions.iter().map(|i| i.effort_weeks).sum(),
        },
        areas: scorecard
            .areas
            .iter()
            .map(|a| AreaSection {
                key: a.area.as_str().to_owned(),
                title: a.title.clone(),
                score: a.score,
                risk: a.risk.label().to_owned(),
                answered: a.answered,
                questions: a.questions,
                red_flags: a.red_flags.iter().map(|r| r.prompt.clone()).collect(),
                open_findings: found
                    .iter()
                    .filter(open)
                    .filter(|f| f.area == a.area)
                    .count(),
            })
            .collect(),
        probes_ran: !claims.is_empty(),
        claims: claim_lines(&bank, claims),
        findings: found.iter().map(finding_line).collect(),
        interventions,
        roadmap: Roadmap {
            capacity: roadmap.capacity,
            start: roadmap.start,
            end: roadmap.end,
            total_weeks: roadmap.total_weeks,
            entries: roadmap
                .entries
                .into_iter()
                .map(|e| RoadmapLine {
                    reference: e.reference,
                    title: e.title,
                    engineer: e.engineer,
                    start_week: e.start_week,
                    end_week: e.end_week,
                    start_date: e.start_date,
                    end_date: e.end_date,
                })
                .collect(),
        },
        decisions: records.iter().map(decision_line).collect(),
        answers: answer_groups(&bank, &answers),
        // Milestones come newest first: compare the oldest against the newest.
        comparison: match (milestones.last(), milestones.first()) {
            (Some(oldest), Some(newest)) if oldest.milestone_id != newest.milestone_id => {
                let compared = questionnaire::compare(&bank, oldest.clone(), newest.clone());
                Some(comparison(compared))
            }
            _ => None,
        },
        method: Method {
            bank_name: bank_info.name.clone(),
            bank_version: bank_info.label(),
            bank_hash: bank_hash.chars().take(12).collect(),
        },
    };
    Ok((report, firm.logo))
}

fn lookup(references: &HashMap<i64, String>, ids: &[i64]) -> Vec<String> {
    ids.iter()
        .filter_map(|id| references.get(id).cloned())
        .collect()
}

fn area_title(bank: &Bank, area: Area) -> String {
    bank.area(area)
        .map(|a| a.title.clone())
        .unwrap_or_else(|| area.label().to_owned())
}

/// Contradictions first, then answers better than claimed; confirmations stay out of the report
/// (the questionnaire appendix already shows the answers).
fn claim_lines(bank: &Bank, claims: Vec<ClaimComparison>) -> Vec<ClaimLine> {
    let rank = |v: Verdict| match v {
        Verdict::Contradicts => 0,
        Verdict::BetterThanClaimed => 1,
        _ => 2,
    };
    let mut shown: Vec<ClaimComparison> =
        claims.into_iter().filter(|c| rank(c.verdict) < 2).collect();
    shown.sort_by_key(|c| rank(c.verdict));
    shown
        .into_iter()
        .map(|c| ClaimLine {
            area: area_title(bank, c.area),
            prompt: c.prompt,
            claimed: c
                .claimed
                .map(|choice| choice.label().to_owned())
                .unwrap_or_else(|| "Not answered".to_owned()),
            observed: c.observed.as_str().to_owned(),
            verdict: c.verdict.label().to_owned(),
            checks: c
                .checks
                .iter()
                .map(|check| {
                    format!(
                        "{} ({}): {}",
                        check.id,
                        check.status.as_str(),
                        check.summary
                    )
                })
                .collect(),
        })
        .collect()
}

fn finding_line(f: &Finding) -> FindingLine {
    FindingLine {
        reference: f.reference(),
        area: f.area.label().to_owned(),
        severity: f.severity.label().to_owned(),
        title: f.title.clone(),
        description: f.description.clone(),
        confidence: f.confidence.label().to_owned(),
        status: f.status.label().to_owned(),
        evidence: f
            .evidence
            .iter()
            .map(|e| {
                let kind = match e.kind {
                    findings::EvidenceKind::Answer => "Answer",
                    findings::EvidenceKind::File => "File",
                    findings::EvidenceKind::Probe => "Probe",
                    findings::EvidenceKind::Link => "Link",
                };
                if e.label.is_empty() {
                    format!("{kind}: {}", e.target)
                } else {
                    format!("{kind}: {}", e.label)
                }
            })
            .collect(),
    }
}

fn decision_line(d: &Decision) -> DecisionLine {
    let status = match &d.superseded_by {
        Some(by) => format!("{} by {}", d.status.label(), by.reference()),
        None => d.status.label().to_owned(),
    };
    DecisionLine {
        reference: d.reference(),
        title: d.title.clone(),
        status,
        decided_on: d.decided_on.clone(),
        deciders: d.deciders.clone(),
        context: d.context.clone(),
        options: d.options.clone(),
        decision: d.decision.clone(),
        consequences: d.consequences.clone(),
        expires_on: d.expires_on.clone(),
    }
}

fn answer_groups(bank: &Bank, answers: &[questionnaire::Answer]) -> Vec<AnswerGroup> {
    let by_question: HashMap<&str, &questionnaire::Answer> = answers
        .iter()
        .map(|a| (a.question_id.as_str(), a))
        .collect();
    bank.areas
        .iter()
        .map(|area| AnswerGroup {
            area: area.title.clone(),
            answers: area
                .questions
                .iter()
                .map(|q| {
                    let answer = by_question.get(q.id.as_str());
                    AnswerLine {
                        question_id: q.id.clone(),
                        prompt: q.prompt.clone(),
                        choice: answer
                            .and_then(|a| a.choice)
                            .map(|c| c.label().to_owned())
                            .unwrap_or_else(|| "Not answered".to_owned()),
                        notes: answer.map(|a| a.notes.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect()
}

fn comparison(compared: questionnaire::MilestoneComparison) -> Comparison {
    let label = |c: Option<questionnaire::Choice>| {
        c.map(|c| c.label().to_owned())
            .unwrap_or_else(|| "Not answered".to_owned())
    };
    Comparison {
        before: compared.before.name.clone(),
        after: compared.after.name.clone(),
        areas: compared
            .areas
            .iter()
            .map(|(area, before, after)| ComparisonArea {
                area: area.label().to_owned(),
                before: *before,
                after: *after,
            })
            .collect(),
        changes: compared
            .changes
            .iter()
            .map(|c| ComparisonChange {
                area: c.area.label().to_owned(),
                prompt: c.prompt.clone(),
                before: label(c.before),
                after: label(c.after),
                trend: match c.trend {
                    questionnaire::Trend::Better => "better",
                    questionnaire::Trend::Worse => "worse",
                    questionnaire::Trend::Changed => "changed",
                }
                .to_owned(),
            })
            .collect(),
    }
}
