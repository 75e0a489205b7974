//! Progress of long batch jobs (`promote`, `maintain`, a `--full-refresh`): one line redrawn in
//! place while stderr is a terminal, and `info` log lines otherwise, so that a run from cron or a
//! systemd timer leaves the same story in its journal.
//!
//! A job is a list of steps (the models of `promote gold`, the tables of `maintain`); a step goes
//! through phases, and a phase may count units (`NER 12288/100000 tweets`). Every finished step
//! is logged as `[i/n] name: summary (seconds)`; while a step runs, the terminal line is redrawn
//! four times a second and a log line is written every [`HEARTBEAT`].

use std::fmt::Display;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tracing::info;

/// How often a running step is logged when stderr is not a terminal.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
const REDRAW: Duration = Duration::from_millis(250);
/// Longer lines would wrap, and a wrapped line cannot be redrawn in place.
const LINE_WIDTH: usize = 79;

/// Whether a progress line is on the terminal now; log output clears it first.
static LINE_SHOWN: Mutex<bool> = Mutex::new(false);

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressOutput {
    /// A redrawn line when stderr is a terminal, log lines otherwise.
    Auto,
    /// Log lines only (services such as `tweetlake run`, and library callers).
    #[default]
    Log,
}

/// The progress of one job; clones report to the same job. The line is cleared when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Progress {
    shared: Arc<Shared>,
}

impl Default for Progress {
    fn default() -> Self {
        Self::new("job", ProgressOutput::Log)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("terminal", &self.shared.terminal)
            .finish()
    }
}

struct Shared {
    /// What the log lines say the job is (`promote gold`).
    job: &'static str,
    terminal: bool,
    state: Mutex<State>,
}

#[derive(Debug, Clone)]
struct State {
    steps: usize,
    step: usize,
    name: String,
    /// Which part of the step runs (`slice 2/5`), before each phase; empty for one part.
    part: String,
    phase: String,
    done: u64,
    total: Option<u64>,
    unit: &'static str,
    step_started: Instant,
    phase_started: Instant,
    last_log: Instant,
    running: bool,
}

impl Progress {
    pub fn new(job: &'static str, output: ProgressOutput) -> Self {
        use std::io::IsTerminal;
        let terminal = output == ProgressOutput::Auto && std::io::stderr().is_terminal();
        let now = Instant::now();
        let shared = Arc::new(Shared {
            job,
            terminal,
            state: Mutex::new(State {
                steps: 0,
                step: 0,
                name: String::new(),
                part: String::new(),
                phase: String::new(),
                done: 0,
                total: None,
                unit: "",
                step_started: now,
                phase_started: now,
                last_log: now,
                running: false,
            }),
        });
        let ticker = Arc::downgrade(&shared);
        // The thread ends once every clone of this Progress is gone.
        let _ = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || tick(ticker));
        Self { shared }
    }

    /// How many steps the job has.
    pub fn steps(&self, steps: usize) {
        self.state().steps = steps;
    }

    /// Starts the next step.
    pub fn step(&self, name: impl Display) {
        let mut s = self.state();
        let now = Instant::now();
        s.step += 1;
        s.steps = s.steps.max(s.step);
        s.name = name.to_string();
        s.part.clear();
        s.phase.clear();
        s.total = None;
        s.done = 0;
        s.step_started = now;
        s.phase_started = now;
        s.last_log = now;
        s.running = true;
        drop(s);
        self.draw();
    }

    /// Which part of the current step runs now (`slice 2/5`); the phases that follow show it.
    pub fn part(&self, part: impl Display) {
        self.state().part = part.to_string();
    }

    /// What the current step is doing now.
    pub fn phase(&self, phase: impl Display) {
        self.start_phase(phase.to_string(), None, "");
    }

    /// A phase that works through `total` units (`files`, `tweets`).
    pub fn count(&self, phase: impl Display, total: u64, unit: &'static str) {
        self.start_phase(phase.to_string(), Some(total), unit);
    }

    /// `n` more units of the current phase are done.
    pub fn advance(&self, n: u64) {
        self.state().done += n;
    }

    /// Ends the current step and logs what it did.
    pub fn finish_step(&self, summary: impl Display) {
        let mut s = self.state();
        s.running = false;
        let line = format!(
            "[{}/{}] {}: {summary} ({:.1}s)",
            s.step,
            s.steps,
            s.name,
            s.step_started.elapsed().as_secs_f64()
        );
        drop(s);
        clear_line();
        info!(job = self.shared.job, "{line}");
    }

    fn start_phase(&self, phase: String, total: Option<u64>, unit: &'static str) {
        let mut s = self.state();
        s.phase = phase;
        s.total = total;
        s.unit = unit;
        s.done = 0;
        s.phase_started = Instant::now();
        drop(s);
        self.draw();
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state()
    }

    fn draw(&self) {
        self.shared.show();
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state is plain counters: one left behind by a panicking thread is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Redraws the line on a terminal; logs a heartbeat otherwise, when one is due.
    fn show(&self) {
        let mut s = self.state();
        if !s.running {
            return;
        }
        if self.terminal {
            let line = fit(&render(&s, Instant::now()), LINE_WIDTH);
            drop(s);
            let mut shown = line_shown();
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            *shown = true;
        } else if s.last_log.elapsed() >= HEARTBEAT {
            s.last_log = Instant::now();
            let line = render(&s, Instant::now());
            drop(s);
            info!(job = self.job, "{line}");
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.terminal {
            clear_line();
        }
    }
}

fn tick(shared: Weak<Shared>) {
    loop {
        std::thread::sleep(REDRAW);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.show();
    }
}

fn line_shown() -> MutexGuard<'static, bool> {
    LINE_SHOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes the progress line off the terminal, if one is shown.
fn clear_line() {
    let mut shown = line_shown();
    if *shown {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
        *shown = false;
    }
}

/// `[2/5] gold.top_hashtags_hourly: recomputing 12 windows, 3s` or, counting,
/// `[1/1] bronze/tweets: NER 12288/100000 tweets (12%), 410/s, ETA 3:34, 31s`.
fn render(s: &State, now: Instant) -> String {
    let mut line = format!("[{}/{}] {}", s.step, s.steps, s.name);
    if !s.phase.is_empty() {
        line.push_str(": ");
        if !s.part.is_empty() {
            line.push_str(&s.part);
            line.push_str(": ");
        }
        line.push_str(&s.phase);
    }
    if let Some(total) = s.total {
        let secs = now.duration_since(s.phase_started).as_secs_f64();
        line.push_str(&format!(" {}/{total} {}", s.done, s.unit));
        if let Some(percent) = (s.done.min(total) * 100).checked_div(total) {
            line.push_str(&format!(" ({percent}%)"));
        }
        if s.done > 0 && secs >= 1.0 {
            let rate = s.done as f64 / secs;
            line.push_str(&format!(", {rate:.0}/s"));
            if total > s.done {
                let left = ((total - s.done) as f64 / rate) as u64;
                line.push_str(&format!(", ETA {}:{:02}", left / 60, left % 60));
            }
        }
    }
    let step = now.duration_since(s.step_started).as_secs();
    line.push_str(&format!(", {step}s"));
    line
}

/// Cuts `line` to `width` characters, marking the cut.
fn fit(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Stderr for log output: takes a shown progress line off the terminal before each write, so a
/// log event never lands in the middle of it (the line is redrawn on the next tick).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut shown = line_shown();
        let mut err = std::io::stderr().lock();
        if *shown {
            err.write_all(b"\r\x1b[2K")?;
            *shown = false;
        }
        err.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(now: Instant) -> State {
        State {
            steps: 5,
            step: 2,
            name: "gold.top_hashtags_hourly".into(),
            part: String::new(),
            phase: "recomputing 12 windows".into(),
            done: 0,
            total: None,
            unit: "",
            step_started: now - Duration::from_secs(3),
            phase_started: now - Duration::from_secs(1),
            last_log: now,
            running: true,
        }
    }

    #[test]
    fn renders_a_phase() {
        let now = Instant::now();
        assert_eq!(
            render(&state(now), now),
            "[2/5] gold.top_hashtags_hourly: recomputing 12 windows, 3s"
        );
    }

    #[test]
    fn renders_counts_with_rate_and_eta() {
        let now = Instant::now();
        let mut s = state(now);
        s.phase = "NER".into();
        s.total = Some(100_000);
        s.done = 12_000;
        s.unit = "tweets";
        s.phase_started = now - Duration::from_secs(30);
        // 400/s, 88,000 left: 220 s.
        assert_eq!(
            render(&s, now),
            "[2/5] gold.top_hashtags_hourly: NER 12000/100000 tweets (12%), 400/s, ETA 3:40, 3s"
        );
    }

    #[test]
    fn renders_the_part_before_the_phase() {
        let now = Instant::now();
        let mut s = state(now);
        s.part = "slice 2/5".into();
        assert_eq!(
            render(&s, now),
            "[2/5] gold.top_hashtags_hourly: slice 2/5: recomputing 12 windows, 3s"
        );
    }

    #[test]
    fn no_rate_before_the_first_unit() {
        let now = Instant::now();
        let mut s = state(now);
        s.phase = "reading".into();
        s.total = Some(0);
        s.unit = "files";
        assert_eq!(
            render(&s, now),
            "[2/5] gold.top_hashtags_hourly: reading 0/0 files, 3s"
        );
    }

    #[test]
    fn long_lines_are_cut_to_the_width() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde…");
        assert_eq!(fit("ééééééé", 4).chars().count(), 4);
    }

    #[test]
    fn steps_count_up_and_never_past_the_total() {
        let p = Progress::new("test", ProgressOutput::Log);
        p.steps(1);
        p.step("a");
        p.finish_step("done");
        p.step("b");
        let s = p.state().clone();
        assert_eq!((s.step, s.steps, s.name.as_str()), (2, 2, "b"));
    }
}
