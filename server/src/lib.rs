//! The `plumbline` server: settings, start-up, router, middleware, REST API, job worker, CLI.
//! `main` is thin; tests start [`startup::Application`] on port 0.
#![forbid(unsafe_code)]
#![recursion_limit = "512"]

pub mod answering;
pub mod api;
pub mod cli;
pub mod decision_files;
pub mod health;
pub mod middleware;
pub mod probe_files;
pub mod report_files;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod worker;
