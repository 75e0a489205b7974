//! The `tweetlake` command: parses flags, loads the one config, sets up logging, and hands off to
//! the layer crates. Errors get their context here, at the edge.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    limit_malloc_arenas();
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

/// glibc raises its mmap threshold after freeing a large block, up to 32 MB; from then on the
/// ingester's multi-megabyte Arrow buffers come from the heap and are not given back, which more
/// than doubled peak RSS (docs/benchmarks.md). A fixed 1 MB threshold keeps large buffers in their
/// own mappings, returned to the OS when freed.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called first thing, before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// glibc gives contending threads their own arenas (up to 8 per core) and memory freed in one is
/// not reused by the others: over a 1 M-message backlog the runtime's arenas peaked at 490 MB,
/// against 310 MB with two (and no loss of speed). `mallopt(M_ARENA_MAX)` at the top of `main`
/// was measured to change nothing, while the same limit as a glibc tunable works, so the process
/// runs itself again, once, with `glibc.malloc.arena_max=2` added to `GLIBC_TUNABLES` (same pid,
/// arguments and environment otherwise). A limit the user set is left alone.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const TUNABLE: &str = "glibc.malloc.arena_max";
        // The allocator's own switch, read at the process edge like the libc call above.
        let current = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        if current.contains(TUNABLE) {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let value = match current.is_empty() {
            true => format!("{TUNABLE}=2"),
            false => format!("{current}:{TUNABLE}=2"),
        };
        let err = std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .env("GLIBC_TUNABLES", value)
            .exec();
        eprintln!("warning: running without the malloc arena limit: {err}");
    }
}
