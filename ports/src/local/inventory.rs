//! Inventories read from local files.

use crate::{InventorySource, PortError};
use async_trait::async_trait;

/// Reads inventories from local files.
pub struct FileInventory;

#[async_trait]
impl InventorySource for FileInventory {
    async fn fetch(&self, source: &str) -> Result<dbadmin_contracts::InventoryDocument, PortError> {
        match tokio::fs::read(source).await {
            Ok(b) => Ok(dbadmin_contracts::InventoryDocument::Csv(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(PortError::NotFound { what: format!("file {source}") })
            }
            Err(e) => Err(PortError::permanent(format!("read inventory {source}"), e)),
        }
    }
}
