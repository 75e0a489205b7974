//! The models for Spark SQL and Athena (Trino): the few DataFusion spellings the engines do not
//! share, rewritten on the parsed statement. Everything else in `sql/` is written in the subset
//! all three accept (CASE, count(DISTINCT), window functions, CAST, concat). Time buckets are
//! `date_bin` even for whole hours and days: DataFusion's `date_trunc` on a UTC timestamp converts
//! time zones row by row, and was measured 2.4x slower in an aggregate.
//!
//! | DataFusion                       | Spark SQL                               | Trino / Athena                                   |
//! |----------------------------------|-----------------------------------------|--------------------------------------------------|
//! | `date_bin(INTERVAL 'n unit', t)` | `timestamp_seconds(floor(unix_timestamp(t) / s) * s)` | `from_unixtime(floor(to_unixtime(t) / s) * s)` |
//! | `SELECT unnest(a) AS x …`        | `SELECT explode(a) AS x …`              | `… CROSS JOIN UNNEST(transform(a, e -> ROW(e))) AS u(x)` |
//! | `to_unixtime(t)`, `now()`        | `unix_timestamp(t)`, `current_timestamp()` | unchanged                                     |
//!
//! DuckDB (the benchmark's reference) needs only `time_bucket` for `date_bin` and `epoch` for
//! `to_unixtime`.
//!
//! Trino expands an array of rows into one column per field; wrapping each element in a
//! one-field row keeps it one column, as DataFusion and Spark give it.

use std::ops::ControlFlow;

use tweetlake_core::deltalake::datafusion::sql::sqlparser::ast::{
    visit_expressions_mut, visit_relations_mut, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, ObjectName, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor,
};
use tweetlake_core::deltalake::datafusion::sql::sqlparser::dialect::GenericDialect;
use tweetlake_core::deltalake::datafusion::sql::sqlparser::parser::Parser;

use crate::model::Window;

/// An engine the models can be printed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Spark,
    /// Athena engine v3, which is Trino.
    Athena,
    /// DuckDB, which the gold benchmark runs the same models on.
    DuckDb,
}

/// `sql` (one DataFusion `SELECT`) as `engine` spells it. Athena's tables are named as
/// `catalog ddl` registers them: `layer.table` becomes `<database>.<layer>_<table>`.
pub fn translate(sql: &str, engine: Engine, database: &str) -> Result<String, String> {
    let mut statements = Parser::parse_sql(&GenericDialect {}, sql).map_err(|e| e.to_string())?;
    let [Statement::Query(query)] = statements.as_mut_slice() else {
        return Err("expected one SELECT statement".into());
    };
    if engine == Engine::Athena {
        unnest_to_joins(query)?;
        let _ = visit_relations_mut(query, |name| {
            let parts: Vec<String> = name.0.iter().map(|p| p.to_string()).collect();
            if let [layer, table] = parts.as_slice() {
                let joined = format!("{layer}_{table}");
                *name = ObjectName::from(vec![Ident::new(database), Ident::new(joined)]);
            }
            ControlFlow::<()>::Continue(())
        });
    }
    let mut failure = None;
    let _ = visit_expressions_mut(query, |expr| match rewrite(expr, engine) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            failure = Some(e);
            ControlFlow::Break(())
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(query.to_string())
}

fn function_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Function(f) => Some(f.name.to_string().to_ascii_lowercase()),
        _ => None,
    }
}

fn arguments(expr: &Expr) -> Vec<&Expr> {
    let Expr::Function(f) = expr else {
        return Vec::new();
    };
    let FunctionArguments::List(list) = &f.args else {
        return Vec::new();
    };
    list.args
        .iter()
        .filter_map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

fn parse_expr(text: &str) -> Result<Expr, String> {
    Parser::new(&GenericDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| format!("building `{text}`: {e}"))
}

fn rename(expr: &mut Expr, to: &str) {
    if let Expr::Function(f) = expr {
        f.name = ObjectName::from(vec![Ident::new(to)]);
    }
}

fn rewrite(expr: &mut Expr, engine: Engine) -> Result<(), String> {
    let Some(name) = function_name(expr) else {
        return Ok(());
    };
    match (name.as_str(), engine) {
        ("date_bin", _) => {
            let args = arguments(expr);
            let [Expr::Interval(interval), time] = args.as_slice() else {
                return Err(format!("date_bin needs (INTERVAL, timestamp): {expr}"));
            };
            let text = match (&*interval.value, &interval.leading_field) {
                (Expr::Value(v), None) => v.to_string().trim_matches('\'').to_string(),
                (Expr::Value(v), Some(unit)) => {
                    format!("{} {unit}", v.to_string().trim_matches('\''))
                }
                _ => return Err(format!("date_bin: unsupported interval {interval}")),
            };
            let seconds = Window::parse(&text.to_ascii_lowercase())?.micros() / 1_000_000;
            let replacement = match engine {
                Engine::Spark => {
                    format!(
                        "timestamp_seconds(floor(unix_timestamp({time}) / {seconds}) * {seconds})"
                    )
                }
                Engine::Athena => {
                    format!("from_unixtime(floor(to_unixtime({time}) / {seconds}) * {seconds})")
                }
                // DuckDB's buckets start at 2000-01-03, a whole number of any window up to a week
                // after the Unix epoch, so they fall where DataFusion's do.
                Engine::DuckDb => format!("time_bucket(INTERVAL '{seconds} seconds', {time})"),
            };
            *expr = parse_expr(&replacement)?;
        }
        ("to_unixtime", Engine::Spark) => rename(expr, "unix_timestamp"),
        ("to_unixtime", Engine::DuckDb) => rename(expr, "epoch"),
        ("now", Engine::Spark) => rename(expr, "current_timestamp"),
        ("unnest", Engine::Spark) => rename(expr, "explode"),
        ("unnest", Engine::Athena) => {
            return Err(format!("`{expr}` is only supported as a whole SELECT item"));
        }
        _ => {}
    }
    Ok(())
}

/// Every SELECT in `query` (CTEs, set operations, derived tables) with its `unnest(a) AS x`
/// items turned into `CROSS JOIN UNNEST(…) AS u(x)`.
fn unnest_to_joins(query: &mut Query) -> Result<(), String> {
    if let Some(with) = &mut query.with {
        for cte in &mut with.cte_tables {
            unnest_to_joins(&mut cte.query)?;
        }
    }
    set_expr(&mut query.body)
}

fn set_expr(body: &mut SetExpr) -> Result<(), String> {
    match body {
        SetExpr::Select(select) => select_unnest(select),
        SetExpr::Query(q) => unnest_to_joins(q),
        SetExpr::SetOperation { left, right, .. } => {
            set_expr(left)?;
            set_expr(right)
        }
        _ => Ok(()),
    }
}

fn select_unnest(select: &mut Select) -> Result<(), String> {
    for table in &mut select.from {
        if let TableFactor::Derived { subquery, .. } = &mut table.relation {
            unnest_to_joins(subquery)?;
        }
    }
    let mut joins = Vec::new();
    for item in &mut select.projection {
        let (expr, alias) = match item {
            SelectItem::ExprWithAlias { expr, alias } => (expr.clone(), alias.clone()),
            _ => continue,
        };
        if function_name(&expr).as_deref() != Some("unnest") {
            continue;
        }
        let [array] = arguments(&expr)[..] else {
            return Err(format!("unnest takes one array: {expr}"));
        };
        let n = joins.len() + 1;
        let template = format!(
            "SELECT 1 FROM t CROSS JOIN UNNEST(transform({array}, e -> ROW(e))) AS u{n}({alias})"
        );
        let mut parsed =
            Parser::parse_sql(&GenericDialect {}, &template).map_err(|e| e.to_string())?;
        let Some(Statement::Query(q)) = parsed.pop() else {
            return Err(format!("building the join for {expr}"));
        };
        let SetExpr::Select(s) = *q.body else {
            return Err(format!("building the join for {expr}"));
        };
        let Some(join) = s
            .from
            .into_iter()
            .next()
            .and_then(|t| t.joins.into_iter().next())
        else {
            return Err(format!("building the join for {expr}"));
        };
        joins.push(join);
        *item = SelectItem::UnnamedExpr(Expr::Identifier(alias));
    }
    if !joins.is_empty() {
        let Some(first) = select.from.first_mut() else {
            return Err("unnest in a SELECT without FROM".into());
        };
        first.joins.extend(joins);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_gets_its_function_names() {
        let sql =
            "SELECT date_bin(INTERVAL '5 minutes', created_at) AS w, unnest(hashtags) AS tag, \
                   to_unixtime(now()) AS t FROM silver.tweets";
        let spark = translate(sql, Engine::Spark, "unused").unwrap();
        assert_eq!(
            spark,
            "SELECT timestamp_seconds(FLOOR(unix_timestamp(created_at) / 300) * 300) AS w, \
             explode(hashtags) AS tag, unix_timestamp(current_timestamp()) AS t FROM silver.tweets"
        );
    }

    #[test]
    fn athena_unnests_in_from() {
        let sql = "WITH t AS (SELECT created_at, unnest(entities) AS entity FROM silver.tweets) \
                   SELECT date_bin(INTERVAL '1' MINUTE, created_at) AS m, entity.text FROM t";
        let athena = translate(sql, Engine::Athena, "lake").unwrap();
        assert_eq!(
            athena,
            "WITH t AS (SELECT created_at, entity FROM lake.silver_tweets CROSS JOIN \
             UNNEST(transform(entities, e -> ROW(e))) AS u1 (entity)) SELECT \
             from_unixtime(FLOOR(to_unixtime(created_at) / 60) * 60) AS m, entity.text FROM t"
        );
        let err = translate("SELECT 1 + unnest(a) FROM t", Engine::Athena, "x").unwrap_err();
        assert!(err.contains("whole SELECT item"), "{err}");
    }
}
