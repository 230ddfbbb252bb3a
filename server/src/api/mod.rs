//! The REST API, `/api/v1`: bearer tokens, JSON in snake_case, `{"data", "meta"}` lists, and
//! one error body `{"error": {"code", "message", "field", "request_id"}}`.
mod decisions;
mod engagements;
mod error;
mod extract;
mod findings;
mod interventions;
mod paging;
pub mod probes;
mod questionnaire;
mod reports;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use app::state::AppState;
pub use error::{request_id_of, ApiError};
pub use extract::{ApiJson, Caller};

#[derive(OpenApi)]
#[openapi(
    info(title = "Plumbline API", version = "1", description = "Backend-architecture audits: engagements, and later questionnaires, probes, findings and reports."),
    paths(
        engagements::list_engagements,
        engagements::create_engagement,
        engagements::get_engagement,
        engagements::update_engagement,
        engagements::archive_engagement,
        questionnaire::get_questionnaire,
        questionnaire::save_answer,
        questionnaire::get_scores,
        findings::list_findings,
        findings::create_finding,
        findings::get_finding,
        findings::update_finding,
        findings::delete_finding,
        findings::suggest_findings,
        interventions::list_interventions,
        interventions::create_intervention,
        interventions::get_intervention,
        interventions::update_intervention,
        interventions::delete_intervention,
        interventions::suggest_interventions,
        interventions::pin_order,
        interventions::clear_pinned_order,
        decisions::list_decisions,
        decisions::create_decision,
        decisions::get_decision,
        decisions::update_decision,
        decisions::export_decisions,
        decisions::import_decisions,
        probes::get_targets,
        probes::save_targets,
        probes::list_uploads,
        probes::upload,
        probes::start_run,
        probes::list_runs,
        probes::get_run,
        probes::cancel_run,
        probes::push_results,
        probes::claims,
        reports::draft_file,
        reports::get_draft,
        reports::save_draft,
        reports::list_versions,
        reports::issue_version,
        reports::get_version,
        reports::verify_version,
        reports::share_version,
    ),
    components(schemas(
        audit::engagements::Engagement,
        audit::engagements::EngagementSummary,
        audit::engagements::EngagementInput,
        audit::engagements::Founder,
        audit::engagements::Stage,
        audit::engagements::Status,
        engagements::EngagementList,
        engagements::EngagementBody,
        engagements::PageMeta,
        audit::questionnaire::Area,
        audit::questionnaire::Choice,
        audit::questionnaire::QuestionnaireStatus,
        audit::questionnaire::AreaScore,
        audit::questionnaire::Risk,
        audit::questionnaire::RedFlag,
        audit::questionnaire::ScoreLine,
        questionnaire::BankVersion,
        questionnaire::AnswerView,
        questionnaire::QuestionView,
        questionnaire::AreaView,
        questionnaire::QuestionnaireView,
        questionnaire::QuestionnaireBody,
        questionnaire::AnswerRequest,
        questionnaire::AnswerBody,
        questionnaire::StaleAnswerBody,
        questionnaire::ScoresView,
        questionnaire::ScoresBody,
        audit::findings::Finding,
        audit::findings::FindingInput,
        audit::findings::Severity,
        audit::findings::Confidence,
        audit::findings::FindingStatus,
        audit::findings::FindingOrigin,
        audit::findings::EvidenceLink,
        audit::findings::EvidenceKind,
        audit::findings::SuggestReport,
        findings::CountMeta,
        findings::FindingList,
        findings::FindingBody,
        findings::StaleFindingBody,
        findings::SuggestBody,
        audit::interventions::Intervention,
        audit::interventions::InterventionInput,
        audit::interventions::RoadmapView,
        audit::interventions::RoadmapEntry,
        audit::interventions::InterventionSuggestReport,
        interventions::PlannedIntervention,
        interventions::Departure,
        interventions::PlanMeta,
        interventions::InterventionList,
        interventions::InterventionBody,
        interventions::StaleInterventionBody,
        interventions::InterventionSuggestBody,
        interventions::PinOrderRequest,
        audit::decisions::Decision,
        audit::decisions::DecisionInput,
        audit::decisions::DecisionStatus,
        audit::decisions::DecisionRef,
        decisions::DecisionList,
        decisions::DecisionBody,
        decisions::StaleDecisionBody,
        decisions::ZipArchive,
        decisions::SkippedFileView,
        decisions::DecisionImportView,
        decisions::DecisionImportBody,
        audit::probes::ProbeKind,
        audit::probes::CheckStatus,
        audit::probes::CheckArea,
        audit::probes::CheckResult,
        audit::probes::StoredCheck,
        audit::probes::RunStatus,
        audit::probes::ProbeRun,
        audit::probes::ProbeRunDetail,
        audit::probes::ProbeTargets,
        audit::probes::ProbeTargetsInput,
        audit::probes::Verdict,
        audit::probes::ClaimComparison,
        audit::probes::ObservedCheck,
        audit::probes::ProbeUpload,
        audit::probes::store::PushedResults,
        probes::ProbeTargetsBody,
        probes::StaleTargetsBody,
        probes::UploadBody,
        probes::UploadList,
        probes::StartRunRequest,
        probes::RunBody,
        probes::RunDetailBody,
        paging::PageMeta,
        probes::RunList,
        probes::ClaimList,
        probes::ClaimMeta,
        audit::reports::ReportDraft,
        audit::reports::ReportDraftInput,
        audit::reports::ReportVersion,
        audit::reports::VersionStatus,
        audit::reports::Verification,
        audit::reports::FileCheck,
        reports::ReportDraftBody,
        reports::StaleDraftBody,
        reports::ReportVersionList,
        reports::ReportVersionBody,
        reports::VerificationBody,
        reports::ShareRequest,
        error::ErrorBody,
        error::ErrorDetail,
    )),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi_document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_document))
        .merge(engagements::router())
        .merge(questionnaire::router())
        .merge(findings::router())
        .merge(interventions::router())
        .merge(decisions::router())
        .merge(probes::router())
        .merge(reports::router())
}
