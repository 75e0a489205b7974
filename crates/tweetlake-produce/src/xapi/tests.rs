//! The client against [`PlaybackServer`] replaying recorded stream bytes: the real filtered-stream
//! messages of `tests/fixtures/v2_control_messages.jsonl` (with the truncated line that followed
//! them) and the rules API responses in `tests/fixtures/x_api/`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tweetlake_core::config::{Secret, XApiConfig};

use super::playback::{PlaybackServer, Reply, StreamEnd};
use super::stream::{follow, BackoffPolicy, LineFramer, StreamMetrics, StreamSettings};
use super::{XApiClient, XApiError};

const STREAM: &str = include_str!("../../../../tests/fixtures/v2_control_messages.jsonl");
const GET_RULES: &str = include_str!("../../../../tests/fixtures/x_api/get_rules.json");
const POST_RULES: &str = include_str!("../../../../tests/fixtures/x_api/post_rules.json");
const DELETE_RULES: &str = include_str!("../../../../tests/fixtures/x_api/delete_rules.json");
const DELETE_ERROR: &str = include_str!("../../../../tests/fixtures/x_api/delete_error.json");
// The API's documented problem bodies for these statuses.
const UNAUTHORIZED: &str =
    r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#;
const TOO_MANY: &str = r#"{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}"#;
const DISCONNECT: &str = r#"{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.twitter.com/2/problems/operational-disconnect"}]}"#;

/// The 7 recorded stream messages and the truncated line after them.
fn recorded() -> (Vec<&'static str>, &'static str) {
    let lines: Vec<&str> = STREAM.lines().collect();
    assert!(lines[..7].iter().all(|l| l.contains("matching_rules")));
    assert!(serde_json::from_str::<serde_json::Value>(lines[7]).is_err());
    (lines[..7].to_vec(), lines[7])
}

fn client(url: &str, token: &str) -> XApiClient {
    let config = XApiConfig {
        base_url: url.to_string(),
        bearer_token: Some(Secret::new(token)),
        ..Default::default()
    };
    XApiClient::new(&config).unwrap()
}

fn settings(backfill_minutes: u32) -> StreamSettings {
    StreamSettings {
        stall_timeout: Duration::from_millis(800),
        backfill_minutes,
        backoff: BackoffPolicy {
            network_step: Duration::from_millis(10),
            network_max: Duration::from_millis(50),
            http_start: Duration::from_millis(100),
            http_max: Duration::from_millis(400),
            rate_limit_start: Duration::from_millis(300),
            rate_limit_max: Duration::from_secs(1),
        },
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn chunk(text: &str) -> (Duration, Vec<u8>) {
    (Duration::from_millis(5), text.as_bytes().to_vec())
}

#[test]
fn framer_joins_lines_split_anywhere() {
    let bytes = STREAM.replace('\n', "\r\n\r\n");
    let expected: Vec<&str> = STREAM.lines().filter(|l| !l.is_empty()).collect();
    for size in [1, 2, 7, 64, 1000, bytes.len()] {
        let mut framer = LineFramer::default();
        let mut got = Vec::new();
        for piece in bytes.as_bytes().chunks(size) {
            framer.push(piece, |l| {
                if !l.is_empty() {
                    got.push(String::from_utf8(l.to_vec()).unwrap())
                }
            });
        }
        assert_eq!(framer.take_rest(), None);
        assert!(got == expected, "chunk size {size}: {} lines", got.len());
    }
}

/// A stream as it really goes: a line split across reads, keep-alives, a drop inside a line, 429,
/// a 503, a stall, an operational disconnect. Every message arrives once, byte for byte, the cut
/// line too; the backoffs are waited; every connection, the first after a start included, asks
/// for backfill.
#[test]
fn follows_the_stream_across_drops_stalls_and_rate_limits() {
    let (msgs, truncated) = recorded();
    let (m2a, m2b) = msgs[1].split_at(msgs[1].len() / 2);
    let server = PlaybackServer::start(vec![(
        "GET",
        "/2/tweets/search/stream?",
        vec![
            Reply::Stream {
                chunks: vec![
                    chunk(&format!("{}\r\n{m2a}", msgs[0])),
                    chunk(&format!("{m2b}\r\n\r\n")),
                    chunk(&format!("{}\r\n{truncated}", msgs[2])),
                ],
                end: StreamEnd::Cut,
            },
            Reply::json(429, TOO_MANY),
            Reply::json(503, r#"{"title":"Service Unavailable"}"#),
            Reply::Stream {
                chunks: vec![
                    chunk(&format!("{}\r\n\r\n{}\r\n", msgs[3], msgs[4])),
                    chunk("\r\n"),
                ],
                end: StreamEnd::Silence,
            },
            Reply::Stream {
                chunks: vec![chunk(&format!("{}\r\n{DISCONNECT}\r\n", msgs[5]))],
                end: StreamEnd::Close,
            },
            Reply::Stream {
                chunks: vec![chunk(&format!("{}\r\n", msgs[6]))],
                end: StreamEnd::Silence,
            },
        ],
    )])
    .unwrap();
    let c = client(&server.url(), "test-token");
    let metrics = StreamMetrics::default();
    let stop = AtomicBool::new(false);
    let mut got: Vec<String> = Vec::new();
    let result = runtime().block_on(follow(&c, &settings(2), &metrics, &stop, |line| {
        got.push(String::from_utf8(line).unwrap());
        if got.len() == 10 {
            stop.store(true, Ordering::Relaxed);
        }
    }));
    result.unwrap();
    // The last reply repeats: after the second stall the reconnect gets msgs[6] again, as a
    // resent stream would (silver deduplicates by id).
    let mut expected: Vec<&str> = vec![msgs[0], msgs[1], msgs[2], truncated, msgs[3], msgs[4]];
    expected.extend([msgs[5], DISCONNECT, msgs[6], msgs[6]]);
    assert_eq!(got, expected);

    let m = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    assert_eq!(m(&metrics.connects), 5);
    assert_eq!(m(&metrics.rate_limited), 1);
    assert_eq!(m(&metrics.http_errors), 1);
    assert_eq!(m(&metrics.stalls), 2);
    assert_eq!(m(&metrics.truncated), 1);
    assert_eq!(m(&metrics.keep_alives), 3);

    let seen = server.requests();
    assert_eq!(
        seen.len(),
        7,
        "{:?}",
        seen.iter().map(|r| &r.target).collect::<Vec<_>>()
    );
    for (i, r) in seen.iter().enumerate() {
        assert_eq!(r.headers["authorization"], "Bearer test-token");
        assert!(r
            .target
            .contains("expansions=author_id,geo.place_id,referenced_tweets.id"));
        assert!(r.target.contains("context_annotations"));
        assert!(
            r.target.contains("backfill_minutes=2"),
            "request {i}: {}",
            r.target
        );
    }
    // Waited as asked: after 429 the rate-limit start, after 503 the HTTP start.
    assert!(seen[2].at - seen[1].at >= Duration::from_millis(300));
    assert!(seen[3].at - seen[2].at >= Duration::from_millis(100));
}

#[test]
fn a_refused_token_stops_with_a_clear_error() {
    let server = PlaybackServer::start(vec![(
        "GET",
        "/2/tweets/search/stream",
        vec![Reply::json(401, UNAUTHORIZED)],
    )])
    .unwrap();
    let c = client(&server.url(), "wrong");
    let metrics = StreamMetrics::default();
    let stop = AtomicBool::new(false);
    let err = runtime()
        .block_on(follow(&c, &settings(0), &metrics, &stop, |_| {}))
        .unwrap_err();
    assert!(matches!(err, XApiError::Unauthorized { status: 401, .. }));
    let text = err.to_string();
    assert!(
        text.contains("TWEETLAKE_PRODUCE__X_API__BEARER_TOKEN"),
        "{text}"
    );
    assert!(!text.contains("wrong"), "the token must not appear: {text}");
    assert_eq!(server.requests().len(), 1, "no retry with a refused token");

    let missing = XApiClient::new(&XApiConfig::default()).err().unwrap();
    assert!(missing.to_string().contains("no X API bearer token"));
}

#[test]
fn rules_list_add_dry_run_and_delete() {
    let server = PlaybackServer::start(vec![
        (
            "GET",
            "/2/tweets/search/stream/rules",
            vec![Reply::json(200, GET_RULES)],
        ),
        (
            "POST",
            "/2/tweets/search/stream/rules",
            vec![
                Reply::json(200, POST_RULES),
                Reply::json(200, DELETE_RULES),
                Reply::json(400, DELETE_ERROR),
            ],
        ),
    ])
    .unwrap();
    let c = client(&server.url(), "t");
    let rt = runtime();
    let rules = rt.block_on(c.list_rules()).unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].id, "1165037377523306497");
    assert_eq!(rules[0].value, "dog has:images");
    assert_eq!(rules[0].tag.as_deref(), Some("dog pictures"));
    assert_eq!(rules[1].tag, None);

    let add = vec![("meme".to_string(), Some("funny things".to_string()))];
    let added = rt.block_on(c.add_rules(&add, true)).unwrap();
    assert_eq!(added.rules.len(), 4);
    assert_eq!(added.summary["created"], 4);
    assert!(added.errors.is_empty());

    let ids = vec!["1165037377523306498".to_string()];
    let deleted = rt.block_on(c.delete_rules(&ids, false)).unwrap();
    assert_eq!(deleted.summary["deleted"], 1);

    let err = rt.block_on(c.delete_rules(&[], false)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("HTTP 400"), "{text}");
    assert!(
        text.contains("One or more parameters to your request was invalid"),
        "{text}"
    );
    assert!(
        text.contains("JSON doesn't match expected schema"),
        "{text}"
    );

    let seen = server.requests();
    assert_eq!(seen[1].target, "/2/tweets/search/stream/rules?dry_run=true");
    let body: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"add": [{"value": "meme", "tag": "funny things"}]})
    );
    assert_eq!(seen[2].target, "/2/tweets/search/stream/rules");
    let body: serde_json::Value = serde_json::from_slice(&seen[2].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"delete": {"ids": ["1165037377523306498"]}})
    );
}
