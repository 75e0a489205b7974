//! The Postgres wire endpoint: datafusion-postgres's query handling and `pg_catalog` (what psql
//! and Grafana ask on connect) behind our own accept loop. Each connection gets its own login
//! exchange, its own DataFusion session (settings and memory pool; the tables are shared) and the
//! statement limits; connections past `serve.max_connections` are refused with SQLSTATE 53300.

mod limits;
mod read_only;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::pgwire::api::auth::noop::NoopStartupHandler;
use datafusion_postgres::pgwire::api::auth::StartupHandler;
use datafusion_postgres::pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use datafusion_postgres::pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use datafusion_postgres::pgwire::api::{ClientInfo, ConnectionManager, PgWireServerHandlers};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use datafusion_postgres::pgwire::tokio::process_socket;
use datafusion_postgres::{DfSessionService, QueryHook};
use futures::Sink;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};
use tweetlake_core::config::ServeConfig;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;

use crate::login::{Credentials, Login, Throttle};
use crate::memory::SharedBudget;
use crate::metrics::ServeMetrics;
use crate::{LakeSession, ServeError};
use limits::{Limited, StatementLimits};
use read_only::ReadOnly;

pub fn setup_catalog(ctx: &SessionContext) -> Result<(), ServeError> {
    setup_pg_catalog(ctx, "datafusion", EmptyContextProvider)
        .map_err(|e| ServeError::Catalog(e.to_string()))
}

/// What every connection shares.
struct Endpoint {
    session: LakeSession,
    metrics: Arc<ServeMetrics>,
    /// `None`: no password, loopback only (checked with the config).
    credentials: Option<Arc<Credentials>>,
    cancel: Arc<DefaultCancelHandler>,
    connections: Arc<ConnectionManager>,
    limits: StatementLimits,
    budget: Arc<SharedBudget>,
    slots: Arc<Semaphore>,
    tls: Option<TlsAcceptor>,
}

/// Checks the TLS files, binds the address and starts accepting connections.
pub async fn spawn(
    config: &ServeConfig,
    session: LakeSession,
    metrics: Arc<ServeMetrics>,
    throttle: Arc<Throttle>,
    budget: Arc<SharedBudget>,
) -> Result<JoinHandle<()>, ServeError> {
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(&config.pg_listen)
        .await
        .map_err(|source| ServeError::Listen {
            what: "Postgres endpoint on",
            addr: config.pg_listen.clone(),
            source,
        })?;
    let connections = Arc::new(ConnectionManager::new());
    let credentials = (!config.password.is_empty()).then(|| {
        Arc::new(Credentials::new(
            &config.user,
            &config.password,
            config.auth,
            throttle,
            connections.clone(),
        ))
    });
    let endpoint = Arc::new(Endpoint {
        session,
        metrics,
        credentials,
        cancel: Arc::new(DefaultCancelHandler::new(connections.clone())),
        connections,
        limits: StatementLimits {
            timeout: Duration::from_secs(config.statement_timeout_seconds),
            max_rows: config.max_result_rows,
            memory_mb: config.query_memory_mb,
        },
        budget,
        slots: Arc::new(Semaphore::new(config.max_connections)),
        tls,
    });
    Ok(tokio::spawn(accept(listener, endpoint)))
}

async fn accept(listener: TcpListener, endpoint: Arc<Endpoint>) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, mostly: wait instead of spinning on the error.
                warn!(error = %e, "accepting a Postgres connection failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let endpoint = endpoint.clone();
        tokio::spawn(async move {
            let tls = endpoint.tls.clone();
            let served = match endpoint.slots.clone().try_acquire_owned() {
                Ok(_slot) => match endpoint.connection() {
                    Ok(handlers) => process_socket(socket, tls, handlers).await,
                    Err(e) => {
                        warn!(%peer, error = %e, "setting up a connection's session failed");
                        Ok(())
                    }
                },
                Err(_) => {
                    endpoint.metrics.connection_refused();
                    warn!(%peer, "Postgres connection refused: serve.max_connections reached");
                    process_socket(socket, tls, endpoint.refusal()).await
                }
            };
            if let Err(e) = served {
                debug!(%peer, error = %e, "Postgres connection ended with an error");
            }
        });
    }
}

impl Endpoint {
    /// The handlers of one new connection: its login, its own session, the limits.
    fn connection(&self) -> Result<Arc<Handlers>, ServeError> {
        let ctx = self
            .session
            .connection_context(self.limits.memory_mb, self.budget.clone())?;
        let hooks: Vec<Arc<dyn QueryHook>> = vec![
            Arc::new(ReadOnly {
                metrics: self.metrics.clone(),
            }),
            Arc::new(CursorStatementHook),
            Arc::new(SetShowHook),
            Arc::new(TransactionStatementHook),
        ];
        let startup = match &self.credentials {
            Some(credentials) => Startup::Login(Login::new(credentials.clone())),
            None => Startup::Trust(Trust {
                connections: self.connections.clone(),
            }),
        };
        Ok(Arc::new(Handlers {
            queries: Arc::new(Limited {
                inner: DfSessionService::new_with_hooks(Arc::new(ctx), hooks),
                limits: self.limits,
                metrics: self.metrics.clone(),
            }),
            startup: Arc::new(startup),
            cancel: self.cancel.clone(),
        }))
    }

    /// Handlers that answer a connection past the cap with "too many connections" (a cancel
    /// request, which also arrives as a new connection, is still served).
    fn refusal(&self) -> Arc<Handlers> {
        Arc::new(Handlers {
            queries: Arc::new(Limited {
                inner: DfSessionService::new_with_hooks(Arc::new(SessionContext::new()), vec![]),
                limits: self.limits,
                metrics: self.metrics.clone(),
            }),
            startup: Arc::new(Startup::TooMany),
            cancel: self.cancel.clone(),
        })
    }
}

struct Handlers {
    queries: Arc<Limited>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.queries.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.queries.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}

/// How a connection starts.
enum Startup {
    Login(Login),
    Trust(Trust),
    TooMany,
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self {
            Startup::Login(login) => login.on_startup(client, message).await,
            Startup::Trust(trust) => trust.on_startup(client, message).await,
            Startup::TooMany => Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".into(),
                "53300".into(), // too_many_connections
                "sorry, too many clients already (serve.max_connections)".into(),
            )))),
        }
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
