"""The gold benchmark's reference: DuckDB runs the models as `tweetlake catalog models --engine
duckdb` prints them, over the Parquet files of the current silver/tweets snapshot, writing each
result to a Parquet file (as tweetlake writes each to a Delta table). Prints each model's seconds
beside tweetlake's from its `promote gold` output, and the ratio.

    python bench_gold_duckdb.py LAKE MODELS.duckdb.sql PROMOTE_GOLD_OUTPUT
"""
import os
import re
import sys
import tempfile
import time

import duckdb
from deltalake import DeltaTable


def main():
    lake, models_file, tweetlake_out = sys.argv[1:4]
    ours = {}
    for line in open(tweetlake_out):
        m = re.match(r"gold\.(\w+) .* rows written in ([\d.]+)s", line)
        if m:
            ours[m.group(1)] = float(m.group(2))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    files = ", ".join("'" + f + "'" for f in DeltaTable(f"{lake}/silver/tweets").file_uris())
    con.execute("CREATE SCHEMA silver")
    con.execute(f"CREATE VIEW silver.tweets AS SELECT * FROM read_parquet([{files}])")
    rows = con.execute("SELECT count(*) FROM silver.tweets").fetchone()[0]
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"silver/tweets: {rows} rows; DuckDB {duckdb.__version__}, {threads} threads")
    print(f"{'model':<24}{'tweetlake s':>12}{'duckdb s':>10}{'ratio':>8}")
    out = tempfile.mkdtemp()
    total_ours = total_duck = 0.0
    for block in open(models_file).read().split(";\n"):
        header = re.search(r"-- gold\.(\w+):", block)
        sql = "\n".join(l for l in block.splitlines() if not l.startswith("--")).strip()
        if not header or not sql or "bronze." in sql or "gold." in sql:
            continue  # lake_freshness reads bronze and gold, which DuckDB has no view of here
        name = header.group(1)
        start = time.perf_counter()
        con.execute(f"COPY ({sql}) TO '{os.path.join(out, name)}.parquet' (FORMAT parquet)")
        duck = time.perf_counter() - start
        mine = ours.get(name, float("nan"))
        total_ours += mine
        total_duck += duck
        print(f"{name:<24}{mine:>12.2f}{duck:>10.2f}{mine / duck:>8.2f}")
    print(f"{'total':<24}{total_ours:>12.2f}{total_duck:>10.2f}{total_ours / total_duck:>8.2f}")


if __name__ == "__main__":
    main()
