//! The collector: one database in, one result out, counted exactly once.
//!
//! [`handle_job`] is the whole job of a collector Lambda and of each worker of
//! `generate --local`: fetch the login, read the catalogs ([`engine`]),
//! classify admins ([`model`]), store the result, count the target complete,
//! and, for whoever completes the count, ask for the report.

pub mod engine;
pub mod handler;
pub mod logins;
pub mod model;

pub use engine::{ConnectOptions, EngineError};
pub use handler::{
    handle_delivery, handle_job, CollectionStats, CollectorDeps, CollectorError, Delivery, JobReport, Populations,
};
