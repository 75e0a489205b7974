//! The other sources end to end: the X API stream (against the recorded-replay server), the
//! synthetic generator and the filters/routes, into tansu; and `tweetlake rules`.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tweetlake_produce::xapi::playback::{PlaybackServer, Reply, StreamEnd};

use crate::support::*;

/// `GET /metrics` until the body contains `needle` (30 s at most); returns the last body.
fn wait_for_metrics(port: u16, needle: &str) -> String {
    use std::io::{Read, Write};
    let mut body = String::new();
    wait_until(Duration::from_secs(30), || {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n");
        body.clear();
        let _ = s.read_to_string(&mut body);
        body.contains(needle)
    });
    body
}

fn terminate(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// The text the route keywords look at: the full text of a tweet, or of the tweet it retweets.
fn text_of(v: &serde_json::Value) -> String {
    let body = v.get("retweeted_status").unwrap_or(v);
    body["extended_tweet"]["full_text"]
        .as_str()
        .or_else(|| body["full_text"].as_str())
        .or_else(|| body["text"].as_str())
        .unwrap_or_default()
        .to_lowercase()
}

fn chunk(text: String) -> (Duration, Vec<u8>) {
    (Duration::from_millis(20), text.into_bytes())
}

/// The recorded filtered-stream session: the 7 real messages and the truncated line that followed
/// them, with keep-alives, a line split across reads and a dropped connection in between.
#[test]
fn the_x_stream_lands_every_line_byte_for_byte_across_a_drop() {
    let svc = Services::broker();
    svc.topic("tweets", 3);
    let work = tempfile::tempdir().unwrap();
    let recorded = fixture("v2_control_messages.jsonl");
    let text = String::from_utf8(recorded).unwrap();
    let lines: Vec<&str> = text.lines().take(8).collect();
    let (msgs, truncated) = (&lines[..7], lines[7]);
    let (a, b) = msgs[2].split_at(100);
    let server = PlaybackServer::start(vec![(
        "GET",
        "/2/tweets/search/stream?",
        vec![
            Reply::Stream {
                chunks: vec![
                    chunk(format!("{}\r\n\r\n{}\r\n{a}", msgs[0], msgs[1])),
                    chunk(format!("{b}\r\n\r\n{}\r\n{truncated}", msgs[3])),
                ],
                end: StreamEnd::Cut,
            },
            Reply::Stream {
                chunks: vec![chunk(format!(
                    "{}\r\n{}\r\n\r\n{}\r\n",
                    msgs[4], msgs[5], msgs[6]
                ))],
                end: StreamEnd::Silence,
            },
        ],
    )])
    .unwrap();
    let metrics_port = free_port();
    let mut producer = spawn(
        tweetlake(work.path())
            .args(["produce", "--x-stream", "--bootstrap-servers", &svc.broker])
            .args(["--topic", "tweets", "--metrics-listen"])
            .arg(format!("127.0.0.1:{metrics_port}"))
            .env("TWEETLAKE_PRODUCE__X_API__BASE_URL", server.url())
            .env("TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN", "recorded-token")
            .env("TWEETLAKE_PRODUCE__X_API__STALL_TIMEOUT", "30s"),
    );
    let mut expected: Vec<&str> = msgs[..4].to_vec();
    expected.push(truncated);
    expected.extend(&msgs[4..]);
    let got = consume_all(
        &svc.broker,
        "tweets",
        expected.len(),
        Duration::from_secs(60),
    );
    let metrics = wait_for_metrics(metrics_port, "tweetlake_produce_delivered_total 8");
    terminate(&mut producer);
    let out = producer.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let values: Vec<&[u8]> = got.iter().map(|(_, v)| v.as_slice()).collect();
    assert_eq!(values.len(), 8);
    assert_eq!(
        digest(values.into_iter()),
        digest(expected.iter().map(|l| l.as_bytes())),
        "every line as the API sent it, the cut one too"
    );
    for (key, value) in &got {
        let v: Option<serde_json::Value> = serde_json::from_slice(value).ok();
        let id = v.as_ref().and_then(|v| v["data"]["id"].as_str());
        assert_eq!(key.as_deref(), id.map(str::as_bytes), "keyed by tweet id");
    }
    assert!(
        metrics.contains("tweetlake_produce_stream_connects_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tweetlake_produce_stream_truncated_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tweetlake_produce_stream_keep_alives_total 3"),
        "{metrics}"
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].headers["authorization"], "Bearer recorded-token");
}

#[test]
fn rules_commands_and_a_bad_token() {
    let work = tempfile::tempdir().unwrap();
    let server = PlaybackServer::start(vec![
        (
            "GET",
            "/2/tweets/search/stream/rules",
            vec![Reply::json(
                200,
                std::str::from_utf8(&fixture("x_api/get_rules.json")).unwrap(),
            )],
        ),
        (
            "POST",
            "/2/tweets/search/stream/rules",
            vec![Reply::json(
                200,
                std::str::from_utf8(&fixture("x_api/post_rules.json")).unwrap(),
            )],
        ),
    ])
    .unwrap();
    let rules = |args: &[&str], token: &str| {
        let mut c = tweetlake(work.path());
        c.arg("rules").args(args);
        c.env("TWEETLAKE_PRODUCE__X_API__BASE_URL", server.url());
        if !token.is_empty() {
            c.env("TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN", token);
        }
        c.output().unwrap()
    };
    let out = rules(&["list"], "t");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1165037377523306497\tdog pictures\tdog has:images\n\
         1165037377523306498\t-\tcat has:images -grumpy\n"
    );
    let out = rules(&["add", "meme", "--tag", "funny things", "--dry-run"], "t");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("dry run: {\"created\":4"));
    let seen = server.requests();
    assert_eq!(
        seen.last().unwrap().target,
        "/2/tweets/search/stream/rules?dry_run=true"
    );

    let out = rules(&["list"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN"),
        "{err}"
    );

    let refusing = PlaybackServer::start(vec![(
        "GET",
        "/",
        vec![Reply::json(
            401,
            r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
        )],
    )])
    .unwrap();
    let out = tweetlake(work.path())
        .args([
            "produce",
            "--x-stream",
            "--bootstrap-servers",
            "127.0.0.1:1",
        ])
        .env("TWEETLAKE_PRODUCE__X_API__BASE_URL", refusing.url())
        .env("TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN", "expired-token")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refused the bearer token (HTTP 401: Unauthorized)"),
        "{err}"
    );
    assert!(
        !err.contains("expired-token"),
        "the token is never shown: {err}"
    );
}

/// Same seed, same messages; the truth file agrees with what landed in Kafka.
#[test]
fn the_generator_is_deterministic_and_its_truth_matches_kafka() {
    let svc = Services::broker();
    svc.topic("gen.a", 3);
    svc.topic("gen.b", 3);
    let work = tempfile::tempdir().unwrap();
    let generate = |topic: &str, truth: &str| {
        run_ok(
            tweetlake(work.path())
                .args(["produce", "--synthetic", "3000", "--seed", "11"])
                .args(["--users", "300", "--topic", topic, "--truth", truth])
                .args([
                    "--noise",
                    "deletes=0.02,duplicates=0.02,limits=0.01,malformed=0.01",
                ])
                .args(["--bootstrap-servers", &svc.broker]),
        )
    };
    generate("gen.a", "truth_a.csv");
    generate("gen.b", "truth_b.csv");
    let a = consume_all(&svc.broker, "gen.a", 3000, Duration::from_secs(60));
    let b = consume_all(&svc.broker, "gen.b", 3000, Duration::from_secs(60));
    assert!(a.len() > 3000, "noise comes on top: {}", a.len());
    let sorted = |m: &[(Option<Vec<u8>>, Vec<u8>)]| {
        let mut m = m.to_vec();
        m.sort();
        m
    };
    assert!(sorted(&a) == sorted(&b), "same seed, same messages");
    let truth_a = std::fs::read_to_string(work.path().join("truth_a.csv")).unwrap();
    assert_eq!(
        truth_a,
        std::fs::read_to_string(work.path().join("truth_b.csv")).unwrap()
    );

    // From Kafka: distinct geo-tagged tweets not deleted, per city.
    let mut deleted = HashSet::new();
    let mut cities: BTreeMap<String, BTreeMap<String, ()>> = BTreeMap::new();
    for (_, value) in &a {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(value) else {
            continue;
        };
        if let Some(id) = v["delete"]["status"]["id_str"].as_str() {
            deleted.insert(id.to_string());
        } else if let Some(city) = v["place"]["full_name"].as_str() {
            let id = v["id_str"].as_str().unwrap().to_string();
            cities.entry(city.to_string()).or_default().insert(id, ());
        }
    }
    let mut from_kafka: BTreeMap<String, u64> = BTreeMap::new();
    for (city, ids) in cities {
        let n = ids.keys().filter(|id| !deleted.contains(*id)).count() as u64;
        if n > 0 {
            from_kafka.insert(city, n);
        }
    }
    let mut from_truth: BTreeMap<String, u64> = BTreeMap::new();
    for row in truth_a.lines().skip(1) {
        let (city, rest) = row[1..].split_once("\",").unwrap();
        let tweets: u64 = rest.split(',').nth(1).unwrap().parse().unwrap();
        *from_truth.entry(city.replace("\"\"", "\"")).or_default() += tweets;
    }
    assert!(from_truth.len() > 10);
    assert_eq!(from_truth, from_kafka);
}

/// The AI keyword set routes to tweets.ai, the rest to tweets.generic; a language filter drops
/// what it should and nothing else is lost.
#[test]
fn filters_and_routes_split_a_replay() {
    let svc = Services::broker();
    svc.topic("tweets.ai", 1);
    svc.topic("tweets.generic", 1);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("tweetlake.toml"),
        "[produce]\ntopic = \"tweets.generic\"\n\
         [produce.filter]\nlang = [\"en\", \"und\"]\n\
         [[produce.routes]]\ntopic = \"tweets.ai\"\nkeywords = [\"twitter\"]\n",
    )
    .unwrap();
    let file = repo_root().join("tests/fixtures/v1_mixed_tweets.jsonl");
    let out = run_ok(
        tweetlake(work.path())
            .args(["produce", "--bootstrap-servers", &svc.broker, "--file"])
            .arg(&file),
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kept: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|v| matches!(v["lang"].as_str(), Some("en" | "und")))
        .collect();
    let ai = consume_all(&svc.broker, "tweets.ai", 1, Duration::from_secs(30));
    let generic = consume_all(&svc.broker, "tweets.generic", 1, Duration::from_secs(30));
    assert_eq!(ai.len() + generic.len(), kept.len(), "{out}");
    assert!(
        out.contains(&format!("({} filtered out)", lines.len() - kept.len())),
        "{out}"
    );
    assert!(!ai.is_empty() && !generic.is_empty());
    let word = |v: &serde_json::Value| {
        let text = text_of(v);
        let hashtags = v.get("retweeted_status").unwrap_or(v)["entities"]["hashtags"].to_string();
        text.split(|c: char| !c.is_alphanumeric())
            .any(|w| w == "twitter")
            || hashtags.to_lowercase().contains("\"twitter\"")
    };
    for (_, value) in &ai {
        let v: serde_json::Value = serde_json::from_slice(value).unwrap();
        assert!(
            word(&v),
            "routed to tweets.ai without the keyword: {}",
            text_of(&v)
        );
    }
    for (_, value) in &generic {
        let v: serde_json::Value = serde_json::from_slice(value).unwrap();
        assert!(!word(&v), "the keyword, yet not routed: {}", text_of(&v));
    }
}
