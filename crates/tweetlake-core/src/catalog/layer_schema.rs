//! The schema (`bronze`, `silver`, `gold`) a session's tables live in. Unlike DataFusion's
//! `MemorySchemaProvider`, registering a name that exists replaces its provider in one step, so a
//! reload never leaves a moment where the table is missing: `serve` reloads tables while
//! dashboards query them, and a deregister-then-register pair failed queries planned in between
//! with "table … not found".

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use deltalake::datafusion::catalog::{SchemaProvider, TableProvider};
use deltalake::datafusion::error::{DataFusionError, Result};

#[derive(Debug, Default)]
pub struct LayerSchema {
    tables: RwLock<BTreeMap<String, Arc<dyn TableProvider>>>,
}

impl LayerSchema {
    fn read(
        &self,
    ) -> Result<std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<dyn TableProvider>>>> {
        self.tables
            .read()
            .map_err(|_| DataFusionError::Internal("a table reload panicked".into()))
    }

    fn write(
        &self,
    ) -> Result<std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<dyn TableProvider>>>> {
        self.tables
            .write()
            .map_err(|_| DataFusionError::Internal("a table reload panicked".into()))
    }
}

#[async_trait]
impl SchemaProvider for LayerSchema {
    fn table_names(&self) -> Vec<String> {
        self.read()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.read()?.get(name).cloned())
    }

    /// Adds the table, or swaps in the new provider for the one registered under `name`.
    fn register_table(
        &self,
        name: String,
        table: Arc<dyn TableProvider>,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.write()?.insert(name, table))
    }

    fn deregister_table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.write()?.remove(name))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.read().is_ok_and(|t| t.contains_key(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::datatypes::Schema;
    use deltalake::datafusion::datasource::empty::EmptyTable;

    #[tokio::test]
    async fn registering_again_swaps_the_provider() {
        let schema = LayerSchema::default();
        let first: Arc<dyn TableProvider> = Arc::new(EmptyTable::new(Arc::new(Schema::empty())));
        let second: Arc<dyn TableProvider> = Arc::new(EmptyTable::new(Arc::new(Schema::empty())));
        assert!(schema
            .register_table("t".into(), first.clone())
            .unwrap()
            .is_none());
        let replaced = schema.register_table("t".into(), second.clone()).unwrap();
        assert!(Arc::ptr_eq(&replaced.unwrap(), &first));
        let now = schema.table("t").await.unwrap().unwrap();
        assert!(Arc::ptr_eq(&now, &second));
        assert_eq!(schema.table_names(), vec!["t".to_string()]);
    }
}
