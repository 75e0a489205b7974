//! Gold columns in the types every reader agrees on: UTC microsecond timestamps (nanoseconds
//! break Spark, Athena truncates to milliseconds), signed integers (Athena has no unsigned ones),
//! plain strings, and lower_snake_case names.

use tweetlake_core::deltalake::arrow::datatypes::{DataType, TimeUnit};
use tweetlake_core::deltalake::datafusion::common::Column;
use tweetlake_core::deltalake::datafusion::logical_expr::{cast, Expr};
use tweetlake_core::deltalake::datafusion::prelude::DataFrame;

use crate::model::is_snake_case;

/// The reader-safe type for `data_type`, or `None` when it is safe already.
fn portable(data_type: &DataType) -> Option<DataType> {
    let utc_micros = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    match data_type {
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if tz.as_ref() == "UTC" => None,
        DataType::Timestamp(..) => Some(utc_micros),
        DataType::Date64 => Some(DataType::Date32),
        DataType::UInt8 | DataType::UInt16 => Some(DataType::Int32),
        DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        DataType::Float16 => Some(DataType::Float32),
        DataType::Utf8View | DataType::LargeUtf8 => Some(DataType::Utf8),
        DataType::Dictionary(_, value) => Some(portable(value).unwrap_or((**value).clone())),
        _ => None,
    }
}

/// Casts every column of `df` to its portable type; a name that is not lower_snake_case is an
/// error naming the column.
pub fn portable_columns(df: DataFrame) -> Result<DataFrame, String> {
    let mut changed = false;
    let mut exprs: Vec<Expr> = Vec::new();
    for field in df.schema().fields() {
        if !is_snake_case(field.name()) {
            return Err(format!(
                "column `{}` must be lower_snake_case (Spark and Athena fold case); alias it",
                field.name()
            ));
        }
        let column = Expr::Column(Column::from_name(field.name()));
        match portable(field.data_type()) {
            Some(to) => {
                changed = true;
                exprs.push(cast(column, to).alias(field.name()));
            }
            None => exprs.push(column),
        }
    }
    if !changed {
        return Ok(df);
    }
    df.select(exprs).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_types_get_safe_ones() {
        let ns = DataType::Timestamp(TimeUnit::Nanosecond, Some("+00:00".into()));
        let us = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        assert_eq!(portable(&ns), Some(us.clone()));
        assert_eq!(portable(&us), None);
        assert_eq!(portable(&DataType::UInt64), Some(DataType::Int64));
        assert_eq!(portable(&DataType::Utf8View), Some(DataType::Utf8));
        assert_eq!(portable(&DataType::Int64), None);
    }
}
