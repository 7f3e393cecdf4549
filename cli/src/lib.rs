//! The library behind the `db-admin-report` binary: the embedded (single-process) run and the
//! offline checks. The binary in `main.rs` is argument parsing and printing only.

pub mod local;
pub mod verify;

/// Exit codes, documented in the README and `--help`.
pub mod exit {
    /// Everything asked for was done; every target was read.
    pub const OK: u8 = 0;
    /// The command failed: nothing (or nothing trustworthy) was produced.
    pub const FAILURE: u8 = 1;
    /// The command line was wrong (clap's own code for usage errors).
    pub const USAGE: u8 = 2;
    /// A report was written, but some targets are error rows.
    pub const PARTIAL: u8 = 3;
}
