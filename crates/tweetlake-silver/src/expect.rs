//! Data-quality expectations: named SQL checks over silver/tweets rows, each with an action —
//! warn (count), drop (to the quarantine with the rule's name) or fail (stop before any commit).
//! Checks compile once against the schema, so a bad one stops the run before data moves.

use std::sync::Arc;

use tweetlake_core::config::{ExpectationAction, ExpectationConfig};
use tweetlake_core::deltalake::arrow::array::{
    Array, AsArray, BooleanArray, Int64Array, RecordBatch,
};
use tweetlake_core::deltalake::arrow::compute::filter_record_batch;
use tweetlake_core::deltalake::datafusion::common::DFSchema;
use tweetlake_core::deltalake::datafusion::logical_expr::simplify::SimplifyContext;
use tweetlake_core::deltalake::datafusion::optimizer::simplify_expressions::ExprSimplifier;
use tweetlake_core::deltalake::datafusion::physical_expr::PhysicalExpr;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;

use crate::schema::tweets_schema;
use crate::SilverError;

/// One rule's result over one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: String,
    pub action: ExpectationAction,
    pub check: String,
    pub checked: u64,
    pub failed: u64,
}

/// The rows a batch keeps, the rows it drops (index and the first rule each failed), and the
/// per-rule counts.
#[derive(Debug)]
pub struct Outcome {
    pub kept: RecordBatch,
    pub dropped: Vec<(usize, String)>,
    pub counts: Vec<RuleCount>,
}

pub struct Expectations {
    rules: Vec<(ExpectationConfig, Arc<dyn PhysicalExpr>)>,
}

fn bad(rule: &ExpectationConfig, reason: impl ToString) -> SilverError {
    SilverError::Expectation {
        rule: rule.name.clone(),
        reason: reason.to_string(),
    }
}

impl Expectations {
    pub fn compile(rules: &[ExpectationConfig]) -> Result<Self, SilverError> {
        let ctx = SessionContext::new();
        let schema = DFSchema::try_from(tweets_schema().as_ref().clone()).map_err(|e| {
            SilverError::Expectation {
                rule: "-".into(),
                reason: e.to_string(),
            }
        })?;
        // `now()` is the start of this run, fixed before the physical plan.
        let simplifier = ExprSimplifier::new(
            SimplifyContext::builder()
                .with_schema(Arc::new(schema.clone()))
                .with_current_time()
                .build(),
        );
        let mut compiled = Vec::with_capacity(rules.len());
        for rule in rules {
            let expr = ctx
                .parse_sql_expr(&rule.check, &schema)
                .and_then(|e| simplifier.simplify(e))
                .map_err(|e| bad(rule, format!("`{}`: {e}", rule.check)))?;
            let physical = ctx
                .create_physical_expr(expr, &schema)
                .map_err(|e| bad(rule, format!("`{}`: {e}", rule.check)))?;
            compiled.push((rule.clone(), physical));
        }
        Ok(Self { rules: compiled })
    }

    /// Evaluates every rule on every row. A check that is false or NULL fails; the first
    /// failing `fail` rule stops here with an error.
    pub fn check(&self, batch: &RecordBatch) -> Result<Outcome, SilverError> {
        let n = batch.num_rows();
        let mut drop_rule: Vec<Option<usize>> = vec![None; n];
        let mut counts = Vec::with_capacity(self.rules.len());
        for (k, (rule, expr)) in self.rules.iter().enumerate() {
            let value = expr
                .evaluate(batch)
                .and_then(|v| v.into_array(n))
                .map_err(|e| bad(rule, e))?;
            let passed: &BooleanArray = value
                .as_boolean_opt()
                .ok_or_else(|| bad(rule, format!("`{}` is not a boolean check", rule.check)))?;
            let failed: Vec<usize> = (0..n)
                .filter(|&i| passed.is_null(i) || !passed.value(i))
                .collect();
            counts.push(RuleCount {
                rule: rule.name.clone(),
                action: rule.action,
                check: rule.check.clone(),
                checked: n as u64,
                failed: failed.len() as u64,
            });
            match rule.action {
                ExpectationAction::Warn => {
                    if !failed.is_empty() {
                        tracing::warn!(rule = %rule.name, failed = failed.len(), checked = n, "expectation not met");
                    }
                }
                ExpectationAction::Drop => {
                    for i in failed {
                        drop_rule[i].get_or_insert(k);
                    }
                }
                ExpectationAction::Fail => {
                    if let Some(&first) = failed.first() {
                        return Err(SilverError::ExpectationFailed {
                            rule: rule.name.clone(),
                            failed: counts[k].failed,
                            checked: n as u64,
                            example: tweet_id(batch, first),
                        });
                    }
                }
            }
        }
        let keep: BooleanArray = drop_rule.iter().map(|d| Some(d.is_none())).collect();
        let kept = filter_record_batch(batch, &keep)?;
        let dropped = drop_rule
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.map(|k| (i, self.rules[k].0.name.clone())))
            .collect();
        Ok(Outcome {
            kept,
            dropped,
            counts,
        })
    }

    pub fn check_of(&self, rule: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|(r, _)| r.name == rule)
            .map(|(r, _)| r.check.as_str())
    }
}

fn tweet_id(batch: &RecordBatch, row: usize) -> i64 {
    batch
        .column_by_name("tweet_id")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .map_or(0, |ids| ids.value(row))
}
