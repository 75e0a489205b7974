//! `tweetlake serve` end to end over a lake built by the real pipeline: Debian's `psql` logs in
//! with the password, lists the tables, runs a gold query and is refused a write; the dashboard
//! JSON and `/metrics` answer; headless Chromium draws every panel from data and keeps a
//! screenshot.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

mod http;
mod limits;

fn psql(port: u16, password: &str, sql: &str) -> std::process::Output {
    psql_command(port, password)
        .args([
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            "VERBOSITY=verbose",
            "-c",
            sql,
        ])
        .output()
        .expect("run psql (scripts/install-deps.sh installs postgresql-client)")
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n");
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// Kills the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn build_lake(dir: &Path, broker: &str) {
    run_ok(tweetlake(dir).args([
        "produce",
        "--bootstrap-servers",
        broker,
        "--topic",
        "tweets",
        "--synthetic",
        "400",
        "--seed",
        "9",
        "--per-second",
        "0.5",
        "--geo-share",
        "0.6",
    ]));
    run_ok(tweetlake(dir).args(["--bootstrap-servers", broker, "ingest", "--until-caught-up"]));
    run_ok(tweetlake(dir).args(["promote", "silver"]));
    let models = repo_root().join("sql");
    run_ok(tweetlake(dir).args(["promote", "gold", "--models-dir", models.to_str().unwrap()]));
}

/// Starts `tweetlake serve` in `dir` on loopback with `env`, and waits until psql logs in.
fn start_serve(dir: &std::path::Path, pg: u16, http: u16, env: &[(&str, &str)]) -> Server {
    let mut cmd = tweetlake(dir);
    cmd.args(["serve", "--pg-listen", &format!("127.0.0.1:{pg}")])
        .args(["--http-listen", &format!("127.0.0.1:{http}")])
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn().unwrap());
    let password = env
        .iter()
        .find(|(k, _)| *k == "TWEETLAKE_SERVE__PASSWORD")
        .map_or("", |(_, v)| v);
    assert!(
        wait_until(Duration::from_secs(60), || psql(pg, password, "SELECT 1")
            .status
            .success()),
        "tweetlake serve did not accept a psql login"
    );
    server
}

#[test]
fn psql_grafana_queries_dashboard_and_metrics() {
    let svc = Services::broker();
    svc.topic("tweets", 2);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    build_lake(dir, &svc.broker);
    let expected = run_ok(tweetlake(dir).args([
        "sql",
        "-f",
        "csv",
        "SELECT count(*) AS n, sum(tweets) AS t FROM gold.tweets_per_city_5m",
    ]));
    let (rows, tweets) = expected.lines().nth(1).unwrap().split_once(',').unwrap();

    let (pg, http) = (free_port(), free_port());
    let password = "s3cret-for-tests";
    let _server = start_serve(dir, pg, http, &[("TWEETLAKE_SERVE__PASSWORD", password)]);

    // A gold query gives what `tweetlake sql` gives.
    let out = psql(
        pg,
        password,
        "SELECT count(*), sum(tweets) FROM gold.tweets_per_city_5m",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{rows}|{tweets}")
    );
    // psql's own catalog queries (\dt) and the ones Grafana's table picker sends.
    let listed = psql(pg, password, "\\dt gold.*");
    let listed = String::from_utf8_lossy(&listed.stdout);
    for t in [
        "lake_freshness",
        "sentiment_per_minute",
        "top_entities_daily",
        "top_hashtags_hourly",
        "tweets_per_city_5m",
    ] {
        assert!(listed.contains(&format!("gold|{t}|table")), "{listed}");
    }
    let grafana = psql(
        pg,
        password,
        "SELECT table_schema || '.' || table_name FROM information_schema.tables \
         WHERE table_schema = 'gold' ORDER BY 1",
    );
    assert_eq!(String::from_utf8_lossy(&grafana.stdout).lines().count(), 5);
    let columns = psql(
        pg,
        password,
        "SELECT column_name, data_type FROM information_schema.columns \
         WHERE table_schema = 'gold' AND table_name = 'tweets_per_city_5m' ORDER BY ordinal_position",
    );
    let columns = String::from_utf8_lossy(&columns.stdout);
    assert!(columns.starts_with("window_start|Timestamp"), "{columns}");

    // Every query of the shipped Grafana dashboard, with `$__timeFilter` expanded as Grafana's
    // PostgreSQL data source does, returns rows.
    let dashboard: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("docs/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        let sql = panel["targets"][0]["rawSql"].as_str().unwrap();
        // A range that holds every test tweet.
        let sql = expand_time_filter(sql, "2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z");
        let out = psql(pg, password, &sql);
        assert!(
            out.status.success(),
            "{}: {}",
            panel["title"],
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).trim().is_empty(),
            "{} returned no rows",
            panel["title"]
        );
    }

    // Nothing writes, also where the write hides inside the plan; a wrong password gets nothing.
    let leak = dir.join("leak.csv");
    let copy = format!(
        "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{}'",
        leak.display()
    );
    for write in [
        "DELETE FROM gold.lake_freshness",
        "INSERT INTO gold.lake_freshness SELECT * FROM gold.lake_freshness",
        "CREATE TABLE gold.x AS SELECT 1",
        "DROP TABLE gold.lake_freshness",
        "EXPLAIN ANALYZE INSERT INTO gold.lake_freshness SELECT * FROM gold.lake_freshness",
        &copy,
        "SELECT 1 AS x INTO leaked",
        "SET datafusion.execution.batch_size = 1",
    ] {
        let out = psql(pg, password, write);
        assert!(!out.status.success(), "{write} was not refused");
        let why = String::from_utf8_lossy(&out.stderr);
        assert!(
            why.contains("ERROR:  25006") && why.contains("read-only"),
            "{write}: {why}"
        );
    }
    assert_eq!(
        String::from_utf8_lossy(
            &psql(pg, password, "SELECT count(*) FROM gold.lake_freshness").stdout
        )
        .trim(),
        "3"
    );
    assert!(
        !leak.exists(),
        "COPY under EXPLAIN wrote {}",
        leak.display()
    );
    let tables = psql(
        pg,
        password,
        "SELECT table_name FROM information_schema.tables",
    );
    assert!(!String::from_utf8_lossy(&tables.stdout).contains("leaked"));
    let wrong = psql(pg, "not-the-password", "SELECT 1");
    assert!(!wrong.status.success());
    let why = String::from_utf8_lossy(&wrong.stderr).to_lowercase();
    assert!(why.contains("password authentication failed"), "{why}");

    // 32 logins at once, as a connection pool opens them: each is salted on its own, so all
    // succeed with the right password and all fail with a wrong one.
    let at_once = |password: &str| -> Vec<bool> {
        let logins: Vec<std::process::Child> = (0..32)
            .map(|_| {
                psql_command(pg, password)
                    .args(["-c", "SELECT 1"])
                    .env("PGCONNECT_TIMEOUT", "20")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        logins
            .into_iter()
            .map(|mut c| c.wait().unwrap().success())
            .collect()
    };
    assert!(
        at_once(password).iter().all(|ok| *ok),
        "a parallel login failed"
    );
    assert!(
        at_once("wrong").iter().all(|ok| !ok),
        "a wrong password got in"
    );

    // The dashboard's JSON is gold's data.
    let api: Vec<serde_json::Value> =
        serde_json::from_str(&http_get(http, "/api/tweets_5m")).unwrap();
    let total: i64 = api.iter().map(|r| r["tweets"].as_i64().unwrap()).sum();
    assert!(api.len() <= 288 && total > 0);
    if api.len() < 288 {
        assert_eq!(total.to_string(), tweets);
    }
    let metrics = http_get(http, "/metrics");
    assert!(
        metrics.contains("tweetlake_serve_refused_total 8"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tweetlake_lake_lag_seconds{layer=\"silver\"}"),
        "{metrics}"
    );

    // Headless Chromium draws every panel from the data.
    let chromium = |extra: &[&str]| {
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--virtual-time-budget=10000",
            ])
            .args(extra)
            .arg(format!("http://127.0.0.1:{http}/"))
            .stderr(Stdio::null())
            .output()
            .expect("run chromium (scripts/install-deps.sh installs it)")
    };
    let dom = String::from_utf8_lossy(&chromium(&["--dump-dom"]).stdout).into_owned();
    assert!(
        dom.contains("data-loaded=\"true\""),
        "the page did not finish loading"
    );
    for panel in [
        "tweets_5m",
        "top_places",
        "sentiment",
        "hashtags",
        "entities",
        "freshness",
    ] {
        let at = dom
            .find(&format!("id=\"{panel}\""))
            .unwrap_or_else(|| panic!("no panel {panel}"));
        let tag = &dom[at..at + dom[at..].find('>').unwrap()];
        let drawn: usize = tag
            .split("data-rows=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(drawn > 0, "panel {panel} drew no rows: {tag}");
    }
    assert_eq!(
        dom.matches("class=\"series\"").count(),
        5,
        "two lines of tweets, three of sentiment"
    );
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let out = chromium(&[
        "--window-size=1280,1100",
        &format!("--screenshot={}", shot.display()),
    ]);
    assert!(out.status.success());
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot {}",
        shot.display()
    );
    eprintln!("dashboard screenshot: {}", shot.display());
}

/// With `serve.tls_cert`/`tls_key` psql can require TLS; files that are not PEM stop the command.
#[test]
fn serve_speaks_tls_and_refuses_bad_tls_files() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (other_cert, other_key) = (dir.join("other-cert.pem"), dir.join("other-key.pem"));
    for (cert, key) in [(&cert, &key), (&other_cert, &other_key)] {
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=127.0.0.1"])
            .arg("-keyout")
            .arg(key)
            .arg("-out")
            .arg(cert)
            .output()
            .expect("run openssl (scripts/install-deps.sh installs it)");
        assert!(made.status.success());
    }
    let (pg, http) = (free_port(), free_port());
    // A certificate with another certificate's key: refused, never served as plain text.
    let mismatched = tweetlake(dir)
        .args(["serve", "--pg-listen", &format!("127.0.0.1:{pg}")])
        .args(["--http-listen", &format!("127.0.0.1:{http}")])
        .env("TWEETLAKE_SERVE__PASSWORD", "pw")
        .env("TWEETLAKE_SERVE__TLS_CERT", &cert)
        .env("TWEETLAKE_SERVE__TLS_KEY", &other_key)
        .output()
        .unwrap();
    assert!(!mismatched.status.success());
    let why = String::from_utf8_lossy(&mismatched.stderr);
    assert!(
        why.contains("serve.tls_key") && why.contains("cannot serve"),
        "{why}"
    );
    let serve = |cert: &Path| {
        let mut c = tweetlake(dir);
        c.args([
            "serve",
            "--pg-listen",
            &format!("127.0.0.1:{pg}"),
            "--http-listen",
            &format!("127.0.0.1:{http}"),
        ])
        .env("TWEETLAKE_SERVE__PASSWORD", "pw")
        .env("TWEETLAKE_SERVE__TLS_CERT", cert)
        .env("TWEETLAKE_SERVE__TLS_KEY", &key);
        c
    };
    // A key given as the certificate: refused before anything listens.
    let out = serve(&key).output().unwrap();
    assert!(!out.status.success());
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("serve.tls_cert") && why.contains("CERTIFICATE"),
        "{why}"
    );

    let _server = Server(serve(&cert).stdout(Stdio::null()).spawn().unwrap());
    let conninfo = || {
        Command::new("psql")
            .arg(format!(
                "host=127.0.0.1 port={pg} user=tweetlake dbname=tweetlake sslmode=require"
            ))
            .args(["-X", "-c", "\\conninfo"])
            .env("PGPASSWORD", "pw")
            .output()
            .unwrap()
    };
    let mut last = String::new();
    let ok = wait_until(Duration::from_secs(60), || {
        let out = conninfo();
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out.status.success()
    });
    assert!(ok, "{last}");
    assert!(last.contains("SSL connection (protocol: TLSv1."), "{last}");
}

/// `tweetlake run`: one process ingests what arrives, promotes silver and gold on its schedule and
/// serves them; gold reaches the generator's truth while it runs, and SIGTERM stops it cleanly.
#[test]
fn run_keeps_gold_current_and_stops_on_sigterm() {
    let svc = Services::broker();
    svc.topic("tweets", 2);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (pg, http) = (free_port(), free_port());
    let models = repo_root().join("sql");
    let mut run = tweetlake(dir);
    run.args(["--bootstrap-servers", &svc.broker, "run"])
        .env("TWEETLAKE_RUN__PROMOTE_EVERY_SECONDS", "2")
        .env("TWEETLAKE_SILVER__NER__ENABLED", "false")
        .env("TWEETLAKE_GOLD__MODELS_DIR", models.to_str().unwrap())
        .env("TWEETLAKE_SERVE__PG_LISTEN", format!("127.0.0.1:{pg}"))
        .env("TWEETLAKE_SERVE__HTTP_LISTEN", format!("127.0.0.1:{http}"))
        .env("TWEETLAKE_SERVE__REFRESH_SECONDS", "1")
        .env("TWEETLAKE_BRONZE__FLUSH__MAX_LATENCY", "1s")
        .stdout(Stdio::null());
    let mut server = Server(run.spawn().unwrap());

    let truth = dir.join("truth.csv");
    run_ok(tweetlake(dir).args([
        "produce",
        "--bootstrap-servers",
        &svc.broker,
        "--topic",
        "tweets",
        "--synthetic",
        "300",
        "--seed",
        "4",
        "--per-second",
        "0.5",
        "--geo-share",
        "0.6",
        "--noise",
        "deletes=0.03,duplicates=0.03",
        "--truth",
        truth.to_str().unwrap(),
    ]));
    let (rows, tweets) = truth_totals(&truth);
    let want = format!("{rows}|{tweets}");
    let mut last = String::new();
    let reached = wait_until(Duration::from_secs(180), || {
        let out = psql(
            pg,
            "",
            "SELECT count(*), sum(tweets) FROM gold.tweets_per_city_5m",
        );
        last = String::from_utf8_lossy(&out.stdout).trim().to_string();
        last == want
    });
    assert!(
        reached,
        "gold never reached the truth file: {last} != {want}"
    );

    // SIGTERM: everything stops, the ingester's commit included, and the process exits 0.
    let status = stop_with_sigterm(&mut server.0);
    assert!(status.success(), "{status}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", pg)).is_err(),
        "the Postgres endpoint is still up"
    );
}
