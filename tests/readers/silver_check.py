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
    tbl = dt.to_pyarrow_table(columns=["tweet_id", "event_date", "hashtags", "text"])
    ids = tbl.column("tweet_id").to_pylist()
    files = dt.file_uris()
    con = duckdb.connect()
    rows, distinct = con.execute(
        "SELECT count(*), count(DISTINCT tweet_id) FROM read_parquet(?)", [files]
    ).fetchone()
    if rows != len(ids) or distinct != len(set(ids)):
        sys.exit(f"readers disagree: deltalake {len(ids)} rows / {len(set(ids))} ids, duckdb {rows} / {distinct}")
    hashtags = sum(len(h) for h in tbl.column("hashtags").to_pylist())
    print(json.dumps({
        "rows": len(ids),
        "distinct_ids": len(set(ids)),
        "ids": sorted(ids),
        "hashtags": hashtags,
        "version": dt.version(),
    }))


if __name__ == "__main__":
    main()
