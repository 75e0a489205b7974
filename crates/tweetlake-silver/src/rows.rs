//! Builds `silver/tweets` record batches from parsed tweets and their bronze coordinates.

use std::sync::Arc;

use chrono::DateTime;
use tweetlake_core::deltalake::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int32Array, Int64Array,
    ListArray, RecordBatch, StringArray, StructArray, TimestampMicrosecondArray,
};
use tweetlake_core::deltalake::arrow::buffer::{NullBuffer, OffsetBuffer};
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field};
use tweetlake_core::deltalake::arrow::error::ArrowError;
use tweetlake_nlp::ner::Entity;
use tweetlake_nlp::sentiment::Sentiment;
use tweetlake_twitter::Tweet;

use crate::schema::{entity_fields, rule_fields, tweets_schema, url_fields};

/// Where a silver row came from in bronze.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lineage {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// What the text-analytics stages add to a tweet; `None` where a stage is switched off.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enrichment {
    pub entities: Option<Vec<Entity>>,
    pub sentiment: Option<Sentiment>,
}

/// Rows waiting to become one record batch.
#[derive(Debug, Default)]
pub struct TweetRows {
    rows: Vec<(Tweet, Lineage)>,
    enrichment: Vec<Enrichment>,
}

impl TweetRows {
    pub fn push(&mut self, tweet: Tweet, lineage: Lineage) {
        self.rows.push((tweet, lineage));
        self.enrichment.push(Enrichment::default());
    }

    /// The cleaned texts, in push order (what NER and sentiment read).
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|(t, _)| t.text.as_str())
    }

    /// Row `i`'s enrichment, for the stages to fill in.
    pub fn enrichment_mut(&mut self) -> &mut [Enrichment] {
        &mut self.enrichment
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows as one batch of [`tweets_schema`], in push order.
    pub fn to_batch(&self) -> Result<RecordBatch, ArrowError> {
        let t = || self.rows.iter().map(|(t, _)| t);
        let l = || self.rows.iter().map(|(_, l)| l);
        let opt_i64 = |f: fn(&Tweet) -> Option<i64>| -> ArrayRef {
            Arc::new(t().map(f).collect::<Int64Array>())
        };
        let opt_str = |f: fn(&Tweet) -> Option<&str>| -> ArrayRef {
            Arc::new(t().map(f).collect::<StringArray>())
        };
        let flag = |f: fn(&Tweet) -> bool| -> ArrayRef {
            Arc::new(t().map(|x| Some(f(x))).collect::<BooleanArray>())
        };
        let place = |f: fn(&tweetlake_twitter::Place) -> Option<&str>| -> ArrayRef {
            Arc::new(
                t().map(|x| x.place.as_ref().and_then(f))
                    .collect::<StringArray>(),
            )
        };
        let strings = |f: fn(&Tweet) -> &Vec<String>| -> Result<ArrayRef, ArrowError> {
            let values: StringArray = t().flat_map(f).map(|s| Some(s.as_str())).collect();
            list(DataType::Utf8, t().map(|x| f(x).len()), Arc::new(values))
        };
        let urls = {
            let url: StringArray = t()
                .flat_map(|x| &x.urls)
                .map(|u| Some(u.url.as_str()))
                .collect();
            let expanded: StringArray = t()
                .flat_map(|x| &x.urls)
                .map(|u| u.expanded_url.as_deref())
                .collect();
            let items =
                StructArray::try_new(url_fields(), vec![Arc::new(url), Arc::new(expanded)], None)?;
            list(
                DataType::Struct(url_fields()),
                t().map(|x| x.urls.len()),
                Arc::new(items),
            )?
        };
        let rules = {
            let id: StringArray = t()
                .flat_map(|x| &x.matching_rules)
                .map(|r| Some(r.id.as_str()))
                .collect();
            let tag: StringArray = t()
                .flat_map(|x| &x.matching_rules)
                .map(|r| r.tag.as_deref())
                .collect();
            let items =
                StructArray::try_new(rule_fields(), vec![Arc::new(id), Arc::new(tag)], None)?;
            list(
                DataType::Struct(rule_fields()),
                t().map(|x| x.matching_rules.len()),
                Arc::new(items),
            )?
        };
        let edits: Int64Array = t()
            .flat_map(|x| &x.edit_history)
            .map(|v| Some(*v))
            .collect();
        let edit_history = list(
            DataType::Int64,
            t().map(|x| x.edit_history.len()),
            Arc::new(edits),
        )?;
        let schema = tweets_schema();
        let entities_type = schema.field_with_name("entities")?.data_type().clone();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(t().map(|x| Some(x.id)).collect::<Int64Array>()),
            Arc::new(
                t().map(|x| Some(x.created_at_us))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            ),
            opt_i64(|x| x.author_id),
            opt_str(|x| x.author_handle.as_deref()),
            Arc::new(t().map(|x| Some(x.text.as_str())).collect::<StringArray>()),
            Arc::new(
                t().map(|x| Some(x.text_original.as_str()))
                    .collect::<StringArray>(),
            ),
            opt_str(|x| x.lang.as_deref()),
            flag(|x| x.is_retweet),
            flag(|x| x.is_quote),
            flag(|x| x.is_reply),
            opt_i64(|x| x.retweeted_id),
            opt_i64(|x| x.quoted_id),
            opt_i64(|x| x.in_reply_to_id),
            opt_i64(|x| x.in_reply_to_user_id),
            strings(|x| &x.hashtags)?,
            strings(|x| &x.mentions)?,
            urls,
            strings(|x| &x.cashtags)?,
            place(|p| Some(p.id.as_str())),
            place(|p| p.name.as_deref()),
            place(|p| p.full_name.as_deref()),
            place(|p| p.place_type.as_deref()),
            place(|p| p.city.as_deref()),
            place(|p| p.region.as_deref()),
            place(|p| p.country.as_deref()),
            place(|p| p.country_code.as_deref()),
            Arc::new(
                t().map(|x| x.coordinates.map(|c| c.longitude))
                    .collect::<Float64Array>(),
            ),
            Arc::new(
                t().map(|x| x.coordinates.map(|c| c.latitude))
                    .collect::<Float64Array>(),
            ),
            opt_i64(|x| x.metrics.retweet_count),
            opt_i64(|x| x.metrics.reply_count),
            opt_i64(|x| x.metrics.like_count),
            opt_i64(|x| x.metrics.quote_count),
            rules,
            Arc::new(
                t().map(|x| Some(x.api_version.as_str()))
                    .collect::<StringArray>(),
            ),
            edit_history,
            flag(|x| x.withheld),
            opt_str(|x| x.source.as_deref()),
            self.entities_column(entities_type)?,
            Arc::new(
                self.enrichment
                    .iter()
                    .map(|e| e.sentiment.map(|s| s.polarity.as_str()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                self.enrichment
                    .iter()
                    .map(|e| e.sentiment.map(|s| s.score as f32))
                    .collect::<Float32Array>(),
            ),
            Arc::new(l().map(|x| Some(x.topic.as_str())).collect::<StringArray>()),
            Arc::new(l().map(|x| Some(x.partition)).collect::<Int32Array>()),
            Arc::new(l().map(|x| Some(x.offset)).collect::<Int64Array>()),
            Arc::new(
                t().map(|x| Some(event_date(x.created_at_us)))
                    .collect::<Date32Array>(),
            ),
        ];
        RecordBatch::try_new(schema, columns)
    }
}

impl TweetRows {
    /// `entities`: a list of (text, label, start, end, score) per row; null where NER did not run.
    fn entities_column(&self, list_type: DataType) -> Result<ArrayRef, ArrowError> {
        let all = || {
            self.enrichment
                .iter()
                .flat_map(|e| e.entities.iter().flatten())
        };
        let items = StructArray::try_new(
            entity_fields(),
            vec![
                Arc::new(
                    all()
                        .map(|e| Some(e.text.as_str()))
                        .collect::<StringArray>(),
                ),
                Arc::new(
                    all()
                        .map(|e| Some(e.label.as_str()))
                        .collect::<StringArray>(),
                ),
                Arc::new(all().map(|e| Some(e.start as i32)).collect::<Int32Array>()),
                Arc::new(all().map(|e| Some(e.end as i32)).collect::<Int32Array>()),
                Arc::new(all().map(|e| Some(e.score)).collect::<Float32Array>()),
            ],
            None,
        )?;
        let DataType::List(field) = list_type else {
            return Err(ArrowError::SchemaError("entities is not a list".into()));
        };
        let lengths = self
            .enrichment
            .iter()
            .map(|e| e.entities.as_ref().map_or(0, Vec::len));
        let valid: Vec<bool> = self
            .enrichment
            .iter()
            .map(|e| e.entities.is_some())
            .collect();
        Ok(Arc::new(ListArray::try_new(
            field,
            OffsetBuffer::from_lengths(lengths),
            Arc::new(items),
            Some(NullBuffer::from(valid)),
        )?))
    }
}

/// A list column from its flattened values and each row's length.
fn list(
    item: DataType,
    lengths: impl Iterator<Item = usize>,
    values: ArrayRef,
) -> Result<ArrayRef, ArrowError> {
    let field = Arc::new(Field::new("element", item, true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        values,
        None,
    )?))
}

/// Days since 1970-01-01 of a UTC time in µs.
pub fn event_date(created_at_us: i64) -> i32 {
    let days = DateTime::from_timestamp_micros(created_at_us)
        .map(|t| t.date_naive())
        .and_then(|d| {
            d.signed_duration_since(chrono::NaiveDate::default())
                .num_days()
                .try_into()
                .ok()
        });
    days.unwrap_or(0)
}

#[cfg(test)]
mod tests;
