//! The plain-Parquet output, for readers without Delta: Hive-style `ingest_date=YYYY-MM-DD/`
//! directories of files named `<topic>+<partition>+<first offset>.parquet`, where `ingest_date` is
//! the UTC date the file was written and the first offset is that of the file's first row.
//!
//! There is no log, so each file's footer carries the last offset of the range it was written for
//! (`tweetlake.range_end`) and how many normal rows that range had (`tweetlake.range_rows`). Per
//! partition the quarantine file is written first and the main file second; the main file is the
//! commit point. On resume the newest main file of a partition says where to continue. A newer
//! quarantine file whose main file never landed marks its offsets as already quarantined, so the
//! re-read range skips them; a range with only quarantined messages is complete with that file alone.
//! Offsets are read back, never guessed, so a restarted range starts at the same offset and its
//! files get the same names: a replay overwrites instead of duplicating. Unlike the Delta output
//! there is no check-then-commit between ingesters: run one ingester per table in this mode.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures::TryStreamExt;
use tracing::{info_span, warn, Instrument};
use tweetlake_core::deltalake::arrow::array::{Array, Int64Array};
use tweetlake_core::deltalake::arrow::record_batch::RecordBatch;
use tweetlake_core::deltalake::logstore::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tweetlake_core::deltalake::logstore::store_for;
use tweetlake_core::deltalake::parquet::arrow::ArrowWriter;
use tweetlake_core::deltalake::parquet::errors::ParquetError;
use tweetlake_core::deltalake::parquet::file::metadata::{
    FooterTail, KeyValue, ParquetMetaData, ParquetMetaDataReader,
};
use tweetlake_core::deltalake::{ObjectMeta, Path};
use url::Url;

use super::{CommitOutcome, Description, PartitionRange, PartitionStart, TableLocation};
use crate::chunk::TopicPartition;
use crate::error::BronzeError;
use crate::metrics::TableMetrics;
use crate::schema::{parquet_properties, PARTITION_COLUMN};

const RANGE_END: &str = "tweetlake.range_end";
const RANGE_ROWS: &str = "tweetlake.range_rows";

/// Writes one bronze table and its quarantine table as plain Parquet files.
pub struct ParquetOutput {
    main: FileTable,
    quarantine: FileTable,
    metrics: Arc<TableMetrics>,
}

/// One directory tree of Parquet files and the object store rooted at it.
struct FileTable {
    url: Url,
    store: Arc<dyn ObjectStore>,
}

impl ParquetOutput {
    pub fn open(location: TableLocation, metrics: Arc<TableMetrics>) -> Result<Self, BronzeError> {
        Ok(Self {
            main: FileTable::open(&location.main_url, &location.storage_options)?,
            quarantine: FileTable::open(&location.quarantine_url, &location.storage_options)?,
            metrics,
        })
    }

    /// Writes each range: its quarantine file, then its main file (the commit point).
    pub async fn commit(
        &mut self,
        ranges: Vec<PartitionRange>,
    ) -> Result<CommitOutcome, BronzeError> {
        let started = Instant::now();
        let date = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut outcome = CommitOutcome::default();
        for mut range in ranges {
            let main_rows: usize = range.main.iter().map(RecordBatch::num_rows).sum();
            let meta = || {
                vec![
                    KeyValue::new(RANGE_END.into(), range.end.to_string()),
                    KeyValue::new(RANGE_ROWS.into(), main_rows.to_string()),
                ]
            };
            let tp = &range.stored.tp;
            let span =
                info_span!("commit", partition = %tp, range_end = range.end, rows = main_rows);
            async {
                if !range.quarantine.is_empty() {
                    self.quarantine
                        .write(tp, &date, &range.quarantine, meta())
                        .await?;
                }
                if !range.main.is_empty() {
                    self.main.write(tp, &date, &range.main, meta()).await?;
                }
                Ok::<_, BronzeError>(())
            }
            .instrument(span)
            .await?;
            range.stored.main_txn = Some(range.end);
            if !range.quarantine.is_empty() {
                range.stored.quarantine_txn = Some(range.end);
            }
            outcome.stored.push(range.stored);
        }
        let m = &self.metrics;
        m.commits.fetch_add(1, Ordering::Relaxed);
        m.commit_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(outcome)
    }
}

impl FileTable {
    fn open(url: &Url, options: &HashMap<String, String>) -> Result<Self, BronzeError> {
        if url.scheme() == "file" {
            // The local store lists a missing directory as an error, not as empty.
            if let Ok(path) = url.to_file_path() {
                std::fs::create_dir_all(&path).map_err(|e| BronzeError::Table {
                    table: url.to_string(),
                    message: format!("cannot create directory: {e}"),
                })?;
            }
        }
        let store = store_for(url, options.clone()).map_err(|source| BronzeError::Delta {
            uri: url.to_string(),
            source: Box::new(source),
        })?;
        Ok(Self {
            url: url.clone(),
            store,
        })
    }

    fn err(
        &self,
        path: &Path,
    ) -> impl Fn(tweetlake_core::deltalake::ObjectStoreError) -> BronzeError {
        let uri = format!("{}/{path}", self.url.as_str().trim_end_matches('/'));
        move |source| BronzeError::Store {
            uri: uri.clone(),
            source: Box::new(source),
        }
    }

    /// Encodes `batches` (without the partition column, which the directory names) into one file.
    async fn write(
        &self,
        tp: &TopicPartition,
        date: &str,
        batches: &[RecordBatch],
        metadata: Vec<KeyValue>,
    ) -> Result<(), BronzeError> {
        let Some(first) = first_offset(batches) else {
            return Ok(());
        };
        let path = Path::from(format!(
            "{PARTITION_COLUMN}={date}/{}",
            file_name(&tp.topic, tp.partition, first)
        ));
        let parquet_err = |source| BronzeError::Parquet {
            uri: format!("{}/{path}", self.url.as_str().trim_end_matches('/')),
            source: Box::new(source),
        };
        let schema = batches[0].schema();
        let keep: Vec<usize> = (0..schema.fields().len())
            .filter(|&i| schema.field(i).name() != PARTITION_COLUMN)
            .collect();
        let file_schema = Arc::new(schema.project(&keep).map_err(|e| parquet_err(e.into()))?);
        let props = parquet_properties()
            .set_key_value_metadata(Some(metadata))
            .build();
        let mut writer =
            ArrowWriter::try_new(Vec::new(), file_schema, Some(props)).map_err(parquet_err)?;
        for b in batches {
            let b = b.project(&keep).map_err(|e| parquet_err(e.into()))?;
            writer.write(&b).map_err(parquet_err)?;
        }
        let bytes = writer.into_inner().map_err(parquet_err)?;
        // A single PUT: atomic on S3, and a write-then-rename on local disk.
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(self.err(&path))?;
        Ok(())
    }

    /// Every data file of the table (temporary files of interrupted writes left out).
    async fn files(&self) -> Result<Vec<ObjectMeta>, BronzeError> {
        let metas: Vec<ObjectMeta> = self
            .store
            .list(None)
            .try_collect()
            .await
            .map_err(self.err(&Path::default()))?;
        Ok(metas
            .into_iter()
            .filter(|m| m.location.filename().and_then(parse_file_name).is_some())
            .collect())
    }

    /// The newest file (highest first offset) of each topic-partition.
    async fn newest_files(&self) -> Result<HashMap<(String, i32), (i64, ObjectMeta)>, BronzeError> {
        let mut newest: HashMap<(String, i32), (i64, ObjectMeta)> = HashMap::new();
        for meta in self.files().await? {
            let Some((topic, partition, first)) =
                meta.location.filename().and_then(parse_file_name)
            else {
                continue;
            };
            let entry = newest.entry((topic.to_string(), partition));
            match entry {
                std::collections::hash_map::Entry::Occupied(mut e) if e.get().0 < first => {
                    e.insert((first, meta));
                }
                std::collections::hash_map::Entry::Occupied(_) => {}
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert((first, meta));
                }
            }
        }
        Ok(newest)
    }

    async fn describe(&self) -> Result<Description, BronzeError> {
        let mut d = Description {
            uri: self.url.to_string(),
            ..Default::default()
        };
        for meta in self.files().await? {
            let uri = format!(
                "{}/{}",
                self.url.as_str().trim_end_matches('/'),
                meta.location
            );
            let md = self.footer(&meta).await.map_err(|e| e.at(&uri))?;
            d.files += 1;
            d.size_bytes += meta.size;
            d.rows += md.file_metadata().num_rows().max(0) as u64;
        }
        Ok(d)
    }

    /// `(range_end, range_rows)` from a file's footer.
    async fn range_of(&self, meta: &ObjectMeta) -> Result<(i64, u64), BronzeError> {
        let uri = format!(
            "{}/{}",
            self.url.as_str().trim_end_matches('/'),
            meta.location
        );
        let md = self.footer(meta).await.map_err(|e| e.at(&uri))?;
        let kv = md.file_metadata().key_value_metadata();
        let get = |key: &str| {
            kv.and_then(|kv| kv.iter().find(|e| e.key == key))
                .and_then(|e| e.value.as_deref())
                .and_then(|v| v.parse::<i64>().ok())
        };
        match (get(RANGE_END), get(RANGE_ROWS)) {
            (Some(end), Some(rows)) => Ok((end, rows.max(0) as u64)),
            _ => Err(BronzeError::Table {
                table: uri,
                message: format!(
                    "file has no `{RANGE_END}`/`{RANGE_ROWS}` footer entries; it was not written by tweetlake, so the offsets to resume from are unknown"
                ),
            }),
        }
    }

    /// The file's Parquet metadata, in one ranged read when the footer fits in the last 64 KiB.
    async fn footer(&self, meta: &ObjectMeta) -> Result<ParquetMetaData, FooterError> {
        const TAIL: u64 = 64 * 1024;
        let corrupt = || FooterError::Parquet(ParquetError::General("file too short".into()));
        let tail = self
            .store
            .get_range(&meta.location, meta.size.saturating_sub(TAIL)..meta.size)
            .await
            .map_err(FooterError::Store)?;
        let last8: &[u8; 8] = tail
            .len()
            .checked_sub(8)
            .and_then(|at| tail[at..].try_into().ok())
            .ok_or_else(corrupt)?;
        let len = FooterTail::try_new(last8)
            .map_err(FooterError::Parquet)?
            .metadata_length();
        let end = tail.len() - 8;
        if let Some(start) = end.checked_sub(len) {
            return ParquetMetaDataReader::decode_metadata(&tail[start..end])
                .map_err(FooterError::Parquet);
        }
        let start = meta.size.checked_sub(8 + len as u64).ok_or_else(corrupt)?;
        let buf = self
            .store
            .get_range(&meta.location, start..meta.size - 8)
            .await
            .map_err(FooterError::Store)?;
        ParquetMetaDataReader::decode_metadata(&buf).map_err(FooterError::Parquet)
    }
}

enum FooterError {
    Store(tweetlake_core::deltalake::ObjectStoreError),
    Parquet(ParquetError),
}

impl FooterError {
    fn at(self, uri: &str) -> BronzeError {
        let uri = uri.to_string();
        match self {
            Self::Store(source) => BronzeError::Store {
                uri,
                source: Box::new(source),
            },
            Self::Parquet(source) => BronzeError::Parquet {
                uri,
                source: Box::new(source),
            },
        }
    }
}

/// Reads where each partition resumes from the newest main and quarantine file of each.
pub async fn load_starts(
    location: &TableLocation,
    tps: &[TopicPartition],
) -> Result<Vec<PartitionStart>, BronzeError> {
    let main = FileTable::open(&location.main_url, &location.storage_options)?;
    let quarantine = FileTable::open(&location.quarantine_url, &location.storage_options)?;
    let newest_main = main.newest_files().await?;
    let newest_q = quarantine.newest_files().await?;
    let mut out = Vec::with_capacity(tps.len());
    for tp in tps {
        let key = (tp.topic.to_string(), tp.partition);
        let mut main_txn = match newest_main.get(&key) {
            Some((_, meta)) => Some(main.range_of(meta).await?.0),
            None => None,
        };
        let mut quarantine_txn = None;
        if let Some((_, meta)) = newest_q.get(&key) {
            let (end, rows) = quarantine.range_of(meta).await?;
            quarantine_txn = Some(end);
            if rows == 0 && main_txn.is_none_or(|m| m < end) {
                main_txn = Some(end); // a range of quarantined messages only: complete as it is
            } else if main_txn.is_none_or(|m| m < end) {
                warn!(partition = %tp, range_end = end, "a quarantine file has no main file (crash mid-flush); re-reading its range, skipping what it holds");
            }
        }
        out.push(PartitionStart {
            tp: tp.clone(),
            main_txn,
            quarantine_txn,
        });
    }
    Ok(out)
}

/// Files, rows (from the footers) and bytes of both tables.
pub async fn describe(location: &TableLocation) -> Result<(Description, Description), BronzeError> {
    let options = &location.storage_options;
    Ok((
        FileTable::open(&location.main_url, options)?
            .describe()
            .await?,
        FileTable::open(&location.quarantine_url, options)?
            .describe()
            .await?,
    ))
}

/// `<topic>+<partition>+<first offset, 20 digits>.parquet`; `+` never occurs in a Kafka topic name.
pub fn file_name(topic: &str, partition: i32, first_offset: i64) -> String {
    format!("{topic}+{partition}+{first_offset:020}.parquet")
}

/// The inverse of [`file_name`]; `None` for anything else (including half-written temporary files).
pub fn parse_file_name(name: &str) -> Option<(&str, i32, i64)> {
    let stem = name.strip_suffix(".parquet")?;
    let mut parts = stem.rsplitn(3, '+');
    let first = parts.next()?.parse().ok()?;
    let partition = parts.next()?.parse().ok()?;
    let topic = parts.next().filter(|t| !t.is_empty())?;
    Some((topic, partition, first))
}

fn first_offset(batches: &[RecordBatch]) -> Option<i64> {
    let b = batches.iter().find(|b| b.num_rows() > 0)?;
    let col = b.column_by_name(tweetlake_core::tables::bronze::columns::KAFKA_OFFSET)?;
    let offsets = col.as_any().downcast_ref::<Int64Array>()?;
    (!offsets.is_empty()).then(|| offsets.value(0))
}

#[cfg(test)]
mod tests;
