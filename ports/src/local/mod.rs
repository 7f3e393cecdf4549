//! Embedded adapters: everything `generate --local` and the fast tests need, in one process, no AWS.
//! One adapter per file; the types are re-exported here.

mod credentials;
mod dead_letters;
mod dir_store;
mod inventory;
mod queue;
mod runs;

pub use credentials::{LocalCredentials, SecretsFileError};
pub use dead_letters::MemoryDeadLetterQueue;
pub use dir_store::DirStore;
pub use inventory::FileInventory;
pub use queue::ChannelQueue;
pub use runs::MemoryRunStore;
