use super::*;

const V1_CAPTURE: &str = include_str!("../../../../tests/fixtures/v1_stream_capture.jsonl");
const V2_MESSAGES: &str = include_str!("../../../../tests/fixtures/v2_stream_messages.jsonl");
const V2_CONTROL: &str = include_str!("../../../../tests/fixtures/v2_control_messages.jsonl");

fn ok(s: &str) -> Extracted {
    inspect(Some(s.as_bytes()), 1 << 20).unwrap().1
}

#[test]
fn v1_tweet_fields() {
    let first = V1_CAPTURE.lines().next().unwrap();
    let e = ok(first);
    assert_eq!(e.kind, EventKind::Tweet);
    assert_eq!(e.api_version, Some(API_V1));
    assert_eq!(e.tweet_id, Some(1149016022558683136));
    // Wed Jul 10 18:02:22 +0000 2019
    assert_eq!(e.event_time_us, Some(1_562_781_742_000_000));
}

#[test]
fn v1_control_messages() {
    let del = ok(
        r#"{"delete":{"status":{"id":303747490128207873,"id_str":"303747490128207873","user_id":74558989,"user_id_str":"74558989"},"timestamp_ms":"1361388000123"}}"#,
    );
    assert_eq!(
        del,
        Extracted {
            tweet_id: Some(303747490128207873),
            kind: EventKind::Delete,
            api_version: Some(API_V1),
            event_time_us: Some(1_361_388_000_123_000),
        }
    );
    assert_eq!(ok(r#"{"limit": {"track": 5678}}"#).kind, EventKind::Limit);
    let w = ok(
        r#"{"status_withheld":{"id":1234567890,"user_id":123456,"withheld_in_countries":["DE", "AR"]}}"#,
    );
    assert_eq!(
        (w.kind, w.tweet_id),
        (EventKind::Withheld, Some(1234567890))
    );
    assert_eq!(
        ok(r#"{"user_withheld":{"id":123456,"withheld_in_countries":["DE","AR"]}}"#).kind,
        EventKind::Withheld
    );
    assert_eq!(
        ok(r#"{"scrub_geo":{"user_id":14090452,"up_to_status_id":23260136625}}"#).kind,
        EventKind::Compliance
    );
    let d = ok(r#"{"disconnect":{"code": 4,"stream_name":"x","reason":"y"}}"#);
    assert_eq!((d.kind, d.api_version), (EventKind::Other, Some(API_V1)));
}

#[test]
fn v1_capture_counts_by_kind() {
    let mut counts = std::collections::BTreeMap::new();
    let mut rejected = Vec::new();
    for line in V1_CAPTURE.lines() {
        match inspect(Some(line.as_bytes()), 1 << 20) {
            Ok((_, e)) => *counts.entry(e.kind.as_str()).or_insert(0) += 1,
            Err(r) => rejected.push(r.kind()),
        }
    }
    // 122 lines: 100 tweets, 14 control messages, 7 keep-alive blank lines, 1 truncated tweet.
    assert_eq!(counts.get("tweet"), Some(&100));
    assert_eq!(counts.get("delete"), Some(&3));
    assert_eq!(counts.get("limit"), Some(&2));
    assert_eq!(counts.get("withheld"), Some(&4));
    assert_eq!(counts.get("compliance"), Some(&2));
    assert_eq!(counts.get("other"), Some(&3));
    rejected.sort();
    assert_eq!(
        rejected,
        vec!["empty"; 7]
            .into_iter()
            .chain(["not_json"])
            .collect::<Vec<_>>()
    );
}

#[test]
fn v2_messages_are_tweets_with_ids_and_times() {
    let mut n = 0;
    for line in V2_MESSAGES.lines() {
        let e = ok(line);
        assert_eq!(e.kind, EventKind::Tweet, "{line:.120}");
        assert_eq!(e.api_version, Some(API_V2));
        assert!(e.tweet_id.is_some() && e.event_time_us.is_some());
        n += 1;
    }
    assert_eq!(n, 200);
    let first = ok(V2_MESSAGES.lines().next().unwrap());
    assert_eq!(first.tweet_id, Some(1403003491031740419));
}

#[test]
fn v2_compliance_stream_and_batch() {
    let del = ok(
        r#"{"data":{"delete":{"tweet":{"id":"1403003491031740419","author_id":"9"},"event_at":"2021-06-01T10:00:00.000Z"}}}"#,
    );
    assert_eq!(
        (del.kind, del.tweet_id, del.api_version, del.event_time_us),
        (
            EventKind::Delete,
            Some(1403003491031740419),
            Some(API_V2),
            Some(1_622_541_600_000_000)
        )
    );
    let kinds: Vec<_> = V2_CONTROL
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            inspect(Some(l.as_bytes()), 1 << 20)
                .map(|(_, e)| e.kind)
                .map_err(|r| r.kind())
        })
        .collect();
    let tweets = kinds.iter().filter(|k| **k == Ok(EventKind::Tweet)).count();
    let deletes = kinds
        .iter()
        .filter(|k| **k == Ok(EventKind::Delete))
        .count();
    let bad = kinds.iter().filter(|k| **k == Err("not_json")).count();
    // The batch-compliance results are deletes (silver deletes those tweets), with their ids.
    assert_eq!((tweets, deletes, bad), (7, 4, 1));
    let batch = V2_CONTROL
        .lines()
        .find(|l| l.contains("\"action\":\"delete\""))
        .unwrap();
    let e = ok(batch);
    assert_eq!(
        (e.kind, e.tweet_id, e.event_time_us),
        (
            EventKind::Delete,
            Some(1170025343920402432),
            Some(1_567_790_754_667_000)
        )
    );
}

#[test]
fn rejections() {
    assert_eq!(inspect(None, 10).unwrap_err(), Rejection::Empty);
    assert_eq!(inspect(Some(b" \r\n"), 10).unwrap_err(), Rejection::Empty);
    assert_eq!(
        inspect(Some(b"{\"a\":12345}"), 5).unwrap_err(),
        Rejection::TooLarge { size: 11, limit: 5 }
    );
    assert_eq!(
        inspect(Some(b"{\"a\":\"\xff\"}"), 100).unwrap_err(),
        Rejection::NotUtf8 { valid_up_to: 6 }
    );
    let e = inspect(Some(b"{\"a\":"), 100).unwrap_err();
    assert_eq!(e.kind(), "not_json");
    assert!(e.to_string().contains("EOF"), "{e}");
}

#[test]
fn odd_but_valid_json_is_kept_as_other() {
    for s in [
        "[1,2]",
        "42",
        r#"{"id":1,"id":2}"#,
        r#"{"data":[{"id":"1"}]}"#,
    ] {
        let (text, e) = inspect(Some(s.as_bytes()), 100).unwrap();
        assert_eq!(text, s);
        assert_eq!(e.kind, EventKind::Other, "{s}");
    }
    // Ids beyond i64 are dropped, not wrapped.
    assert_eq!(
        ok(r#"{"id":18446744073709551615,"text":"x"}"#).tweet_id,
        None
    );
}
