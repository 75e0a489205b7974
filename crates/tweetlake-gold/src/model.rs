//! One gold model: a `.sql` file holding a `SELECT`, and the header comment that says how its
//! table is materialised.
//!
//! ```sql
//! -- Tweets, retweets and unique users per city and 5-minute window.
//! -- materialized: incremental
//! -- time_column: window_start
//! -- window: 5 minutes
//! -- partition_by: window_date
//! -- refresh: 1 minute
//! SELECT …
//! ```
//!
//! `incremental` models map every source row to one window of `window` by its time column, so a
//! change to a source row changes only its window; `table` models are rebuilt whole. `refresh`
//! (optional) is the least time between two refreshes of the model in `tweetlake run`, for models
//! whose every round recomputes a long window (a day's ranking); without it the model follows
//! every silver commit. `promote gold` always brings every selected model up to date.

use std::path::{Path, PathBuf};

use tweetlake_core::tables::{Layer, TableName};

use crate::GoldError;

/// How a model's table is kept up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Materialization {
    /// Only the windows that source changes touched are recomputed and replaced.
    Incremental { time_column: String, window: Window },
    /// Rebuilt whole whenever a source changed.
    Table,
}

/// A fixed window length, in microseconds (the lake's timestamp unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Window(i64);

impl Window {
    pub const fn from_micros(us: i64) -> Window {
        Window(us)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    /// The start of the window holding `us` (windows start at the Unix epoch).
    pub fn floor(self, us: i64) -> i64 {
        us.div_euclid(self.0) * self.0
    }

    /// Parses `5 minutes`, `1 hour`, `1 day`, `30 seconds`.
    pub fn parse(text: &str) -> Result<Window, String> {
        let mut parts = text.split_whitespace();
        let (Some(count), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "`{text}` is not `<count> <unit>`, e.g. `5 minutes`"
            ));
        };
        let count: i64 = count
            .parse()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| format!("`{count}` is not a positive whole number"))?;
        let unit_us: i64 = match unit.trim_end_matches('s') {
            "second" => 1_000_000,
            "minute" => 60_000_000,
            "hour" => 3_600_000_000,
            "day" => 86_400_000_000,
            _ => {
                return Err(format!(
                    "unknown unit `{unit}` (seconds, minutes, hours, days)"
                ))
            }
        };
        Ok(Window(count * unit_us))
    }
}

/// A parsed model file.
#[derive(Debug, Clone)]
pub struct Model {
    /// The file stem, which is also the gold table's name.
    pub name: String,
    pub path: PathBuf,
    pub description: String,
    pub materialization: Materialization,
    pub partition_by: Option<String>,
    /// The least time between two refreshes in `tweetlake run`; `None` follows every commit.
    pub refresh: Option<std::time::Duration>,
    /// The statement, as written (header included; DataFusion skips comments).
    pub sql: String,
    /// The tables the statement reads, found by DataFusion's parser (CTE names excluded), sorted.
    pub sources: Vec<TableName>,
}

impl Model {
    /// Parses the header and finds the tables the statement reads.
    pub fn parse(path: &Path, sql: String) -> Result<Model, GoldError> {
        let bad = |reason: String| GoldError::Model {
            path: path.to_path_buf(),
            reason,
        };
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| bad("file name is not UTF-8".into()))?
            .to_string();
        if !is_snake_case(&name) {
            return Err(bad(format!(
                "model name `{name}` must be lower_snake_case (it names the gold table)"
            )));
        }
        let header = Header::parse(&sql).map_err(bad)?;
        let materialization = match header.materialized.as_deref() {
            Some("incremental") => {
                let time_column = header.time_column.ok_or_else(|| {
                    bad("`materialized: incremental` needs `time_column:`".into())
                })?;
                let window = header
                    .window
                    .ok_or_else(|| bad("`materialized: incremental` needs `window:`".into()))?;
                let window = Window::parse(&window).map_err(|e| bad(format!("window: {e}")))?;
                Materialization::Incremental {
                    time_column,
                    window,
                }
            }
            Some("table") | None => Materialization::Table,
            Some(other) => {
                return Err(bad(format!(
                    "materialized: `{other}` is neither `incremental` nor `table`"
                )))
            }
        };
        let refresh = match &header.refresh {
            Some(text) => {
                let every = Window::parse(text).map_err(|e| bad(format!("refresh: {e}")))?;
                Some(std::time::Duration::from_micros(
                    every.micros().unsigned_abs(),
                ))
            }
            None => None,
        };
        let sources = table_references(&sql).map_err(bad)?;
        Ok(Model {
            name,
            path: path.to_path_buf(),
            description: header.description,
            materialization,
            partition_by: header.partition_by,
            refresh,
            sql,
            sources,
        })
    }

    pub fn time_column(&self) -> Option<&str> {
        match &self.materialization {
            Materialization::Incremental { time_column, .. } => Some(time_column),
            Materialization::Table => None,
        }
    }
}

#[derive(Default)]
struct Header {
    description: String,
    materialized: Option<String>,
    time_column: Option<String>,
    window: Option<String>,
    partition_by: Option<String>,
    refresh: Option<String>,
}

impl Header {
    /// Reads the leading `--` comment lines: `key: value` pairs, and free text as description.
    fn parse(sql: &str) -> Result<Header, String> {
        let mut header = Header::default();
        let mut description = Vec::new();
        for (number, line) in sql.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                break;
            };
            let comment = comment.trim();
            let pair = comment.split_once(':').filter(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            });
            let Some((key, value)) = pair else {
                description.push(comment.to_string());
                continue;
            };
            let value = Some(value.trim().to_string());
            match key {
                "materialized" => header.materialized = value,
                "time_column" => header.time_column = value,
                "window" => header.window = value,
                "partition_by" => header.partition_by = value,
                "refresh" => header.refresh = value,
                "description" => description.extend(value),
                other => {
                    return Err(format!(
                        "line {}: unknown header key `{other}` (materialized, time_column, \
                         window, partition_by, refresh, description)",
                        number + 1
                    ))
                }
            }
        }
        header.description = description.join(" ");
        Ok(header)
    }
}

/// The `schema.table` references of one `SELECT`, sorted.
fn table_references(sql: &str) -> Result<Vec<TableName>, String> {
    use tweetlake_core::deltalake::datafusion::common::config::Dialect;
    use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
    use tweetlake_core::deltalake::datafusion::sql::parser::Statement;
    let state = SessionContext::new().state();
    let statement = state
        .sql_to_statement(sql, &Dialect::Generic)
        .map_err(|e| format!("not valid SQL: {e}"))?;
    let Statement::Statement(inner) = &statement else {
        return Err("must be one SELECT statement".into());
    };
    if !matches!(
        inner.as_ref(),
        tweetlake_core::deltalake::datafusion::sql::sqlparser::ast::Statement::Query(_)
    ) {
        return Err("must be one SELECT statement (the runner writes the table)".into());
    }
    let references = state
        .resolve_table_references(&statement)
        .map_err(|e| e.to_string())?;
    let mut names: Vec<TableName> = Vec::new();
    for reference in references {
        let (Some(layer), table) = (reference.schema(), reference.table()) else {
            return Err(format!(
                "table `{reference}` needs its layer: write `silver.{reference}` or \
                 `gold.{reference}`"
            ));
        };
        let Some(layer) = Layer::parse(layer) else {
            return Err(format!(
                "table `{reference}`: `{layer}` is not a layer (bronze, silver, gold)"
            ));
        };
        let name = TableName::new(layer, table);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Names the engines agree on: Spark folds case, Athena lower-cases, Delta keeps what it gets.
pub fn is_snake_case(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Result<Model, GoldError> {
        Model::parse(Path::new("sql/m.sql"), sql.to_string())
    }

    #[test]
    fn reads_header_and_sources() {
        let m = parse(
            "-- Tweets per window.\n-- materialized: incremental\n-- time_column: w\n\
             -- window: 5 minutes\n\nWITH x AS (SELECT * FROM silver.tweets)\n\
             SELECT * FROM x JOIN gold.other o ON true JOIN silver.tweets t2 ON true",
        )
        .unwrap();
        assert_eq!(m.name, "m");
        assert_eq!(m.description, "Tweets per window.");
        assert_eq!(
            m.materialization,
            Materialization::Incremental {
                time_column: "w".into(),
                window: Window(300_000_000)
            }
        );
        let sources: Vec<String> = m.sources.iter().map(|s| s.to_string()).collect();
        assert_eq!(sources, ["gold.other", "silver.tweets"]);
        assert_eq!(m.refresh, None);
        let m = parse("-- refresh: 5 minutes\nSELECT 1").unwrap();
        assert_eq!(m.refresh, Some(std::time::Duration::from_secs(300)));
    }

    #[test]
    fn refuses_bad_models_naming_the_cause() {
        let err = |sql: &str| parse(sql).unwrap_err().to_string();
        assert!(err("SELECT * FROM tweets").contains("write `silver.tweets`"));
        assert!(err("SELECT * FROM public.t").contains("`public` is not a layer"));
        assert!(err("-- materialized: incremental\nSELECT 1").contains("needs `time_column:`"));
        assert!(err("-- materialized: streaming\nSELECT 1").contains("`streaming`"));
        assert!(err("-- colour: blue\nSELECT 1").contains("line 1: unknown header key `colour`"));
        assert!(err("DELETE FROM silver.tweets").contains("one SELECT"));
        assert!(err("SELEC 1").contains("not valid SQL"));
        assert!(err("-- refresh: often\nSELECT 1").contains("refresh: `often` is not"));
        assert!(err("-- refresh: 0 minutes\nSELECT 1").contains("refresh: `0` is not a positive"));
        let e = err(
            "-- materialized: incremental\n-- time_column: t\n-- window: 5 fortnights\nSELECT 1",
        );
        assert!(
            e.contains("sql/m.sql") && e.contains("unknown unit `fortnights`"),
            "{e}"
        );
        let e = Model::parse(Path::new("sql/Top.sql"), "SELECT 1".into()).unwrap_err();
        assert!(e.to_string().contains("lower_snake_case"));
    }

    #[test]
    fn windows_floor_from_the_epoch() {
        let w = Window::parse("5 minutes").unwrap();
        assert_eq!(w.floor(1_795_169_253_000_000), 1_795_169_100_000_000);
        assert_eq!(w.floor(-1), -300_000_000);
        assert_eq!(Window::parse("1 hour").unwrap().micros(), 3_600_000_000);
        assert!(Window::parse("0 minutes").is_err());
    }
}
