//! End-to-end tests of every command, in one binary (one link of a >1 GB test binary on 2 cores
//! instead of one per command), one module per command: the `tweetlake` binary against a real
//! Kafka-protocol broker (tansu), a real S3-compatible server (SeaweedFS), `psql`, a browser, and
//! independent readers of the lake (deltalake, pyarrow, DuckDB, Spark engines).

// Helpers of a test may panic on what the test itself set up (clippy.toml allows it in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod gold;
mod ingest;
mod maintain;
mod produce;
mod run;
mod serve;
mod silver;
mod soak;
