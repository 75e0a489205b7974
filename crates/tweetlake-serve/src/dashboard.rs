//! The dashboard: one self-contained page (no scripts from elsewhere: it works offline) that polls
//! each panel's JSON and draws it as inline SVG, and the fixed gold query behind each panel.

pub const PAGE: &str = include_str!("dashboard.html");

/// The query of a panel, by the name the page asks for.
pub fn panel_sql(panel: &str) -> Option<&'static str> {
    Some(match panel {
        // The last 24 hours of 5-minute windows that have tweets, all places together.
        "tweets_5m" => {
            "SELECT window_start, sum(tweets) AS tweets, sum(retweets) AS retweets \
             FROM gold.tweets_per_city_5m GROUP BY window_start ORDER BY window_start DESC LIMIT 288"
        }
        "top_places" => {
            "SELECT place, country, sum(tweets) AS tweets, max(unique_users) AS peak_users \
             FROM gold.tweets_per_city_5m \
             WHERE window_start > (SELECT max(window_start) FROM gold.tweets_per_city_5m) - INTERVAL '1' HOUR \
             GROUP BY place, country ORDER BY tweets DESC, place LIMIT 10"
        }
        "sentiment" => {
            "SELECT minute, sum(positive) AS positive, sum(negative) AS negative, sum(neutral) AS neutral \
             FROM gold.sentiment_per_minute WHERE stream LIKE 'topic:%' \
             GROUP BY minute ORDER BY minute DESC LIMIT 240"
        }
        "hashtags" => {
            "SELECT hour, hashtag, tweets, authors FROM gold.top_hashtags_hourly \
             WHERE hour = (SELECT max(hour) FROM gold.top_hashtags_hourly) ORDER BY rank LIMIT 15"
        }
        "entities" => {
            "SELECT day, entity, label, mentions, authors FROM gold.top_entities_daily \
             WHERE day = (SELECT max(day) FROM gold.top_entities_daily) ORDER BY rank LIMIT 15"
        }
        "freshness" => {
            "SELECT layer, newest_event_time, \
             CAST(to_unixtime(now()) - to_unixtime(newest_event_time) AS BIGINT) AS lag_seconds \
             FROM gold.lake_freshness ORDER BY layer"
        }
        _ => return None,
    })
}
