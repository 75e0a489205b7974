//! `[serve]`: the Postgres-wire endpoint, the HTTP dashboard and `/metrics` of `tweetlake serve`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServeConfig {
    /// Postgres wire protocol (psql, Grafana, BI tools).
    pub pg_listen: String,
    /// The dashboard page, its JSON and `/metrics`.
    pub http_listen: String,
    /// The one login. With an empty password the endpoint takes no password, which is allowed
    /// only on a loopback address.
    pub user: String,
    /// Set it from `TWEETLAKE_SERVE__PASSWORD` rather than the file.
    pub password: String,
    /// PEM certificate chain and PKCS#8 key; both or neither. With them, clients may use TLS.
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// How often the tables are reloaded to show new commits, in seconds.
    pub refresh_seconds: u64,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            pg_listen: "127.0.0.1:5433".into(),
            http_listen: "127.0.0.1:8080".into(),
            user: "tweetlake".into(),
            password: String::new(),
            tls_cert: None,
            tls_key: None,
            refresh_seconds: 30,
        }
    }
}

impl ServeConfig {
    /// (key, reason) of the first problem.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let pg: std::net::SocketAddr = self.pg_listen.parse().map_err(|e| {
            (
                "serve.pg_listen",
                format!("`{}` is not host:port: {e}", self.pg_listen),
            )
        })?;
        self.http_listen
            .parse::<std::net::SocketAddr>()
            .map_err(|e| {
                (
                    "serve.http_listen",
                    format!("`{}` is not host:port: {e}", self.http_listen),
                )
            })?;
        if self.user.trim().is_empty() {
            return Err(("serve.user", "must not be empty".into()));
        }
        if self.password.is_empty() && !pg.ip().is_loopback() {
            return Err((
                "serve.password",
                format!(
                    "is empty, so {} would take anyone: set TWEETLAKE_SERVE__PASSWORD, or listen on 127.0.0.1",
                    self.pg_listen
                ),
            ));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err((
                "serve.tls_cert",
                "set both tls_cert and tls_key, or neither".into(),
            ));
        }
        if self.refresh_seconds == 0 {
            return Err(("serve.refresh_seconds", "must be above 0".into()));
        }
        Ok(())
    }
}
