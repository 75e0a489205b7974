use super::*;
use crate::{parse_message, Message};

const FIXTURES: [&str; 6] = [
    include_str!("../../../tests/fixtures/v1_mixed_tweets.jsonl"),
    include_str!("../../../tests/fixtures/v1_stream_capture.jsonl"),
    include_str!("../../../tests/fixtures/places_v1.jsonl"),
    include_str!("../../../tests/fixtures/v2_stream_messages.jsonl"),
    include_str!("../../../tests/fixtures/v2_control_messages.jsonl"),
    include_str!("../../../tests/fixtures/v2_edited_page.jsonl"),
];

fn kind_of(message: &Message) -> MessageKind {
    match message {
        Message::Tweet(_) => MessageKind::Tweet,
        Message::Delete { .. } => MessageKind::Delete,
        Message::ScrubGeo { .. } => MessageKind::ScrubGeo,
        Message::Limit { .. } => MessageKind::Limit,
        Message::Withheld { .. } => MessageKind::Withheld,
        Message::Warning { .. } => MessageKind::Warning,
        Message::Disconnect { .. } => MessageKind::Disconnect,
        Message::Compliance => MessageKind::Compliance,
        Message::Other => MessageKind::Other,
    }
}

/// What bronze stores for a message (the probe) and what silver makes of it (the full parse)
/// agree on kind, API version, tweet id and time for every line of every fixture.
#[test]
fn probe_and_full_parse_agree_on_every_fixture_line() {
    let mut kinds = std::collections::BTreeMap::new();
    for line in FIXTURES.iter().flat_map(|f| f.lines()) {
        if line.trim().is_empty() {
            continue;
        }
        let (probed, parsed) = (probe(line.as_bytes()), parse_message(line.as_bytes()));
        let Ok(envelope) = probed else {
            assert!(parsed.is_err(), "probe refused, parse took: {line:.120}");
            *kinds.entry("not json").or_insert(0) += 1;
            continue;
        };
        let message = parsed.unwrap_or_else(|e| panic!("{e}: {line:.120}"));
        assert_eq!(envelope.kind, kind_of(&message), "{line:.120}");
        *kinds
            .entry(format!("{:?}", envelope.kind).leak())
            .or_insert(0) += 1;
        match &message {
            Message::Tweet(t) => {
                assert_eq!(envelope.tweet_id, Some(t.id), "{line:.120}");
                assert_eq!(envelope.event_time_us, Some(t.created_at_us), "{line:.120}");
                assert_eq!(envelope.api_version, Some(t.api_version), "{line:.120}");
            }
            Message::Delete {
                tweet_id, at_us, ..
            } => {
                assert_eq!(envelope.tweet_id, Some(*tweet_id));
                assert_eq!(envelope.event_time_us, *at_us);
            }
            Message::Withheld { tweet_id, .. } => assert_eq!(envelope.tweet_id, *tweet_id),
            _ => {}
        }
    }
    let counts: Vec<(&str, i32)> = kinds.into_iter().collect();
    // 180 + 100 + 200 + 7 tweets; the capture's 14 control messages; 4 batch deletes; 59 place
    // objects and one v2 page (`data` is a list) are no message; one truncated line in the
    // capture and one in the v2 control set.
    assert_eq!(
        counts,
        [
            ("Delete", 3 + 4),
            ("Disconnect", 2),
            ("Limit", 2),
            ("Other", 59 + 1),
            ("ScrubGeo", 2),
            ("Tweet", 487),
            ("Warning", 1),
            ("Withheld", 4),
            ("not json", 2)
        ]
    );
}

#[test]
fn v2_compliance_stream_events() {
    let p = |s: &str| (probe(s.as_bytes()).unwrap(), parse_message(s.as_bytes()));
    let (e, m) = p(
        r#"{"data":{"withheld":{"tweet":{"id":"11","author_id":"7"},"withheld_in_countries":["DE"],"event_at":"2021-06-01T10:00:00.000Z"}}}"#,
    );
    assert_eq!(
        (e.kind, e.tweet_id, e.event_time_us),
        (MessageKind::Withheld, Some(11), Some(1_622_541_600_000_000))
    );
    assert_eq!(
        m.unwrap(),
        Message::Withheld {
            tweet_id: Some(11),
            user_id: Some(7),
            countries: vec!["DE".into()]
        }
    );
    let (e, m) = p(
        r#"{"data":{"scrub_geo":{"user":{"id":"7"},"up_to_tweet_id":"99","event_at":"2021-06-01T10:00:00.000Z"}}}"#,
    );
    assert_eq!((e.kind, e.tweet_id), (MessageKind::ScrubGeo, None));
    assert_eq!(
        m.unwrap(),
        Message::ScrubGeo {
            user_id: 7,
            up_to_tweet_id: 99
        }
    );
    let (e, m) = p(r#"{"data":{"user_suspend":{"user":{"id":"7"},"event_at":"x"}}}"#);
    assert_eq!(
        (e.kind, m.unwrap()),
        (MessageKind::Compliance, Message::Compliance)
    );
    // A batch result other than a delete changes nothing stored.
    let (e, m) = p(r#"{"id":"5","action":"protect","created_at":"2021-06-01T10:00:00Z"}"#);
    assert_eq!((e.kind, e.tweet_id), (MessageKind::Compliance, None));
    assert_eq!(m.unwrap(), Message::Compliance);
    // A scrub_geo without the fields it needs is an error naming them, not a silent skip.
    let (_, m) = p(r#"{"data":{"scrub_geo":{"event_at":"x"}}}"#);
    assert_eq!(
        m.unwrap_err().to_string(),
        "tweet without data.scrub_geo.user.id"
    );
}

/// A field of an unexpected type costs the message nothing but that field: it keeps its kind.
#[test]
fn odd_field_types_keep_the_kind() {
    let kind = |s: &str| probe(s.as_bytes()).unwrap();
    let d = kind(r#"{"delete":{"status":{"id":5},"timestamp_ms":1361388000123}}"#);
    assert_eq!(
        (d.kind, d.tweet_id, d.event_time_us),
        (MessageKind::Delete, Some(5), Some(1_361_388_000_123_000))
    );
    assert_eq!(kind(r#"{"delete":5}"#).kind, MessageKind::Delete);
    let t = kind(r#"{"id":[1],"text":{"a":1},"created_at":7}"#);
    assert_eq!(
        (t.kind, t.tweet_id, t.event_time_us),
        (MessageKind::Tweet, None, None)
    );
    assert_eq!(kind(r#"{"data":{"id":1.5,"text":"x"}}"#).tweet_id, None);
    // null is absence: not a tweet.
    assert_eq!(kind(r#"{"text":null,"id":1}"#).kind, MessageKind::Other);
    for other in [
        "[1,2]",
        "42",
        "null",
        r#"{"id":1,"id":2}"#,
        r#"{"data":[{"id":"1"}]}"#,
    ] {
        assert_eq!(kind(other), Envelope::OTHER, "{other}");
    }
    assert!(probe(b"{\"a\":").is_err());
}

/// The pre-read format answers as chrono's own parser of the format string, both orders of trial.
#[test]
fn times_parse_as_chrono_reads_them() {
    let reference = |text: &str| {
        chrono::DateTime::parse_from_str(text, V1_TIME_FORMAT)
            .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
            .ok()
            .map(|t| t.timestamp_micros())
    };
    let cases = [
        "Wed Jul 10 18:02:22 +0000 2019",
        "Thu Nov 03 17:10:25 -0530 2022",
        "Sun Feb 29 00:00:00 +0000 2004",
        "Mon Feb 29 00:00:00 +0000 2005",
        "Wed Jul 10 18:02:22 +0000 2019 ",
        "Xyz Jul 10 18:02:22 +0000 2019",
        "2019-07-10T18:02:22.000Z",
        "2019-07-10T18:02:22+02:00",
        "2019-07-10 18:02:22Z",
        "2019-13-10T18:02:22Z",
        "1",
        "",
        "Wed",
    ];
    for text in cases {
        assert_eq!(parse_time(text), reference(text), "{text:?}");
    }
    assert_eq!(
        parse_time("Wed Jul 10 18:02:22 +0000 2019"),
        Some(1_562_781_742_000_000)
    );
}
