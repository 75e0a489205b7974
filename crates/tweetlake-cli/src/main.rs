//! The `tweetlake` command: parses flags, loads the one config, sets up logging, and hands off to
//! the layer crates. Errors get their context here, at the edge.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    fix_malloc_threshold();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// glibc raises its mmap threshold after freeing a large block, up to 32 MB; from then on the
/// ingester's multi-megabyte Arrow buffers come from the heap and their memory is not given back,
/// which more than doubled peak RSS in the benchmark (docs/benchmarks.md). A fixed 1 MB threshold
/// keeps large buffers in their own mappings, returned to the OS when freed.
fn fix_malloc_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called first thing, before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
