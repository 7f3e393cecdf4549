//! The library behind the `db-admin-report` binary: the embedded (single-process) run, what the
//! commands do with a deployment ([`ops`], over the ports) and the AWS adapters for it ([`remote`]),
//! report comparison and the offline checks. The binary is argument parsing, dispatch and printing.

pub mod config;
pub mod diff;
pub mod fault;
pub mod local;
pub mod ops;
pub mod outcome;
pub mod queries;
pub mod remote;
pub mod reperform;
pub mod verify;

/// Exit codes, documented in the README and `--help`; [`outcome::Verdict`] picks one.
pub mod exit {
    /// Everything asked for was done; every target was read.
    pub const OK: u8 = 0;
    /// The command failed: nothing (or nothing trustworthy) was produced.
    pub const FAILURE: u8 = 1;
    /// The command line was wrong (clap's own code for usage errors).
    pub const USAGE: u8 = 2;
    /// A report was written, but some targets are error rows or discovery found the inventory
    /// incomplete (also: `reperform` found a difference, `queries show --manifest` a query this
    /// build does not run, `inventory discover` a listing that failed).
    pub const PARTIAL: u8 = 3;
    /// The report is not there yet: still running, or waiting for it timed out.
    pub const NOT_READY: u8 = 4;
}

/// A report that exists but is not in the state asked for yet (exit code 4).
#[derive(Debug)]
pub struct NotReady(pub String);

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotReady {}

/// A hint for errors people meet often, found in the error's text.
pub fn hint(error: &str) -> Option<&'static str> {
    const HINTS: [(&[&str], &str); 4] = [
        (&["ExpiredToken", "token included in the request is expired"], "your AWS credentials have expired: refresh them (e.g. `aws sso login`) and run the command again"),
        (&["AccessDenied", "not authorized", "UnauthorizedOperation"], "the AWS identity lacks a permission named above; terraform output cli_policy_json holds the policy the CLI needs"),
        (&["InvalidClientTokenId", "UnrecognizedClient", "SignatureDoesNotMatch", "InvalidAccessKeyId"], "AWS does not accept these credentials: check AWS_PROFILE or the access key"),
        (&["no credentials", "NoCredentials", "failed to load credentials"], "no AWS credentials were found: set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"),
    ];
    HINTS.iter().find(|(needles, _)| needles.iter().any(|n| error.contains(n))).map(|(_, h)| *h)
}
