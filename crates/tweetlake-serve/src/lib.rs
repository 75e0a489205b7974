//! What people look at: the lake's tables over the Postgres wire protocol (read-only, one login,
//! optional TLS) for psql, Grafana and BI tools, and over HTTP a dashboard drawn from gold plus
//! Prometheus `/metrics`. One process; tables are reloaded as new commits land.

mod dashboard;
mod http;
mod login;
mod metrics;
mod pg;

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};
use tweetlake_core::config::ServeConfig;
use tweetlake_core::deltalake::datafusion::prelude::SessionContext;
use tweetlake_core::Lake;
use tweetlake_gold::catalog::register_table;
use tweetlake_gold::LakeCatalog;

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
    Gold(#[from] tweetlake_gold::GoldError),
    #[error("setting up pg_catalog: {0}")]
    Catalog(String),
}

/// The shared session every connection and dashboard request queries.
#[derive(Clone)]
pub struct LakeSession {
    pub ctx: Arc<SessionContext>,
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
    let pg_task = pg::spawn(config, session.clone(), metrics.clone()).await?;
    info!(
        "serving the lake: postgres://{}@{}/ (read-only), dashboard http://{}/",
        config.user, config.pg_listen, config.http_listen
    );
    let http_task = tokio::spawn(http::serve(http, session.clone(), metrics.clone()));
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
