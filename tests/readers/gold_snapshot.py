"""Lists what a reader of each gold table's current snapshot needs, for engines without Delta.

For every table under LAKE/gold, the deltalake package gives the Parquet files of the current
snapshot, the partition columns, and the rows in a canonical form (UTC timestamps as ISO text,
floats to 4 places), which pyspark_check.py compares with what JVM Spark reads from those files.

    python gold_snapshot.py LAKE_PATH > snapshot.json
"""
import datetime
import json
import os
import sys

from deltalake import DeltaTable


def canonical(value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, float):
        return round(value, 4)
    return value


def main():
    gold = os.path.join(sys.argv[1].removeprefix("file://"), "gold")
    tables = {}
    for name in sorted(os.listdir(gold)):
        table = DeltaTable(os.path.join(gold, name))
        data = table.to_pyarrow_table()
        rows = [[canonical(v) for v in row.values()] for row in data.to_pylist()]
        tables[name] = {
            "path": os.path.join(gold, name),
            "files": table.file_uris(),
            "partition_columns": table.metadata().partition_columns,
            "columns": data.column_names,
            "rows": rows,
        }
    print(json.dumps(tables))


if __name__ == "__main__":
    main()
