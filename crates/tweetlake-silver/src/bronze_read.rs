//! Reads bronze rows and stored ids from Delta data files directly, with only the columns silver
//! needs.

use std::collections::HashSet;
use std::sync::Arc;

pub(crate) use tweetlake_core::delta::read_columns;
use tweetlake_core::deltalake::arrow::array::{Array, AsArray, RecordBatch};
use tweetlake_core::deltalake::arrow::datatypes::{Int32Type, Int64Type};
use tweetlake_core::deltalake::{DeltaTable, DeltaTableError, ObjectStore, Path};
use tweetlake_core::deltalake::{FilterLiteral, FilterOp, FilterValue};

use tweetlake_core::tables::bronze::columns::{
    KAFKA_OFFSET, KAFKA_PARTITION, KAFKA_TOPIC, RAW_VALUE,
};

use crate::rows::Lineage;

const COLUMNS: [&str; 4] = [RAW_VALUE, KAFKA_TOPIC, KAFKA_PARTITION, KAFKA_OFFSET];

/// One bronze row: the raw message and where it was in Kafka.
#[derive(Debug, Clone)]
pub struct BronzeRow {
    pub raw: String,
    pub lineage: Lineage,
}

/// Every row of one bronze data file.
pub async fn read_file(
    store: Arc<dyn ObjectStore>,
    path: Path,
) -> Result<Vec<BronzeRow>, DeltaTableError> {
    let mut rows = Vec::new();
    for batch in read_columns(&store, &path, &COLUMNS).await? {
        rows.extend(rows_of(&batch)?);
    }
    Ok(rows)
}

fn rows_of(batch: &RecordBatch) -> Result<Vec<BronzeRow>, DeltaTableError> {
    let col = |name: &str| {
        batch
            .column_by_name(name)
            .ok_or_else(|| DeltaTableError::generic(format!("bronze file without column {name}")))
    };
    let typed = |name: &str| {
        DeltaTableError::generic(format!("bronze column {name} has an unexpected type"))
    };
    let raw = col(RAW_VALUE)?
        .as_string_opt::<i32>()
        .ok_or_else(|| typed(RAW_VALUE))?;
    let topic = col(KAFKA_TOPIC)?
        .as_string_opt::<i32>()
        .ok_or_else(|| typed(KAFKA_TOPIC))?;
    let partition = col(KAFKA_PARTITION)?
        .as_primitive_opt::<Int32Type>()
        .ok_or_else(|| typed(KAFKA_PARTITION))?;
    let offset = col(KAFKA_OFFSET)?
        .as_primitive_opt::<Int64Type>()
        .ok_or_else(|| typed(KAFKA_OFFSET))?;
    Ok((0..batch.num_rows())
        .filter(|i| raw.is_valid(*i))
        .map(|i| BronzeRow {
            raw: raw.value(i).to_string(),
            lineage: Lineage {
                topic: topic.value(i).to_string(),
                partition: partition.value(i),
                offset: offset.value(i),
            },
        })
        .collect())
}

/// Every value of an Int64 column across the table's files (e.g. the ids in `silver/deletes`).
pub async fn read_ids(table: &DeltaTable, column: &str) -> Result<HashSet<i64>, DeltaTableError> {
    read_ids_where(table, column, &[]).await
}

/// The ids of `wanted` that `table` holds, reading only the files that can hold them: in the
/// `partition` values listed (the event dates of a run's tweets) and, by the files' `tweet_id`
/// statistics, in the range of the wanted ids. Snowflake ids grow with time, so a live stream's
/// new tweets fall in the last few files of today's partition, not in all of it: without the range,
/// every round of `tweetlake run` read every id of the day (issue 19).
pub async fn stored_ids(
    table: &DeltaTable,
    partition: (&str, &[String]),
    wanted: &HashSet<i64>,
) -> Result<HashSet<i64>, DeltaTableError> {
    let files = files_holding(table, partition, wanted).await?;
    let mut ids = read_ids_in(table, &files, TWEET_ID).await?;
    ids.retain(|id| wanted.contains(id));
    Ok(ids)
}

/// The files of `table` whose partition is listed and whose `tweet_id` range (where the file has
/// statistics; files without are kept) meets the range of `wanted`.
pub(crate) async fn files_holding(
    table: &DeltaTable,
    partition: (&str, &[String]),
    wanted: &HashSet<i64>,
) -> Result<Vec<Path>, DeltaTableError> {
    let (column, values) = partition;
    let (Some(low), Some(high)) = (wanted.iter().min(), wanted.iter().max()) else {
        return Ok(Vec::new());
    };
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let (low, high) = (low.to_string(), high.to_string());
    let filter = [
        (
            column,
            FilterOp::In,
            FilterValue::Set(values.iter().map(String::as_str).collect()),
        ),
        (TWEET_ID, FilterOp::Ge, FilterValue::Scalar(&low)),
        (TWEET_ID, FilterOp::Le, FilterValue::Scalar(&high)),
    ];
    table.get_files_by_partitions(&filter).await
}

const TWEET_ID: &str = "tweet_id";

async fn read_ids_where(
    table: &DeltaTable,
    column: &str,
    filters: &[FilterLiteral<'_>],
) -> Result<HashSet<i64>, DeltaTableError> {
    let files = table.get_files_by_partitions(filters).await?;
    read_ids_in(table, &files, column).await
}

/// Every value of an Int64 column in `files` of `table`.
async fn read_ids_in(
    table: &DeltaTable,
    files: &[Path],
    column: &str,
) -> Result<HashSet<i64>, DeltaTableError> {
    let store = table.object_store();
    let mut ids = HashSet::new();
    for path in files {
        for batch in read_columns(&store, path, &[column]).await? {
            let values = batch
                .column_by_name(column)
                .and_then(|c| c.as_primitive_opt::<Int64Type>())
                .ok_or_else(|| DeltaTableError::generic(format!("no Int64 column {column}")))?;
            ids.extend(values.iter().flatten());
        }
    }
    Ok(ids)
}
