//! The filtered stream as a producer [`Source`]: [`follow`] runs on its own thread and runtime and
//! hands lines over a bounded channel, so a full spool stops the socket reads (back-pressure)
//! rather than buffering without end.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use super::stream::{follow, StreamMetrics, StreamSettings};
use super::{XApiClient, XApiError};
use crate::file_source::tweet_id;
use crate::sink::Outgoing;
use crate::source::{Next, Source};
use crate::ProduceError;

/// Lines waiting between the HTTP thread and the producer.
const CHANNEL_LINES: usize = 4096;

pub struct XStreamSource {
    topic: String,
    lines: Receiver<Vec<u8>>,
    worker: Option<JoinHandle<Result<(), XApiError>>>,
}

impl XStreamSource {
    /// Connects in the background; ends when `stop` is set or on an error retrying cannot fix.
    pub fn start(
        client: XApiClient,
        settings: StreamSettings,
        metrics: Arc<StreamMetrics>,
        stop: Arc<AtomicBool>,
        topic: &str,
    ) -> Result<Self, ProduceError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| XApiError::Response {
                what: "starting the stream runtime",
                detail: e.to_string(),
            })?;
        let (tx, lines) = sync_channel(CHANNEL_LINES);
        let worker = std::thread::Builder::new()
            .name("x-stream".into())
            .spawn(move || {
                runtime.block_on(follow(&client, &settings, &metrics, &stop, |line| {
                    // The receiver is gone only when the producer stopped.
                    let _ = tx.send(line);
                }))
            })
            .map_err(|e| XApiError::Response {
                what: "starting the stream thread",
                detail: e.to_string(),
            })?;
        Ok(Self {
            topic: topic.to_string(),
            lines,
            worker: Some(worker),
        })
    }
}

impl Source for XStreamSource {
    fn next(&mut self, wait: Duration) -> Result<Next, ProduceError> {
        match self.lines.recv_timeout(wait) {
            Ok(line) => {
                let key = serde_json::from_slice::<Value>(&line)
                    .ok()
                    .as_ref()
                    .and_then(tweet_id)
                    .map(String::into_bytes);
                Ok(Next::Message(Outgoing {
                    topic: self.topic.clone(),
                    key,
                    value: line,
                }))
            }
            Err(RecvTimeoutError::Timeout) => Ok(Next::Idle),
            Err(RecvTimeoutError::Disconnected) => match self.worker.take().map(|w| w.join()) {
                Some(Ok(Err(e))) => Err(e.into()),
                Some(Err(_)) => Err(XApiError::Response {
                    what: "following the stream",
                    detail: "the stream thread panicked".into(),
                }
                .into()),
                _ => Ok(Next::End),
            },
        }
    }
}
