-- Positive, negative and neutral tweets and the mean sentiment score per minute, per stream:
-- `topic:<kafka topic>` (a keyword set routed to its own topic) and `rule:<tag>` (an X API
-- stream rule that matched). A tweet counts once in its topic and once per matched rule.
-- materialized: incremental
-- time_column: minute
-- window: 1 minute
WITH per_topic AS (
    SELECT
        created_at,
        concat('topic:', bronze_topic) AS stream,
        sentiment_label,
        sentiment_score
    FROM silver.tweets
),
rules AS (
    SELECT created_at, sentiment_label, sentiment_score, unnest(matching_rules) AS rule
    FROM silver.tweets
),
per_rule AS (
    SELECT
        created_at,
        concat('rule:', coalesce(rule.tag, rule.id)) AS stream,
        sentiment_label,
        sentiment_score
    FROM rules
),
labelled AS (
    SELECT * FROM per_topic
    UNION ALL
    SELECT * FROM per_rule
)
SELECT
    date_bin(INTERVAL '1 minute', created_at) AS minute,
    stream,
    count(*) AS tweets,
    sum(CASE WHEN sentiment_label = 'positive' THEN 1 ELSE 0 END) AS positive,
    sum(CASE WHEN sentiment_label = 'negative' THEN 1 ELSE 0 END) AS negative,
    sum(CASE WHEN sentiment_label = 'neutral' THEN 1 ELSE 0 END) AS neutral,
    round(avg(CAST(sentiment_score AS DOUBLE)), 4) AS mean_score
FROM labelled
GROUP BY date_bin(INTERVAL '1 minute', created_at), stream
