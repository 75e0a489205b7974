//! The `tweetlake` command: parses flags, loads the one config, sets up logging, and hands off to
//! the layer crates. Errors get their context here, at the edge.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    if needs_runtime_env(&cli.command) {
        reexec_with_runtime_env();
    }
    if matches!(cli.command, cli::Command::Ingest { .. }) {
        tune_malloc();
    }
    if matches!(
        cli.command,
        cli::Command::Sql(_) | cli::Command::Catalog { .. }
    ) {
        quiet_broken_pipe();
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", each_cause_once(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes, each said once. A layer's message often ends with its cause's text
/// already (`"{what}: {source}"`, as thiserror and delta-rs write them), which anyhow's `{:#}`
/// would print a second time.
fn each_cause_once(e: &anyhow::Error) -> String {
    let mut said = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !said.contains(&text) {
            said.push_str(": ");
            said.push_str(&text);
        }
    }
    said
}

/// glibc raises its mmap threshold after freeing a large block, up to 32 MB; from then on the
/// ingester's multi-megabyte Arrow buffers come from the heap and are not given back, which more
/// than doubled peak RSS (docs/benchmarks.md). A fixed 1 MB threshold keeps large buffers in their
/// own mappings, returned to the OS when freed. Only for `ingest`: NER's activations (several MB
/// per layer and batch) would then be mapped and unmapped at every step, which cost a third of
/// `promote silver`'s CPU time in page faults.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before any other thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Commands that print results end quietly when the reader goes away (`tweetlake sql … | head`),
/// as Unix filters do, instead of panicking on the failed write. Not for the network commands,
/// where a peer closing a socket must not kill the process.
fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal before any other thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Whether `command` gains from [`reexec_with_runtime_env`]: the commands whose memory the arena
/// limit bounds (ingest; silver: 750 against 945 MB over 200,000 tweets) or that run NER. Loading
/// the binary costs ~0.35 s of CPU in libtorch's start-up alone (~130 MB of its pages stay
/// resident), so the others start once: `produce` (its memory is librdkafka's queue, the same
/// either way, 2026-12-07) and the quick commands (`status`, `sql`, `catalog`, …).
fn needs_runtime_env(command: &cli::Command) -> bool {
    use cli::Command as C;
    match command {
        C::Ingest { .. }
        | C::Promote { .. }
        | C::Maintain { .. }
        | C::Serve { .. }
        | C::Run
        | C::Ner { .. }
        | C::Sentiment { .. } => true,
        C::Produce(_)
        | C::Init { .. }
        | C::Status { .. }
        | C::Catalog { .. }
        | C::Sql(_)
        | C::Offsets { .. }
        | C::Rules { .. } => false,
    }
}

/// Settings that only take effect when the process starts, so the process runs itself again,
/// once (same pid, arguments and environment otherwise), with them added:
///
/// - glibc gives contending threads their own arenas (up to 8 per core) and memory freed in one
///   is not reused by the others: over a 1 M-message backlog the runtime's arenas peaked at
///   490 MB, against 310 MB with two (and no loss of speed). `mallopt(M_ARENA_MAX)` at the top of
///   `main` was measured to change nothing, while the same limit as the glibc tunable
///   `glibc.malloc.arena_max=2` works.
/// - libgomp (libtorch's OpenMP, loaded with the binary) spin-waits between parallel regions
///   unless `OMP_WAIT_POLICY=PASSIVE`: on two busy cores NER drops from ~150 to ~20 texts/s.
///
/// A value the user set is left alone.
fn reexec_with_runtime_env() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const TUNABLE: &str = "glibc.malloc.arena_max";
        // The allocator's and OpenMP's own switches, read at the process edge.
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let omp_set = std::env::var_os("OMP_WAIT_POLICY").is_some();
        if tunables.contains(TUNABLE) && omp_set {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut cmd = std::process::Command::new(exe);
        cmd.args(std::env::args_os().skip(1));
        if !tunables.contains(TUNABLE) {
            let value = match tunables.is_empty() {
                true => format!("{TUNABLE}=2"),
                false => format!("{tunables}:{TUNABLE}=2"),
            };
            cmd.env("GLIBC_TUNABLES", value);
        }
        if !omp_set {
            cmd.env("OMP_WAIT_POLICY", "PASSIVE");
        }
        let err = cmd.exec();
        eprintln!("warning: running without the malloc arena limit and OpenMP wait policy: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::each_cause_once;

    #[derive(Debug, thiserror::Error)]
    enum Layer {
        #[error("no bronze table at s3://lake/bronze/tweets")]
        NoBronze,
        #[error("promoting bronze/{table} to silver: {source}")]
        Table { table: String, source: Box<Layer> },
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let e = anyhow::Error::new(Layer::Table {
            table: "tweets".into(),
            source: Box::new(Layer::NoBronze),
        })
        .context("tweetlake run");
        assert_eq!(
            each_cause_once(&e),
            "tweetlake run: promoting bronze/tweets to silver: no bronze table at s3://lake/bronze/tweets"
        );
        // anyhow alone says the last cause twice.
        assert_eq!(format!("{e:#}").matches("no bronze table").count(), 2);
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(each_cause_once(&plain), "outer: inner");
    }
}
