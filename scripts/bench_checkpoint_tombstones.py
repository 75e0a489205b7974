"""What a week of tombstones costs each checkpoint of a table that writes a file a second.

Builds a table whose log removed N files (a compaction's tombstones, kept in every checkpoint for
`delta.deletedFileRetentionDuration`, a week by default), then times an explicit checkpoint, a fresh
open, and ten appends at `delta.checkpointInterval` 10 (the tenth writes a checkpoint in delta-rs's
hook), through the Python `deltalake`. docs/benchmarks.md, Freshness.

    ~/.cache/tweetlake/venv/bin/python scripts/bench_checkpoint_tombstones.py 604800
"""
import json, os, shutil, sys, tempfile, time, uuid
import pyarrow as pa, pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake
n = int(sys.argv[1]); t = os.path.join(tempfile.mkdtemp(), "t")
shutil.rmtree(t, ignore_errors=True); os.makedirs(os.path.join(t, "_delta_log"))
pq.write_table(pa.table({"v": pa.array(range(10), pa.int64())}), os.path.join(t, "part-0.parquet"))
now = int(time.time() * 1000)
schema = json.dumps({"type": "struct", "fields": [{"name": "v", "type": "long", "nullable": True, "metadata": {}}]})
with open(os.path.join(t, "_delta_log", "%020d.json" % 0), "w") as f:
    f.write(json.dumps({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}) + "\n")
    f.write(json.dumps({"metaData": {"id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}}, "schemaString": schema, "partitionColumns": [], "configuration": {"delta.checkpointInterval": "10"}, "createdTime": now}}) + "\n")
    f.write(json.dumps({"add": {"path": "part-0.parquet", "partitionValues": {}, "size": os.path.getsize(os.path.join(t, "part-0.parquet")), "modificationTime": now, "dataChange": True}}) + "\n")
with open(os.path.join(t, "_delta_log", "%020d.json" % 1), "w") as f:
    for i in range(n):
        f.write(json.dumps({"remove": {"path": "date=2026-12-0%d/part-%05d-%s-c000.zstd.parquet" % (i % 7 + 1, i % 100000, uuid.uuid4()), "deletionTimestamp": now, "dataChange": False, "extendedFileMetadata": True, "partitionValues": {}, "size": 50000}}) + "\n")
    f.write(json.dumps({"commitInfo": {"timestamp": now, "operation": "OPTIMIZE"}}) + "\n")
dt = DeltaTable(t)
s = time.perf_counter(); dt.create_checkpoint(); ck = time.perf_counter() - s
size = sum(os.path.getsize(os.path.join(t, "_delta_log", f)) for f in os.listdir(os.path.join(t, "_delta_log")) if "checkpoint" in f)
s = time.perf_counter(); d2 = DeltaTable(t); files = d2.file_uris(); op = time.perf_counter() - s
# ten appends: the 10th crosses the checkpoint interval (delta-rs writes one in the commit's hook)
ts = []
for i in range(10):
    s = time.perf_counter(); write_deltalake(d2, pa.table({"v": pa.array([i], pa.int64())}), mode="append"); ts.append(time.perf_counter() - s)
print(f"{n} tombstones: checkpoint {ck:.2f} s, {size/1e6:.1f} MB; fresh open {op:.2f} s; appends " + " ".join(f"{x:.2f}" for x in ts), flush=True)
shutil.rmtree(os.path.dirname(t))
