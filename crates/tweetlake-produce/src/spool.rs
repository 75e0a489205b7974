//! The disk spool: where messages go while no broker can take them. An append-only log of
//! checksummed records in numbered segment files, read back oldest first when the brokers return.
//!
//! Record: `len: u32 LE | crc32: u32 LE | body`, body = `flags: u8 | topic_len: u16 LE | topic |
//! key_len: u32 LE | key | value`. A torn record at the tail of the newest segment (a crash mid-write)
//! is cut off on open; a bad checksum anywhere else is an error that names the segment and offset.
//! A segment is deleted only once every record in it was delivered; a cursor file remembers how many
//! leading records of the oldest segment are delivered, so a restart does not send them again, and
//! up to which record a replay may have sent (written before it sends them), so that a restart counts
//! the records it sends again as possible duplicates. The cursor is replaced atomically (a temporary
//! file renamed over it), and a new segment's directory entry is synced unless `fsync = "never"`.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tracing::warn;
use tweetlake_core::config::Fsync;

const HEADER: usize = 8;
const FLAG_POSSIBLY_DELIVERED: u8 = 1;
const FLAG_HAS_KEY: u8 = 2;
/// Far above any Kafka message; a length beyond it is corruption, not a record.
const MAX_RECORD: u32 = 256 << 20;

#[derive(Debug, Clone)]
pub struct SpoolSettings {
    pub dir: PathBuf,
    pub segment_bytes: u64,
    pub max_bytes: u64,
    pub fsync: Fsync,
}

/// One spooled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolRecord {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    /// The broker may already have it (a delivery timed out after it was sent): sending it again
    /// may duplicate it, and is counted.
    pub possibly_delivered: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("spool segment {path} is corrupt at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

struct Segment {
    id: u64,
    bytes: u64,
}

struct ActiveSegment {
    id: u64,
    /// Unbuffered: every append reaches the OS at once, so a killed producer loses nothing.
    file: File,
    bytes: u64,
    unsynced_since: Option<Instant>,
}

/// The spool directory: sealed segments oldest first, and the one being appended to.
pub struct Spool {
    settings: SpoolSettings,
    sealed: VecDeque<Segment>,
    active: Option<ActiveSegment>,
    next_id: u64,
    total_bytes: u64,
}

impl Spool {
    /// Opens (creating) the spool directory, repairing a torn tail left by a crash.
    pub fn open(settings: SpoolSettings) -> Result<Self, SpoolError> {
        std::fs::create_dir_all(&settings.dir).map_err(io(&settings.dir))?;
        let mut ids: Vec<u64> = std::fs::read_dir(&settings.dir)
            .map_err(io(&settings.dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".seg")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        let mut sealed = VecDeque::new();
        let mut total_bytes = 0;
        for (i, id) in ids.iter().enumerate() {
            let path = segment_path(&settings.dir, *id);
            let bytes = if i + 1 == ids.len() {
                repair_tail(&path)?
            } else {
                std::fs::metadata(&path).map_err(io(&path))?.len()
            };
            total_bytes += bytes;
            sealed.push_back(Segment { id: *id, bytes });
        }
        let next_id = ids.last().map_or(1, |id| id + 1);
        Ok(Self {
            settings,
            sealed,
            active: None,
            next_id,
            total_bytes,
        })
    }

    pub fn bytes(&self) -> u64 {
        self.total_bytes
    }
    pub fn is_empty(&self) -> bool {
        self.total_bytes == 0
    }
    /// At or over the size cap: the caller stops reading its source until replay frees space.
    pub fn is_full(&self) -> bool {
        self.total_bytes >= self.settings.max_bytes
    }

    /// Appends one record, rolling to a new segment at the segment size.
    pub fn append(&mut self, record: &SpoolRecord) -> Result<(), SpoolError> {
        let body = encode(record);
        let len = HEADER as u64 + body.len() as u64;
        if self
            .active
            .as_ref()
            .is_some_and(|a| a.bytes > 0 && a.bytes + len > self.settings.segment_bytes)
        {
            self.seal()?;
        }
        let active = match &mut self.active {
            Some(a) => a,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                let path = segment_path(&self.settings.dir, id);
                let file = OpenOptions::new()
                    .create_new(true)
                    .append(true)
                    .open(&path)
                    .map_err(io(&path))?;
                // A synced record in a file whose name the directory has not synced is lost to a
                // power failure all the same.
                if self.settings.fsync != Fsync::Never {
                    sync_dir(&self.settings.dir)?;
                }
                self.active.insert(ActiveSegment {
                    id,
                    file,
                    bytes: 0,
                    unsynced_since: None,
                })
            }
        };
        let path = segment_path(&self.settings.dir, active.id);
        let mut framed = Vec::with_capacity(len as usize);
        framed.extend_from_slice(&(body.len() as u32).to_le_bytes());
        framed.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        framed.extend_from_slice(&body);
        active.file.write_all(&framed).map_err(io(&path))?;
        active.bytes += len;
        self.total_bytes += len;
        active.unsynced_since.get_or_insert_with(Instant::now);
        if self.settings.fsync == Fsync::Always {
            self.sync()?;
        } else {
            self.sync_due()?;
        }
        Ok(())
    }

    /// Forces appends to disk when the policy's interval has passed since the oldest unsynced one.
    pub fn sync_due(&mut self) -> Result<(), SpoolError> {
        let due = match self.settings.fsync {
            Fsync::Always => true,
            Fsync::Interval(d) => self
                .active
                .as_ref()
                .and_then(|a| a.unsynced_since)
                .is_some_and(|t| t.elapsed() >= d),
            Fsync::Never => false,
        };
        if due {
            self.sync()?;
        }
        Ok(())
    }

    /// Forces appends to disk, unless the policy is `Never`.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        if let Some(a) = &mut self.active {
            if a.unsynced_since.is_some() && self.settings.fsync != Fsync::Never {
                let path = segment_path(&self.settings.dir, a.id);
                a.file.sync_data().map_err(io(&path))?;
            }
            a.unsynced_since = None;
        }
        Ok(())
    }

    /// Closes the active segment so that it can be replayed; new appends start another.
    fn seal(&mut self) -> Result<(), SpoolError> {
        self.sync()?;
        if let Some(a) = self.active.take() {
            self.sealed.push_back(Segment {
                id: a.id,
                bytes: a.bytes,
            });
        }
        Ok(())
    }

    /// The oldest segment's records after its delivered prefix, sealing the active one if it is
    /// the only one. `None` when the spool is empty.
    pub fn oldest(&mut self) -> Result<Option<SegmentRecords>, SpoolError> {
        if self.sealed.is_empty() {
            self.seal()?;
        }
        let Some(seg) = self.sealed.front() else {
            return Ok(None);
        };
        let path = segment_path(&self.settings.dir, seg.id);
        let cursor = read_cursor(&cursor_path(&self.settings.dir, seg.id));
        let delivered = cursor.delivered;
        let file = File::open(&path).map_err(io(&path))?;
        let mut records = SegmentRecords {
            segment: seg.id,
            path,
            reader: BufReader::with_capacity(1 << 20, file),
            offset: 0,
            index: 0,
            possibly_sent_until: cursor.possibly_sent_until,
        };
        // Skip what an earlier replay already delivered.
        while records.index < delivered {
            if records.next_record()?.is_none() {
                break;
            }
        }
        Ok(Some(records))
    }

    /// Records that the first `delivered` records of `segment` reached the broker and that records
    /// before `possibly_sent_until` may have been sent. Replaces the cursor atomically.
    pub fn set_delivered(
        &mut self,
        segment: u64,
        delivered: u64,
        possibly_sent_until: u64,
    ) -> Result<(), SpoolError> {
        let path = cursor_path(&self.settings.dir, segment);
        let tmp = path.with_extension("delivered.tmp");
        let text = format!("{delivered} {}\n", possibly_sent_until.max(delivered));
        let mut file = File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(text.as_bytes()).map_err(io(&tmp))?;
        if self.settings.fsync != Fsync::Never {
            file.sync_data().map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        if self.settings.fsync != Fsync::Never {
            sync_dir(&self.settings.dir)?;
        }
        Ok(())
    }

    /// Deletes a fully delivered segment (the oldest).
    pub fn remove(&mut self, segment: u64) -> Result<(), SpoolError> {
        if let Some(pos) = self.sealed.iter().position(|s| s.id == segment) {
            if let Some(seg) = self.sealed.remove(pos) {
                self.total_bytes -= seg.bytes;
            }
        }
        let path = segment_path(&self.settings.dir, segment);
        std::fs::remove_file(&path).map_err(io(&path))?;
        let cursor = cursor_path(&self.settings.dir, segment);
        match std::fs::remove_file(&cursor) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&cursor)(e)),
            _ => Ok(()),
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Err(e) = self.sync() {
            warn!(error = %e, "spool: final sync failed");
        }
    }
}

/// Reads one segment's records in order.
pub struct SegmentRecords {
    pub segment: u64,
    path: PathBuf,
    reader: BufReader<File>,
    offset: u64,
    /// Index of the next record.
    pub index: u64,
    /// Records before this index may have reached the broker before a restart (a replay had
    /// reserved them): sending them again may duplicate them.
    pub possibly_sent_until: u64,
}

impl SegmentRecords {
    /// The next record and its index, or `None` at the end of the segment.
    pub fn next_record(&mut self) -> Result<Option<(u64, SpoolRecord)>, SpoolError> {
        let corrupt = |offset, reason: &str| SpoolError::Corrupt {
            path: self.path.clone(),
            offset,
            reason: reason.to_string(),
        };
        let mut header = [0u8; HEADER];
        match read_full(&mut self.reader, &mut header).map_err(io(&self.path))? {
            0 => return Ok(None),
            HEADER => {}
            _ => return Err(corrupt(self.offset, "truncated record header")),
        }
        let (len, crc) = split_header(&header);
        if len > MAX_RECORD {
            return Err(corrupt(self.offset, "record length out of range"));
        }
        let mut body = vec![0u8; len as usize];
        if read_full(&mut self.reader, &mut body).map_err(io(&self.path))? != body.len() {
            return Err(corrupt(self.offset, "truncated record"));
        }
        if crc32fast::hash(&body) != crc {
            return Err(corrupt(self.offset, "checksum mismatch"));
        }
        let record = decode(&body).ok_or_else(|| corrupt(self.offset, "malformed record body"))?;
        self.offset += HEADER as u64 + len as u64;
        let index = self.index;
        self.index += 1;
        Ok(Some((index, record)))
    }
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

fn cursor_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.delivered"))
}

/// What a segment's cursor file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Cursor {
    delivered: u64,
    possibly_sent_until: u64,
}

/// `DELIVERED SENT_UNTIL`, or one number (the format before the reservation), or nothing.
fn read_cursor(path: &Path) -> Cursor {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().ok());
    let delivered = numbers.next().flatten().unwrap_or(0);
    let sent = numbers.next().flatten().unwrap_or(delivered);
    Cursor {
        delivered,
        possibly_sent_until: sent.max(delivered),
    }
}

fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

fn split_header(h: &[u8; HEADER]) -> (u32, u32) {
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let crc = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    (len, crc)
}

/// Reads until `buf` is full or the end of input; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Cuts a segment after its last complete, checksummed record; returns the kept length.
fn repair_tail(path: &Path) -> Result<u64, SpoolError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io(path))?;
    let size = file.metadata().map_err(io(path))?.len();
    let mut reader = BufReader::new(&mut file);
    let mut good = 0u64;
    loop {
        let mut header = [0u8; HEADER];
        if read_full(&mut reader, &mut header).map_err(io(path))? != HEADER {
            break;
        }
        let (len, crc) = split_header(&header);
        if len > MAX_RECORD {
            break;
        }
        let mut body = vec![0u8; len as usize];
        if read_full(&mut reader, &mut body).map_err(io(path))? != body.len()
            || crc32fast::hash(&body) != crc
        {
            break;
        }
        good += HEADER as u64 + len as u64;
    }
    drop(reader);
    if good < size {
        warn!(segment = %path.display(), kept = good, cut = size - good, "spool: cutting a torn record left by a crash");
        file.set_len(good).map_err(io(path))?;
        file.seek(SeekFrom::End(0)).map_err(io(path))?;
        file.sync_all().map_err(io(path))?;
    }
    Ok(good)
}

fn encode(r: &SpoolRecord) -> Vec<u8> {
    let topic = r.topic.as_bytes();
    let key = r.key.as_deref().unwrap_or_default();
    let mut body = Vec::with_capacity(1 + 2 + topic.len() + 4 + key.len() + r.value.len());
    let mut flags = 0;
    if r.possibly_delivered {
        flags |= FLAG_POSSIBLY_DELIVERED;
    }
    if r.key.is_some() {
        flags |= FLAG_HAS_KEY;
    }
    body.push(flags);
    // Kafka topic names are at most 249 bytes, so u16 always fits.
    body.extend_from_slice(&(topic.len() as u16).to_le_bytes());
    body.extend_from_slice(topic);
    body.extend_from_slice(&(key.len() as u32).to_le_bytes());
    body.extend_from_slice(key);
    body.extend_from_slice(&r.value);
    body
}

fn decode(body: &[u8]) -> Option<SpoolRecord> {
    let (&flags, rest) = body.split_first()?;
    let (tlen, rest) = rest.split_at_checked(2)?;
    let tlen = u16::from_le_bytes([tlen[0], tlen[1]]) as usize;
    let (topic, rest) = rest.split_at_checked(tlen)?;
    let (klen, rest) = rest.split_at_checked(4)?;
    let klen = u32::from_le_bytes([klen[0], klen[1], klen[2], klen[3]]) as usize;
    let (key, value) = rest.split_at_checked(klen)?;
    Some(SpoolRecord {
        topic: String::from_utf8(topic.to_vec()).ok()?,
        key: (flags & FLAG_HAS_KEY != 0).then(|| key.to_vec()),
        value: value.to_vec(),
        possibly_delivered: flags & FLAG_POSSIBLY_DELIVERED != 0,
    })
}

#[cfg(test)]
mod tests;
