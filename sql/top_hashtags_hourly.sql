-- The 100 most used hashtags of each hour (case folded), with the tweets and distinct authors
-- that used them; `rank` 1 is the most used (ties by hashtag).
-- materialized: incremental
-- time_column: hour
-- window: 1 hour
-- refresh: 1 minute
WITH tags AS (
    SELECT created_at, author_id, unnest(hashtags) AS tag
    FROM silver.tweets
),
counted AS (
    SELECT
        date_bin(INTERVAL '1 hour', created_at) AS hour,
        lower(tag) AS hashtag,
        count(*) AS tweets,
        count(DISTINCT author_id) AS authors
    FROM tags
    GROUP BY date_bin(INTERVAL '1 hour', created_at), lower(tag)
),
ranked AS (
    SELECT
        hour,
        hashtag,
        tweets,
        authors,
        row_number() OVER (PARTITION BY hour ORDER BY tweets DESC, hashtag) AS rank
    FROM counted
)
SELECT hour, rank, hashtag, tweets, authors
FROM ranked
WHERE rank <= 100
