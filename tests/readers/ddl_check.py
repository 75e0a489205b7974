"""Checks `tweetlake catalog ddl` output against the data and prints one JSON summary.

Every statement must parse with sqlglot in the engine's dialect. A CREATE TABLE with a column list
must name exactly the columns, in order and with the types, that the table's data has: for a Delta
table as the deltalake package reads its schema, for a plain-Parquet table as pyarrow reads a data
file's footer plus the `ingest_date` partition. A Delta table for Athena must point at a directory
with a `_delta_log` and say `table_type = 'DELTA'`.

    tweetlake catalog ddl --engine athena | python ddl_check.py athena
"""
import glob
import json
import os
import re
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from deltalake import DeltaTable
from sqlglot import exp


def hive(t):
    if pa.types.is_boolean(t): return "BOOLEAN"
    if pa.types.is_int8(t): return "TINYINT"
    if pa.types.is_int16(t): return "SMALLINT"
    if pa.types.is_int32(t): return "INT"
    if pa.types.is_int64(t): return "BIGINT"
    if pa.types.is_float32(t): return "FLOAT"
    if pa.types.is_float64(t): return "DOUBLE"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t): return "STRING"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t): return "BINARY"
    if pa.types.is_date(t): return "DATE"
    if pa.types.is_timestamp(t): return "TIMESTAMP"
    if pa.types.is_list(t) or pa.types.is_large_list(t): return f"ARRAY<{hive(t.value_type)}>"
    if pa.types.is_struct(t):
        return "STRUCT<" + ", ".join(f"{t.field(i).name} {hive(t.field(i).type)}" for i in range(t.num_fields)) + ">"
    if pa.types.is_map(t): return f"MAP<{hive(t.key_type)}, {hive(t.item_type)}>"
    return str(t)


def normal(type_sql):
    text = type_sql.upper().replace("`", "").replace('"', "").replace(":", " ")
    return re.sub(r"\s+", " ", text)


def main():
    dialect = {"athena": "athena", "spark": "spark"}[sys.argv[1]]
    text = sys.stdin.read()
    parsed, problems, tables = 0, [], 0
    for statement in [s.strip() for s in text.split(";\n") if s.strip()]:
        try:
            tree = sqlglot.parse_one(statement, read=dialect)
        except sqlglot.errors.ParseError as e:
            problems.append(f"does not parse: {statement.splitlines()[0]}: {str(e)[:200]}")
            continue
        parsed += 1
        if not isinstance(tree, exp.Create) or tree.kind != "TABLE":
            continue
        tables += 1
        props = tree.find(exp.Properties)
        location = next(p for p in props.expressions if isinstance(p, exp.LocationProperty)).this.name
        path = location.replace("file://", "").replace("s3a://", "s3://").rstrip("/")
        schema = tree.this if isinstance(tree.this, exp.Schema) else None
        name = tree.this.this.sql() if schema else tree.this.sql()
        is_delta = os.path.isdir(os.path.join(path, "_delta_log"))
        if dialect == "athena" and is_delta:
            if "'table_type' = 'DELTA'" not in statement or schema is not None:
                problems.append(f"{name}: a Delta table needs table_type DELTA and no columns")
            continue
        if schema is None:
            problems.append(f"{name}: no column list")
            continue
        declared = [(c.this.name, normal(c.args["kind"].sql(dialect="spark"))) for c in schema.expressions]
        if is_delta:
            arrow = DeltaTable(path).schema().to_arrow()
            arrow = pa.schema(arrow) if not isinstance(arrow, pa.Schema) else arrow
            actual = [(f.name, normal(hive(f.type))) for f in arrow]
        else:
            files = sorted(glob.glob(f"{path}/*/*.parquet"))
            arrow = pq.read_schema(files[0])
            actual = [(f.name, normal(hive(f.type))) for f in arrow]
            if dialect == "spark":
                actual.append(("ingest_date", "DATE"))
        if declared != actual:
            diff = [(d, a) for d, a in zip(declared, actual) if d != a][:3]
            problems.append(f"{name}: columns differ from the data: {diff or (len(declared), len(actual))}")
    print(json.dumps({"parsed": parsed, "tables": tables, "problems": problems}))


if __name__ == "__main__":
    main()
