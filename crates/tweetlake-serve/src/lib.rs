//! What people look at: the lake's tables over the Postgres wire protocol (read-only, one login
//! by SCRAM-SHA-256 or MD5, optional TLS, limits per statement and on connections) for psql,
//! Grafana and BI tools, and over HTTP a dashboard drawn from gold plus Prometheus `/metrics`
//! (behind the login beyond loopback). One process; tables are reloaded as new commits land.

mod dashboard;
mod http;
mod login;
mod memory;
mod metrics;
mod pg;

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};
use tweetlake_core::catalog::register_table;
use tweetlake_core::config::ServeConfig;
use tweetlake_core::deltalake::datafusion::execution::disk_manager::{
    DiskManagerBuilder, DiskManagerMode,
};
use tweetlake_core::deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
use tweetlake_core::deltalake::datafusion::execution::SessionStateBuilder;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
use tweetlake_core::Lake;
use tweetlake_core::LakeCatalog;

pub use metrics::ServeMetrics;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{what} {addr}: {source}")]
    Listen {
        what: &'static str,
        addr: String,
        source: std::io::Error,
    },
    #[error("serve.{key}: {reason}")]
    Config { key: &'static str, reason: String },
    #[error(transparent)]
    Lake(#[from] tweetlake_core::CoreError),
    #[error("setting up pg_catalog: {0}")]
    Catalog(String),
    #[error("setting up a connection's session: {0}")]
    Session(String),
}

/// The lake's tables in one base session that reloads update in place; every Postgres connection
/// and the dashboard's panels query a session of their own over the same tables.
#[derive(Clone)]
pub struct LakeSession {
    ctx: Arc<SessionContext>,
    lake: Lake,
    /// The tables as last loaded: a refresh reads only the commits since.
    catalog: Arc<tokio::sync::Mutex<LakeCatalog>>,
    /// How many tables the first load found.
    pub tables: usize,
}

impl LakeSession {
    /// Loads every table of the lake and the `pg_catalog` that Postgres clients query.
    pub async fn open(lake: &Lake) -> Result<LakeSession, ServeError> {
        let catalog = LakeCatalog::discover(lake).await?;
        let ctx = catalog.session().await?;
        pg::setup_catalog(&ctx)?;
        Ok(LakeSession {
            ctx: Arc::new(ctx),
            lake: lake.clone(),
            tables: catalog.names().count(),
            catalog: Arc::new(tokio::sync::Mutex::new(catalog)),
        })
    }

    /// A session of one connection: the shared tables and functions, its own settings, its own
    /// memory pool inside `budget`, and no disk to spill to.
    pub(crate) fn connection_context(
        &self,
        query_memory_mb: u64,
        budget: Arc<memory::SharedBudget>,
    ) -> Result<SessionContext, ServeError> {
        let base = self.ctx.state();
        let pool = Arc::new(memory::ConnectionPool::new(query_memory_mb, budget));
        let runtime = RuntimeEnvBuilder::from_runtime_env(base.runtime_env())
            .with_memory_pool(pool)
            .with_disk_manager_builder(
                DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
            )
            .build_arc()
            .map_err(|e| ServeError::Session(e.to_string()))?;
        let state = SessionStateBuilder::new_from_existing(base)
            .with_runtime_env(runtime)
            .build();
        Ok(SessionContext::new_with_state(state))
    }

    /// Re-registers the tables that have new commits, and new tables; returns how many tables
    /// the lake has.
    pub async fn refresh(&self) -> Result<usize, ServeError> {
        let mut catalog = self.catalog.lock().await;
        for name in catalog.refresh(&self.lake).await? {
            if let Some(table) = catalog.get(&name) {
                register_table(&self.ctx, &name, table).await?;
            }
        }
        Ok(catalog.names().count())
    }
}

/// Runs both endpoints until `shutdown` resolves.
pub async fn serve(
    config: &ServeConfig,
    lake: &Lake,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    let session = LakeSession::open(lake).await?;
    let metrics = Arc::new(ServeMetrics::default());
    metrics.refreshed(session.tables);
    let http = tokio::net::TcpListener::bind(&config.http_listen)
        .await
        .map_err(|source| ServeError::Listen {
            what: "HTTP dashboard on",
            addr: config.http_listen.clone(),
            source,
        })?;
    let throttle = Arc::new(login::Throttle::default());
    let budget = memory::SharedBudget::new(config.memory_mb);
    let panels = Arc::new(http::Panels {
        ctx: session.connection_context(config.query_memory_mb, budget.clone())?,
        timeout: Duration::from_secs(config.statement_timeout_seconds),
    });
    let pg_task = pg::spawn(
        config,
        session.clone(),
        metrics.clone(),
        throttle.clone(),
        budget,
    )
    .await?;
    info!(
        "serving the lake: postgres://{}@{}/ (read-only), dashboard http://{}/",
        config.user, config.pg_listen, config.http_listen
    );
    let access = Arc::new(http::Access::new(config, throttle));
    let http_task = tokio::spawn(http::serve(http, panels, metrics.clone(), access));
    let every = Duration::from_secs(config.refresh_seconds);
    let refresher = tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            match session.refresh().await {
                Ok(n) => metrics.refreshed(n),
                Err(e) => {
                    metrics.refresh_failed();
                    warn!("reloading the lake's tables failed: {e}");
                }
            }
        }
    });
    shutdown.await;
    info!("serve stopping");
    refresher.abort();
    http_task.abort();
    pg_task.abort();
    Ok(())
}
