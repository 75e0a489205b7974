-- Per layer, the newest event time it holds, when that was measured and how far it lagged.
-- Bronze: the newest tweet's event time; silver: the newest `created_at`; gold: the end of the
-- newest 5-minute window with placed tweets (gold.tweets_per_city_5m counts only those).
-- A dashboard shows the live lag as now minus `newest_event_time`.
-- materialized: table
WITH newest AS (
    SELECT 'bronze' AS layer, max(event_time) AS newest_event_time
    FROM bronze.tweets
    WHERE event_kind = 'tweet'
    UNION ALL
    SELECT 'silver' AS layer, max(created_at) AS newest_event_time
    FROM silver.tweets
    UNION ALL
    SELECT 'gold' AS layer, max(window_start) + INTERVAL '5' MINUTE AS newest_event_time
    FROM gold.tweets_per_city_5m
)
SELECT
    layer,
    newest_event_time,
    now() AS measured_at,
    to_unixtime(now()) - to_unixtime(newest_event_time) AS lag_seconds
FROM newest
