"""Reads a bronze table and its quarantine table with three independent readers and prints one JSON
summary: row counts, duplicate Kafka coordinates, and a digest of the raw bytes. The readers must agree;
any disagreement exits non-zero.

    python bronze_check.py LAKE_URI TABLE [--storage k=v ...] [--format delta|parquet]

Delta format (`<lake>/bronze/<table>`):
- deltalake (delta-rs Python bindings): the Delta snapshot, the reference.
- pyarrow: the same snapshot's Parquet files read as a dataset.
- DuckDB: read_parquet over the same files (Parquet mode; its delta extension needs a download).
Plain-Parquet format (`<lake>/parquet/<table>`, local lakes only):
- pyarrow: the directory as a Hive-partitioned dataset, the reference.
- DuckDB: read_parquet over `**/*.parquet` with hive_partitioning.
"""
import hashlib
import json
import sys
from collections import Counter

import duckdb
import pyarrow.dataset as ds
from deltalake import DeltaTable


def digest(values):
    """Order-independent digest: sha256 over the sorted sha256 of each value."""
    hashes = sorted(hashlib.sha256(v).hexdigest() for v in values)
    return hashlib.sha256("".join(hashes).encode()).hexdigest(), len(hashes)


def as_bytes(v):
    if v is None:
        return b""
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def summarize(tbl, raw_col):
    """What both formats report: duplicate coordinates, the raw-bytes digest, kinds and schema."""
    coords = list(zip(tbl.column("kafka_topic").to_pylist(), tbl.column("kafka_partition").to_pylist(),
                      tbl.column("kafka_offset").to_pylist()))
    raws = [as_bytes(v) for v in tbl.column(raw_col).to_pylist()]
    out = {
        "duplicates": sum(c - 1 for c in Counter(coords).values() if c > 1),
        "coords": sorted([t, p, o] for t, p, o in coords),
        "digest": digest(raws)[0],
        "bytes": sum(len(r) for r in raws),
        "schema": {f.name: str(f.type) for f in tbl.schema},
    }
    if raw_col == "raw_bytes":
        out["error_kinds"] = dict(Counter(tbl.column("error_kind").to_pylist()))
    else:
        out["event_kinds"] = dict(Counter(tbl.column("event_kind").to_pylist()))
    return out


def read(uri, storage, raw_col):
    try:
        dt = DeltaTable(uri, storage_options=storage)
    except Exception as e:  # no table yet
        if "no files in log segment" in str(e).lower() or "not a delta table" in str(e).lower():
            return None
        raise
    tbl = dt.to_pyarrow_table()
    files = dt.file_uris()
    out = {
        "version": dt.version(),
        "rows": tbl.num_rows,
        "files": len(files),
        "partition_columns": dt.metadata().partition_columns,
    }
    out.update(summarize(tbl, raw_col))
    # pyarrow dataset over the snapshot's files (partition column comes from the path, so skip it).
    fs_files = [f.replace("file://", "") for f in files]
    if fs_files and not uri.startswith("s3://"):
        pa_tbl = ds.dataset(fs_files, format="parquet").to_table(columns=[raw_col])
        pa_digest, pa_rows = digest(as_bytes(v) for v in pa_tbl.column(raw_col).to_pylist())
        if (pa_digest, pa_rows) != (out["digest"], out["rows"]):
            sys.exit(f"pyarrow disagrees on {uri}: {pa_rows} rows")
        con = duckdb.connect()
        size = "strlen(raw_value)" if raw_col == "raw_value" else "octet_length(raw_bytes)"
        duck = con.execute(
            f"SELECT count(*), count(DISTINCT (kafka_topic, kafka_partition, kafka_offset)), "
            f"sum({size}) FROM read_parquet(?)", [fs_files]).fetchone()
        if (duck[0], duck[1], duck[2] or 0) != (out["rows"], out["rows"] - out["duplicates"], out["bytes"]):
            sys.exit(f"duckdb disagrees on {uri}: {duck}")
        out["readers"] = ["deltalake", "pyarrow", "duckdb"]
    else:
        out["readers"] = ["deltalake"]
    return out


def read_hive(uri, raw_col):
    """A plain Parquet table: Hive `ingest_date=` directories, read by pyarrow and DuckDB."""
    import os
    root = uri.replace("file://", "")
    if not os.path.isdir(root) or not any(f.endswith(".parquet") for _, _, fs in os.walk(root) for f in fs):
        return None
    dataset = ds.dataset(root, format="parquet", partitioning="hive",
                         exclude_invalid_files=False)
    tbl = dataset.to_table()
    names = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)
    out = {"version": None, "rows": tbl.num_rows, "files": len(names), "file_names": names,
           "partition_columns": [f.name for f in dataset.partitioning.schema] if dataset.partitioning else []}
    out.update(summarize(tbl, raw_col))
    size = "strlen(raw_value)" if raw_col == "raw_value" else "octet_length(raw_bytes)"
    duck = duckdb.connect().execute(
        f"SELECT count(*), count(DISTINCT (kafka_topic, kafka_partition, kafka_offset)), sum({size}), "
        f"count(DISTINCT ingest_date) FROM read_parquet(?, hive_partitioning = true)",
        [os.path.join(root, "**", "*.parquet")]).fetchone()
    if (duck[0], duck[1], duck[2] or 0) != (out["rows"], out["rows"] - out["duplicates"], out["bytes"]):
        sys.exit(f"duckdb disagrees on {uri}: {duck}")
    out["readers"] = ["pyarrow", "duckdb"]
    return out


def main():
    lake, table = sys.argv[1].rstrip("/"), sys.argv[2]
    storage = {}
    fmt = "delta"
    args = sys.argv[3:]
    while args:
        if args[0] == "--storage":
            k, v = args[1].split("=", 1)
            storage[k] = v
            args = args[2:]
        elif args[0] == "--format":
            fmt = args[1]
            args = args[2:]
        else:
            sys.exit(f"unknown argument {args[0]}")
    if fmt == "parquet":
        print(json.dumps({
            "bronze": read_hive(f"{lake}/parquet/{table}", "raw_value"),
            "quarantine": read_hive(f"{lake}/parquet/{table}_quarantine", "raw_bytes"),
        }))
        return
    result = {
        "bronze": read(f"{lake}/bronze/{table}", storage, "raw_value"),
        "quarantine": read(f"{lake}/bronze/{table}_quarantine", storage, "raw_bytes"),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
