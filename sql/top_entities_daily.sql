-- The 100 most mentioned named entities (text and PER/ORG/LOC/MISC label) of each UTC day, with
-- their mentions and distinct authors; `rank` 1 is the most mentioned (ties by text, label).
-- One-character spans (a lone `@` or `#` the tagger took for a name) are left out.
-- materialized: incremental
-- time_column: day
-- window: 1 day
-- refresh: 5 minutes
WITH mentions AS (
    SELECT created_at, author_id, unnest(entities) AS entity
    FROM silver.tweets
),
counted AS (
    SELECT
        date_bin(INTERVAL '1 day', created_at) AS day,
        entity.text AS entity,
        entity.label AS label,
        count(*) AS mentions,
        count(DISTINCT author_id) AS authors
    FROM mentions
    WHERE length(entity.text) > 1
    GROUP BY date_bin(INTERVAL '1 day', created_at), entity.text, entity.label
),
ranked AS (
    SELECT
        day,
        entity,
        label,
        mentions,
        authors,
        row_number() OVER (PARTITION BY day ORDER BY mentions DESC, entity, label) AS rank
    FROM counted
)
SELECT day, rank, entity, label, mentions, authors
FROM ranked
WHERE rank <= 100
