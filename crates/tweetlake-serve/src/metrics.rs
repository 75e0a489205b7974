//! Counters of `tweetlake serve`, rendered for Prometheus.

use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Mutex;
use tweetlake_core::metrics_text::{Exposition, Kind};

#[derive(Debug, Default)]
pub struct ServeMetrics {
    statements: AtomicU64,
    refused: AtomicU64,
    limited: AtomicU64,
    connections_refused: AtomicU64,
    http_unauthorized: AtomicU64,
    http_requests: AtomicU64,
    http_errors: AtomicU64,
    refreshes: AtomicU64,
    refresh_failures: AtomicU64,
    tables: AtomicU64,
    /// Per layer, seconds between the newest event time and now, from gold.lake_freshness.
    lag: Mutex<Vec<(String, f64)>>,
}

impl ServeMetrics {
    pub fn statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A statement stopped by a limit: its timeout, its memory or its rows.
    pub fn limited(&self) {
        self.limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn http_unauthorized(&self) {
        self.http_unauthorized.fetch_add(1, Ordering::Relaxed);
    }

    pub fn http(&self, ok: bool) {
        self.http_requests.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.http_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn refreshed(&self, tables: usize) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        self.tables.store(tables as u64, Ordering::Relaxed);
    }

    pub fn refresh_failed(&self) {
        self.refresh_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn set_lag(&self, lag: Vec<(String, f64)>) {
        if let Ok(mut l) = self.lag.lock() {
            *l = lag;
        }
    }

    pub fn render(&self) -> String {
        let mut e = Exposition::default();
        let counters = [
            (
                "tweetlake_serve_statements_total",
                "SQL statements received over the Postgres wire.",
                &self.statements,
            ),
            (
                "tweetlake_serve_refused_total",
                "Statements refused because they would write.",
                &self.refused,
            ),
            (
                "tweetlake_serve_limited_total",
                "Statements stopped by a limit (statement timeout, memory, result rows).",
                &self.limited,
            ),
            (
                "tweetlake_serve_connections_refused_total",
                "Postgres connections refused at serve.max_connections.",
                &self.connections_refused,
            ),
            (
                "tweetlake_serve_http_unauthorized_total",
                "HTTP requests refused for want of the login or the metrics token.",
                &self.http_unauthorized,
            ),
            (
                "tweetlake_serve_http_requests_total",
                "HTTP requests served.",
                &self.http_requests,
            ),
            (
                "tweetlake_serve_http_errors_total",
                "HTTP requests answered with an error.",
                &self.http_errors,
            ),
            (
                "tweetlake_serve_refreshes_total",
                "Reloads of the lake's tables.",
                &self.refreshes,
            ),
            (
                "tweetlake_serve_refresh_failures_total",
                "Reloads that failed.",
                &self.refresh_failures,
            ),
        ];
        for (name, help, value) in counters {
            e.single(name, Kind::Counter, help, value.load(Ordering::Relaxed));
        }
        e.single(
            "tweetlake_serve_tables",
            Kind::Gauge,
            "Tables registered at the last reload.",
            self.tables.load(Ordering::Relaxed),
        );
        let lag = "tweetlake_lake_lag_seconds";
        e.family(
            lag,
            Kind::Gauge,
            "Now minus the newest event time per layer (gold.lake_freshness).",
        );
        if let Ok(layers) = self.lag.lock() {
            for (layer, seconds) in layers.iter() {
                e.sample(lag, &[("layer", layer)], seconds);
            }
        }
        e.finish()
    }
}
