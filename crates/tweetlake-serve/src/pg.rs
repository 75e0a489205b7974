//! The Postgres wire endpoint: datafusion-postgres's query handling and `pg_catalog` (what psql
//! and Grafana ask on connect), behind one MD5 login and a hook that refuses anything that would
//! write — a Delta table provider would otherwise accept `INSERT`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire::api::auth::noop::NoopStartupHandler;
use datafusion_postgres::pgwire::api::auth::StartupHandler;
use datafusion_postgres::pgwire::api::cancel::CancelHandler;
use datafusion_postgres::pgwire::api::cancel::DefaultCancelHandler;
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::results::Response;
use datafusion_postgres::pgwire::api::{ClientInfo, ConnectionManager, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::{DfSessionService, QueryHook, ServerOptions};
use tokio::task::JoinHandle;
use tweetlake_core::config::ServeConfig;
use tweetlake_core::deltalake::datafusion::common::ParamValues;
use tweetlake_core::deltalake::datafusion::logical_expr::LogicalPlan;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
use tweetlake_core::deltalake::datafusion::sql::sqlparser::ast::Statement;

use crate::login::Md5Login;
use crate::metrics::ServeMetrics;
use crate::{LakeSession, ServeError};

pub fn setup_catalog(ctx: &SessionContext) -> Result<(), ServeError> {
    setup_pg_catalog(ctx, "datafusion", EmptyContextProvider)
        .map_err(|e| ServeError::Catalog(e.to_string()))
}

/// Checks the TLS files and starts accepting connections.
pub async fn spawn(
    config: &ServeConfig,
    session: LakeSession,
    metrics: Arc<ServeMetrics>,
) -> Result<JoinHandle<()>, ServeError> {
    let addr: std::net::SocketAddr = config.pg_listen.parse().map_err(|e| ServeError::Config {
        key: "pg_listen",
        reason: format!("{e}"),
    })?;
    let mut options = ServerOptions::new()
        .with_host(addr.ip().to_string())
        .with_port(addr.port());
    if let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) {
        // datafusion-postgres falls back to plain text when it cannot load them: check first.
        check_pem(cert, "tls_cert", "CERTIFICATE")?;
        check_pem(key, "tls_key", "PRIVATE KEY")?;
        check_tls_pair(cert, key)?;
        options = options
            .with_tls_cert_path(Some(cert.clone()))
            .with_tls_key_path(Some(key.clone()));
    }
    // Bind once here so a taken port fails the command, not a background task.
    drop(
        std::net::TcpListener::bind(addr).map_err(|source| ServeError::Listen {
            what: "Postgres endpoint on",
            addr: config.pg_listen.clone(),
            source,
        })?,
    );
    let hooks: Vec<Arc<dyn QueryHook>> = vec![
        Arc::new(ReadOnly { metrics }),
        Arc::new(CursorStatementHook),
        Arc::new(SetShowHook),
        Arc::new(TransactionStatementHook),
    ];
    let service = Arc::new(DfSessionService::new_with_hooks(session.ctx.clone(), hooks));
    let connections = Arc::new(ConnectionManager::new());
    let cancel = Arc::new(DefaultCancelHandler::new(connections.clone()));
    let handle = if config.password.is_empty() {
        let startup = Arc::new(Trust {
            connections: connections.clone(),
        });
        let handlers = Arc::new(Handlers {
            service,
            startup,
            cancel,
        });
        tokio::spawn(run(handlers, options))
    } else {
        let startup = Arc::new(Md5Login::new(&config.user, &config.password, connections));
        let handlers = Arc::new(Handlers {
            service,
            startup,
            cancel,
        });
        tokio::spawn(run(handlers, options))
    };
    Ok(handle)
}

async fn run<S: StartupHandler + 'static>(handlers: Arc<Handlers<S>>, options: ServerOptions) {
    if let Err(e) = datafusion_postgres::serve_with_handlers(handlers, &options).await {
        tracing::error!("the Postgres endpoint stopped: {e}");
    }
}

fn check_pem(path: &str, key: &'static str, label: &str) -> Result<(), ServeError> {
    let text = std::fs::read_to_string(path).map_err(|e| ServeError::Config {
        key,
        reason: format!("{path}: {e}"),
    })?;
    if !text.contains(&format!("-----BEGIN {label}-----")) {
        return Err(ServeError::Config {
            key,
            reason: format!("{path} holds no PEM `{label}` block (the key must be PKCS#8)"),
        });
    }
    Ok(())
}

/// Builds the TLS configuration exactly as datafusion-postgres will (PEM certificates, the first
/// PKCS#8 key, ring), so that a corrupt key or a key that is not the certificate's stops the
/// command instead of the endpoint serving plain text.
fn check_tls_pair(cert: &str, key: &str) -> Result<(), ServeError> {
    use tokio_rustls::rustls::crypto::ring;
    use tokio_rustls::rustls::pki_types::PrivateKeyDer;
    use tokio_rustls::rustls::ServerConfig;
    let bad = |key: &'static str, reason: String| ServeError::Config { key, reason };
    let read = |path: &str, key: &'static str| {
        std::fs::read(path).map_err(|e| bad(key, format!("{path}: {e}")))
    };
    let certs = rustls_pemfile::certs(&mut read(cert, "tls_cert")?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("tls_cert", format!("{cert}: {e}")))?;
    let private = rustls_pemfile::pkcs8_private_keys(&mut read(key, "tls_key")?.as_slice())
        .next()
        .ok_or_else(|| bad("tls_key", format!("{key}: no PKCS#8 private key")))?
        .map_err(|e| bad("tls_key", format!("{key}: {e}")))?;
    ServerConfig::builder_with_provider(std::sync::Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("tls_cert", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, PrivateKeyDer::from(private))
        .map_err(|e| {
            bad(
                "tls_key",
                format!("{key} cannot serve {cert}: {e} (is it that certificate's key?)"),
            )
        })?;
    Ok(())
}

struct Handlers<S> {
    service: Arc<DfSessionService>,
    startup: Arc<S>,
    cancel: Arc<DefaultCancelHandler>,
}

impl<S: StartupHandler + 'static> PgWireServerHandlers for Handlers<S> {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.service.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.service.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}

/// No password: only allowed on a loopback address (checked with the config).
struct Trust {
    connections: Arc<ConnectionManager>,
}

impl NoopStartupHandler for Trust {
    fn connection_manager(&self) -> Option<Arc<ConnectionManager>> {
        Some(self.connections.clone())
    }
}

/// Four bytes that differ per login (MD5 auth's salt need not be secret, only fresh).
pub(crate) fn salt() -> [u8; 4] {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    let v = h.finish().to_le_bytes();
    [v[0], v[1], v[2], v[3]]
}

/// Refuses every statement that is not a read, a session setting or a transaction bracket.
struct ReadOnly {
    metrics: Arc<ServeMetrics>,
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
