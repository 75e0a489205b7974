//! Real fixture tweets of every shape against expected values written out by hand from the raw
//! JSON (times converted independently), not produced by this code.

use crate::*;

const V1: &str = include_str!("../../../tests/fixtures/v1_mixed_tweets.jsonl");
const V1_CAPTURE: &str = include_str!("../../../tests/fixtures/v1_stream_capture.jsonl");
const V2: &str = include_str!("../../../tests/fixtures/v2_stream_messages.jsonl");
const V2_CONTROL: &str = include_str!("../../../tests/fixtures/v2_control_messages.jsonl");
const V2_EDITED: &str = include_str!("../../../tests/fixtures/v2_edited_page.jsonl");

/// The fixture line whose tweet has this id.
fn line<'a>(file: &'a str, id: &str) -> &'a str {
    let v1 = format!("\"id_str\": \"{id}\"");
    let v2 = format!("\"id\": \"{id}\"");
    file.lines()
        .find(|l| {
            let head = l.find("\"retweeted_status\"").map_or(*l, |at| &l[..at]);
            head.contains(&v1) || (l.starts_with("{\"data\"") && l.contains(&v2))
        })
        .unwrap_or_else(|| panic!("no line with tweet {id}"))
}

fn tweet(raw: &str) -> Tweet {
    match parse_message(raw.as_bytes()).unwrap() {
        Message::Tweet(t) => *t,
        other => panic!("not a tweet: {other:?}"),
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn url(u: &str, expanded: &str) -> UrlEntity {
    UrlEntity {
        url: u.into(),
        expanded_url: s(expanded),
    }
}

fn metrics(rt: Option<i64>, reply: Option<i64>, like: Option<i64>, quote: Option<i64>) -> Metrics {
    Metrics {
        retweet_count: rt,
        reply_count: reply,
        like_count: like,
        quote_count: quote,
    }
}

/// Fields every case sets; each case changes what differs.
fn base(id: i64, at_us: i64, author: i64, handle: &str, text: &str, api: ApiVersion) -> Tweet {
    Tweet {
        id,
        created_at_us: at_us,
        author_id: Some(author),
        author_handle: s(handle),
        text: text.into(),
        text_original: text.into(),
        lang: s("en"),
        is_retweet: false,
        is_quote: false,
        is_reply: false,
        retweeted_id: None,
        quoted_id: None,
        in_reply_to_id: None,
        in_reply_to_user_id: None,
        hashtags: vec![],
        mentions: vec![],
        urls: vec![],
        cashtags: vec![],
        place: None,
        coordinates: None,
        metrics: Metrics::default(),
        matching_rules: vec![],
        api_version: api,
        edit_history: vec![],
        withheld: false,
        source: None,
    }
}

#[test]
fn v1_compat_mode_takes_the_extended_text_and_entities() {
    let got = tweet(line(V1, "972472962799603712"));
    let original = "Connect w/ @FloatHarder @mainedoulas and @JadeIntegrated at Portland Mom &amp; Baby Expo on 5/5 in #portlandme! https://t.co/triAGvO3mY https://t.co/dw57NACq0F";
    let mut want = base(
        972472962799603712,
        1520690596000000,
        3654517647,
        "MaineBabyExpo",
        original,
        ApiVersion::V1,
    );
    want.text = "Connect w/ @FloatHarder @mainedoulas and @JadeIntegrated at Portland Mom & Baby Expo on 5/5 in #portlandme! https://t.co/triAGvO3mY https://t.co/dw57NACq0F".into();
    want.hashtags = strings(&["portlandme"]);
    want.mentions = strings(&["FloatHarder", "mainedoulas", "JadeIntegrated"]);
    want.urls = vec![url(
        "https://t.co/triAGvO3mY",
        "http://www.portlandmomandbabyexpo.com",
    )];
    want.metrics = metrics(Some(0), Some(0), Some(0), Some(0));
    want.source = s("Twitter Web Client");
    assert_eq!(got, want);
}

#[test]
fn v1_retweet_carries_the_full_original_text() {
    let got = tweet(line(V1, "757780736095039489"));
    let original = "Incredible speech by an incredible woman. Couldn't be more proud &amp; our country has been blessed to have her as FLOTUS. I love you, Michelle.";
    let mut want = base(
        757780736095039489,
        1469503981000000,
        12,
        "jack",
        original,
        ApiVersion::V1,
    );
    want.text = "Incredible speech by an incredible woman. Couldn't be more proud & our country has been blessed to have her as FLOTUS. I love you, Michelle.".into();
    want.is_retweet = true;
    want.retweeted_id = Some(757763701101490176);
    want.metrics = metrics(Some(176693), None, Some(0), None);
    want.source = s("Twitter for iPhone");
    assert_eq!(got, want);
}

#[test]
fn v1_quote() {
    let got = tweet(line(V1, "1359270493363310595"));
    let mut want = base(
        1359270493363310595,
        1612910314000000,
        786491,
        "andypiper",
        "This is wild. https://t.co/tDr59daOUq",
        ApiVersion::V1,
    );
    want.is_quote = true;
    want.quoted_id = Some(1356496649460322304);
    want.urls = vec![url(
        "https://t.co/tDr59daOUq",
        "https://twitter.com/jessicacyboid/status/1356496649460322304",
    )];
    want.metrics = metrics(Some(1), None, Some(1), None);
    want.source = s("Twitter for iPad");
    assert_eq!(got, want);
}

#[test]
fn v1_extended_mode_reply() {
    let got = tweet(line(V1, "1585699097260228608"));
    let mut want = base(
        1585699097260228608,
        1666895100000000,
        173461784,
        "SplodgeNik",
        "@kfc Chicken chicken",
        ApiVersion::V1,
    );
    want.is_reply = true;
    want.in_reply_to_id = Some(1585698532622753792);
    want.in_reply_to_user_id = Some(15392391);
    want.mentions = strings(&["kfc"]);
    want.metrics = metrics(Some(0), None, Some(1), None);
    want.source = s("Twitter for Android");
    assert_eq!(got, want);
}

#[test]
fn v1_neighborhood_place_and_coordinates() {
    let got = tweet(line(V1, "55709764298092545"));
    let mut want = base(
        55709764298092545,
        1302117217000000,
        7505382,
        "sferik",
        "The problem with your code is that it's doing exactly what you told it to do.",
        ApiVersion::V1,
    );
    want.lang = None;
    want.place = Some(Place {
        id: "5c92ab5379de3839".into(),
        name: s("South Beach"),
        full_name: s("South Beach, San Francisco"),
        place_type: s("neighborhood"),
        country: s("United States"),
        country_code: s("US"),
        city: s("San Francisco"),
        region: None,
    });
    want.coordinates = Some(Coordinates {
        longitude: -122.39362884,
        latitude: 37.78349999,
    });
    want.metrics = metrics(Some(316), None, None, None);
    want.source = s("Twitter for iPhone");
    assert_eq!(got, want);
}

#[test]
fn v2_city_place_from_includes_and_entities_from_text() {
    let got = tweet(line(V2, "1253714442438795266"));
    let mut want = base(
        1253714442438795266,
        1587743790000000,
        2351222345,
        "PhillyNEFL",
        "Smiling is infectious, try it",
        ApiVersion::V2,
    );
    want.place = Some(Place {
        id: "e4a0d228eb6be76b".into(),
        name: s("Philadelphia"),
        full_name: s("Philadelphia, PA"),
        place_type: s("city"),
        country: s("Estados Unidos"),
        country_code: s("US"),
        city: s("Philadelphia"),
        region: s("PA"),
    });
    want.metrics = metrics(Some(0), Some(0), Some(0), Some(0));
    want.source = s("Twitter for Android");
    assert_eq!(got, want);
}

#[test]
fn v2_retweet_takes_the_original_from_includes() {
    let got = tweet(line(V2, "1345886195042168832"));
    let text = "No matter how you say it, BLACK LIVES MATTER. https://t.co/KBlyoUA8fR";
    let mut want = base(
        1345886195042168832,
        1609719248000000,
        1266926236179275776,
        "fayeberrie",
        text,
        ApiVersion::V2,
    );
    want.is_retweet = true;
    want.retweeted_id = Some(1345883403128856576);
    want.urls = vec![url(
        "https://t.co/KBlyoUA8fR",
        "https://twitter.com/ACLU/status/1345883403128856576/photo/1",
    )];
    want.metrics = metrics(Some(303), Some(0), Some(0), Some(0));
    want.source = s("Twitter for iPhone");
    assert_eq!(got, want);
}

#[test]
fn v2_edited_tweet_keeps_its_history() {
    // A search page: one tweet, as the producer splits pages into stream messages.
    let page: serde_json::Value = serde_json::from_str(V2_EDITED.lines().next().unwrap()).unwrap();
    let msg = serde_json::json!({"data": page["data"][0], "includes": page["includes"]});
    let got = tweet(&msg.to_string());
    let mut want = base(
        1576994789110992896,
        1664819831000000,
        337119125,
        "wongmjane",
        "hey :) https://t.co/rnwEIoNuqd",
        ApiVersion::V2,
    );
    want.lang = s("qst");
    want.edit_history = vec![1576994746135764992, 1576994789110992896];
    want.urls = vec![url(
        "https://t.co/rnwEIoNuqd",
        "https://twitter.com/i/web/status/1576994789110992896",
    )];
    want.metrics = metrics(Some(2), Some(12), Some(27), Some(2));
    want.source = s("Twitter Web App");
    assert_eq!(got, want);
}

#[test]
fn v2_matching_rules_are_kept() {
    let got = tweet(V2_CONTROL.lines().next().unwrap());
    assert_eq!(got.id, 1377650090978992134);
    assert_eq!(
        got.matching_rules,
        vec![Rule {
            id: "1377649934414049282".into(),
            tag: None
        }]
    );
}

#[test]
fn control_messages_of_a_real_capture() {
    let find = |needle: &str| {
        let l = V1_CAPTURE.lines().find(|l| l.starts_with(needle)).unwrap();
        parse_message(l.as_bytes()).unwrap()
    };
    assert_eq!(
        find("{\"delete\""),
        Message::Delete {
            tweet_id: 303747490128207873,
            user_id: Some(74558989),
            at_us: None
        }
    );
    assert_eq!(
        find("{\"scrub_geo\""),
        Message::ScrubGeo {
            user_id: 14090452,
            up_to_tweet_id: 23260136625
        }
    );
    assert_eq!(
        find("{\"limit\""),
        Message::Limit {
            track: 5678,
            at_us: None
        }
    );
    assert_eq!(
        find("{\"status_withheld\""),
        Message::Withheld {
            tweet_id: Some(1234567890),
            user_id: Some(123456),
            countries: strings(&["DE", "AR"])
        }
    );
    assert_eq!(
        find("{\"user_withheld\""),
        Message::Withheld {
            tweet_id: None,
            user_id: Some(123456),
            countries: strings(&["DE", "AR"])
        }
    );
    assert_eq!(
        find("{\"disconnect\""),
        Message::Disconnect {
            reason: "something-went-wrong".into()
        }
    );
    // v2 batch compliance: a delete with its time.
    let compliance = V2_CONTROL
        .lines()
        .find(|l| l.contains("\"action\":\"delete\""))
        .unwrap();
    assert_eq!(
        parse_message(compliance.as_bytes()).unwrap(),
        Message::Delete {
            tweet_id: 1170025343920402432,
            user_id: None,
            at_us: Some(1567790754667000)
        }
    );
}

#[test]
fn every_fixture_line_parses_or_names_its_problem() {
    let (mut tweets, mut controls, mut errors) = (0, 0, Vec::new());
    for l in V1
        .lines()
        .chain(V1_CAPTURE.lines())
        .chain(V2.lines())
        .chain(V2_CONTROL.lines())
    {
        if l.trim().is_empty() {
            continue;
        }
        match parse_message(l.as_bytes()) {
            Ok(Message::Tweet(t)) => {
                tweets += 1;
                assert!(
                    t.id > 0 && t.created_at_us > 1_100_000_000_000_000,
                    "{}",
                    t.id
                );
                assert!(!t.text.is_empty() || t.text_original.is_empty());
            }
            Ok(Message::Other) => panic!("unclassified: {}", &l[..l.len().min(120)]),
            Ok(_) => controls += 1,
            Err(e) => errors.push(e),
        }
    }
    // 180 + 100 + 200 + 7 tweets; the capture's 14 control messages and the compliance results;
    // the capture's and the v2 set's truncated lines are the only errors.
    assert_eq!(tweets, 487);
    assert_eq!(controls, 14 + 4);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(|e| matches!(e, ParseError::Json(_))));
}

/// Times in milliseconds that microseconds cannot hold are no time, not a panic (debug) or a
/// wrapped, wrong time (release).
#[test]
fn an_out_of_range_millisecond_time_is_left_out() {
    let huge = i64::MAX / 10;
    let limit = format!("{{\"limit\":{{\"track\":3,\"timestamp_ms\":\"{huge}\"}}}}");
    assert_eq!(
        parse_message(limit.as_bytes()).unwrap(),
        Message::Limit {
            track: 3,
            at_us: None
        }
    );
    let delete = format!(
        "{{\"delete\":{{\"status\":{{\"id_str\":\"5\",\"user_id_str\":\"7\"}},\"timestamp_ms\":{huge}}}}}"
    );
    assert_eq!(
        parse_message(delete.as_bytes()).unwrap(),
        Message::Delete {
            tweet_id: 5,
            user_id: Some(7),
            at_us: None
        }
    );
}
