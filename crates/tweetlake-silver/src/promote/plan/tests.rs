//! The slice plan's decisions, on messages sorted as a slice reads them: no Delta involved.

use std::collections::HashSet;

use tweetlake_core::config::{ExpectationAction, ExpectationConfig};

use super::*;
use crate::bronze_read::BronzeRow;
use crate::notices::NoticeKind;

const AUTHOR: i64 = 77;

/// A v1.1 tweet with a point location.
fn tweet(id: i64) -> String {
    format!(
        r#"{{"created_at":"Thu Nov 03 17:10:25 +0000 2022","id":{id},"id_str":"{id}","text":"tweet {id}","user":{{"id":{AUTHOR},"id_str":"{AUTHOR}","screen_name":"u"}},"coordinates":{{"type":"Point","coordinates":[-122.4,37.7]}}}}"#
    )
}

fn delete(id: i64) -> String {
    format!(
        r#"{{"delete":{{"status":{{"id":{id},"id_str":"{id}","user_id":{AUTHOR},"user_id_str":"{AUTHOR}"}},"timestamp_ms":"1700000000000"}}}}"#
    )
}

/// Sorts `messages` as one slice: message `i` at offset `i`, in bronze file `i % 2`.
fn sorted(messages: &[String]) -> Sorted {
    let mut sorted = Sorted::default();
    for (i, raw) in messages.iter().enumerate() {
        let lineage = Lineage {
            topic: "tweets".into(),
            partition: 0,
            offset: i as i64,
        };
        let row = BronzeRow {
            raw: raw.clone(),
            lineage,
        };
        sorted.add(i % 2, row);
    }
    sorted
}

fn ids(plan: &SlicePlan) -> Vec<i64> {
    plan.rows
        .texts()
        .map(|t| t.strip_prefix("tweet ").unwrap().parse().unwrap())
        .collect()
}

#[test]
fn deletes_old_and_new_remove_tweets_and_the_rest_come_in_id_order() {
    let mut s = sorted(&[tweet(30), tweet(10), delete(20), tweet(20), tweet(40)]);
    let held = Held {
        deletes: HashSet::from([40]),
        notices: Vec::new(),
    };
    let undeleted = undeleted(&mut s, &held);
    let order: Vec<i64> = undeleted.iter().map(|(t, ..)| t.id).collect();
    assert_eq!(order, vec![10, 30]);
    let plan = SlicePlan::decide(&s, &held, undeleted, &HashSet::new());
    assert_eq!(ids(&plan), vec![10, 30]);
    assert_eq!(plan.rows.len(), 2);
    // Only the slice's own delete is new; 40 was applied when it came.
    assert_eq!(plan.new_deletes, vec![20]);
    assert_eq!(plan.already_stored, 0);
}

#[test]
fn tweets_silver_holds_are_left_out_and_counted() {
    let mut s = sorted(&[tweet(1), tweet(2), tweet(3)]);
    let held = Held::default();
    let undeleted = undeleted(&mut s, &held);
    let plan = SlicePlan::decide(&s, &held, undeleted, &HashSet::from([2, 99]));
    assert_eq!(ids(&plan), vec![1, 3]);
    assert_eq!(plan.already_stored, 1);
    // Each origin keeps its bronze file and offset: tweet 3 was message 2, in file 0.
    let last = plan.origins.last().unwrap();
    assert_eq!((last.file, last.lineage.offset), (0, 2));
}

#[test]
fn held_and_new_notices_apply_to_the_planned_tweets() {
    let withheld = r#"{"status_withheld":{"id":5,"user_id":77,"withheld_in_countries":["DE"]}}"#;
    let mut s = sorted(&[tweet(5), tweet(6), tweet(9), withheld.to_string()]);
    let held = Held {
        deletes: HashSet::new(),
        // An earlier slice's scrub_geo for the author, up to tweet 6.
        notices: vec![Notice {
            kind: NoticeKind::ScrubGeo,
            user_id: Some(AUTHOR),
            tweet_id: Some(6),
        }],
    };
    let undeleted = undeleted(&mut s, &held);
    let plan = SlicePlan::decide(&s, &held, undeleted, &HashSet::new());
    let batch = plan.rows.to_batch().unwrap();
    let column = |name: &str| batch.column_by_name(name).unwrap().clone();
    use tweetlake_core::deltalake::arrow::array::{Array, AsArray};
    use tweetlake_core::deltalake::arrow::datatypes::Float64Type;
    let withheld = column("withheld");
    let withheld = withheld.as_boolean();
    let longitude = column("longitude");
    let longitude = longitude.as_primitive::<Float64Type>();
    let got: Vec<(bool, bool)> = (0..batch.num_rows())
        .map(|i| (withheld.value(i), longitude.is_null(i)))
        .collect();
    // 5: withheld by the new notice and scrubbed; 6: scrubbed; 9: above the scrub's bound.
    assert_eq!(got, vec![(true, true), (false, true), (false, false)]);
}

#[test]
fn a_failed_expectation_quarantines_the_row_it_names() {
    let mut s = sorted(&[tweet(1), tweet(2)]);
    let held = Held::default();
    let undeleted = undeleted(&mut s, &held);
    let plan = SlicePlan::decide(&s, &held, undeleted, &HashSet::new());
    let rule = ExpectationConfig {
        name: "short".into(),
        check: "length(text) < 3".into(),
        action: ExpectationAction::Drop,
    };
    let expectations = Expectations::compile(&[rule]).unwrap();
    // Row 1 failed; an index past the rows (it cannot happen) is skipped, not a panic.
    let dropped = vec![(1, "short".to_string()), (7, "short".to_string())];
    // Only tweet 2's file is read back, and only its row is kept.
    let wanted = dropped_origins(&dropped, &plan.origins);
    assert_eq!(wanted.keys().copied().collect::<Vec<_>>(), vec![1]);
    let file_one: Vec<BronzeRow> = [(0, tweet(9)), (1, tweet(2))]
        .into_iter()
        .map(|(offset, raw)| BronzeRow {
            raw,
            lineage: Lineage {
                topic: "tweets".into(),
                partition: 0,
                offset,
            },
        })
        .collect();
    let mut raw_of = HashMap::new();
    keep_raw(1, file_one, &wanted[&1], &mut raw_of);
    assert_eq!(raw_of.len(), 1);
    let failed = failed_expectations(&dropped, &plan.origins, &expectations, &raw_of);
    assert_eq!(failed.len(), 1);
    let (file, row) = &failed[0];
    assert_eq!((*file, row.lineage.offset), (1, 1));
    assert_eq!(row.raw, tweet(2));
    assert_eq!(row.rule.as_deref(), Some("short"));
    assert_eq!(row.error, "expectation `short` failed: length(text) < 3");
}

#[test]
fn rows_parsed_on_every_core_come_back_in_order() {
    // Enough rows to be split across threads, with parse errors among them.
    let rows: Vec<BronzeRow> = (0..1000)
        .map(|i| match i % 3 {
            0 => tweet(i + 1),
            1 => delete(i + 1),
            _ => format!("not json {i}"),
        })
        .enumerate()
        .map(|(offset, raw)| BronzeRow {
            raw,
            lineage: Lineage {
                topic: "tweets".into(),
                partition: 0,
                offset: offset as i64,
            },
        })
        .collect();
    let in_parallel: Vec<String> = super::super::sorted::parse_all(&rows)
        .iter()
        .map(|m| format!("{m:?}"))
        .collect();
    let one_by_one: Vec<String> = rows
        .iter()
        .map(|r| format!("{:?}", tweetlake_twitter::parse_message(r.raw.as_bytes())))
        .collect();
    assert_eq!(in_parallel.len(), 1000);
    assert_eq!(in_parallel, one_by_one);
    assert!(in_parallel[2].starts_with("Err("), "{}", in_parallel[2]);
}
