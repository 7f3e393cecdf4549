//! The run store contract (dbadmin_ports::contract) on the in-memory store. The same suite runs on
//! DynamoDB in cli/tests/integration/deployed_pipeline.rs.

#[tokio::test]
async fn memory_run_store_keeps_the_contract() {
    let store = dbadmin_ports::local::MemoryRunStore::new();
    dbadmin_ports::contract::run_store(&store, "01MEMORY").await;
}
