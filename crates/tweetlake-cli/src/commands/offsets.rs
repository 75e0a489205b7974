//! `tweetlake offsets reset`: flags checked into a target before the broker or the lake is read.

use anyhow::{bail, Context, Result};
use tweetlake_bronze::{ResetRequest, ResetTarget};
use tweetlake_core::config::Config;
use tweetlake_core::Lake;

use crate::cli::ResetArgs;

fn target(args: &ResetArgs) -> Result<ResetTarget> {
    if let Some(offset) = args.to_offset {
        if offset < 0 {
            bail!("--to-offset {offset}: an offset is 0 or more");
        }
        return Ok(ResetTarget::Offset(offset));
    }
    if let Some(time) = &args.to_datetime {
        let at = chrono::DateTime::parse_from_rfc3339(time).with_context(|| {
            format!("--to-datetime `{time}`: expected RFC 3339, e.g. 2026-12-01T00:00:00Z")
        })?;
        return Ok(ResetTarget::Datetime(at.timestamp_millis()));
    }
    Ok(match args.to_latest {
        true => ResetTarget::Latest,
        false => ResetTarget::Earliest,
    })
}

pub(crate) async fn reset(config: &Config, lake: &Lake, args: ResetArgs) -> Result<()> {
    let request = ResetRequest {
        table: args.bronze_table.clone(),
        topic: args.topic.clone(),
        partition: args.partition,
        target: target(&args)?,
        dry_run: args.dry_run,
    };
    let (table, moves) = tweetlake_bronze::reset_offsets(config.into(), lake, &request)
        .await
        .with_context(|| format!("resetting the stored offsets of topic `{}`", args.topic))?;
    let verb = if args.dry_run { "would move" } else { "moved" };
    for m in moves {
        let before = m
            .stored_before
            .map_or("nothing".to_string(), |v| v.to_string());
        println!(
            "bronze/{table} {}/{}: {verb} the stored offset from {before} to {} (resumes at {})",
            m.topic,
            m.partition,
            m.stored_after,
            m.stored_after + 1
        );
    }
    Ok(())
}
