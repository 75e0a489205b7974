//! `catalog ddl`: the statements that register every lake table in Athena (Glue) or Spark.
//!
//! Athena reads Delta natively from the table's log, so a Delta table needs only its location
//! (`table_type = 'DELTA'`, no column list). The plain-Parquet copy of bronze has no log: its
//! columns come from a data file's footer, its `ingest_date` partitions from partition projection,
//! so no `MSCK REPAIR` or crawler is needed. Spark gets column lists for both, which it checks
//! against the Delta log when the table is created.

use std::sync::Arc;

use futures::TryStreamExt;
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use tweetlake_core::deltalake::logstore::object_store::ObjectStoreExt as _;
use tweetlake_core::deltalake::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tweetlake_core::Lake;
use url::Url;

use crate::dialect::Engine;
use tweetlake_core::LakeCatalog;

use crate::GoldError;

/// The partition column of the plain-Parquet bronze copy (a Hive-style directory level).
const PARQUET_PARTITION: &str = tweetlake_core::tables::bronze::columns::INGEST_DATE;

/// One table to register: its name in the target catalog, where it lives, what it holds.
struct Entry {
    /// `bronze`, `silver`, `gold`, or `parquet` for the plain-Parquet bronze copy.
    layer: &'static str,
    table: String,
    location: Url,
    schema: SchemaRef,
    partitions: Vec<String>,
    delta: bool,
}

/// The DDL for every table of `catalog` and every plain-Parquet bronze table of `lake`.
pub async fn catalog_ddl(
    lake: &Lake,
    catalog: &LakeCatalog,
    engine: Engine,
    database: &str,
) -> Result<String, GoldError> {
    if engine == Engine::DuckDb {
        return Err(GoldError::Query(
            "catalog ddl prints Athena and Spark DDL only".into(),
        ));
    }
    let mut entries = Vec::new();
    for name in catalog.names() {
        let Some(table) = catalog.get(name) else {
            continue;
        };
        let snapshot = table.snapshot().map_err(|e| GoldError::Delta {
            what: format!("reading the schema of {name}"),
            source: Box::new(e),
        })?;
        entries.push(Entry {
            layer: name.layer.as_str(),
            table: name.table.clone(),
            location: table.table_url().clone(),
            schema: snapshot.snapshot().arrow_schema(),
            partitions: snapshot.metadata().partition_columns().to_vec(),
            delta: true,
        });
    }
    entries.extend(parquet_tables(lake).await?);
    let mut out = String::new();
    match engine {
        Engine::Athena => {
            out.push_str(&format!("CREATE DATABASE IF NOT EXISTS {database};\n\n"));
            for e in &entries {
                out.push_str(&athena(e, database));
            }
        }
        Engine::Spark | Engine::DuckDb => {
            for layer in ["bronze", "silver", "gold"] {
                out.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {layer};\n"));
            }
            out.push('\n');
            for e in &entries {
                out.push_str(&spark(e));
            }
        }
    }
    Ok(out)
}

fn location(url: &Url) -> String {
    let text = url.as_str().trim_end_matches('/');
    format!("{}/", text.replacen("s3a://", "s3://", 1))
}

fn athena(e: &Entry, database: &str) -> String {
    let name = format!("{database}.{}_{}", e.layer, e.table);
    if e.delta {
        return format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS {name}\nLOCATION '{}'\nTBLPROPERTIES ('table_type' = 'DELTA');\n\n",
            location(&e.location)
        );
    }
    let root = location(&e.location);
    format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n{}\n)\nPARTITIONED BY ({p} date)\n\
         STORED AS PARQUET\nLOCATION '{root}'\nTBLPROPERTIES (\n  'projection.enabled' = 'true',\n  \
         'projection.{p}.type' = 'date',\n  'projection.{p}.format' = 'yyyy-MM-dd',\n  \
         'projection.{p}.range' = '2006-03-21,NOW',\n  'projection.{p}.interval' = '1',\n  \
         'projection.{p}.interval.unit' = 'DAYS',\n  \
         'storage.location.template' = '{root}{p}=${{{p}}}/'\n);\n\n",
        columns(&e.schema, &[PARQUET_PARTITION.to_string()]),
        p = PARQUET_PARTITION,
    )
}

fn spark(e: &Entry) -> String {
    let name = if e.delta {
        format!("{}.{}", e.layer, e.table)
    } else {
        format!("bronze.{}_parquet", e.table)
    };
    let format = if e.delta { "DELTA" } else { "PARQUET" };
    let mut all = e.schema.fields().iter().cloned().collect::<Vec<_>>();
    if !e.delta {
        all.push(Arc::new(Field::new(
            PARQUET_PARTITION,
            DataType::Date32,
            true,
        )));
    }
    let schema = Schema::new(all);
    // The Parquet copy's entry lists its directory partition too.
    let partitioned = match e.partitions.is_empty() {
        true => String::new(),
        false => format!("\nPARTITIONED BY ({})", e.partitions.join(", ")),
    };
    let repair = if e.delta {
        String::new()
    } else {
        format!("MSCK REPAIR TABLE {name};\n")
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {name} (\n{}\n)\nUSING {format}{partitioned}\nLOCATION '{}';\n{repair}\n",
        columns(&schema, &[]),
        location(&e.location).replacen("s3://", "s3a://", 1),
    )
}

/// `  name type,` lines, leaving out `skip` (partition columns Athena declares apart).
fn columns(schema: &Schema, skip: &[String]) -> String {
    schema
        .fields()
        .iter()
        .filter(|f| !skip.contains(f.name()))
        .map(|f| format!("  {} {}", quote(f.name()), hive_type(f.data_type())))
        .collect::<Vec<_>>()
        .join(",\n")
}

/// Backticks for names that are also keywords (`end` of an entity span).
fn quote(name: &str) -> String {
    format!("`{name}`")
}

/// The Hive type both Athena and Spark DDL use for an Arrow type.
pub fn hive_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "string".into(),
        DataType::Binary | DataType::BinaryView | DataType::LargeBinary => "binary".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::Decimal128(p, s) => format!("decimal({p},{s})"),
        DataType::List(f) | DataType::LargeList(f) => {
            format!("array<{}>", hive_type(f.data_type()))
        }
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", quote(f.name()), hive_type(f.data_type())))
                .collect();
            format!("struct<{}>", inner.join(","))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!(
                    "map<{},{}>",
                    hive_type(kv[0].data_type()),
                    hive_type(kv[1].data_type())
                )
            }
            other => format!("string /* {other} */"),
        },
        other => format!("string /* {other} */"),
    }
}

/// The plain-Parquet bronze tables under `<root>/parquet/`, each with a data file's schema.
async fn parquet_tables(lake: &Lake) -> Result<Vec<Entry>, GoldError> {
    let root = lake.parquet_url("");
    let Some((store, listing)) = tweetlake_core::catalog::list_folder(lake, &root).await? else {
        return Ok(Vec::new());
    };
    let err = |e: String| GoldError::Query(format!("reading {root}: {e}"));
    let mut entries = Vec::new();
    for dir in listing.common_prefixes {
        let Some(table) = dir.filename().map(str::to_string) else {
            continue;
        };
        let files: Vec<_> = store
            .list(Some(&dir))
            .try_collect()
            .await
            .map_err(|e| err(e.to_string()))?;
        let Some(file) = files
            .iter()
            .find(|f| f.location.as_ref().ends_with(".parquet"))
        else {
            continue;
        };
        let bytes = store
            .get(&file.location)
            .await
            .map_err(|e| err(e.to_string()))?
            .bytes()
            .await
            .map_err(|e| err(e.to_string()))?;
        let schema = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .map_err(|e| err(format!("{}: {e}", file.location)))?
            .schema()
            .clone();
        entries.push(Entry {
            layer: "parquet",
            location: lake.parquet_url(&table),
            table,
            schema,
            partitions: vec![PARQUET_PARTITION.into()],
            delta: false,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_types_spell_like_hive() {
        let entity = DataType::Struct(
            vec![
                Field::new("text", DataType::Utf8, false),
                Field::new("end", DataType::Int32, false),
            ]
            .into(),
        );
        let list = DataType::List(Arc::new(Field::new("element", entity, true)));
        assert_eq!(hive_type(&list), "array<struct<`text`:string,`end`:int>>");
    }
}
