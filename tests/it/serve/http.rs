//! `serve`'s HTTP side bound beyond loopback: the dashboard, `/api` and `/metrics` ask for the
//! login (HTTP Basic, as a browser prompts for it), `/metrics` also takes its bearer token, a
//! client that sends nothing is cut off, and without a password such an address is refused.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use super::Server;
use crate::support::*;

/// (status code, head, body) of `GET path` with an optional `Authorization` value.
fn get(port: u16, path: &str, authorization: Option<&str>) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = authorization.map_or(String::new(), |a| format!("authorization: {a}\r\n"));
    let request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n{auth}\r\n");
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, head.to_lowercase(), body.to_string())
}

/// `tweetlake:pw` and `tweetlake:no`, as HTTP Basic sends them.
const RIGHT: &str = "Basic dHdlZXRsYWtlOnB3";
const WRONG: &str = "Basic dHdlZXRsYWtlOm5v";

#[test]
fn http_asks_for_the_login_beyond_loopback() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let (pg, http) = (free_port(), free_port());
    let serve = || {
        let mut c = tweetlake(dir);
        c.args(["serve", "--pg-listen", &format!("127.0.0.1:{pg}")])
            .args(["--http-listen", &format!("0.0.0.0:{http}")]);
        c
    };
    // Without a password an address beyond loopback would be open to anyone: refused up front.
    let open = serve().output().unwrap();
    assert!(!open.status.success());
    let why = String::from_utf8_lossy(&open.stderr);
    assert!(
        why.contains("serve.password") && why.contains("0.0.0.0"),
        "{why}"
    );

    let _server = Server(
        serve()
            .env("TWEETLAKE_SERVE__PASSWORD", "pw")
            .env("TWEETLAKE_SERVE__METRICS_TOKEN", "scrape-token")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(wait_until(Duration::from_secs(60), || TcpStream::connect(
        ("127.0.0.1", http)
    )
    .is_ok()));

    // No login: 401 with the challenge that makes a browser ask for one.
    for path in ["/", "/api/tweets_5m", "/metrics"] {
        let (code, head, body) = get(http, path, None);
        assert_eq!(code, 401, "{path}: {head}");
        assert!(
            head.contains("www-authenticate: basic realm=\"tweetlake\""),
            "{head}"
        );
        assert!(!body.contains("<html"), "{path} leaked the page");
    }
    let (code, _, _) = get(http, "/", Some(WRONG));
    assert_eq!(code, 401);
    // The login opens the dashboard and the metrics.
    let (code, _, page) = get(http, "/", Some(RIGHT));
    assert_eq!(code, 200);
    assert!(page.contains("id=\"tweets_5m\""), "not the dashboard page");
    // The token opens /metrics only, as Prometheus scrapes it.
    let bearer = "Bearer scrape-token";
    assert_eq!(get(http, "/", Some(bearer)).0, 401);
    assert_eq!(get(http, "/metrics", Some("Bearer other")).0, 401);
    let (code, _, metrics) = get(http, "/metrics", Some(bearer));
    assert_eq!(code, 200);
    // Three without a login, one wrong password, one token on the page, one wrong token.
    assert!(
        metrics.contains("tweetlake_serve_http_unauthorized_total 6\n"),
        "{metrics}"
    );

    // A client that sends no request is answered 408 and cut off, not held forever (the read
    // below gives up after 60 s; the server's own limit is 10 s).
    let mut idle = TcpStream::connect(("127.0.0.1", http)).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut answer = String::new();
    idle.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
