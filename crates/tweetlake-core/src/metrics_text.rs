//! The Prometheus text exposition format, written one way for every command's `/metrics`
//! (ingest, produce, serve): a family's HELP and TYPE lines, label quoting and escaping, and the
//! samples under it. Each layer keeps its own counters and says which to show; how they are
//! shown is decided here.
//!
//! ```
//! use tweetlake_core::metrics_text::{Exposition, Kind};
//! let mut e = Exposition::default();
//! e.family("tweetlake_rows_total", Kind::Counter, "Rows stored")
//!     .sample("tweetlake_rows_total", &[("table", "tweets")], 42);
//! assert_eq!(
//!     e.finish(),
//!     "# HELP tweetlake_rows_total Rows stored\n# TYPE tweetlake_rows_total counter\n\
//!      tweetlake_rows_total{table=\"tweets\"} 42\n"
//! );
//! ```

use std::fmt::{Display, Write as _};

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Summary,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Summary => "summary",
        }
    }
}

/// Text being written for one scrape.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts a family: its HELP and TYPE lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> &mut Self {
        let _ = writeln!(
            self.out,
            "# HELP {name} {}\n# TYPE {name} {}",
            escape_help(help),
            kind.as_str()
        );
        self
    }

    /// One sample: `name` is the family's, or with a suffix such as `_sum` or `_count`.
    pub fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl Display,
    ) -> &mut Self {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (key, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{key}=\"{}\"", escape_label(val));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }

    /// A family of one sample without labels, the common case.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: impl Display) -> &mut Self {
        self.family(name, kind, help).sample(name, &[], value)
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Label values escape `\`, `"` and newlines (the format's rule).
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// HELP text escapes `\` and newlines.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_samples_and_escaping() {
        let mut e = Exposition::default();
        e.single("up", Kind::Gauge, "One line\nand another", 1)
            .family("lag_seconds", Kind::Summary, "Lag")
            .sample("lag_seconds_sum", &[("table", "a\"b\\c"), ("p", "0")], 1.5)
            .sample("lag_seconds_count", &[], 3);
        assert_eq!(
            e.finish(),
            "# HELP up One line\\nand another\n# TYPE up gauge\nup 1\n\
             # HELP lag_seconds Lag\n# TYPE lag_seconds summary\n\
             lag_seconds_sum{table=\"a\\\"b\\\\c\",p=\"0\"} 1.5\nlag_seconds_count 3\n"
        );
    }
}
