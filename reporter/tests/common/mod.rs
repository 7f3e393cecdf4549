//! A finished run to finalize (shared with other crates' tests through `dbadmin_ports::fixtures`).
#![allow(unused_imports)]

pub use dbadmin_ports::fixtures::*;
