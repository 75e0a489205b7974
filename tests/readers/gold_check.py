"""Checks the gold tables against an independent computation and prints one JSON summary.

DuckDB recomputes each model from the Parquet files of the current silver/tweets snapshot (listed
by the deltalake package), with its own SQL written here, not tweetlake's; the deltalake package
reads the gold tables; the two must agree row for row. Also: the Athena/Spark rules on every gold
column (UTC microsecond timestamps, no unsigned integers, lower_snake_case), and, with a truth
file, that gold.tweets_per_city_5m equals it.

    python gold_check.py LAKE_PATH [TRUTH_CSV]
"""
import csv
import datetime
import json
import sys

import duckdb
import pyarrow as pa
from deltalake import DeltaTable

# Each model's key columns, value columns, and DuckDB's own computation over `silver`.
MODELS = {
    "tweets_per_city_5m": (
        ["window_start", "place"],
        ["city", "country", "country_code", "tweets", "retweets", "unique_users"],
        """SELECT time_bucket(INTERVAL 5 MINUTE, created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS window_start,
                  place_full_name AS place, any_value(city) AS city, any_value(country) AS country,
                  any_value(country_code) AS country_code, count(*) AS tweets,
                  count(*) FILTER (is_retweet) AS retweets, count(DISTINCT author_id) AS unique_users
           FROM silver WHERE place_full_name IS NOT NULL GROUP BY ALL""",
    ),
    "sentiment_per_minute": (
        ["minute", "stream"],
        ["tweets", "positive", "negative", "neutral", "mean_score"],
        """WITH s AS (
               SELECT created_at, 'topic:' || bronze_topic AS stream, sentiment_label, sentiment_score FROM silver
               UNION ALL
               SELECT created_at, 'rule:' || coalesce(r.tag, r.id), sentiment_label, sentiment_score
               FROM (SELECT *, unnest(matching_rules) AS r FROM silver))
           SELECT date_trunc('minute', created_at) AS minute, stream, count(*) AS tweets,
                  count(*) FILTER (sentiment_label = 'positive') AS positive,
                  count(*) FILTER (sentiment_label = 'negative') AS negative,
                  count(*) FILTER (sentiment_label = 'neutral') AS neutral,
                  round(avg(sentiment_score::DOUBLE), 4) AS mean_score
           FROM s GROUP BY ALL""",
    ),
    "top_hashtags_hourly": (
        ["hour", "rank"],
        ["hashtag", "tweets", "authors"],
        """WITH c AS (
               SELECT date_trunc('hour', created_at) AS hour, lower(tag) AS hashtag,
                      count(*) AS tweets, count(DISTINCT author_id) AS authors
               FROM (SELECT created_at, author_id, unnest(hashtags) AS tag FROM silver) GROUP BY ALL)
           SELECT hour, rank, hashtag, tweets, authors FROM (
               SELECT *, row_number() OVER (PARTITION BY hour ORDER BY tweets DESC, hashtag) AS rank FROM c)
           WHERE rank <= 100""",
    ),
    "top_entities_daily": (
        ["day", "rank"],
        ["entity", "label", "mentions", "authors"],
        """WITH c AS (
               SELECT date_trunc('day', created_at) AS day, e.text AS entity, e.label AS label,
                      count(*) AS mentions, count(DISTINCT author_id) AS authors
               FROM (SELECT created_at, author_id, unnest(entities) AS e FROM silver)
               WHERE length(e.text) > 1 GROUP BY ALL)
           SELECT day, rank, entity, label, mentions, authors FROM (
               SELECT *, row_number() OVER (PARTITION BY day ORDER BY mentions DESC, entity, label) AS rank FROM c)
           WHERE rank <= 100""",
    ),
}


def normal(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return round(value, 4)
    return value


def rows_of(table, columns):
    data = table.select(columns).to_pylist()
    return sorted(tuple(normal(r[c]) for c in columns) for r in data)


def column_problems(name, schema):
    problems = []
    for field in schema:
        t = field.type
        if field.name != field.name.lower() or not field.name.replace("_", "a").isalnum():
            problems.append(f"{name}.{field.name}: not lower_snake_case")
        if pa.types.is_unsigned_integer(t):
            problems.append(f"{name}.{field.name}: unsigned {t}")
        if pa.types.is_timestamp(t) and (t.unit != "us" or t.tz not in ("UTC", "+00:00")):
            problems.append(f"{name}.{field.name}: {t}, not UTC microseconds")
    return problems


def main():
    lake = sys.argv[1].removeprefix("file://")
    silver = DeltaTable(f"{lake}/silver/tweets")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = ", ".join("'" + f.replace("'", "''") + "'" for f in silver.file_uris())
    con.execute(f"CREATE VIEW silver AS SELECT * FROM read_parquet([{files}])")
    summary = {"silver_rows": con.execute("SELECT count(*) FROM silver").fetchone()[0], "models": {}}
    problems = []
    for name, (keys, values, sql) in MODELS.items():
        gold = DeltaTable(f"{lake}/gold/{name}")
        table = gold.to_pyarrow_table()
        problems += column_problems(name, table.schema)
        protocol = gold.protocol()
        if (protocol.min_reader_version, protocol.min_writer_version) != (1, 2):
            problems.append(f"{name}: protocol {protocol}, beyond what Athena and Spark readers all have")
        columns = keys + values
        mine = rows_of(con.execute(sql).fetch_arrow_table(), columns)
        theirs = rows_of(table, columns)
        missing = [r for r in mine if r not in set(theirs)]
        extra = [r for r in theirs if r not in set(mine)]
        summary["models"][name] = {
            "rows": len(theirs),
            "equal": mine == theirs,
            "missing": missing[:5],
            "extra": extra[:5],
        }
    freshness = DeltaTable(f"{lake}/gold/lake_freshness").to_pyarrow_table()
    problems += column_problems("lake_freshness", freshness.schema)
    summary["freshness_layers"] = sorted(freshness.column("layer").to_pylist())
    if len(sys.argv) > 2:
        with open(sys.argv[2], newline="") as f:
            truth = sorted(
                (r["window_start"], r["city"], int(r["tweets"]), int(r["retweets"]), int(r["unique_users"]))
                for r in csv.DictReader(f)
            )
        gold = DeltaTable(f"{lake}/gold/tweets_per_city_5m").to_pyarrow_table()
        mine = rows_of(gold, ["window_start", "place", "tweets", "retweets", "unique_users"])
        summary["truth_rows"] = len(truth)
        summary["truth_equal"] = mine == truth
        summary["truth_missing"] = [r for r in truth if r not in set(mine)][:5]
    summary["column_problems"] = problems
    print(json.dumps(summary, default=str))


if __name__ == "__main__":
    main()
