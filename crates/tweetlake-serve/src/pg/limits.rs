//! Limits on each statement of the Postgres endpoint: a deadline over planning *and* sending the
//! rows (the library's own `statement_timeout` covers planning only, and rows are computed while
//! they are sent), a cap on the rows returned, and clear SQLSTATEs for a statement stopped by a
//! limit — including the per-statement memory pool (see `memory.rs`). Only the statement that hit
//! a limit fails; its connection and every other one carry on.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::portal::Portal;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::{Response, SendableRowStream};
use datafusion_postgres::pgwire::api::store::PortalStore;
use datafusion_postgres::pgwire::api::{ClientInfo, ClientPortalStore};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::PgWireBackendMessage;
use datafusion_postgres::{DfSessionService, Parser};
use futures::{Sink, StreamExt};
use tokio::time::Instant;
use tweetlake_core::deltalake::datafusion::error::DataFusionError;

use crate::metrics::ServeMetrics;

/// What bounds one statement.
#[derive(Debug, Clone, Copy)]
pub struct StatementLimits {
    pub timeout: Duration,
    pub max_rows: u64,
    /// The memory one statement may hold (serve.query_memory_mb).
    pub memory_mb: u64,
}

/// The query handlers of one connection, with the limits around them.
pub struct Limited {
    pub inner: DfSessionService,
    pub limits: StatementLimits,
    pub metrics: Arc<ServeMetrics>,
}

/// Where datafusion-postgres keeps a client's `SET statement_timeout`, in milliseconds.
const CLIENT_TIMEOUT_KEY: &str = "statement_timeout_ms";

impl Limited {
    /// The server's timeout, or the client's own where it is shorter.
    fn deadline(&self, client: &impl ClientInfo) -> (Instant, Duration) {
        let timeout = client
            .metadata()
            .get(CLIENT_TIMEOUT_KEY)
            .and_then(|ms| ms.parse::<u64>().ok())
            .map(Duration::from_millis)
            .filter(|t| !t.is_zero())
            .map_or(self.limits.timeout, |t| t.min(self.limits.timeout));
        (Instant::now() + timeout, timeout)
    }
}

/// The limits one statement's rows are sent under.
#[derive(Clone)]
struct Bound {
    deadline: Instant,
    timeout: Duration,
    max_rows: u64,
    memory_mb: u64,
    metrics: Arc<ServeMetrics>,
}

impl Bound {
    fn response(&self, response: Response) -> Response {
        match response {
            Response::Query(mut query) => {
                let rows =
                    std::mem::replace(&mut query.data_rows, Box::pin(futures::stream::empty()));
                query.data_rows = self.rows(rows);
                Response::Query(query)
            }
            other => other,
        }
    }

    /// `rows`, ended by an error at the deadline or past `max_rows`.
    fn rows(&self, rows: SendableRowStream) -> SendableRowStream {
        // The limits travel in the stream's state: nothing is cloned per row.
        Box::pin(futures::stream::unfold(
            (Some(rows), 0u64, self.clone()),
            |(rows, sent, bound)| async move {
                let mut rows = rows?;
                let next = tokio::time::timeout_at(bound.deadline, rows.next()).await;
                let failed = match next {
                    Ok(None) => return None,
                    Ok(Some(Ok(row))) if sent < bound.max_rows => {
                        return Some((Ok(row), (Some(rows), sent + 1, bound)));
                    }
                    Ok(Some(Ok(_))) => {
                        bound.metrics.limited();
                        too_many_rows(bound.max_rows)
                    }
                    Ok(Some(Err(e))) => bound.explain(e),
                    Err(_) => {
                        bound.metrics.limited();
                        timed_out(bound.timeout)
                    }
                };
                // Dropping the rows stops the query's work.
                Some((Err(failed), (None, sent, bound)))
            },
        ))
    }

    /// The error a client sees, with the SQLSTATE of the limit it hit where it hit one.
    fn explain(&self, error: PgWireError) -> PgWireError {
        let PgWireError::ApiError(source) = &error else {
            return error;
        };
        let exhausted = match source.downcast_ref::<DataFusionError>() {
            Some(e) => matches!(e.find_root(), DataFusionError::ResourcesExhausted(_)),
            None => source.to_string().contains("Resources exhausted"),
        };
        if !exhausted {
            return error;
        }
        self.metrics.limited();
        let message = match source.downcast_ref::<DataFusionError>() {
            Some(e) => e.find_root().message().into_owned(),
            None => source.to_string(),
        };
        user_error(
            "53200", // out_of_memory
            format!(
                "out of memory: a statement may hold serve.query_memory_mb ({} MiB), all together \
                 serve.memory_mb, and nothing spills to disk ({message})",
                self.memory_mb
            ),
        )
    }
}

fn user_error(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".into(),
        code.into(),
        message,
    )))
}

fn timed_out(timeout: Duration) -> PgWireError {
    user_error(
        "57014", // query_canceled
        format!(
            "canceling statement due to statement timeout ({} s; serve.statement_timeout_seconds)",
            timeout.as_secs_f64()
        ),
    )
}

fn too_many_rows(max: u64) -> PgWireError {
    user_error(
        "54000", // program_limit_exceeded
        format!("the result has more than serve.max_result_rows ({max}) rows: aggregate, or page with LIMIT/OFFSET"),
    )
}

#[async_trait]
impl SimpleQueryHandler for Limited {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (deadline, timeout) = self.deadline(client);
        let bound = self.bound(deadline, timeout);
        match tokio::time::timeout_at(
            deadline,
            SimpleQueryHandler::do_query(&self.inner, client, query),
        )
        .await
        {
            Err(_) => {
                self.metrics.limited();
                Err(timed_out(timeout))
            }
            Ok(Err(e)) => Err(bound.explain(e)),
            Ok(Ok(responses)) => Ok(responses.into_iter().map(|r| bound.response(r)).collect()),
        }
    }
}

#[async_trait]
impl ExtendedQueryHandler for Limited {
    type Statement = <DfSessionService as ExtendedQueryHandler>::Statement;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.inner.query_parser()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (deadline, timeout) = self.deadline(client);
        let bound = self.bound(deadline, timeout);
        let work = ExtendedQueryHandler::do_query(&self.inner, client, portal, max_rows);
        match tokio::time::timeout_at(deadline, work).await {
            Err(_) => {
                self.metrics.limited();
                Err(timed_out(timeout))
            }
            Ok(Err(e)) => Err(bound.explain(e)),
            Ok(Ok(response)) => Ok(bound.response(response)),
        }
    }
}

impl Limited {
    fn bound(&self, deadline: Instant, timeout: Duration) -> Bound {
        Bound {
            deadline,
            timeout,
            max_rows: self.limits.max_rows,
            memory_mb: self.limits.memory_mb,
            metrics: self.metrics.clone(),
        }
    }
}
