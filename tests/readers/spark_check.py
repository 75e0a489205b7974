"""Runs the gold models in a Spark-API engine and compares them with the gold tables.

pysail (a Spark Connect server, started in-process) registers silver.tweets from its Delta log,
runs each model as `tweetlake catalog models --engine spark` prints it (stdin), and reads each
gold table through `spark.read.format("delta")`; the rows must be equal. Models that read bronze
or gold are skipped. Prints one JSON summary.

    tweetlake catalog models --engine spark | python spark_check.py LAKE_PATH
"""
import json
import math
import os
import re
import sys

from pysail.spark import SparkConnectServer
from pyspark.sql import SparkSession


def normal(row):
    return tuple(round(v, 4) if isinstance(v, float) and not math.isnan(v) else v for v in row)


def main():
    lake = sys.argv[1].removeprefix("file://")
    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    _, port = server.listening_address
    spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
    spark.sql("CREATE DATABASE IF NOT EXISTS silver")
    spark.sql(f"CREATE TABLE silver.tweets USING DELTA LOCATION '{lake}/silver/tweets'")
    summary = {"silver_rows": spark.sql("SELECT count(*) FROM silver.tweets").collect()[0][0], "models": {}}
    for block in sys.stdin.read().split(";\n"):
        header = re.search(r"-- gold\.(\w+):", block)
        sql = "\n".join(l for l in block.splitlines() if not l.startswith("--")).strip()
        if not header or "bronze." in sql or "gold." in sql:
            continue
        name = header.group(1)
        try:
            mine = sorted(normal(r) for r in spark.sql(sql).collect())
        except Exception as e:  # a model Spark cannot run is a finding, not a crash
            summary["models"][name] = {"error": str(e)[:500]}
            continue
        gold = sorted(normal(r) for r in spark.read.format("delta").load(f"{lake}/gold/{name}").collect())
        summary["models"][name] = {"rows": len(gold), "equal": mine == gold}
    print(json.dumps(summary, default=str), flush=True)
    # pysail's server.stop() can wait forever on its session actors; the answer is out, so leave.
    os._exit(0)


if __name__ == "__main__":
    main()
