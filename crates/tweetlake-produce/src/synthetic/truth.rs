//! The generator's truth file: for every city and 5-minute window of `created_at`, how many distinct
//! tweets (retweets included), retweets and unique authors it produced — after its own noise, so
//! duplicates count once and deleted tweets not at all. What a correct gold layer must show.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use chrono::DateTime;

/// Window length in milliseconds.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;

/// One tweet the truth counts.
#[derive(Debug, Clone)]
struct Counted {
    city: String,
    window_ms: i64,
    retweet: bool,
    user_id: u64,
}

#[derive(Debug, Default)]
pub struct Truth {
    tweets: HashMap<u64, Counted>,
    deleted: HashSet<u64>,
}

/// One row of the truth file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthRow {
    pub city: String,
    pub window_start_ms: i64,
    pub tweets: u64,
    pub retweets: u64,
    pub unique_users: u64,
}

impl Truth {
    /// A tweet with a place; a duplicate of an id already seen changes nothing.
    pub fn tweet(&mut self, id: u64, city: &str, created_ms: i64, retweet: bool, user_id: u64) {
        self.tweets.entry(id).or_insert_with(|| Counted {
            city: city.to_string(),
            window_ms: created_ms.div_euclid(WINDOW_MS) * WINDOW_MS,
            retweet,
            user_id,
        });
    }

    pub fn delete(&mut self, id: u64) {
        self.deleted.insert(id);
    }

    pub fn rows(&self) -> Vec<TruthRow> {
        let mut cells: BTreeMap<(&str, i64), (u64, u64, HashSet<u64>)> = BTreeMap::new();
        for (id, t) in &self.tweets {
            if self.deleted.contains(id) {
                continue;
            }
            let cell = cells.entry((&t.city, t.window_ms)).or_default();
            cell.0 += 1;
            cell.1 += u64::from(t.retweet);
            cell.2.insert(t.user_id);
        }
        cells
            .into_iter()
            .map(|((city, window), (tweets, retweets, users))| TruthRow {
                city: city.to_string(),
                window_start_ms: window,
                tweets,
                retweets,
                unique_users: users.len() as u64,
            })
            .collect()
    }

    /// Writes `city,window_start,tweets,retweets,unique_users` (RFC 4180 quoting, UTC times).
    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "city,window_start,tweets,retweets,unique_users")?;
        for r in self.rows() {
            let start = DateTime::from_timestamp_millis(r.window_start_ms)
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_default();
            writeln!(
                out,
                "\"{}\",{start},{},{},{}",
                r.city.replace('"', "\"\""),
                r.tweets,
                r.retweets,
                r.unique_users
            )?;
        }
        out.flush()
    }
}
