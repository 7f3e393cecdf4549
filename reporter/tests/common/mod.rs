//! A finished run to finalize: the reporter's test support, shared with other crates' tests.
#![allow(unused_imports)]

pub use dbadmin_reporter::synthetic::finished_run::*;
