//! The HTTP side: `GET /` the dashboard page, `GET /api/<panel>` each panel's rows as JSON (fixed
//! queries over gold; no SQL over HTTP), `GET /metrics` for Prometheus. HTTP/1.1, one request per
//! connection: enough for a page that polls every 30 seconds.
//!
//! Beyond loopback every path asks for the login (HTTP Basic, the same user and password as the
//! Postgres side; `/metrics` also takes `serve.metrics_token` as a bearer token). A request head
//! must arrive within 10 s, at most 64 connections are served at once (more get 503), and an
//! accept error waits instead of spinning.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::{debug, warn};
use tweetlake_core::config::ServeConfig;
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::arrow::json::ArrayWriter;

use crate::dashboard::{panel_sql, PAGE};
use crate::login::{constant_time_eq, Throttle};
use crate::metrics::ServeMetrics;

/// Longest wait for a request's head, and for a response to be taken.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once.
const MAX_CONNECTIONS: usize = 64;
/// The most bytes of request line and headers read.
const MAX_HEAD: usize = 16 * 1024;

/// Where the panels' fixed queries run: a session of their own with its own memory pool inside
/// the shared budget (all panel queries together hold at most `serve.query_memory_mb`), each
/// query under the statement timeout.
pub struct Panels {
    pub ctx: tweetlake_core::deltalake::datafusion::prelude::SessionContext,
    pub timeout: Duration,
}

/// Who may read what.
pub struct Access {
    /// `Some`: every request must carry this user and password (HTTP Basic).
    login: Option<(String, String)>,
    /// Also accepted for `/metrics` as `Authorization: Bearer …`.
    metrics_token: Option<String>,
    throttle: Arc<Throttle>,
}

impl Access {
    pub fn new(config: &ServeConfig, throttle: Arc<Throttle>) -> Access {
        Access {
            login: config
                .http_needs_login()
                .then(|| (config.user.clone(), config.password.clone())),
            metrics_token: Some(config.metrics_token.clone()).filter(|t| !t.is_empty()),
            throttle,
        }
    }

    /// Whether a request for `path` with these headers may be answered.
    fn allows(&self, path: &str, head: &str) -> bool {
        let Some((user, password)) = &self.login else {
            return true;
        };
        let Some(credentials) = header(head, "authorization") else {
            return false;
        };
        if let Some(token) = credentials.strip_prefix("Bearer ") {
            return path == "/metrics"
                && self
                    .metrics_token
                    .as_deref()
                    .is_some_and(|t| constant_time_eq(token.trim().as_bytes(), t.as_bytes()));
        }
        let Some(basic) = credentials.strip_prefix("Basic ") else {
            return false;
        };
        let expected = format!("{user}:{password}");
        STANDARD
            .decode(basic.trim())
            .is_ok_and(|given| constant_time_eq(&given, expected.as_bytes()))
    }
}

/// The value of header `name` (case-insensitive) in a request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

pub async fn serve(
    listener: TcpListener,
    panels: Arc<Panels>,
    metrics: Arc<ServeMetrics>,
    access: Arc<Access>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "accepting an HTTP connection failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let (panels, metrics, access) = (panels.clone(), metrics.clone(), access.clone());
        let slot = slots.clone().try_acquire_owned();
        tokio::spawn(async move {
            let answer = match slot {
                Ok(_slot) => answer(socket, peer, &panels, &metrics, &access).await,
                Err(_) => {
                    metrics.http(false);
                    respond(
                        socket,
                        "503 Service Unavailable",
                        "text/plain",
                        b"busy\n",
                        &[],
                    )
                    .await
                }
            };
            if let Err(e) = answer {
                debug!(%peer, error = %e, "HTTP response failed");
            }
        });
    }
}

async fn answer(
    mut socket: TcpStream,
    peer: SocketAddr,
    panels: &Panels,
    metrics: &ServeMetrics,
    access: &Access,
) -> std::io::Result<()> {
    let Ok(head) = tokio::time::timeout(READ_TIMEOUT, read_head(&mut socket)).await else {
        metrics.http(false);
        return respond(socket, "408 Request Timeout", "text/plain", b"", &[]).await;
    };
    if head.is_empty() {
        // Connected and closed without a request (a port probe, a health check): nothing to say.
        return Ok(());
    }
    let path = head
        .strip_prefix("GET ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("");
    if !access.allows(path, &head) {
        metrics.http_unauthorized();
        metrics.http(false);
        if header(&head, "authorization").is_some() {
            tokio::time::sleep(access.throttle.failed(peer.ip())).await;
        }
        let challenge = [(
            "www-authenticate",
            "Basic realm=\"tweetlake\", charset=\"UTF-8\"",
        )];
        return respond(
            socket,
            "401 Unauthorized",
            "text/plain",
            b"log in\n",
            &challenge,
        )
        .await;
    }
    let (status, kind, body) = route(path, panels, metrics).await;
    metrics.http(status.starts_with('2'));
    respond(socket, status, kind, &body, &[]).await
}

async fn respond(
    mut socket: TcpStream,
    status: &str,
    kind: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let sent = async {
        socket.write_all(head.as_bytes()).await?;
        socket.write_all(body).await?;
        socket.shutdown().await
    };
    tokio::time::timeout(WRITE_TIMEOUT, sent)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// The request line and headers: read until the blank line (or `MAX_HEAD`, or the peer stops).
async fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}
async fn route(
    path: &str,
    panels: &Panels,
    metrics: &ServeMetrics,
) -> (&'static str, &'static str, Vec<u8>) {
    const JSON: &str = "application/json";
    match path {
        "/" | "/index.html" => (
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes().to_vec(),
        ),
        "/metrics" => {
            update_lag(panels, metrics).await;
            (
                "200 OK",
                "text/plain; version=0.0.4",
                metrics.render().into_bytes(),
            )
        }
        _ => match path.strip_prefix("/api/").and_then(panel_sql) {
            Some(sql) => match rows_json(panels, sql).await {
                Ok(body) => ("200 OK", JSON, body),
                Err(e) => {
                    let body = serde_json::json!({ "error": e }).to_string();
                    ("503 Service Unavailable", JSON, body.into_bytes())
                }
            },
            None => (
                "404 Not Found",
                "text/plain",
                b"not found: try /, /api/<panel>, /metrics\n".to_vec(),
            ),
        },
    }
}

/// The rows of `sql` as a JSON array of objects.
async fn rows_json(panels: &Panels, sql: &str) -> Result<Vec<u8>, String> {
    let run = async {
        let df = panels.ctx.sql(sql).await?;
        df.collect().await
    };
    let batches: Vec<RecordBatch> = tokio::time::timeout(panels.timeout, run)
        .await
        .map_err(|_| format!("timed out after {} s", panels.timeout.as_secs()))?
        .map_err(|e| e.to_string())?;
    let mut writer = ArrayWriter::new(Vec::new());
    for b in &batches {
        writer.write(b).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())?;
    let body = writer.into_inner();
    Ok(if body.is_empty() {
        b"[]".to_vec()
    } else {
        body
    })
}

async fn update_lag(panels: &Panels, metrics: &ServeMetrics) {
    let Some(sql) = panel_sql("freshness") else {
        return;
    };
    let Ok(body) = rows_json(panels, sql).await else {
        return;
    };
    let Ok(rows) = serde_json::from_slice::<Vec<serde_json::Value>>(&body) else {
        return;
    };
    let lag = rows
        .iter()
        .filter_map(|r| Some((r["layer"].as_str()?.to_string(), r["lag_seconds"].as_f64()?)))
        .collect();
    metrics.set_lag(lag);
}
