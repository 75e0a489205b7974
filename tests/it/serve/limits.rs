//! `serve` under load and past its limits, through `psql`: a Grafana-sized pool runs every
//! dashboard query for a minute while the lake moves under it, and a statement past a limit
//! (memory, time, rows, connections) fails alone with its SQLSTATE while other sessions, and its
//! own connection, go on.

use std::io::Write;
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{build_lake, psql, start_serve};
use crate::support::*;

/// A `psql` session fed `script` on stdin, errors verbose (with their SQLSTATE), not stopping at
/// the first error. It ends after the script; a held one stays connected until it is waited on.
fn session(pg: u16, password: &str, script: &str) -> Child {
    open_session(pg, password, script, false)
}

fn open_session(pg: u16, password: &str, script: &str, hold: bool) -> Child {
    let mut child = psql_command(pg, password)
        .args(["-q", "-v", "VERBOSITY=verbose"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    if hold {
        child.stdin = Some(stdin);
    }
    child
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_pool_of_eight_runs_every_dashboard_query_for_a_minute_while_the_lake_moves() {
    let svc = Services::broker();
    svc.topic("tweets", 2);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    build_lake(dir, &svc.broker);
    let (pg, http) = (free_port(), free_port());
    let password = "pool-password";
    // Reloaded every second, so that the pool's queries meet table reloads all the time.
    let _server = start_serve(
        dir,
        pg,
        http,
        &[
            ("TWEETLAKE_SERVE__PASSWORD", password),
            ("TWEETLAKE_SERVE__REFRESH_SECONDS", "1"),
        ],
    );

    let queries = dashboard_queries("2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z");
    let stop = Arc::new(AtomicBool::new(false));
    let pool: Vec<_> = (0..8)
        .map(|i| {
            let (queries, stop) = (queries.clone(), stop.clone());
            let log = dir.join(format!("pool-{i}.log"));
            std::thread::spawn(move || dashboard_client(pg, password, queries, stop, log))
        })
        .collect();
    // The lake moves under the pool: new tweets through every layer, as the timers would.
    let models = repo_root().join("sql");
    let started = Instant::now();
    let mut rounds = 0;
    while started.elapsed() < Duration::from_secs(60) {
        rounds += 1;
        run_ok(tweetlake(dir).args([
            "produce",
            "--bootstrap-servers",
            &svc.broker,
            "--topic",
            "tweets",
            "--synthetic",
            "40",
            "--seed",
            &(100 + rounds).to_string(),
            "--per-second",
            "0.5",
        ]));
        run_ok(tweetlake(dir).args([
            "--bootstrap-servers",
            &svc.broker,
            "ingest",
            "--until-caught-up",
        ]));
        run_ok(tweetlake(dir).args(["promote", "silver"]));
        run_ok(tweetlake(dir).args(["promote", "gold", "--models-dir", models.to_str().unwrap()]));
    }
    stop.store(true, Ordering::Relaxed);
    let (mut sent, mut answered, mut errors) = (0, 0, 0);
    for client in pool {
        let (s, a, e) = client.join().unwrap();
        sent += s;
        answered += a;
        errors += e;
    }
    eprintln!(
        "pool: {sent} queries sent, {answered} answered, {errors} errors, {rounds} promotions"
    );
    assert_eq!(errors, 0, "dashboard queries failed (see the lines above)");
    assert_eq!(answered, sent);
    assert!(
        sent >= 8 * queries.len() as u64 * 50,
        "the pool ran only {sent} queries in a minute"
    );

    // The pool's endpoint shows the moved lake once it reloads.
    let want = sql_csv_rows(&mut tweetlake(dir), "SELECT count(*) FROM silver.tweets");
    let want = want.first().cloned().unwrap_or_default();
    let mut seen = String::new();
    let caught_up = wait_until(Duration::from_secs(20), || {
        let out = psql(pg, password, "SELECT count(*) FROM silver.tweets");
        seen = String::from_utf8_lossy(&out.stdout).trim().to_string();
        seen == want
    });
    assert!(
        caught_up,
        "serve shows {seen} silver tweets, the lake has {want}"
    );
}

#[test]
fn a_statement_over_a_limit_fails_alone_and_its_connection_goes_on() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (pg, http) = (free_port(), free_port());
    let password = "limits-password";
    let _server = start_serve(
        dir,
        pg,
        http,
        &[
            ("TWEETLAKE_SERVE__PASSWORD", password),
            ("TWEETLAKE_SERVE__AUTH", "md5"),
            ("TWEETLAKE_SERVE__QUERY_MEMORY_MB", "32"),
            ("TWEETLAKE_SERVE__MEMORY_MB", "64"),
            ("TWEETLAKE_SERVE__STATEMENT_TIMEOUT_SECONDS", "3"),
            ("TWEETLAKE_SERVE__MAX_RESULT_ROWS", "1000"),
            ("TWEETLAKE_SERVE__MAX_CONNECTIONS", "4"),
        ],
    );

    // Memory: a full sort of 5M rows needs far more than 32 MiB and may not spill. One session
    // runs it three times, then a small query; beside it, other sessions' small queries answer.
    let sort = "SELECT v FROM generate_series(1, 5000000) t(v) ORDER BY v DESC OFFSET 4999999;\n";
    let mut big = session(pg, password, &format!("{sort}{sort}{sort}SELECT 42;\n"));
    let mut beside = 0;
    while big.try_wait().unwrap().is_none() {
        let out = psql(
            pg,
            password,
            "SELECT sum(v) FROM generate_series(1, 1000) t(v)",
        );
        let (stdout, stderr) = text(&out);
        assert!(
            out.status.success(),
            "a small query beside the big one failed: {stderr}"
        );
        assert_eq!(stdout.trim(), "500500");
        beside += 1;
    }
    let (stdout, stderr) = text(&big.wait_with_output().unwrap());
    assert_eq!(stderr.matches("ERROR:  53200").count(), 3, "{stderr}");
    assert!(
        stderr.contains("serve.query_memory_mb (32 MiB)"),
        "{stderr}"
    );
    assert_eq!(
        stdout.trim(),
        "42",
        "the session goes on after the memory error"
    );
    assert!(beside > 0, "no small query ran beside the big one");

    // Time: the server's 3 s, or the client's own shorter `SET statement_timeout`. The cross join
    // would run for hours; each error names the deadline that stopped it. (No wall-clock bound is
    // asserted: on a loaded 2-core machine the rest of the session's work stretches.)
    let cross = "SELECT count(*) FROM generate_series(1, 100000) a CROSS JOIN generate_series(1, 100000) b;\n";
    let timed = session(
        pg,
        password,
        &format!("{cross}SELECT 43;\nSET statement_timeout = '1s';\n{cross}SELECT 44;\n"),
    );
    let (stdout, stderr) = text(&timed.wait_with_output().unwrap());
    assert_eq!(stderr.matches("ERROR:  57014").count(), 2, "{stderr}");
    assert!(stderr.contains("statement timeout (3 s"), "{stderr}");
    assert!(stderr.contains("statement timeout (1 s"), "{stderr}");
    assert_eq!(stdout.split_whitespace().collect::<Vec<_>>(), ["43", "44"]);

    // Rows: 1,000 pass, 5,000 are refused.
    let rows = session(
        pg,
        password,
        "SELECT * FROM generate_series(1, 1000);\nSELECT * FROM generate_series(1, 5000);\n",
    );
    let (stdout, stderr) = text(&rows.wait_with_output().unwrap());
    assert!(stderr.contains("ERROR:  54000"), "{stderr}");
    assert!(
        stdout.lines().count() >= 1000,
        "the 1,000 rows did not arrive"
    );

    // Connections: with 4 open, a fifth is refused; once they close, logins work again.
    let held: Vec<Child> = (0..4)
        .map(|_| open_session(pg, password, "SELECT 1;\n", true))
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let fifth = psql(pg, password, "SELECT 1");
    let (_, stderr) = text(&fifth);
    assert!(!fifth.status.success());
    assert!(stderr.contains("too many clients"), "{stderr}");
    for child in held {
        // Closing stdin ends each session.
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
    }
    assert!(wait_until(Duration::from_secs(10), || psql(
        pg, password, "SELECT 1"
    )
    .status
    .success()));

    let metrics = super::http_get(http, "/metrics");
    assert!(
        metrics.contains("tweetlake_serve_limited_total 6\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tweetlake_serve_connections_refused_total 1\n"),
        "{metrics}"
    );
}
