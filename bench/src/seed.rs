//! Seeds a large firm deterministically (the same data for the same scale on every run).
//!
//! Everything is written through the domain's own store functions, so the rows are exactly what
//! the app makes (activity log, outbox, numbering included). Engagements are created one after
//! another, so their ids follow their index; the complete ones are then filled by a few
//! workers at once, each engagement by one worker in a fixed order, so each engagement's
//! content does not depend on scheduling. Timestamps are the clock's.
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use audit::accounts::{self, Member, SignUpForm};
use audit::activity::Actor;
use audit::db::{Backend, Db};
use audit::decisions::{self, DecisionInput};
use audit::engagements::{self, EngagementInput, Founder};
use audit::fields::{EmailAddress, Password};
use audit::findings::{self, FindingInput};
use audit::interventions::{self, InterventionInput};
use audit::probes::store::{self as probe_store, PushedResults};
use audit::probes::{CheckArea, CheckResult, CheckSpec, CheckStatus, ProbeKind};
use audit::questionnaire::{
    self, AnswerInput, Area, Choice, FounderInvitationForm, Question, Respondent, SaveOutcome,
};
use audit::reports::{self, ReportDraftInput};
use serde::{Deserialize, Serialize};

mod text;
use text::{mix, pick, pick_distinct};

/// The firm owner the load steps log in as.
pub const MEMBER_EMAIL: &str = "bench@plumbline.test";
pub const MEMBER_PASSWORD: &str = "bench-password-not-secret";
/// A second member (consultant), so the firm is not a one-person firm.
pub const CONSULTANT_EMAIL: &str = "consultant@plumbline.test";
/// The base of the links in the seeded e-mails; the harness only takes the tokens from them.
pub const BASE_URL: &str = "http://127.0.0.1:3000";

pub const FINDINGS_PER_ENGAGEMENT: usize = 60;
pub const INTERVENTIONS_PER_ENGAGEMENT: usize = 25;
pub const DECISIONS_PER_ENGAGEMENT: usize = 30;

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// A database URL (sqlite://… or postgres://…); migrated before seeding.
    #[arg(long)]
    pub database_url: String,
    #[arg(long, default_value_t = 2000)]
    pub engagements: usize,
    /// How many of them are complete: every question answered, findings, interventions, decisions, probe runs.
    #[arg(long, default_value_t = 200)]
    pub complete: usize,
    /// Where to write the manifest (JSON) the load steps read.
    #[arg(long)]
    pub manifest: PathBuf,
    /// Complete engagements filled at once (default: 2 on SQLite, 8 on PostgreSQL).
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Also render the large engagement's draft report to this PDF file.
    #[arg(long)]
    pub report_pdf: Option<PathBuf>,
}

/// How much to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    pub engagements: usize,
    /// How many of the engagements are complete (at most `engagements`, at least 1).
    pub complete: usize,
    /// Complete engagements filled at once; `None` picks by backend.
    pub concurrency: Option<usize>,
}

impl Scale {
    pub fn new(engagements: usize, complete: usize) -> Scale {
        Scale {
            engagements,
            complete,
            concurrency: None,
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.engagements == 0 || self.complete == 0 {
            return Err("seed: --engagements and --complete must be at least 1".into());
        }
        if self.complete > self.engagements {
            return Err(format!(
                "seed: --complete ({}) cannot exceed --engagements ({})",
                self.complete, self.engagements
            ));
        }
        Ok(())
    }

    /// Whether engagement `index` is complete: complete ones are spread evenly over the list,
    /// the first (index 0) being the large engagement.
    fn is_complete(&self, index: usize) -> bool {
        // index * complete crosses a multiple of `engagements` exactly `complete` times.
        (index * self.complete) % self.engagements < self.complete
    }
}

/// What the seed made, for the load steps: who to log in as and what to touch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// "sqlite" or "postgres".
    pub backend: String,
    pub member_email: String,
    pub member_password: String,
    pub consultant_email: String,
    /// An API token of the member (`Authorization: Bearer …`).
    pub api_token: String,
    pub firm_id: i64,
    /// The first complete engagement; its report comes to about 50 pages.
    pub large_engagement_id: i64,
    pub complete_engagement_ids: Vec<i64>,
    /// One founder invitation per complete engagement, in the order of `complete_engagement_ids`.
    pub founders: Vec<FounderLogin>,
    pub counts: SeedCounts,
    /// Wall-clock seconds of the whole seed, and of its phases.
    pub seconds: f64,
    pub phase_seconds: PhaseSeconds,
}

/// A founder the harness logs in (POST `/fn/start_questionnaire` with `token`; the link works
/// once) and whose answer it then saves over and over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FounderLogin {
    pub engagement_id: i64,
    /// The invitation link's token (`fnd_…`), unused.
    pub token: String,
    /// Unique across the firm (the server names the saver "<name> (founder)").
    pub founder_name: String,
    /// An answered question the founder can update next …
    pub question_id: String,
    /// … naming this version (the stored one).
    pub version: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedCounts {
    pub engagements: usize,
    pub complete_engagements: usize,
    pub answers: usize,
    pub findings: usize,
    pub interventions: usize,
    pub intervention_dependencies: usize,
    pub decisions: usize,
    pub probe_runs: usize,
    pub probe_checks: usize,
    pub founder_invitations: usize,
    pub milestones: usize,
}

impl SeedCounts {
    fn add(&mut self, other: &SeedCounts) {
        self.engagements += other.engagements;
        self.complete_engagements += other.complete_engagements;
        self.answers += other.answers;
        self.findings += other.findings;
        self.interventions += other.interventions;
        self.intervention_dependencies += other.intervention_dependencies;
        self.decisions += other.decisions;
        self.probe_runs += other.probe_runs;
        self.probe_checks += other.probe_checks;
        self.founder_invitations += other.founder_invitations;
        self.milestones += other.milestones;
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseSeconds {
    pub accounts: f64,
    pub engagements: f64,
    pub complete: f64,
    pub tokens: f64,
}

/// `plumbline-bench seed`: connect, migrate, seed, write the manifest.
pub async fn main(args: SeedArgs) -> Result<(), String> {
    let scale = Scale {
        engagements: args.engagements,
        complete: args.complete,
        concurrency: args.concurrency,
    };
    // Refuse a bad scale before a database file is created for it.
    scale.check()?;
    if let Some(parent) = args.manifest.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("seed: cannot create {}: {e}", parent.display()))?;
        }
    }
    let shown = redacted(&args.database_url);
    let db = Db::connect(&seed_url(&args.database_url))
        .await
        .map_err(|e| format!("seed: cannot open {shown}: {e}"))?;
    db.migrate()
        .await
        .map_err(|e| format!("seed: cannot migrate {shown}: {e}"))?;
    let manifest = seed(&db, scale)
        .await
        .map_err(|e| format!("{e} (database {shown})"))?;
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| format!("seed: cannot write the manifest: {e}"))?;
    std::fs::write(&args.manifest, json)
        .map_err(|e| format!("seed: cannot write {}: {e}", args.manifest.display()))?;
    println!(
        "seed: {} engagements ({} complete) in {:.1} s; manifest {}",
        manifest.counts.engagements,
        manifest.counts.complete_engagements,
        manifest.seconds,
        args.manifest.display()
    );
    if let Some(path) = &args.report_pdf {
        let started = Instant::now();
        let pdf = render_large_report(&db, &manifest).await?;
        std::fs::write(path, &pdf)
            .map_err(|e| format!("seed: cannot write {}: {e}", path.display()))?;
        println!(
            "seed: large engagement's draft report, {} bytes, rendered in {:.1} s: {}",
            pdf.len(),
            started.elapsed().as_secs_f64(),
            path.display()
        );
    }
    db.close().await;
    Ok(())
}

/// The URL with its password, if any, hidden: `postgres://user:***@host/db`.
fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The URL the seed connects with. On PostgreSQL its own sessions commit without waiting for
/// the WAL flush (`synchronous_commit = off`): the rows are the same, a crash could only lose
/// the last moments of a seed that would be rerun anyway, and it saves about a quarter of the
/// time. The server later connects with the URL as given.
fn seed_url(url: &str) -> String {
    if Backend::from_url(url) != Some(Backend::Postgres) || url.contains("options=") {
        return url.to_owned();
    }
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}options=-c%20synchronous_commit%3Doff")
}

/// The large engagement's draft report as a PDF, as the member would download it.
pub async fn render_large_report(db: &Db, manifest: &Manifest) -> Result<Vec<u8>, String> {
    let member = member_by_email(db, &manifest.member_email).await?;
    reports::render_draft(
        db,
        &member,
        manifest.large_engagement_id,
        reports::ReportFormat::Pdf,
    )
    .await
    .map_err(|e| format!("seed: rendering the large engagement's report: {e}"))
}

async fn member_by_email(db: &Db, email: &str) -> Result<Member, String> {
    let parsed = EmailAddress::parse("email", email).map_err(|e| e.message)?;
    accounts::member_by_email(db, &parsed)
        .await
        .map_err(|e| format!("seed: looking up {email}: {e}"))?
        .ok_or_else(|| format!("seed: no member {email}"))
}

/// Seeds one firm into a migrated database that has no firm yet.
pub async fn seed(db: &Db, scale: Scale) -> Result<Manifest, String> {
    scale.check()?;
    let started = Instant::now();
    let firms: i64 = sqlx::query_scalar("select count(*) from firms")
        .fetch_one(db.pool())
        .await
        .map_err(|e| {
            format!("seed: cannot read the firms table (is the database migrated?): {e}")
        })?;
    if firms > 0 {
        return Err(format!(
            "seed: the database already has {firms} firm(s); seed only into an empty database \
             (a new SQLite file or a fresh PostgreSQL database) so every run makes the same data"
        ));
    }
    let concurrency = scale
        .concurrency
        .unwrap_or(match db.backend() {
            Backend::Sqlite => 2,
            Backend::Postgres => 8,
        })
        .max(1);

    // Accounts.
    let phase = Instant::now();
    let (owner, consultant, api_token) = accounts_of_firm(db).await?;
    let accounts_seconds = phase.elapsed().as_secs_f64();

    // Engagements, one after another so ids follow the index.
    let phase = Instant::now();
    let mut complete: Vec<(usize, i64)> = Vec::with_capacity(scale.complete);
    for index in 0..scale.engagements {
        let is_complete = scale.is_complete(index);
        let fields = engagement_input(index, is_complete).parse().map_err(|e| {
            format!("seed: engagement {index} does not pass the form's rules: {e:?}")
        })?;
        // Complete engagements belong to the owner (the member the harness logs in as).
        let creator = if is_complete || index % 3 != 1 {
            &owner
        } else {
            &consultant
        };
        let engagement = engagements::create(db, creator, &fields)
            .await
            .map_err(|e| format!("seed: creating engagement {index}: {e}"))?;
        if is_complete {
            complete.push((index, engagement.engagement_id));
        }
        if (index + 1) % 100 == 0 || index + 1 == scale.engagements {
            println!(
                "seed: {}/{} engagements created ({:.1} s)",
                index + 1,
                scale.engagements,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let engagements_seconds = phase.elapsed().as_secs_f64();

    // Complete engagements, a few at a time.
    let phase = Instant::now();
    let filled = fill_all(db, &owner, &consultant, &complete, concurrency, started).await?;
    let complete_seconds = phase.elapsed().as_secs_f64();

    // Founder tokens, from the invitation e-mails in the outbox.
    let phase = Instant::now();
    let wanted: HashSet<String> = filled.iter().map(|f| f.founder_email.clone()).collect();
    let tokens = invitation_tokens(db, owner.firm_id, &wanted).await?;
    let tokens_seconds = phase.elapsed().as_secs_f64();

    let mut counts = SeedCounts {
        engagements: scale.engagements,
        ..SeedCounts::default()
    };
    let mut founders = Vec::with_capacity(filled.len());
    for f in &filled {
        counts.add(&f.counts);
        let token = tokens.get(&f.founder_email).cloned().ok_or_else(|| {
            format!(
                "seed: no invitation e-mail to {} in the outbox",
                f.founder_email
            )
        })?;
        founders.push(FounderLogin {
            engagement_id: f.engagement_id,
            token,
            founder_name: f.founder_name.clone(),
            question_id: f.question_id.clone(),
            version: f.version,
        });
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "seed: done in {seconds:.1} s ({} answers, {} findings, {} interventions, {} decisions, {} probe runs)",
        counts.answers, counts.findings, counts.interventions, counts.decisions, counts.probe_runs
    );
    Ok(Manifest {
        backend: db.backend().name().to_owned(),
        member_email: MEMBER_EMAIL.to_owned(),
        member_password: MEMBER_PASSWORD.to_owned(),
        consultant_email: CONSULTANT_EMAIL.to_owned(),
        api_token,
        firm_id: owner.firm_id,
        large_engagement_id: complete.first().map(|c| c.1).unwrap_or_default(),
        complete_engagement_ids: filled.iter().map(|f| f.engagement_id).collect(),
        founders,
        counts,
        seconds,
        phase_seconds: PhaseSeconds {
            accounts: accounts_seconds,
            engagements: engagements_seconds,
            complete: complete_seconds,
            tokens: tokens_seconds,
        },
    })
}

/// The firm, its owner and consultant, and the owner's API token.
async fn accounts_of_firm(db: &Db) -> Result<(Member, Member, String), String> {
    let sign_up = SignUpForm {
        firm_name: "Plumb & Partners (bench)".into(),
        display_name: "Bea Bench".into(),
        email: MEMBER_EMAIL.into(),
        password: MEMBER_PASSWORD.into(),
    }
    .parse()
    .map_err(|e| format!("seed: the sign-up form is refused: {e:?}"))?;
    let owner = accounts::sign_up(db, &sign_up)
        .await
        .map_err(|e| format!("seed: signing up {MEMBER_EMAIL}: {e}"))?;
    let (api_token, _) = accounts::create_api_token(db, &owner, "bench")
        .await
        .map_err(|e| format!("seed: creating the API token: {e}"))?;

    let email = EmailAddress::parse("email", CONSULTANT_EMAIL).map_err(|e| e.message)?;
    accounts::invite_member(db, &owner, &email, BASE_URL)
        .await
        .map_err(|e| format!("seed: inviting {CONSULTANT_EMAIL}: {e}"))?;
    let mail = audit::mail::list_outbox(db, owner.firm_id, None, 10)
        .await
        .map_err(|e| format!("seed: reading the outbox: {e}"))?;
    let token = mail
        .iter()
        .find(|m| m.to_address == CONSULTANT_EMAIL)
        .and_then(|m| token_after(&m.body_text, "/join/"))
        .ok_or("seed: the member invitation e-mail has no /join/ link")?;
    let password = Password::parse("password", MEMBER_PASSWORD).map_err(|e| e.message)?;
    let consultant = accounts::accept_invitation(db, &token, "Cora Consultant", &password)
        .await
        .map_err(|e| format!("seed: accepting the member invitation: {e}"))?;
    Ok((owner, consultant, api_token))
}

/// The token that follows `marker` in a mail body, up to the next space, line end or `?`.
fn token_after(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let token: String = body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '?')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// Tokens of the founder invitations to `wanted` addresses, read from the firm's outbox.
async fn invitation_tokens(
    db: &Db,
    firm_id: i64,
    wanted: &HashSet<String>,
) -> Result<HashMap<String, String>, String> {
    let mut tokens = HashMap::new();
    let mut before = None;
    loop {
        let page = audit::mail::list_outbox(db, firm_id, before, 200)
            .await
            .map_err(|e| format!("seed: reading the outbox: {e}"))?;
        let Some(last) = page.last() else { break };
        before = Some(last.outbox_id);
        for mail in &page {
            if wanted.contains(&mail.to_address) && !tokens.contains_key(&mail.to_address) {
                if let Some(token) = token_after(&mail.body_text, "/invite/") {
                    tokens.insert(mail.to_address.clone(), token);
                }
            }
        }
        if tokens.len() == wanted.len() {
            break;
        }
    }
    Ok(tokens)
}

// ---------------------------------------------------------------------------------------------
// Engagements

fn founder_name(index: usize) -> String {
    let first = text::FIRST_NAMES[index % 32];
    let last = text::LAST_NAMES[(index / 32 + index) % 32];
    // (index % 32, index / 32 % 32) is unique below 1024; beyond, a number keeps names apart.
    if index < 1024 {
        format!("{first} {last}")
    } else {
        format!("{first} {last} {}", index / 1024 + 1)
    }
}

fn slug(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn client_name(index: usize) -> String {
    format!(
        "{} {}",
        text::CLIENT_PREFIXES[index % 20],
        text::CLIENT_SUFFIXES[(index / 20) % 10]
    )
}

fn founder_email(index: usize) -> String {
    let name = founder_name(index);
    let local = slug(&name).replace('-', ".");
    format!("{local}@{}.example", slug(&client_name(index)))
}

/// A calendar day `days` after 2024-09-02, as YYYY-MM-DD.
fn day(days: i64) -> String {
    let date = time::macros::date!(2024 - 09 - 02) + time::Duration::days(days);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn start_day(index: usize) -> i64 {
    ((index * 13) % 780) as i64
}

fn engagement_input(index: usize, complete: bool) -> EngagementInput {
    let i = index as u64;
    let client = client_name(index);
    let system = text::SYSTEMS[(index * 7) % text::SYSTEMS.len()];
    let mut founders = vec![Founder {
        name: founder_name(index),
        email: founder_email(index),
    }];
    // A second founder on some engagements: the next name along, at the same client.
    if mix(&[i, 1]).is_multiple_of(3) {
        let other = founder_name(index + 512);
        founders.push(Founder {
            email: format!(
                "{}@{}.example",
                slug(&other).replace('-', "."),
                slug(&client)
            ),
            name: other,
        });
    }
    let status = if complete {
        "active"
    } else {
        match index % 20 {
            0..=11 => "active",
            12..=14 => "on_hold",
            15..=17 => "completed",
            _ => "archived",
        }
    };
    let start = start_day(index);
    EngagementInput {
        client_name: Some(client),
        system_name: Some(system.to_owned()),
        description: Some(format!(
            "{} {}",
            pick(&text::SYSTEM_SENTENCES, mix(&[i, 2])),
            pick(&text::ENGAGEMENT_GOALS, mix(&[i, 3]))
        )),
        founders: Some(founders),
        team_size: Some(3 + (mix(&[i, 4]) % 38) as i64),
        stage: Some(
            engagements::Stage::ALL[(mix(&[i, 5]) % 5) as usize]
                .as_str()
                .to_owned(),
        ),
        start_date: Some(day(start)),
        due_date: Some(day(start + 28 + 7 * (index % 7) as i64)),
        status: Some(status.to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// Complete engagements

/// What filling one engagement made.
struct Filled {
    engagement_id: i64,
    founder_name: String,
    founder_email: String,
    question_id: String,
    version: i64,
    counts: SeedCounts,
}

async fn fill_all(
    db: &Db,
    owner: &Member,
    consultant: &Member,
    complete: &[(usize, i64)],
    concurrency: usize,
    started: Instant,
) -> Result<Vec<Filled>, String> {
    let queue: Arc<Mutex<VecDeque<(usize, usize, i64)>>> = Arc::new(Mutex::new(
        complete
            .iter()
            .enumerate()
            .map(|(ordinal, &(index, id))| (ordinal, index, id))
            .collect(),
    ));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let total = complete.len();
    let every = (total / 20).clamp(1, 10);
    let mut workers = Vec::new();
    for _ in 0..concurrency.min(total.max(1)) {
        let (db, owner, consultant) = (db.clone(), owner.clone(), consultant.clone());
        let (queue, done, failed) = (queue.clone(), done.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let mut made = Vec::new();
            loop {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some((ordinal, index, engagement_id)) = next else {
                    break;
                };
                let filled = fill(&db, &owner, &consultant, ordinal, index, engagement_id).await;
                match filled {
                    Ok(f) => made.push((ordinal, f)),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n % every == 0 || n == total {
                    println!(
                        "seed: {n}/{total} complete engagements filled ({:.1} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Ok(made)
        }));
    }
    let mut all = Vec::with_capacity(total);
    let mut first_error = None;
    for worker in workers {
        match worker.await {
            Ok(Ok(made)) => all.extend(made),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(format!("seed: a worker stopped: {e}"));
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    all.sort_by_key(|(ordinal, _)| *ordinal);
    Ok(all.into_iter().map(|(_, f)| f).collect())
}

/// Makes engagement `index` (the `ordinal`-th complete one) complete: answers, findings,
/// interventions, decisions, probe runs and a founder invitation; the first one also gets
/// milestones and a report draft.
async fn fill(
    db: &Db,
    owner: &Member,
    consultant: &Member,
    ordinal: usize,
    index: usize,
    engagement_id: i64,
) -> Result<Filled, String> {
    let large = ordinal == 0;
    let e = index as u64;
    let at = |what: &str| format!("seed: engagement {engagement_id} (index {index}): {what}");
    let mut counts = SeedCounts {
        complete_engagements: 1,
        ..SeedCounts::default()
    };
    let (_, bank) = questionnaire::engagement_bank(db, owner.firm_id, engagement_id)
        .await
        .map_err(|err| format!("{}: {err}", at("reading the question bank")))?;
    let questions: Vec<Question> = bank.questions().cloned().collect();
    let member = Respondent::Member(owner.clone());

    // Answers: every question, as the member.
    let mut versions: HashMap<String, i64> = HashMap::new();
    let mut choices: HashMap<String, Choice> = HashMap::new();
    for (q, question) in questions.iter().enumerate() {
        let choice = answer_choice(question, mix(&[e, q as u64, 10]));
        let input = AnswerInput {
            question_id: question.id.clone(),
            choice: choice.as_str().to_owned(),
            notes: answer_notes(question.area, mix(&[e, q as u64, 11])),
            links: if mix(&[e, q as u64, 12]).is_multiple_of(7) {
                pick(&text::LINKS, mix(&[e, q as u64, 13])).to_owned()
            } else {
                String::new()
            },
            version: 0,
        };
        let version = save(db, &member, engagement_id, &input)
            .await
            .map_err(|err| format!("{}: {err}", at(&format!("answering {}", question.id))))?;
        versions.insert(question.id.clone(), version);
        choices.insert(question.id.clone(), choice);
        counts.answers += 1;
    }
    if large {
        // Two milestones with a change of mind between them, for the report's comparison.
        milestone(db, owner, engagement_id, "Kick-off").await?;
        for (q, question) in questions.iter().enumerate().filter(|(q, _)| q % 5 == 2) {
            let better = match choices.get(&question.id) {
                Some(Choice::No) => Choice::Partly,
                Some(Choice::Partly | Choice::DontKnow) => Choice::Yes,
                _ => continue,
            };
            let input = AnswerInput {
                question_id: question.id.clone(),
                choice: better.as_str().to_owned(),
                notes: format!(
                    "{}\n\nChanged after the week-four review.",
                    answer_notes(question.area, mix(&[e, q as u64, 14]) / 3 * 3)
                ),
                links: String::new(),
                version: versions.get(&question.id).copied().unwrap_or(0),
            };
            let version = save(db, &member, engagement_id, &input)
                .await
                .map_err(|err| format!("{}: {err}", at(&format!("revising {}", question.id))))?;
            versions.insert(question.id.clone(), version);
            choices.insert(question.id.clone(), better);
        }
        milestone(db, owner, engagement_id, "Week 4 review").await?;
        counts.milestones += 2;
    }

    // Findings: twelve per area, the consultant's own words.
    let mut finding_ids: Vec<(Area, i64)> = Vec::with_capacity(FINDINGS_PER_ENGAGEMENT);
    for f in 0..FINDINGS_PER_ENGAGEMENT {
        let area = Area::ALL[f % 5];
        let key = mix(&[e, f as u64, 20]);
        let severity = match key % 100 {
            0..=9 => "critical",
            10..=34 => "high",
            35..=74 => "medium",
            _ => "low",
        };
        let input = FindingInput {
            area: area.as_str().to_owned(),
            severity: severity.to_owned(),
            title: text::finding_titles(area)[f / 5].to_owned(),
            description: finding_description(area, key),
            confidence: ["high", "medium", "low"][(mix(&[key, 1]) % 3) as usize].to_owned(),
            status: match mix(&[key, 2]) % 10 {
                0 => "resolved",
                _ => "open",
            }
            .to_owned(),
            links: if mix(&[key, 3]).is_multiple_of(4) {
                pick(&text::LINKS, mix(&[key, 4])).to_owned()
            } else {
                String::new()
            },
            version: 0,
        };
        let finding = findings::create_finding(db, owner, engagement_id, &input)
            .await
            .map_err(|err| format!("{}: {err}", at(&format!("writing finding {}", f + 1))))?;
        finding_ids.push((area, finding.finding_id));
        counts.findings += 1;
    }

    // Interventions from the bank's catalogue, later ones depending on earlier ones.
    let mut intervention_ids: Vec<i64> = Vec::with_capacity(INTERVENTIONS_PER_ENGAGEMENT);
    let templates = &bank.interventions;
    if templates.is_empty() {
        return Err(at("the question bank has no interventions to copy"));
    }
    // Different catalogue entries (they repeat only if the catalogue is smaller).
    let order =
        text::distinct_indices(templates.len(), mix(&[e, 31]), INTERVENTIONS_PER_ENGAGEMENT);
    for n in 0..INTERVENTIONS_PER_ENGAGEMENT {
        let key = mix(&[e, n as u64, 30]);
        let template = &templates[order[n % order.len()]];
        let mut depends_on = Vec::new();
        if n >= 2 && !key.is_multiple_of(3) {
            let back = 1 + (mix(&[key, 1]) % (n.min(6) as u64)) as usize;
            depends_on.push(intervention_ids[n - back]);
            if key.is_multiple_of(5) && n >= 4 {
                depends_on.push(intervention_ids[n - 1 - (mix(&[key, 2]) % 3) as usize]);
            }
        }
        let fixes: Vec<i64> = (0..1 + (mix(&[key, 3]) % 3) as usize)
            .map(|k| finding_ids[(n * 2 + k * 7 + index) % finding_ids.len()].1)
            .collect();
        let effort = (template.effort_weeks * (0.5 + (mix(&[key, 4]) % 11) as f64 / 10.0))
            .clamp(0.5, interventions::MAX_EFFORT_WEEKS);
        let input = InterventionInput {
            title: template.title.clone(),
            rationale: format!(
                "{}\n\n{} {}",
                template.rationale,
                pick(&text::IMPACTS, mix(&[key, 5])),
                pick(&text::DECISION_CONSEQUENCES, mix(&[key, 6]))
            ),
            impact: (template.impact.clamp(1, 5)).to_string(),
            expected_effect: pick(&text::EXPECTED_EFFECTS, mix(&[key, 7])).to_owned(),
            effort_weeks: format!("{effort:.1}"),
            confidence: ["high", "medium", "medium", "low"][(mix(&[key, 8]) % 4) as usize]
                .to_owned(),
            depends_on: depends_on.clone(),
            finding_ids: fixes,
            version: 0,
        };
        let intervention = interventions::create_intervention(db, owner, engagement_id, &input)
            .await
            .map_err(|err| format!("{}: {err}", at(&format!("writing intervention {}", n + 1))))?;
        intervention_ids.push(intervention.intervention_id);
        counts.interventions += 1;
        counts.intervention_dependencies += intervention.depends_on.len();
    }

    // Decision records.
    let founder = founder_name(index);
    let founder_role = pick(&text::FOUNDER_ROLES, mix(&[e, 40]));
    let mut decision_ids: Vec<i64> = Vec::with_capacity(DECISIONS_PER_ENGAGEMENT);
    for d in 0..DECISIONS_PER_ENGAGEMENT {
        let key = mix(&[e, d as u64, 41]);
        let area = Area::ALL[d % 5];
        let status = match d % 10 {
            0..=5 => "accepted",
            6 | 7 => "proposed",
            8 => "rejected",
            _ => "deprecated",
        };
        // Records 20–22 replace 0–2: the older ones become superseded.
        let supersedes = (20..23).contains(&d).then(|| decision_ids[d - 20]);
        let status = if supersedes.is_some() {
            "accepted"
        } else {
            status
        };
        // Two accepted records waive a finding each until a fixed future date.
        let (expires_on, waived) = if d == 3 || d == 13 {
            (
                "2030-06-30".to_owned(),
                vec![finding_ids[(d * 11 + index) % finding_ids.len()].1],
            )
        } else {
            (String::new(), Vec::new())
        };
        let mut linked_findings = waived.clone();
        if waived.is_empty() && key.is_multiple_of(2) {
            linked_findings.extend(
                finding_ids
                    .iter()
                    .filter(|(a, _)| *a == area)
                    .skip((key % 6) as usize)
                    .take(2)
                    .map(|(_, id)| *id),
            );
        }
        let input = DecisionInput {
            title: text::DECISION_TITLES[d].to_owned(),
            status: status.to_owned(),
            context: decision_context(area, key),
            options: decision_options(key),
            decision: format!(
                "We will {} {}",
                lowercase_first(pick(&text::recommendations(area), mix(&[key, 1]))),
                pick(&text::DECISION_CONTEXTS, mix(&[key, 2]))
            ),
            consequences: decision_consequences(key),
            decided_on: if status == "proposed" {
                String::new()
            } else {
                day(start_day(index) + 7 + d as i64)
            },
            deciders: format!("{founder} ({founder_role}), {}", consultant.display_name),
            supersedes,
            expires_on,
            finding_ids: linked_findings,
            intervention_ids: if key.is_multiple_of(3) {
                vec![intervention_ids[(d + index) % intervention_ids.len()]]
            } else {
                Vec::new()
            },
            version: 0,
        };
        let decision = decisions::create_decision(db, owner, engagement_id, &input)
            .await
            .map_err(|err| format!("{}: {err}", at(&format!("writing decision {}", d + 1))))?;
        decision_ids.push(decision.decision_id);
        counts.decisions += 1;
    }

    // Probe results, pushed as finished runs (no network is probed).
    let actor = Actor::from(owner);
    let runs = probe_results(&questions, &choices, e, large);
    for pushed in &runs {
        probe_store::push_results(db, &actor, owner.firm_id, engagement_id, pushed)
            .await
            .map_err(|err| {
                format!(
                    "{}: {err}",
                    at(&format!("pushing {} results", pushed.kind.label()))
                )
            })?;
        counts.probe_runs += 1;
        counts.probe_checks += pushed.checks.len();
    }

    // The founder's invitation (not used, not submitted: the harness logs in with it).
    let email = founder_email(index);
    questionnaire::invite_founder(
        db,
        owner,
        engagement_id,
        &FounderInvitationForm {
            name: founder.clone(),
            email: email.clone(),
        },
        BASE_URL,
    )
    .await
    .map_err(|err| format!("{}: {err}", at("inviting the founder")))?;
    counts.founder_invitations += 1;

    if large {
        let engagement = engagements::get(db, owner.firm_id, engagement_id)
            .await
            .map_err(|err| format!("{}: {err}", at("reading the engagement")))?;
        let draft = ReportDraftInput {
            summary: text::executive_summary(&engagement.client_name, &engagement.system_name),
            roadmap_capacity: "2".into(),
            roadmap_start: day(start_day(index) + 42),
            version: 0,
        };
        reports::save_draft(db, owner, engagement_id, &draft)
            .await
            .map_err(|err| format!("{}: {err}", at("saving the report draft")))?;
    }

    // The founder's next save: one answered question, rotating over the bank.
    let question = &questions[ordinal % questions.len()];
    Ok(Filled {
        engagement_id,
        founder_name: founder,
        founder_email: email,
        question_id: question.id.clone(),
        version: versions.get(&question.id).copied().unwrap_or(0),
        counts,
    })
}

/// Saves an answer and returns its new version; a stale save is an error here (nobody else writes).
async fn save(
    db: &Db,
    who: &Respondent,
    engagement_id: i64,
    input: &AnswerInput,
) -> Result<i64, String> {
    match questionnaire::save_answer(db, who, engagement_id, input).await {
        Ok(SaveOutcome::Saved { answer }) => Ok(answer.version),
        Ok(SaveOutcome::Stale { current }) => Err(format!(
            "the answer was already at version {}",
            current.version
        )),
        Err(e) => Err(e.to_string()),
    }
}

async fn milestone(db: &Db, owner: &Member, engagement_id: i64, name: &str) -> Result<(), String> {
    questionnaire::create_milestone(db, owner, engagement_id, name)
        .await
        .map(|_| ())
        .map_err(|e| format!("seed: engagement {engagement_id}: milestone {name}: {e}"))
}

fn answer_choice(question: &Question, key: u64) -> Choice {
    match key % 100 {
        0..=41 => Choice::Yes,
        42..=65 => Choice::Partly,
        66..=83 => Choice::No,
        84..=93 => Choice::DontKnow,
        _ if question.allows_not_applicable => Choice::NotApplicable,
        _ => Choice::Partly,
    }
}

/// Notes on about a third of the answers, one to three sentences.
fn answer_notes(area: Area, key: u64) -> String {
    if !key.is_multiple_of(3) {
        return String::new();
    }
    let count = 1 + (mix(&[key, 1]) % 3) as usize;
    pick_distinct(&text::observations(area), mix(&[key, 2]), count).join(" ")
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A finding's description in Markdown: what was seen, why it matters, what to do; of varied
/// length.
fn finding_description(area: Area, key: u64) -> String {
    let observed = pick_distinct(
        &text::observations(area),
        mix(&[key, 10]),
        1 + (mix(&[key, 11]) % 2) as usize,
    );
    let impacts = pick_distinct(
        &text::IMPACTS,
        mix(&[key, 12]),
        1 + (mix(&[key, 13]) % 2) as usize,
    );
    let advice = pick_distinct(
        &text::recommendations(area),
        mix(&[key, 14]),
        1 + (mix(&[key, 15]) % 2) as usize,
    );
    let mut text = format!(
        "{}\n\n**Why it matters.** {}\n\n**Recommendation.** {}",
        observed.join(" "),
        impacts.join(" "),
        advice.join(" ")
    );
    if mix(&[key, 16]).is_multiple_of(3) {
        text.push_str("\n\n**Sources.**\n");
        for line in pick_distinct(
            &text::EVIDENCE_LINES,
            mix(&[key, 17]),
            2 + (mix(&[key, 18]) % 2) as usize,
        ) {
            text.push_str(&format!("\n- {line}"));
        }
    }
    text
}

fn decision_context(area: Area, key: u64) -> String {
    let first = pick_distinct(
        &text::DECISION_CONTEXTS,
        mix(&[key, 20]),
        1 + (mix(&[key, 21]) % 2) as usize,
    );
    let seen = pick_distinct(&text::observations(area), mix(&[key, 22]), 1);
    format!("{}\n\n{}", first.join(" "), seen.join(" "))
}

fn decision_options(key: u64) -> String {
    pick_distinct(
        &text::DECISION_OPTIONS,
        mix(&[key, 30]),
        2 + (mix(&[key, 31]) % 2) as usize,
    )
    .iter()
    .enumerate()
    .map(|(n, option)| format!("{}. {option}", n + 1))
    .collect::<Vec<_>>()
    .join("\n")
}

fn decision_consequences(key: u64) -> String {
    pick_distinct(
        &text::DECISION_CONSEQUENCES,
        mix(&[key, 40]),
        1 + (mix(&[key, 41]) % 3) as usize,
    )
    .iter()
    .map(|line| format!("- {line}"))
    .collect::<Vec<_>>()
    .join("\n")
}

// ---------------------------------------------------------------------------------------------
// Probe results

/// The check ids no probe produces (they need a forge's API).
fn forge_only(id: &str) -> bool {
    audit::probes::FORGE_API_CHECKS.contains(&id)
}

/// The real spec of a check where its probe exports one (HTTP, repository, logs); PostgreSQL
/// checks keep theirs private, so they get a spec from their id.
fn spec_of(id: &str, area: Area) -> CheckSpec {
    let known = audit::probes::http::CHECKS
        .iter()
        .map(|s| **s)
        .chain(audit::probes::repo::check_specs())
        .chain(audit::probes::logs::CHECKS)
        .find(|s| s.id == id);
    known.unwrap_or(CheckSpec {
        id: "",
        area: CheckArea::from(area),
        title: "",
        severity: findings::Severity::Medium,
        threshold: "the probe's documented threshold",
        source: "Plumbline PostgreSQL probe",
    })
}

/// Pushed runs covering every check the bank names: roughly a quarter fail, a sixth warn, so
/// some "yes" answers are contradicted. The large engagement also has an older HTTP run.
fn probe_results(
    questions: &[Question],
    choices: &HashMap<String, Choice>,
    e: u64,
    large: bool,
) -> Vec<PushedResults> {
    let mut by_kind: Vec<(ProbeKind, Vec<CheckResult>)> =
        ProbeKind::ALL.iter().map(|k| (*k, Vec::new())).collect();
    let mut seen = HashSet::new();
    for question in questions {
        for id in &question.probe_checks {
            if forge_only(id) || !seen.insert(id.clone()) {
                continue;
            }
            let Some((_, checks)) = by_kind
                .iter_mut()
                .find(|(kind, _)| id.starts_with(kind.check_prefix()))
            else {
                continue;
            };
            let key = mix(&[e, seen.len() as u64, 50]);
            let claimed_yes = choices.get(&question.id) == Some(&Choice::Yes);
            let status = match key % 12 {
                0..=2 => CheckStatus::Fail,
                3 | 4 => CheckStatus::Warn,
                // A few of the claimed yeses are contradicted outright.
                5 if claimed_yes => CheckStatus::Fail,
                11 => CheckStatus::CouldNotRun,
                _ => CheckStatus::Pass,
            };
            let spec = spec_of(id, question.area);
            let title = if spec.title.is_empty() {
                let words = id
                    .split_once('.')
                    .map(|(_, rest)| rest)
                    .unwrap_or(id)
                    .replace('-', " ");
                let mut t = lowercase_first(&words);
                if let Some(first) = t.get(..1) {
                    t = first.to_uppercase() + &t[1..];
                }
                t
            } else {
                spec.title.to_owned()
            };
            let summary = match status {
                CheckStatus::Pass => format!("{title}: within the threshold on every sample."),
                CheckStatus::Warn => format!(
                    "{title}: {} of {} samples near the threshold.",
                    1 + key % 5,
                    12 + key % 30
                ),
                CheckStatus::Fail => format!(
                    "{title}: {} of {} samples beyond the threshold.",
                    2 + key % 9,
                    14 + key % 40
                ),
                CheckStatus::CouldNotRun => format!("Could not run {title}: permission denied."),
            };
            checks.push(CheckResult {
                id: id.clone(),
                area: spec.area,
                title,
                status,
                severity: spec.severity,
                threshold: spec.threshold.to_owned(),
                source: spec.source.to_owned(),
                summary,
                measured: serde_json::json!({
                    "samples": 12 + key % 30,
                    "worst": (key % 5000) as f64 / 10.0,
                    "p95_ms": 80 + key % 900,
                }),
                evidence: pick_distinct(&text::EVIDENCE_LINES, mix(&[key, 1]), 2)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                why: (status == CheckStatus::CouldNotRun)
                    .then(|| "permission denied for the monitoring role".to_owned()),
            });
        }
    }
    let target = |kind: ProbeKind| match kind {
        ProbeKind::Http => "https://api.client.example",
        ProbeKind::Postgres => "db.client.example:5432/app",
        ProbeKind::Repository => "main @ 4f2c1a9",
        ProbeKind::Logs => "access-2026-11-03.log.gz",
    };
    let mut runs = Vec::new();
    if large {
        if let Some((_, http)) = by_kind.iter().find(|(k, _)| *k == ProbeKind::Http) {
            // An earlier run where everything still failed: the report reads the newest.
            let older = http
                .iter()
                .map(|c| CheckResult {
                    status: CheckStatus::Fail,
                    ..c.clone()
                })
                .collect::<Vec<_>>();
            if !older.is_empty() {
                runs.push(PushedResults {
                    kind: ProbeKind::Http,
                    target: target(ProbeKind::Http).to_owned(),
                    checks: older,
                });
            }
        }
    }
    runs.extend(
        by_kind
            .into_iter()
            .filter(|(_, checks)| !checks.is_empty())
            .map(|(kind, checks)| PushedResults {
                kind,
                target: target(kind).to_owned(),
                checks,
            }),
    );
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_engagements_are_spread_and_counted_exactly() {
        for (engagements, complete) in [(6, 2), (2000, 200), (7, 7), (10, 3), (1, 1)] {
            let scale = Scale::new(engagements, complete);
            let chosen: Vec<usize> = (0..engagements).filter(|i| scale.is_complete(*i)).collect();
            assert_eq!(chosen.len(), complete, "{engagements}/{complete}");
            assert_eq!(chosen[0], 0);
        }
    }

    #[test]
    fn founder_names_are_unique() {
        let names: HashSet<String> = (0..3000).map(founder_name).collect();
        assert_eq!(names.len(), 3000);
        let emails: HashSet<String> = (0..3000).map(founder_email).collect();
        assert_eq!(emails.len(), 3000);
    }

    #[test]
    fn engagement_forms_pass_the_rules() {
        for index in 0..500 {
            if let Err(e) = engagement_input(index, index % 10 == 0).parse() {
                panic!("engagement {index}: {e:?}");
            }
        }
    }

    #[test]
    fn postgres_seeds_commit_without_waiting_for_the_flush() {
        assert_eq!(
            seed_url("postgres://u@h:5432/db"),
            "postgres://u@h:5432/db?options=-c%20synchronous_commit%3Doff"
        );
        assert_eq!(
            seed_url("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable&options=-c%20synchronous_commit%3Doff"
        );
        assert_eq!(seed_url("sqlite://x/y.db"), "sqlite://x/y.db");
        assert_eq!(
            seed_url("postgres://h/db?options=-c%20x%3Dy"),
            "postgres://h/db?options=-c%20x%3Dy"
        );
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redacted("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(redacted("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redacted("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }

    #[test]
    fn tokens_are_read_from_links() {
        assert_eq!(
            token_after("Open it:\nhttp://x/invite/fnd_abc123\n", "/invite/").as_deref(),
            Some("fnd_abc123")
        );
        assert_eq!(
            token_after("http://x/invite/fnd_abc?next=/q", "/invite/").as_deref(),
            Some("fnd_abc")
        );
        assert_eq!(token_after("no link", "/invite/"), None);
    }
}
