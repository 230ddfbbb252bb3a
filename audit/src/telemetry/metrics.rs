//! Plumbline's own latency figures: one histogram per route, read as p50/p95/p99 at `/metrics`
//! and on the admin page. Plumbline must pass its own audit (seed 000: percentiles per endpoint).
use std::collections::BTreeMap;
use std::sync::Mutex;

use hdrhistogram::Histogram;

use super::RouteSummary;

/// Latency and error counts per route, in this process since it started.
#[derive(Debug, Default)]
pub struct RouteMetrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

#[derive(Debug)]
struct RouteStats {
    /// Microseconds, 1 µs to 10 min, 3 significant figures.
    latency_us: Histogram<u64>,
    requests: u64,
    server_errors: u64,
    client_errors: u64,
}

impl RouteMetrics {
    pub fn record(&self, route: &str, status: u16, elapsed: std::time::Duration) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let stats = routes
            .entry(route.to_owned())
            .or_insert_with(|| RouteStats {
                // Fixed, valid bounds: 1 µs to 10 min with 3 significant figures.
                latency_us: Histogram::new_with_bounds(1, 600_000_000, 3)
                    .expect("constant histogram bounds are valid"),
                requests: 0,
                server_errors: 0,
                client_errors: 0,
            });
        let micros = (elapsed.as_micros() as u64).clamp(1, 600_000_000);
        let _ = stats.latency_us.record(micros);
        stats.requests += 1;
        if status >= 500 {
            stats.server_errors += 1;
        } else if status >= 400 {
            stats.client_errors += 1;
        }
    }

    pub fn summaries(&self) -> Vec<RouteSummary> {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes
            .iter()
            .map(|(route, s)| {
                let ms = |q: f64| s.latency_us.value_at_quantile(q) as f64 / 1000.0;
                RouteSummary {
                    route: route.clone(),
                    requests: s.requests,
                    p50_ms: ms(0.50),
                    p95_ms: ms(0.95),
                    p99_ms: ms(0.99),
                    max_ms: s.latency_us.max() as f64 / 1000.0,
                    error_rate: if s.requests == 0 {
                        0.0
                    } else {
                        s.server_errors as f64 / s.requests as f64
                    },
                    client_errors: s.client_errors,
                    server_errors: s.server_errors,
                }
            })
            .collect()
    }

    /// Prometheus text exposition: a summary per route (quantiles in seconds) and error counters.
    pub fn prometheus(&self) -> String {
        let mut out = String::from(
            "# HELP plumbline_http_request_duration_seconds Request latency per route.\n\
             # TYPE plumbline_http_request_duration_seconds summary\n",
        );
        // Label values escape backslashes and quotes.
        let summaries: Vec<(String, RouteSummary)> = self
            .summaries()
            .into_iter()
            .map(|s| (s.route.replace('\\', "\\\\").replace('"', "\\\""), s))
            .collect();
        for (route, s) in &summaries {
            for (q, v) in [("0.5", s.p50_ms), ("0.95", s.p95_ms), ("0.99", s.p99_ms)] {
                out.push_str(&format!(
                    "plumbline_http_request_duration_seconds{{route=\"{route}\",quantile=\"{q}\"}} {}\n",
                    v / 1000.0
                ));
            }
            out.push_str(&format!(
                "plumbline_http_request_duration_seconds_count{{route=\"{route}\"}} {}\n",
                s.requests
            ));
        }
        out.push_str(
            "# HELP plumbline_http_server_errors_total Responses with a 5xx status per route.\n\
             # TYPE plumbline_http_server_errors_total counter\n",
        );
        for (route, s) in &summaries {
            out.push_str(&format!(
                "plumbline_http_server_errors_total{{route=\"{route}\"}} {}\n",
                s.server_errors
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percentiles_and_error_rate_per_route() {
        let m = RouteMetrics::default();
        for i in 1..=100u64 {
            m.record(
                "/engagements",
                if i == 100 { 500 } else { 200 },
                Duration::from_millis(i),
            );
        }
        let s = &m.summaries()[0];
        assert_eq!(s.requests, 100);
        assert!((s.p50_ms - 50.0).abs() < 1.0, "{s:?}");
        assert!((s.p99_ms - 99.0).abs() < 1.0, "{s:?}");
        assert!((s.error_rate - 0.01).abs() < 1e-9);
        assert!(m
            .prometheus()
            .contains("route=\"/engagements\",quantile=\"0.95\""));
    }
}
