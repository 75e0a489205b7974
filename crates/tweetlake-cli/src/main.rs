//! The `tweetlake` command: parses flags, loads the one config, sets up logging, and hands off to
//! the layer crates. Errors get their context here, at the edge.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tune_malloc();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Two glibc settings that decide the ingester's peak memory (docs/benchmarks.md):
/// - glibc raises its mmap threshold after freeing a large block, up to 32 MB; from then on the
///   multi-megabyte Arrow buffers come from the heap and are not given back, which more than
///   doubled peak RSS. A fixed 1 MB threshold keeps large buffers in their own mappings.
/// - glibc gives contending threads their own arenas (up to 8 per core); memory freed in one is
///   not reused by the others, so the arenas of the runtime's threads together peaked at 510 MB
///   over a 1 M-message backlog, against 339 MB (and no loss of speed) with two arenas.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called first thing, before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
