-- Tweets (retweets included), retweets and unique authors per place and 5-minute window of
-- `created_at`. Deleted tweets are gone from silver, so they are not counted.
-- materialized: incremental
-- time_column: window_start
-- window: 5 minutes
SELECT
    date_bin(INTERVAL '5 minutes', created_at) AS window_start,
    place_full_name AS place,
    city,
    country,
    country_code,
    count(*) AS tweets,
    sum(CASE WHEN is_retweet THEN 1 ELSE 0 END) AS retweets,
    count(DISTINCT author_id) AS unique_users
FROM silver.tweets
WHERE place_full_name IS NOT NULL
GROUP BY
    date_bin(INTERVAL '5 minutes', created_at),
    place_full_name,
    city,
    country,
    country_code
