"""Reads each gold table's current snapshot with JVM Spark (pyspark, local mode) and compares it.

Spark here has no Delta reader (delta-spark's jars come only from Maven), so it reads the Parquet
files the deltalake package listed (stdin, from gold_snapshot.py), with the table folder as base
path so Hive-style partition columns come back. Rows must equal deltalake's, and every timestamp
column must arrive as Spark's UTC TIMESTAMP. Prints one JSON summary.

    python gold_snapshot.py LAKE | python pyspark_check.py
"""
import datetime
import json
import os
import sys

os.environ["TZ"] = "UTC"

from pyspark.sql import SparkSession  # noqa: E402


def canonical(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, float):
        return round(value, 4)
    return value


def main():
    snapshot = json.load(sys.stdin)
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("tweetlake-gold-check")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    summary = {"spark": spark.version, "tables": {}}
    for name, table in snapshot.items():
        frame = spark.read.option("basePath", table["path"]).parquet(*table["files"])
        frame = frame.select(*table["columns"])
        types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
        rows = sorted(json.dumps([canonical(v) for v in r]) for r in frame.collect())
        expected = sorted(json.dumps(r) for r in table["rows"])
        summary["tables"][name] = {
            "rows": len(rows),
            "equal": rows == expected,
            "types": types,
            "first_difference": next(
                ([a, b] for a, b in zip(rows, expected) if a != b), None
            ),
        }
    spark.stop()
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
