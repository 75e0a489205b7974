//! Synthetic load: API v1.1 stream messages made from the bundled real tweets, users and places,
//! the same bytes for the same `--seed`. Snowflake ids follow `created_at`; authors come from a
//! Zipf-like pool; the kind mix is a real stream's; noise and a truth file are optional.

mod build;
mod sampling;
pub mod truth;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

pub use sampling::{Rng, Zipf};
pub use truth::{Truth, TruthRow};

use crate::sink::Outgoing;
use crate::source::{Next, Source};
use crate::ProduceError;

const TWEETS: &str = include_str!("../../../tests/fixtures/v1_mixed_tweets.jsonl");
const PLACES: &str = include_str!("../../../tests/fixtures/places_v1.jsonl");
/// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z) in milliseconds.
const SNOWFLAKE_EPOCH_MS: i64 = 1_288_834_974_657;
/// Tweets a retweet, reply or quote may refer to: the most recent ones.
const RECENT: usize = 2_000;
/// Ids a delete may name.
const DELETABLE: usize = 100_000;

/// Shares of noise per generated tweet, each in [0, 1].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Noise {
    /// A delete notice for an earlier tweet.
    pub deletes: f64,
    /// A `limit` notice.
    pub limits: f64,
    /// The same tweet sent again a little later.
    pub duplicates: f64,
    /// `created_at` 5–30 minutes before the stream's clock.
    pub late: f64,
    /// A line cut in half (sent besides the tweet, which is whole).
    pub malformed: f64,
}

impl Noise {
    /// `deletes=0.01,limits=0.001,…`; an unknown name or a share outside [0, 1] is an error.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut n = Noise::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, share) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected NAME=SHARE"))?;
            let share: f64 = share
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| (0.0..=1.0).contains(s))
                .ok_or_else(|| format!("`{part}`: the share must be a number from 0 to 1"))?;
            let slot = match name.trim() {
                "deletes" => &mut n.deletes,
                "limits" => &mut n.limits,
                "duplicates" => &mut n.duplicates,
                "late" => &mut n.late,
                "malformed" => &mut n.malformed,
                other => {
                    return Err(format!(
                    "unknown noise `{other}`; known: deletes, limits, duplicates, late, malformed"
                ))
                }
            };
            *slot = share;
        }
        Ok(n)
    }
}

#[derive(Debug, Clone)]
pub struct SyntheticOptions {
    pub seed: u64,
    /// Tweets to generate (noise messages come on top).
    pub count: u64,
    /// `created_at` of the first tweet, ms since the epoch.
    pub start_ms: i64,
    /// Tweets per second of `created_at` time (not of sending; see `--rate`, `--speedup`).
    pub per_second: f64,
    /// Size of the author pool.
    pub users: usize,
    /// Share of tweets with a place.
    pub geo_share: f64,
    pub retweet_share: f64,
    pub reply_share: f64,
    pub quote_share: f64,
    pub noise: Noise,
}

impl Default for SyntheticOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            count: 10_000,
            start_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
            per_second: 50.0,
            users: 10_000,
            geo_share: 0.3,
            retweet_share: 0.6,
            reply_share: 0.1,
            quote_share: 0.05,
            noise: Noise::default(),
        }
    }
}

impl SyntheticOptions {
    /// The first option out of range, named as its flag.
    pub fn check(&self) -> Result<(), String> {
        let shares = [
            ("--geo-share", self.geo_share),
            ("--retweet-share", self.retweet_share),
            ("--reply-share", self.reply_share),
            ("--quote-share", self.quote_share),
        ];
        if let Some((flag, v)) = shares.iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
            return Err(format!("{flag} {v}: must be from 0 to 1"));
        }
        if self.retweet_share + self.reply_share + self.quote_share > 1.0 {
            return Err("--retweet-share + --reply-share + --quote-share exceed 1".into());
        }
        if !(self.per_second.is_finite() && self.per_second > 0.0) {
            return Err(format!("--per-second {}: must be above 0", self.per_second));
        }
        if self.users == 0 {
            return Err("--users: must be above 0".into());
        }
        Ok(())
    }
}

/// A tweet others may retweet, reply to or quote.
#[derive(Debug, Clone)]
struct Target {
    tweet: Value,
    id: u64,
    user_id: u64,
    screen_name: String,
}

/// A message due after the tweet with this index: (index, sequence, key, bytes).
type Delayed = (u64, u64, Option<u64>, Vec<u8>);

/// Generates the messages, one at a time.
pub struct Generator {
    opts: SyntheticOptions,
    rng: Rng,
    templates: Vec<Value>,
    users: Vec<Value>,
    authors: Zipf,
    places: Vec<Value>,
    place_pick: Zipf,
    recent: VecDeque<Target>,
    deletable: VecDeque<(u64, u64)>,
    delayed: BinaryHeap<Reverse<Delayed>>,
    ready: VecDeque<(Option<u64>, Vec<u8>)>,
    next: u64,
    sequence: u64,
    truth: Truth,
}

/// Problems with the bundled data the generator is made from.
#[derive(Debug, thiserror::Error)]
#[error("synthetic generator: {0}")]
pub struct SyntheticError(String);

impl Generator {
    pub fn new(opts: SyntheticOptions) -> Result<Self, SyntheticError> {
        opts.check().map_err(SyntheticError)?;
        let mut templates = Vec::new();
        let mut users: Vec<Value> = Vec::new();
        for line in TWEETS.lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if let Some(rt) = v.get("retweeted_status") {
                // A retweet's original is a real tweet too.
                templates.push(rt.clone());
            } else if v.get("user").is_some() && v.get("text").is_some() {
                templates.push(v.clone());
            }
            let user = &v["user"];
            if user.is_object() && !users.iter().any(|u| u["id_str"] == user["id_str"]) {
                users.push(user.clone());
            }
        }
        let places: Vec<Value> = PLACES
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if templates.is_empty() || users.is_empty() || places.is_empty() {
            return Err(SyntheticError("the bundled fixtures have no tweets".into()));
        }
        Ok(Self {
            rng: Rng::new(opts.seed),
            authors: Zipf::new(opts.users, 1.1),
            place_pick: Zipf::new(places.len(), 1.0),
            templates,
            users,
            places,
            recent: VecDeque::new(),
            deletable: VecDeque::new(),
            delayed: BinaryHeap::new(),
            ready: VecDeque::new(),
            next: 0,
            sequence: 0,
            truth: Truth::default(),
            opts,
        })
    }

    /// What was produced so far, counted per city and window.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Tweets generated so far, of `count`.
    pub fn progress(&self) -> (u64, u64) {
        (self.next, self.opts.count)
    }

    /// The next message (key = the tweet id it is about), `None` after the last.
    pub fn next_message(&mut self) -> Option<(Option<u64>, Vec<u8>)> {
        loop {
            if let Some(m) = self.ready.pop_front() {
                return Some(m);
            }
            let due = self.delayed.peek().map(|Reverse((at, ..))| *at);
            if due.is_some_and(|at| at <= self.next || self.next == self.opts.count) {
                let Reverse((_, _, key, bytes)) = self.delayed.pop()?;
                return Some((key, bytes));
            }
            if self.next == self.opts.count {
                return None;
            }
            self.generate();
        }
    }

    /// Tweet number `next`, and its noise, into `ready` / `delayed`.
    fn generate(&mut self) {
        let i = self.next;
        self.next += 1;
        let clock_ms = self.opts.start_ms + (i as f64 * 1000.0 / self.opts.per_second) as i64;
        let created_ms = if self.rng.chance(self.opts.noise.late) {
            clock_ms - 60_000 * (5 + self.rng.below(26) as i64)
        } else {
            clock_ms
        };
        // Snowflake: ms since the epoch, then 22 bits that only need to be unique within the ms.
        let id = (((created_ms - SNOWFLAKE_EPOCH_MS) as u64) << 22) | (i & 0x3F_FFFF);
        let member = self.authors.sample(&mut self.rng);
        let user = build::author(&self.users[member % self.users.len()], member);
        let user_id = 1_000_000_000u64 + member as u64;
        let u = self.rng.unit();
        let o = &self.opts;
        let target = (!self.recent.is_empty())
            .then(|| self.recent[self.rng.below(self.recent.len() as u64) as usize].clone());
        let is_retweet = target.is_some() && u < o.retweet_share;
        let mut tweet = match &target {
            Some(t) if is_retweet => build::retweet(t, id, created_ms, &user),
            _ => {
                let template =
                    &self.templates[self.rng.below(self.templates.len() as u64) as usize];
                let mut t = build::base(template, id, created_ms, &user);
                let likes = (self.rng.unit().powi(4) * 2000.0) as u64;
                t.insert("favorite_count".into(), json!(likes));
                t.insert("retweet_count".into(), json!(likes / 4));
                match &target {
                    Some(target) if u < o.retweet_share + o.reply_share => {
                        build::reply_to(&mut t, target)
                    }
                    Some(target) if u < o.retweet_share + o.reply_share + o.quote_share => {
                        build::quote(&mut t, target)
                    }
                    _ => {}
                }
                t
            }
        };
        if self.rng.chance(self.opts.geo_share) {
            let place = &self.places[self.place_pick.sample(&mut self.rng)];
            let city = place["full_name"].as_str().unwrap_or_default();
            self.truth.tweet(id, city, created_ms, is_retweet, user_id);
            tweet.insert("place".into(), place.clone());
        }
        let tweet = Value::Object(tweet);
        let bytes = tweet.to_string().into_bytes();
        if !is_retweet {
            let screen_name = user["screen_name"].as_str().unwrap_or_default().to_string();
            self.recent.push_back(Target {
                tweet,
                id,
                user_id,
                screen_name,
            });
            if self.recent.len() > RECENT {
                self.recent.pop_front();
            }
        }
        self.add_noise(i, clock_ms, id, &bytes);
        self.ready.push_back((Some(id), bytes));
        self.deletable.push_back((id, user_id));
        if self.deletable.len() > DELETABLE {
            self.deletable.pop_front();
        }
    }

    fn add_noise(&mut self, i: u64, clock_ms: i64, id: u64, bytes: &[u8]) {
        let noise = self.opts.noise.clone();
        if self.rng.chance(noise.duplicates) {
            let later = i + 1 + self.rng.below(100);
            self.delay(later, Some(id), bytes.to_vec());
        }
        if self.rng.chance(noise.malformed) {
            self.ready
                .push_back((None, bytes[..bytes.len() / 2].to_vec()));
        }
        if self.rng.chance(noise.limits) {
            let track = 1 + self.rng.below(1000);
            let notice = build::limit_notice(track, clock_ms)
                .to_string()
                .into_bytes();
            self.ready.push_back((None, notice));
        }
        if !self.deletable.is_empty() && self.rng.chance(noise.deletes) {
            let pick = self.rng.below(self.deletable.len() as u64) as usize;
            let (gone, user_id) = self.deletable[pick];
            self.truth.delete(gone);
            let notice = build::delete_notice(gone, user_id, clock_ms + 1_000);
            let later = i + 1 + self.rng.below(50);
            self.delay(later, Some(gone), notice.to_string().into_bytes());
        }
    }

    fn delay(&mut self, at: u64, key: Option<u64>, bytes: Vec<u8>) {
        self.sequence += 1;
        self.delayed.push(Reverse((at, self.sequence, key, bytes)));
    }
}

/// The generator as a producer source; writes the truth file when the last message is out.
pub struct SyntheticSource {
    generator: Generator,
    topic: String,
    truth_path: Option<PathBuf>,
}

impl SyntheticSource {
    pub fn new(
        opts: SyntheticOptions,
        topic: &str,
        truth_path: Option<PathBuf>,
    ) -> Result<Self, SyntheticError> {
        Ok(Self {
            generator: Generator::new(opts)?,
            topic: topic.to_string(),
            truth_path,
        })
    }
}

impl Source for SyntheticSource {
    fn next(&mut self, _wait: Duration) -> Result<Next, ProduceError> {
        if let Some((key, value)) = self.generator.next_message() {
            return Ok(Next::Message(Outgoing {
                topic: self.topic.clone(),
                key: key.map(|k| k.to_string().into_bytes()),
                value,
            }));
        }
        if let Some(path) = self.truth_path.take() {
            self.generator
                .truth()
                .write_csv(&path)
                .map_err(|e| SyntheticError(format!("writing {}: {e}", path.display())))?;
            tracing::info!(path = %path.display(), "truth file written");
        }
        Ok(Next::End)
    }

    fn progress(&self) -> Option<(u64, u64)> {
        Some(self.generator.progress())
    }
}

#[cfg(test)]
mod tests;
