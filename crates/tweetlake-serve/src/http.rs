//! The HTTP side: `GET /` the dashboard page, `GET /api/<panel>` each panel's rows as JSON (fixed
//! queries over gold; no SQL over HTTP), `GET /metrics` for Prometheus. HTTP/1.1, one request per
//! connection: enough for a page that polls every 30 seconds.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::debug;
use tweetlake_core::deltalake::arrow::array::RecordBatch;
use tweetlake_core::deltalake::arrow::json::ArrayWriter;

use crate::dashboard::{panel_sql, PAGE};
use crate::metrics::ServeMetrics;
use crate::LakeSession;

pub async fn serve(listener: TcpListener, session: LakeSession, metrics: Arc<ServeMetrics>) {
    loop {
        let Ok((mut socket, peer)) = listener.accept().await else {
            continue;
        };
        let (session, metrics) = (session.clone(), metrics.clone());
        tokio::spawn(async move {
            let request = read_head(&mut socket).await;
            let path = request
                .strip_prefix("GET ")
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("");
            let (status, kind, body) = route(path, &session, &metrics).await;
            metrics.http(status.starts_with('2'));
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let sent = async {
                socket.write_all(head.as_bytes()).await?;
                socket.write_all(&body).await
            };
            if let Err(e) = sent.await {
                debug!(%peer, error = %e, "HTTP response failed");
            }
        });
    }
}

/// The request line and headers: read until the blank line (or 16 KB, or the peer stops).
async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

async fn route(
    path: &str,
    session: &LakeSession,
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
            update_lag(session, metrics).await;
            (
                "200 OK",
                "text/plain; version=0.0.4",
                metrics.render().into_bytes(),
            )
        }
        _ => match path.strip_prefix("/api/").and_then(panel_sql) {
            Some(sql) => match rows_json(session, sql).await {
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
async fn rows_json(session: &LakeSession, sql: &str) -> Result<Vec<u8>, String> {
    let df = session.ctx.sql(sql).await.map_err(|e| e.to_string())?;
    let batches: Vec<RecordBatch> = df.collect().await.map_err(|e| e.to_string())?;
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

async fn update_lag(session: &LakeSession, metrics: &ServeMetrics) {
    let Some(sql) = panel_sql("freshness") else {
        return;
    };
    let Ok(body) = rows_json(session, sql).await else {
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
