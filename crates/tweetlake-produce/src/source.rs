//! What every source gives the producer: the next message, nothing yet, or the end.

use std::time::Duration;

use crate::sink::Outgoing;
use crate::ProduceError;

/// One step of a source.
#[derive(Debug)]
pub enum Next {
    Message(Outgoing),
    /// Nothing arrived within the wait (a quiet stream).
    Idle,
    End,
}

/// A source of messages: file replay, the X API stream, the synthetic generator.
pub trait Source: Send {
    /// The next message, waiting at most `wait` for one when the source is live.
    fn next(&mut self, wait: Duration) -> Result<Next, ProduceError>;

    /// (done, total) in the source's own unit, when the end is known.
    fn progress(&self) -> Option<(u64, u64)> {
        None
    }
}
