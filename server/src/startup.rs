//! Builds the application: database, state, router, listener. Tests start it on port 0.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{middleware, Router};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::{Expiry, SessionManagerLayer};

use app::state::AppState;
use audit::accounts::LoginLimiter;
use audit::db::Db;
use audit::sessions::DbSessionStore;
use audit::telemetry::RouteMetrics;

use crate::middleware as mw;
use crate::settings::{redact_url, Settings};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database {url}: {source}")]
    Database { url: String, source: audit::Error },
    #[error("cannot apply migrations: {0}")]
    Migrate(audit::Error),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("mail settings: {0}")]
    Mail(audit::Error),
    #[error("question bank: {0}")]
    Bank(String),
    #[error("{0}")]
    Probes(crate::settings::SettingsError),
}

/// Opens the database and applies migrations.
pub async fn open_database(settings: &Settings) -> Result<Db, StartError> {
    let db = Db::connect(&settings.database_url)
        .await
        .map_err(|source| StartError::Database {
            url: redact_url(&settings.database_url),
            source,
        })?;
    db.migrate().await.map_err(StartError::Migrate)?;
    // The built-in question bank is data: a broken file stops start-up naming file and line.
    let bank = audit::questionnaire::builtin_bank().map_err(|e| StartError::Bank(e.to_string()))?;
    audit::questionnaire::register_builtin_bank(&db, &bank)
        .await
        .map_err(|e| StartError::Bank(e.to_string()))?;
    Ok(db)
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    settings: Settings,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let db = open_database(&settings).await?;
        let listener =
            TcpListener::bind(settings.addr)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.addr,
                    source,
                })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind {
            addr: settings.addr,
            source,
        })?;
        let leptos_options = LeptosOptions::builder()
            .output_name("plumbline")
            .site_root(settings.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(local)
            .build();
        let state = AppState {
            leptos_options,
            db,
            base_url: settings.public_url(local),
            login_limiter: Arc::new(LoginLimiter::new(
                settings.login_max_attempts,
                Duration::from_secs(settings.login_window_secs),
            )),
            metrics: Arc::new(RouteMetrics::default()),
            probes: Arc::new(settings.probe_runtime().map_err(StartError::Probes)?),
        };
        let router = router(state.clone(), &settings);
        Ok(Application {
            listener,
            router,
            state,
            settings,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, finishing in-flight requests; the in-process worker
    /// (when enabled) stops with it and releases the jobs it holds.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = if self.settings.run_worker {
            let worker = crate::worker::build(
                self.state.db.clone(),
                &self.settings,
                &self.state.base_url,
                self.state.probes.clone(),
            )
            .map_err(StartError::Mail)?;
            crate::worker::schedule_recurring(&self.state.db)
                .await
                .map_err(StartError::Mail)?;
            let mut rx = stop_rx.clone();
            Some(tokio::spawn(worker.run(
                Duration::from_millis(500),
                async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                },
            )))
        } else {
            None
        };
        let sessions = DbSessionStore::new(self.state.db.clone());
        let mut cleanup_rx = stop_rx.clone();
        let cleanup = tokio::spawn(async move {
            loop {
                if let Err(e) = sessions.delete_expired().await {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
                tokio::select! {
                    _ = cleanup_rx.wait_for(|stop| *stop) => break,
                    _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
                }
            }
        });
        let addr = self.listener.local_addr().ok();
        tracing::info!(?addr, base_url = %self.state.base_url, "Plumbline is listening");
        // Without TCP_NODELAY a page streamed in several writes waits for the client's delayed
        // ACK (40 ms on Linux) between them: the engagement list took 44 ms at one connection.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_tx.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        let _ = cleanup.await;
        self.state.db.close().await;
        served.map_err(|source| StartError::Bind {
            addr: addr.unwrap_or(self.settings.addr),
            source,
        })
    }
}

fn router(state: AppState, settings: &Settings) -> Router {
    let routes = generate_route_list(app::App);
    let leptos_options = state.leptos_options.clone();
    let context_state = state.clone();
    let session_layer = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("plumbline_session")
        .with_http_only(true)
        .with_same_site(tower_sessions::cookie::SameSite::Lax)
        // Secure cookies when people reach Plumbline over TLS.
        .with_secure(state.base_url.starts_with("https://"))
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));
    let x_request_id = HeaderName::from_static("x-request-id");

    let pages_and_functions = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                leptos::prelude::provide_context(context_state.clone());
                leptos::prelude::provide_context(app::state::RequestMember::default());
            },
            {
                let options = leptos_options.clone();
                move || app::shell(options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(middleware::from_fn(mw::require_login_for_pages))
        .layer(middleware::from_fn(mw::bound_page_stream));

    Router::new()
        .route("/healthz", get(crate::health::healthz))
        .route("/readyz", get(crate::health::readyz))
        .route(
            "/metrics",
            get(crate::health::metrics).layer(axum::Extension(crate::health::MetricsAccess {
                open_to_loopback: settings.metrics_open_to_loopback,
            })),
        )
        .merge(crate::api::router())
        .merge(crate::answering::router())
        .merge(crate::decision_files::router())
        .merge(crate::probe_files::router())
        .merge(crate::report_files::router())
        .route("/api/{*rest}", axum::routing::any(mw::api_not_found))
        // The wasm bundle and its glue, as the `.br` or `.gz` copy a release build writes beside
        // each file when the browser accepts it (the plain file otherwise).
        .nest_service(
            "/pkg",
            tower_http::services::ServeDir::new(settings.site_root.join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .merge(pages_and_functions)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(x_request_id.clone(), MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let request_id = request
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        tracing::info_span!("request", method = %request.method(), uri = %request.uri().path(), request_id)
                    }),
                )
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(middleware::from_fn_with_state(state.metrics.clone(), mw::record_latency))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(settings.request_timeout_secs),
                ))
                .layer(DefaultBodyLimit::max(settings.body_limit_bytes))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(mw::CONTENT_SECURITY_POLICY),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("strict-origin-when-cross-origin"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(session_layer)
                .layer(middleware::from_fn(mw::same_origin))
                .layer(middleware::from_fn(mw::payload_too_large_as_json))
                // Evidence uploads may be larger than everything else (see `answering`); the
                // ordinary limit is checked by `limit_body` below and by DefaultBodyLimit.
                .layer(middleware::from_fn_with_state(
                    settings.body_limit_bytes,
                    mw::limit_body,
                ))
                // Innermost: it changes the body type that the layers above would see.
                .layer(RequestBodyLimitLayer::new(
                    settings
                        .body_limit_bytes
                        .max(crate::answering::EVIDENCE_BODY_LIMIT)
                        .max(crate::decision_files::IMPORT_BODY_LIMIT)
                        .max(crate::probe_files::UPLOAD_BODY_LIMIT),
                )),
        )
        .with_state(state)
}
