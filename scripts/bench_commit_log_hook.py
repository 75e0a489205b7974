"""What Delta's expired-log cleanup after each commit costs as a table's log grows.

Writes a table whose log holds N one-line commits (no checkpoint), then times five appends with
`delta.enableExpiredLogCleanup` at Delta's default (on) and off, through the Python `deltalake`
(the same delta-rs post-commit hook tweetlake's writers run). docs/benchmarks.md, Freshness.

    ~/.cache/tweetlake/venv/bin/python scripts/bench_commit_log_hook.py 100000 [DIR]
"""

import json
import os
import shutil
import sys
import tempfile
import time
import uuid

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake


def make_table(path, commits, cleanup):
    log = os.path.join(path, "_delta_log")
    os.makedirs(log)
    now = int(time.time() * 1000)
    schema = {"type": "struct", "fields": [{"name": "v", "type": "long", "nullable": True, "metadata": {}}]}
    configuration = {"delta.checkpointInterval": "1000000000"}
    if cleanup is not None:
        configuration["delta.enableExpiredLogCleanup"] = cleanup
    actions = [
        {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}},
        {"metaData": {"id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}},
                      "schemaString": json.dumps(schema), "partitionColumns": [],
                      "configuration": configuration, "createdTime": now}},
    ]
    with open(os.path.join(log, "%020d.json" % 0), "w") as f:
        f.write("".join(json.dumps(a) + "\n" for a in actions))
    info = json.dumps({"commitInfo": {"timestamp": now, "operation": "WRITE"}}) + "\n"
    for version in range(1, commits + 1):
        with open(os.path.join(log, "%020d.json" % version), "w") as f:
            f.write(info)


def main():
    commits = int(sys.argv[1])
    root = tempfile.mkdtemp(dir=sys.argv[2] if len(sys.argv) > 2 else None)
    try:
        for cleanup in (None, "false"):
            path = os.path.join(root, f"t-{cleanup}")
            make_table(path, commits, cleanup)
            table = DeltaTable(path)
            times = []
            for i in range(5):
                start = time.perf_counter()
                write_deltalake(table, pa.table({"v": pa.array([i], pa.int64())}), mode="append")
                times.append(time.perf_counter() - start)
            label = "on (default)" if cleanup is None else "off"
            print(f"{commits} log files, cleanup after commit {label}: "
                  + " ".join(f"{t:.3f}" for t in times) + " s", flush=True)
            shutil.rmtree(path)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
