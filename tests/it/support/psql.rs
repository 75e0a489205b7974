//! Grafana's side of the tests: Debian's `psql`, as one-off logins and as long-lived sessions (a
//! connection pool's) that run every query of `docs/grafana-dashboard.json` each second.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{expand_time_filter, repo_root};

/// `psql` logged in to `tweetlake serve` on `pg` as `tweetlake` with `password`: no psqlrc,
/// unaligned, tuples only, 10 s to connect.
pub fn psql_command(pg: u16, password: &str) -> Command {
    let mut psql = Command::new("psql");
    psql.args(["-h", "127.0.0.1", "-p", &pg.to_string(), "-U", "tweetlake"])
        .args(["-d", "tweetlake", "-X", "-A", "-t"])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10");
    psql
}

/// A port nothing listens on yet.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One dashboard client: a long-lived `psql` session (as a pool connection is) that runs every
/// dashboard query once a second until `stop`. Returns (queries sent, answered, errors); each
/// error line is printed.
pub fn dashboard_client(
    pg: u16,
    password: &str,
    queries: Vec<String>,
    stop: Arc<AtomicBool>,
    log: PathBuf,
) -> (u64, u64, u64) {
    let err_log = log.with_extension("err");
    let mut psql = psql_command(pg, password)
        .arg("-q")
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(&err_log).unwrap())
        .spawn()
        .expect("psql");
    let mut stdin = psql.stdin.take().unwrap();
    let mut sent = 0;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        for q in &queries {
            if writeln!(stdin, "{q};\n\\echo __answered__").is_err() {
                break;
            }
            sent += 1;
        }
        let _ = stdin.flush();
        std::thread::sleep(Duration::from_secs(1).saturating_sub(started.elapsed()));
    }
    drop(stdin);
    let _ = psql.wait();
    let answered = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("__answered__")
        .count() as u64;
    let text = std::fs::read_to_string(&err_log).unwrap_or_default();
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ERROR") || l.contains("FATAL") || l.contains("connection"))
        .collect();
    for line in &failed {
        eprintln!("dashboard client: {line}");
    }
    (sent, answered, failed.len() as u64)
}

/// Whether one query answers (a fresh connection, no password).
pub fn psql_once(pg: u16, sql: &str) -> bool {
    psql_command(pg, "")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The dashboard's queries, one line each, with Grafana's `$__timeFilter` over `from`..`to`.
pub fn dashboard_queries(from: &str, to: &str) -> Vec<String> {
    let dashboard: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("docs/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    dashboard["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["targets"][0]["rawSql"].as_str())
        .map(|sql| {
            let sql = sql.trim().trim_end_matches(';');
            expand_time_filter(sql, from, to).replace('\n', " ")
        })
        .collect()
}
