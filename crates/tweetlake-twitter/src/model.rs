//! One typed tweet for both API versions: what silver stores per tweet, before NER and sentiment.

/// The API shape a tweet arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V2,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "1.1",
            ApiVersion::V2 => "2",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tweet {
    pub id: i64,
    /// UTC, microseconds since the epoch.
    pub created_at_us: i64,
    pub author_id: Option<i64>,
    pub author_handle: Option<String>,
    /// The full text (a retweet's is its original's), cleaned: see [`crate::clean_text`].
    pub text: String,
    /// The same full text as the API sent it.
    pub text_original: String,
    pub lang: Option<String>,
    pub is_retweet: bool,
    pub is_quote: bool,
    pub is_reply: bool,
    pub retweeted_id: Option<i64>,
    pub quoted_id: Option<i64>,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_user_id: Option<i64>,
    /// Without `#`, as written.
    pub hashtags: Vec<String>,
    /// Handles without `@`.
    pub mentions: Vec<String>,
    pub urls: Vec<UrlEntity>,
    /// Without `$`.
    pub cashtags: Vec<String>,
    pub place: Option<Place>,
    pub coordinates: Option<Coordinates>,
    pub metrics: Metrics,
    /// v2 filtered-stream rules the tweet matched.
    pub matching_rules: Vec<Rule>,
    pub api_version: ApiVersion,
    /// v2 `edit_history_tweet_ids`: every version's id, oldest first (this one last when latest).
    pub edit_history: Vec<i64>,
    /// Withheld in some country or for copyright.
    pub withheld: bool,
    /// The client it was posted with, e.g. "Twitter for iPhone" (v1.1 HTML stripped).
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlEntity {
    /// As in the text (usually a t.co link).
    pub url: String,
    /// Where it leads, when the API says.
    pub expanded_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub id: String,
    pub name: Option<String>,
    pub full_name: Option<String>,
    /// city, admin, country, neighborhood or poi.
    pub place_type: Option<String>,
    pub country: Option<String>,
    pub country_code: Option<String>,
    /// See [`crate::city_region`] for what city and region mean per place type.
    pub city: Option<String>,
    pub region: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    pub longitude: f64,
    pub latitude: f64,
}

/// Counts as of when the tweet was captured; `None` where the payload did not carry them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    pub retweet_count: Option<i64>,
    pub reply_count: Option<i64>,
    pub like_count: Option<i64>,
    pub quote_count: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub tag: Option<String>,
}
