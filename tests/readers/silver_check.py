"""Reads silver/tweets with two independent readers and prints one JSON summary: rows, distinct
tweet ids, and the sorted ids. deltalake (delta-rs Python bindings) reads the Delta snapshot;
DuckDB reads the same snapshot's Parquet files. They must agree; a disagreement exits non-zero.

    python silver_check.py LAKE_PATH
"""
import json
import sys

import duckdb
from deltalake import DeltaTable


def main():
    lake = sys.argv[1].removeprefix("file://")
    dt = DeltaTable(f"{lake}/silver/tweets")
    tbl = dt.to_pyarrow_table(
        columns=["tweet_id", "event_date", "hashtags", "text", "entities", "sentiment_label",
                 "sentiment_score"]
    )
    ids = tbl.column("tweet_id").to_pylist()
    files = dt.file_uris()
    con = duckdb.connect()
    rows, distinct = con.execute(
        "SELECT count(*), count(DISTINCT tweet_id) FROM read_parquet(?)", [files]
    ).fetchone()
    if rows != len(ids) or distinct != len(set(ids)):
        sys.exit(f"readers disagree: deltalake {len(ids)} rows / {len(set(ids))} ids, duckdb {rows} / {distinct}")
    hashtags = sum(len(h) for h in tbl.column("hashtags").to_pylist())
    # Entity offsets count characters: Python's str indexing must give back the entity's text.
    entities, misplaced, no_entities = 0, 0, 0
    for text, ents in zip(tbl.column("text").to_pylist(), tbl.column("entities").to_pylist()):
        if ents is None:
            no_entities += 1
            continue
        for e in ents:
            entities += 1
            if text[e["start"]:e["end"]] != e["text"] or e["label"] not in ("PER", "ORG", "LOC", "MISC"):
                misplaced += 1
    sentiment, scores_out_of_range = {}, 0
    for label, score in zip(tbl.column("sentiment_label").to_pylist(),
                            tbl.column("sentiment_score").to_pylist()):
        sentiment[str(label)] = sentiment.get(str(label), 0) + 1
        if score is None or not -1.0 <= score <= 1.0:
            scores_out_of_range += 1
    last_commit = dt.history(1)[0]
    print(json.dumps({
        "entities": entities,
        "entities_misplaced": misplaced,
        "rows_without_entities": no_entities,
        "sentiment": sentiment,
        "sentiment_scores_out_of_range": scores_out_of_range,
        "ner_weights_sha256": last_commit.get("tweetlake.ner.weights_sha256"),
        "sentiment_method": last_commit.get("tweetlake.sentiment"),
        "sentiment_weights_sha256": last_commit.get("tweetlake.sentiment.weights_sha256"),
        "ner_precision": last_commit.get("tweetlake.ner.precision"),
        "rows": len(ids),
        "distinct_ids": len(set(ids)),
        "ids": sorted(ids),
        "hashtags": hashtags,
        "version": dt.version(),
    }))


if __name__ == "__main__":
    main()
