//! The read-only guard of the Postgres endpoint: a hook that refuses anything that would write —
//! a Delta table provider would otherwise accept `INSERT` — judged by the statement's form and by
//! its plan, so a write hidden under `EXPLAIN ANALYZE` or in `SELECT … INTO` is refused too.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::api::ClientInfo;
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::QueryHook;
use tweetlake_core::deltalake::datafusion::common::ParamValues;
use tweetlake_core::deltalake::datafusion::logical_expr::LogicalPlan;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
use tweetlake_core::deltalake::datafusion::sql::sqlparser::ast::Statement;

use crate::metrics::ServeMetrics;

/// Refuses every statement that is not a read, a session setting or a transaction bracket.
pub struct ReadOnly {
    pub metrics: Arc<ServeMetrics>,
}

impl ReadOnly {
    /// Refuses a statement whose form writes, a `SET` of DataFusion's own settings (they are shared
    /// by every connection), and any statement whose plan writes anywhere inside it — an
    /// `EXPLAIN ANALYZE INSERT`, a `COPY` under `EXPLAIN`, a `SELECT … INTO`.
    async fn check(&self, statement: &Statement, ctx: &SessionContext) -> Option<PgWireError> {
        self.metrics.statement();
        let refused = refused_by_form(statement)
            || (plans_as_query(statement) && !plan_is_read_only(statement, ctx).await);
        if !refused {
            return None;
        }
        self.metrics.refused();
        Some(refusal(statement))
    }
}

/// `EXPLAIN` of anything but a query: `EXPLAIN ANALYZE` runs what it explains (a `COPY … TO`, an
/// `INSERT`), and DataFusion plans some of those only through its own parser.
fn explains_other_than_a_query(statement: &Statement) -> bool {
    match statement {
        Statement::Explain { statement, .. } => {
            !matches!(statement.as_ref(), Statement::Query(_))
                && !matches!(statement.as_ref(), Statement::Explain { .. })
                || explains_other_than_a_query(statement)
        }
        _ => false,
    }
}

/// Refused for what the statement is, before any plan: a form that writes, a `SET` of the engine's
/// shared settings, an `EXPLAIN` of anything but a query.
fn refused_by_form(statement: &Statement) -> bool {
    !is_read(statement) || sets_engine_option(statement) || explains_other_than_a_query(statement)
}

/// No DDL, DML or statement anywhere in the plan, subqueries and `EXPLAIN ANALYZE` inputs included.
fn reads_only(plan: &LogicalPlan) -> bool {
    use tweetlake_core::deltalake::datafusion::execution::context::SQLOptions;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(plan)
        .is_ok()
}

/// Statements whose plan DataFusion builds and runs itself (the others are answered by hooks).
fn plans_as_query(statement: &Statement) -> bool {
    matches!(statement, Statement::Query(_) | Statement::Explain { .. })
}

/// Whether the plan of `statement` reads only: no DDL, DML or statement anywhere in it, subqueries
/// and `EXPLAIN ANALYZE` inputs included. A statement that does not plan is left to the service,
/// which reports its own error.
async fn plan_is_read_only(statement: &Statement, ctx: &SessionContext) -> bool {
    use tweetlake_core::deltalake::datafusion::sql::parser::Statement as DfStatement;
    let planned = ctx
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(statement.clone())))
        .await;
    match planned {
        Ok(plan) => reads_only(&plan),
        Err(_) => true,
    }
}

/// `SET datafusion.…`: DataFusion's settings live in the one session every connection shares.
fn sets_engine_option(statement: &Statement) -> bool {
    let Statement::Set(_) = statement else {
        return false;
    };
    statement
        .to_string()
        .to_ascii_lowercase()
        .split_whitespace()
        .nth(1)
        .is_some_and(|name| {
            name.trim_start_matches("session")
                .starts_with("datafusion.")
        })
}

fn refusal(statement: &Statement) -> PgWireError {
    let text = statement.to_string();
    let verb = text.split_whitespace().next().unwrap_or("this statement");
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        "25006".into(), // read_only_sql_transaction
        format!("tweetlake serve is read-only: {verb} is refused"),
    )))
}

fn is_read(statement: &Statement) -> bool {
    matches!(
        statement,
        Statement::Query(_)
            | Statement::Explain { .. }
            | Statement::ExplainTable { .. }
            | Statement::ShowVariable { .. }
            | Statement::ShowVariables { .. }
            | Statement::ShowTables { .. }
            | Statement::ShowColumns { .. }
            | Statement::ShowSchemas { .. }
            | Statement::ShowDatabases { .. }
            | Statement::ShowFunctions { .. }
            | Statement::ShowStatus { .. }
            | Statement::Set(_)
            | Statement::StartTransaction { .. }
            | Statement::Commit { .. }
            | Statement::Rollback { .. }
            | Statement::Declare { .. }
            | Statement::Fetch { .. }
            | Statement::Close { .. }
            | Statement::Discard { .. }
            | Statement::Deallocate { .. }
    )
}

#[async_trait]
impl QueryHook for ReadOnly {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.check(statement, ctx).await.map(Err)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        ctx: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        self.check(statement, ctx).await.map(Err)
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        plan: &LogicalPlan,
        _params: &ParamValues,
        _ctx: &SessionContext,
        _client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        // Counted at parse time already; the plan about to run is checked again.
        let writes = plans_as_query(statement) && !reads_only(plan);
        (refused_by_form(statement) || writes).then(|| Err(refusal(statement)))
    }
}
