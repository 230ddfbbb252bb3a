//! Renders the large fixture report and prints how long each output takes and the process's
//! peak memory, for measuring by hand (and for `perf record`):
//!
//! `cargo run --release -p audit --example render_large_report -- [pdf|md|html|all] [times] [out.pdf]`
//!
//! Nothing here is a test: timings depend on the machine.
use std::time::{Duration, Instant};

use audit::reports::fixture::large_report;
use audit::reports::render;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".to_owned());
    let times: u32 = args.next().and_then(|n| n.parse().ok()).unwrap_or(3);
    let out = args.next();

    let started = Instant::now();
    let report = large_report();
    println!("model built in {:?}", started.elapsed());

    if which == "all" || which == "pdf" {
        let source = time("typst source", times, || {
            render::typst_source(&report).len()
        });
        println!("  source: {source} bytes");
        let mut pdf = Vec::new();
        time("pdf", times, || {
            pdf = render::pdf(&report, None).expect("the large report typesets");
            pdf.len()
        });
        println!("  pdf: {} bytes", pdf.len());
        if let Some(out) = &out {
            std::fs::write(out, &pdf).expect("the PDF is written");
        }
    }
    if which == "all" || which == "md" {
        time("markdown", times, || render::markdown(&report).len());
    }
    if which == "all" || which == "html" {
        time("html", times, || render::html(&report, None).len());
    }
    println!("peak RSS: {}", peak_rss());
}

/// Runs `work` `times` times; prints the first run and the fastest of the rest.
fn time(label: &str, times: u32, mut work: impl FnMut() -> usize) -> usize {
    let mut runs: Vec<Duration> = Vec::new();
    let mut size = 0;
    for _ in 0..times.max(1) {
        let started = Instant::now();
        size = std::hint::black_box(work());
        runs.push(started.elapsed());
    }
    let rest = runs.iter().skip(1).min();
    match rest {
        Some(best) => println!("{label}: first {:?}, best of the rest {best:?}", runs[0]),
        None => println!("{label}: {:?}", runs[0]),
    }
    size
}

/// `VmHWM` from /proc (Linux), or "unknown".
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
