//! File replay: JSONL, optionally gzip (by the `.gz` name or the gzip magic bytes). Each line is one
//! message, sent as it is: API v1.1 tweets and stream captures, v2 stream messages. A v2 response
//! page (`data` is an array) is split into one message per tweet, each with the `includes` it refers
//! to. Blank lines (stream keep-alives) are skipped unless asked for.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tweetlake_twitter::MessageKind;

use crate::sink::Outgoing;
use crate::source::{Next, Source};
use crate::ProduceError;

#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct SourceError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The lines of one file, as messages for `topic`.
pub struct FileSource {
    path: PathBuf,
    /// Bytes of the file read so far (compressed bytes for gzip), for progress.
    position: Arc<AtomicU64>,
    lines: Box<dyn BufRead + Send>,
    topic: String,
    include_blank: bool,
    pending: std::vec::IntoIter<Outgoing>,
    line: Vec<u8>,
}

impl FileSource {
    pub fn open(path: &Path, topic: &str, include_blank: bool) -> Result<Self, SourceError> {
        let err = |source| SourceError {
            path: path.to_path_buf(),
            source,
        };
        let position = Arc::new(AtomicU64::new(0));
        let counted = CountingReader {
            inner: File::open(path).map_err(err)?,
            position: position.clone(),
        };
        let mut file = BufReader::new(counted);
        let gzip = file.fill_buf().map_err(err)?.starts_with(&[0x1f, 0x8b]);
        let lines: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::new(flate2::bufread::MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        Ok(Self {
            path: path.to_path_buf(),
            position,
            lines,
            topic: topic.to_string(),
            include_blank,
            pending: Vec::new().into_iter(),
            line: Vec::new(),
        })
    }

    /// The next message, `None` at the end of the file.
    pub fn next_message(&mut self) -> Result<Option<Outgoing>, SourceError> {
        loop {
            if let Some(m) = self.pending.next() {
                return Ok(Some(m));
            }
            self.line.clear();
            let n = self
                .lines
                .read_until(b'\n', &mut self.line)
                .map_err(|source| SourceError {
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            let line = trim_newline(&self.line);
            if line.iter().all(u8::is_ascii_whitespace) && !self.include_blank {
                continue;
            }
            self.pending = split_message(line, &self.topic).into_iter();
        }
    }
}

/// Counts the bytes read through it.
struct CountingReader {
    inner: File,
    position: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.position.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Several files one after the other, from the start again with `repeat`.
pub struct FilesSource {
    paths: Vec<PathBuf>,
    topic: String,
    include_blank: bool,
    repeat: bool,
    next_path: usize,
    current: Option<FileSource>,
    /// Sizes of the files before the current one, in this pass.
    done_bytes: u64,
    total_bytes: u64,
}

impl FilesSource {
    /// Checks every file opens before anything is sent.
    pub fn new(
        paths: &[PathBuf],
        topic: &str,
        include_blank: bool,
        repeat: bool,
    ) -> Result<Self, SourceError> {
        let mut total_bytes = 0;
        for path in paths {
            let meta = std::fs::metadata(path).map_err(|source| SourceError {
                path: path.clone(),
                source,
            })?;
            total_bytes += meta.len();
        }
        Ok(Self {
            paths: paths.to_vec(),
            topic: topic.to_string(),
            include_blank,
            repeat,
            next_path: 0,
            current: None,
            done_bytes: 0,
            total_bytes,
        })
    }
}

impl Source for FilesSource {
    fn next(&mut self, _wait: Duration) -> Result<Next, ProduceError> {
        loop {
            if let Some(file) = self.current.as_mut() {
                if let Some(m) = file.next_message()? {
                    return Ok(Next::Message(m));
                }
                self.done_bytes += file.position.load(Ordering::Relaxed);
                self.current = None;
            }
            if self.next_path == self.paths.len() {
                if !self.repeat || self.paths.is_empty() {
                    return Ok(Next::End);
                }
                self.next_path = 0;
                self.done_bytes = 0;
            }
            let path = &self.paths[self.next_path];
            self.next_path += 1;
            tracing::info!(file = %path.display(), "replaying");
            self.current = Some(FileSource::open(path, &self.topic, self.include_blank)?);
        }
    }

    fn progress(&self) -> Option<(u64, u64)> {
        if self.repeat {
            return None;
        }
        let current = self
            .current
            .as_ref()
            .map_or(0, |f| f.position.load(Ordering::Relaxed));
        Some((self.done_bytes + current, self.total_bytes))
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// One line as messages: the line itself, or one message per tweet of a v2 response page.
/// A stream message is keyed by the id the envelope probe finds (one pass that builds nothing);
/// only a line the probe cannot key (a response page, JSON of no known shape) is parsed whole.
pub fn split_message(line: &[u8], topic: &str) -> Vec<Outgoing> {
    let probed = tweetlake_twitter::probe(line);
    let key = match &probed {
        Ok(envelope) if envelope.kind != MessageKind::Other => envelope.tweet_id,
        _ => None,
    };
    match (key, probed) {
        (Some(id), _) => vec![Outgoing {
            topic: topic.to_string(),
            key: Some(id.to_string().into_bytes()),
            value: line.to_vec(),
        }],
        // Not JSON at all: sent as it is, for bronze to quarantine.
        (None, Err(_)) => vec![Outgoing {
            topic: topic.to_string(),
            key: None,
            value: line.to_vec(),
        }],
        (None, Ok(_)) => split_parsed(line, topic),
    }
}

fn split_parsed(line: &[u8], topic: &str) -> Vec<Outgoing> {
    let parsed: Option<Value> = serde_json::from_slice(line).ok();
    if let Some(Value::Object(page)) = &parsed {
        if let Some(Value::Array(tweets)) = page.get("data") {
            let includes = page.get("includes").and_then(Value::as_object);
            return tweets
                .iter()
                .map(|t| {
                    let mut msg = Map::new();
                    msg.insert("data".into(), t.clone());
                    if let Some(inc) = includes.map(|inc| includes_for(t, inc)) {
                        if !inc.is_empty() {
                            msg.insert("includes".into(), Value::Object(inc));
                        }
                    }
                    let value = Value::Object(msg).to_string().into_bytes();
                    Outgoing {
                        topic: topic.to_string(),
                        key: t["id"].as_str().map(|id| id.as_bytes().to_vec()),
                        value,
                    }
                })
                .collect();
        }
    }
    vec![Outgoing {
        topic: topic.to_string(),
        key: parsed.as_ref().and_then(tweet_id).map(String::into_bytes),
        value: line.to_vec(),
    }]
}

/// The id a message is keyed by: a tweet's id, or the id a delete notice is about.
pub fn tweet_id(v: &Value) -> Option<String> {
    let s = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    s(&v["id_str"])
        .or_else(|| s(&v["data"]["id"]))
        .or_else(|| s(&v["delete"]["status"]["id_str"]))
        .or_else(|| s(&v["id"]).filter(|_| v.get("created_at").is_some()))
}

/// The part of a page's `includes` that one tweet refers to: its author and mentioned users, its
/// place, the tweets it references and its media.
fn includes_for(tweet: &Value, includes: &Map<String, Value>) -> Map<String, Value> {
    let mut users: Vec<&str> = Vec::new();
    users.extend(tweet["author_id"].as_str());
    users.extend(tweet["in_reply_to_user_id"].as_str());
    for m in tweet["entities"]["mentions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        users.extend(m["id"].as_str());
    }
    let referenced: Vec<&str> = tweet["referenced_tweets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["id"].as_str())
        .collect();
    // Authors of referenced tweets, so a retweet carries the original author too.
    for t in includes
        .get("tweets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if t["id"].as_str().is_some_and(|id| referenced.contains(&id)) {
            users.extend(t["author_id"].as_str());
        }
    }
    let place = tweet["geo"]["place_id"].as_str();
    let media: Vec<&str> = tweet["attachments"]["media_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let pick = |kind: &str, field: &str, wanted: &dyn Fn(&str) -> bool| -> Option<Value> {
        let items: Vec<Value> = includes
            .get(kind)?
            .as_array()?
            .iter()
            .filter(|x| x[field].as_str().is_some_and(wanted))
            .cloned()
            .collect();
        (!items.is_empty()).then_some(Value::Array(items))
    };
    let mut out = Map::new();
    let picks = [
        ("users", pick("users", "id", &|id| users.contains(&id))),
        (
            "tweets",
            pick("tweets", "id", &|id| referenced.contains(&id)),
        ),
        ("places", pick("places", "id", &|id| place == Some(id))),
        ("media", pick("media", "media_key", &|k| media.contains(&k))),
    ];
    for (kind, items) in picks {
        if let Some(items) = items {
            out.insert(kind.into(), items);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v2_page_splits_into_tweets_with_their_includes() {
        let page = r#"{"data":[
            {"id":"1","author_id":"10","text":"a","geo":{"place_id":"p1"}},
            {"id":"2","author_id":"11","text":"RT b","referenced_tweets":[{"type":"retweeted","id":"3"}]}
          ],
          "includes":{"users":[{"id":"10"},{"id":"11"},{"id":"12"}],
                      "places":[{"id":"p1","full_name":"Austin, TX"}],
                      "tweets":[{"id":"3","author_id":"12","text":"b"}]},
          "meta":{"result_count":2}}"#
            .replace('\n', "");
        let msgs = split_message(page.as_bytes(), "t");
        assert_eq!(msgs.len(), 2);
        let first: Value = serde_json::from_slice(&msgs[0].value).unwrap();
        assert_eq!(msgs[0].key.as_deref(), Some(&b"1"[..]));
        assert_eq!(first["includes"]["users"], serde_json::json!([{"id":"10"}]));
        assert_eq!(first["includes"]["places"][0]["full_name"], "Austin, TX");
        assert!(first["includes"].get("tweets").is_none());
        let second: Value = serde_json::from_slice(&msgs[1].value).unwrap();
        assert_eq!(
            second["includes"]["users"],
            serde_json::json!([{"id":"11"},{"id":"12"}])
        );
        assert_eq!(second["includes"]["tweets"][0]["id"], "3");
    }

    /// The probe keys every fixture message as the whole parse did; where the whole parse found
    /// no id, the probe may know one (a withheld notice's tweet).
    #[test]
    fn probed_keys_match_the_whole_parse_on_every_fixture_line() {
        let fixtures = [
            include_str!("../../../tests/fixtures/v1_mixed_tweets.jsonl"),
            include_str!("../../../tests/fixtures/v1_stream_capture.jsonl"),
            include_str!("../../../tests/fixtures/v2_stream_messages.jsonl"),
            include_str!("../../../tests/fixtures/v2_control_messages.jsonl"),
        ];
        let (mut keyed, mut lines) = (0, 0);
        for line in fixtures.iter().flat_map(|f| f.lines()) {
            let messages = split_message(line.as_bytes(), "t");
            assert_eq!(messages.len(), 1, "{line}");
            let whole = serde_json::from_str::<Value>(line)
                .ok()
                .as_ref()
                .and_then(tweet_id);
            let probed = messages[0]
                .key
                .clone()
                .map(|k| String::from_utf8(k).unwrap());
            if whole.is_some() {
                assert_eq!(probed, whole, "{line}");
            }
            assert_eq!(messages[0].value, line.as_bytes());
            keyed += usize::from(probed.is_some());
            lines += 1;
        }
        assert!(lines > 500 && keyed > 450, "{keyed} of {lines} keyed");
    }

    #[test]
    fn other_lines_go_as_they_are_keyed_by_tweet_id() {
        let v1 = br#"{"created_at":"x","id":123,"id_str":"123","text":"hi"}"#;
        let m = &split_message(v1, "t")[0];
        assert_eq!(
            (m.value.as_slice(), m.key.as_deref()),
            (&v1[..], Some(&b"123"[..]))
        );
        let del = br#"{"delete":{"status":{"id":5,"id_str":"5","user_id":1}}}"#;
        assert_eq!(split_message(del, "t")[0].key.as_deref(), Some(&b"5"[..]));
        let v2 = br#"{"data":{"id":"77","text":"x"},"matching_rules":[]}"#;
        assert_eq!(split_message(v2, "t")[0].key.as_deref(), Some(&b"77"[..]));
        let bad = b"{\"truncated";
        let m = &split_message(bad, "t")[0];
        assert_eq!((m.value.as_slice(), m.key.as_deref()), (&bad[..], None));
    }
}
