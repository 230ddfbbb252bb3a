//! `/api/v1/engagements/{engagement_id}/questionnaire` and `/scores`: the questions with their
//! answers, saving one answer with its version, and the scorecard. The caller answers as a
//! member of the engagement's firm; another firm's engagement reads as not found.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ErrorBody, ErrorDetail};
use super::{ApiError, ApiJson, Caller};
use app::state::AppState;
use audit::questionnaire::{
    self as domain, Answer, AnswerInput, Area, AreaBank, AreaScore, BankVersionInfo, Choice,
    Question, QuestionnaireStatus, RedFlag, Respondent, SaveOutcome,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/engagements/{engagement_id}/questionnaire",
            get(get_questionnaire),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/questionnaire/answers/{question_id}",
            put(save_answer),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/scores",
            get(get_scores),
        )
}

/// Which question bank, and which version of it, the engagement answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct BankVersion {
    pub bank_version_id: i64,
    /// "Built-in" or the firm template's name.
    pub name: String,
    pub version: i64,
    pub builtin: bool,
}

impl From<BankVersionInfo> for BankVersion {
    fn from(info: BankVersionInfo) -> Self {
        Self {
            bank_version_id: info.bank_version_id,
            name: info.name,
            version: info.version,
            builtin: info.builtin,
        }
    }
}

/// One stored answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    pub question_id: String,
    /// Null when the answer holds notes or links but no choice yet.
    pub choice: Option<Choice>,
    /// Markdown as typed.
    pub notes: String,
    pub links: Vec<String>,
    /// Goes up by one with every write; send it back as `version` to replace this answer.
    pub version: i64,
    /// Who wrote this version: a founder's or a member's name.
    pub answered_by: String,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
}

impl From<Answer> for AnswerView {
    fn from(answer: Answer) -> Self {
        Self {
            question_id: answer.question_id,
            choice: answer.choice,
            notes: answer.notes,
            links: answer.links,
            version: answer.version,
            answered_by: answer.answered_by,
            updated_at: answer.updated_at,
        }
    }
}

/// One question of the bank with its answer, if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    /// `<area>.<slug>`, stable across bank versions.
    pub id: String,
    pub prompt: String,
    /// Why it matters and what evidence helps; Markdown.
    pub help: String,
    /// 1 to 5: how much the question counts in its area's score.
    pub weight: u32,
    /// A "no" to this question is a red flag.
    pub red_flag: bool,
    /// The choices offered, in display order.
    pub choices: Vec<Choice>,
    /// What a founder can attach or link to support the answer.
    pub evidence: Vec<String>,
    /// Ids of probe checks that can confirm or contradict the answer.
    pub probe_checks: Vec<String>,
    /// Ids of interventions that fix a weak answer.
    pub interventions: Vec<String>,
    /// Null until someone answers.
    pub answer: Option<AnswerView>,
}

/// One area of the questionnaire, in the order the questionnaire walks them.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaView {
    pub area: Area,
    pub title: String,
    /// The area's guiding question.
    pub question: String,
    /// The area's red-flag sentence.
    pub red_flag: String,
    pub questions: Vec<QuestionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionnaireView {
    pub engagement_id: i64,
    pub status: QuestionnaireStatus,
    /// Milliseconds since the Unix epoch; null unless submitted for review.
    pub submitted_at: Option<i64>,
    pub bank_version: BankVersion,
    pub areas: Vec<AreaView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionnaireBody {
    pub data: QuestionnaireView,
}

/// An answer to save. `version` is the version it replaces: 0 for a first answer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerRequest {
    /// `yes`, `partly`, `no`, `dont_know` or `not_applicable`; empty or null for no choice yet.
    #[serde(default)]
    pub choice: Option<String>,
    /// Markdown.
    #[serde(default)]
    pub notes: String,
    /// Web addresses starting with `http://` or `https://`, at most 10.
    #[serde(default)]
    pub links: Vec<String>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerBody {
    pub data: AnswerView,
}

/// 409 for a stale write: the standard error body plus the answer that is stored now.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleAnswerBody {
    pub error: ErrorDetail,
    pub current: AnswerView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoresView {
    pub bank_version: BankVersion,
    /// 0 to 100; null when no question applies anywhere.
    pub overall: Option<u32>,
    pub answered: usize,
    pub questions: usize,
    pub areas: Vec<AreaScore>,
    /// Every red flag, in bank order.
    pub red_flags: Vec<RedFlag>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoresBody {
    pub data: ScoresView,
}

fn not_found(request_id: &Option<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such resource.")
        .with_request_id(request_id.clone())
}

fn engagement_id(
    path: Result<Path<i64>, PathRejection>,
    request_id: &Option<String>,
) -> Result<i64, ApiError> {
    // A non-numeric id names nothing: 404 like any unknown engagement.
    path.map(|Path(id)| id).map_err(|_| not_found(request_id))
}

fn question_view(question: &Question, answer: Option<&Answer>) -> QuestionView {
    QuestionView {
        id: question.id.clone(),
        prompt: question.prompt.clone(),
        help: question.help.clone(),
        weight: question.weight,
        red_flag: question.red_flag,
        choices: question.choices(),
        evidence: question.evidence.clone(),
        probe_checks: question.probe_checks.clone(),
        interventions: question.interventions.clone(),
        answer: answer.cloned().map(AnswerView::from),
    }
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/questionnaire", tag = "questionnaire",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = QuestionnaireBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_questionnaire(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<QuestionnaireBody>, ApiError> {
    let id = engagement_id(path, &caller.request_id)?;
    let who = Respondent::Member(caller.member.clone());
    let questionnaire = domain::questionnaire(&state.db, &who, id)
        .await
        .map_err(|e| caller.fail(e))?;
    let areas = questionnaire
        .bank
        .areas
        .iter()
        .map(|area: &AreaBank| AreaView {
            area: area.area,
            title: area.title.clone(),
            question: area.question.clone(),
            red_flag: area.red_flag.clone(),
            questions: area
                .questions
                .iter()
                .map(|q| question_view(q, questionnaire.answer(&q.id)))
                .collect(),
        })
        .collect();
    Ok(Json(QuestionnaireBody {
        data: QuestionnaireView {
            engagement_id: questionnaire.engagement_id,
            status: questionnaire.status,
            submitted_at: questionnaire.submitted_at,
            bank_version: questionnaire.bank_version.into(),
            areas,
        },
    }))
}

#[utoipa::path(put, path = "/api/v1/engagements/{engagement_id}/questionnaire/answers/{question_id}",
    tag = "questionnaire", request_body = AnswerRequest,
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("question_id" = String, Path, description = "Question id, e.g. `observability.latency-percentiles`")),
    responses((status = 200, description = "Saved", body = AnswerBody),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "Someone saved a newer version first; nothing was written", body = StaleAnswerBody),
              (status = 422, body = ErrorBody)))]
pub async fn save_answer(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, String)>, PathRejection>,
    ApiJson(request): ApiJson<AnswerRequest>,
) -> Result<Response, ApiError> {
    let Path((id, question_id)) = path.map_err(|_| not_found(&caller.request_id))?;
    // One element, one link: a line break would smuggle in a second one.
    if request.links.iter().any(|l| l.contains(['\n', '\r'])) {
        return Err(caller.fail(audit::Error::invalid(
            "links",
            "A link cannot contain a line break; send each link as its own element.",
        )));
    }
    let input = AnswerInput {
        question_id,
        choice: request.choice.unwrap_or_default(),
        notes: request.notes,
        links: request.links.join("\n"),
        version: request.version,
    };
    let who = Respondent::Member(caller.member.clone());
    let outcome = domain::save_answer(&state.db, &who, id, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(match outcome {
        SaveOutcome::Saved { answer } => Json(AnswerBody {
            data: answer.into(),
        })
        .into_response(),
        SaveOutcome::Stale { current } => {
            let message = format!(
                "{} saved a newer answer (version {}) first; nothing was written. Compare it \
                 with yours and send again with version {}.",
                current.answered_by, current.version, current.version
            );
            let body = StaleAnswerBody {
                error: ErrorDetail {
                    code: "stale_version".to_owned(),
                    message,
                    field: Some("version".to_owned()),
                    request_id: caller.request_id.clone(),
                },
                current: current.into(),
            };
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
    })
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/scores", tag = "questionnaire",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = ScoresBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_scores(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<ScoresBody>, ApiError> {
    let id = engagement_id(path, &caller.request_id)?;
    let who = Respondent::Member(caller.member.clone());
    let (bank_version, card) = domain::scores(&state.db, &who, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(ScoresBody {
        data: ScoresView {
            bank_version: bank_version.into(),
            overall: card.overall,
            answered: card.answered,
            questions: card.questions,
            areas: card.areas,
            red_flags: card.red_flags,
        },
    }))
}
