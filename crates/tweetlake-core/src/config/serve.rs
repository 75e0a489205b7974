//! `[serve]`: the Postgres-wire endpoint, the HTTP dashboard and `/metrics` of `tweetlake serve`.

use serde::{Deserialize, Serialize};

use super::KeyError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Postgres wire protocol (psql, Grafana, BI tools).
    pub pg_listen: String,
    /// The dashboard page, its JSON and `/metrics`. Beyond loopback it asks for the login.
    pub http_listen: String,
    /// The one login. With an empty password the endpoint takes no password, which is allowed
    /// only on loopback addresses.
    pub user: String,
    /// Set it from `TWEETLAKE_SERVE__PASSWORD` rather than the file.
    pub password: String,
    /// How Postgres clients prove the password: `scram-sha-256` (PostgreSQL's default since 14)
    /// or `md5` for clients older than libpq 10.
    pub auth: PgAuth,
    /// A bearer token that may read `/metrics` (Prometheus' `authorization.credentials`) where
    /// the HTTP side asks for a login. Empty: `/metrics` takes the login like the rest.
    pub metrics_token: String,
    /// PEM certificate chain and PKCS#8 key; both or neither. With them, clients may use TLS.
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// How often the tables are reloaded to show new commits, in seconds.
    pub refresh_seconds: u64,
    /// Postgres connections open at once; one more is refused with SQLSTATE 53300.
    pub max_connections: usize,
    /// Longest a statement may run, planning and sending its rows included (SQLSTATE 57014). A
    /// client's lower `SET statement_timeout` wins.
    pub statement_timeout_seconds: u64,
    /// Memory one statement may hold (sorts, aggregations, join tables); more fails it with
    /// SQLSTATE 53200. Nothing spills to the server's disk.
    pub query_memory_mb: u64,
    /// Memory all statements together may hold.
    pub memory_mb: u64,
    /// Most rows one statement may return (SQLSTATE 54000); dashboards aggregate, a BI tool that
    /// wants more should page with `LIMIT`/`OFFSET`.
    pub max_result_rows: u64,
}

/// How Postgres clients log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PgAuth {
    #[serde(rename = "scram-sha-256")]
    ScramSha256,
    #[serde(rename = "md5")]
    Md5,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            pg_listen: "127.0.0.1:5433".into(),
            http_listen: "127.0.0.1:8080".into(),
            user: "tweetlake".into(),
            password: String::new(),
            auth: PgAuth::ScramSha256,
            metrics_token: String::new(),
            tls_cert: None,
            tls_key: None,
            refresh_seconds: 30,
            max_connections: 32,
            statement_timeout_seconds: 120,
            query_memory_mb: 512,
            memory_mb: 2048,
            max_result_rows: 1_000_000,
        }
    }
}

fn socket_addr(key: &str, value: &str) -> Result<std::net::SocketAddr, KeyError> {
    value
        .parse()
        .map_err(|e| KeyError::of(key, format!("`{value}` is not host:port: {e}")))
}

impl ServeConfig {
    /// Whether the HTTP side asks for the login: it does on any address but loopback.
    pub fn http_needs_login(&self) -> bool {
        self.http_listen
            .parse::<std::net::SocketAddr>()
            .map_or(true, |a| !a.ip().is_loopback())
    }

    /// (key, reason) of the first problem.
    pub fn validate(&self) -> Result<(), KeyError> {
        let pg = socket_addr("serve.pg_listen", &self.pg_listen)?;
        let http = socket_addr("serve.http_listen", &self.http_listen)?;
        if self.user.trim().is_empty() {
            return Err(KeyError::of("serve.user", "must not be empty"));
        }
        for (open, listen) in [(pg, &self.pg_listen), (http, &self.http_listen)] {
            if self.password.is_empty() && !open.ip().is_loopback() {
                return Err(KeyError::of(
                    "serve.password",
                    format!(
                        "is empty, so {listen} would take anyone: set TWEETLAKE_SERVE__PASSWORD, or listen on 127.0.0.1"
                    ),
                ));
            }
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(KeyError::of(
                "serve.tls_cert",
                "set both tls_cert and tls_key, or neither",
            ));
        }
        let above_zero = [
            ("serve.refresh_seconds", self.refresh_seconds),
            ("serve.max_connections", self.max_connections as u64),
            (
                "serve.statement_timeout_seconds",
                self.statement_timeout_seconds,
            ),
            ("serve.query_memory_mb", self.query_memory_mb),
            ("serve.max_result_rows", self.max_result_rows),
        ];
        if let Some((key, _)) = above_zero.iter().find(|(_, v)| *v == 0) {
            return Err(KeyError::of(*key, "must be above 0"));
        }
        if self.memory_mb < self.query_memory_mb {
            return Err(KeyError::of(
                "serve.memory_mb",
                format!(
                    "{} is below serve.query_memory_mb ({}): no query could use its own limit",
                    self.memory_mb, self.query_memory_mb
                ),
            ));
        }
        Ok(())
    }
}
