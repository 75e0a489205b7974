//! Builds `silver/tweets` record batches from parsed tweets and their bronze coordinates.

use std::sync::Arc;

use chrono::DateTime;
use tweetlake_core::deltalake::arrow::array::{
    new_null_array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array,
    ListArray, RecordBatch, StringArray, StructArray, TimestampMicrosecondArray,
};
use tweetlake_core::deltalake::arrow::buffer::OffsetBuffer;
use tweetlake_core::deltalake::arrow::datatypes::{DataType, Field};
use tweetlake_core::deltalake::arrow::error::ArrowError;
use tweetlake_twitter::Tweet;

use crate::schema::{rule_fields, tweets_schema, url_fields};

/// Where a silver row came from in bronze.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Rows waiting to become one record batch.
#[derive(Debug, Default)]
pub struct TweetRows {
    rows: Vec<(Tweet, Lineage)>,
}

impl TweetRows {
    pub fn push(&mut self, tweet: Tweet, lineage: Lineage) {
        self.rows.push((tweet, lineage));
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
        let n = self.rows.len();
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
            // Named entities and sentiment are filled by their stages; null until then.
            new_null_array(&entities_type, n),
            new_null_array(&DataType::Utf8, n),
            new_null_array(&DataType::Float32, n),
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
