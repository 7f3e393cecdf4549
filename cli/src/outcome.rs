//! What each command answers, as typed values. They are the JSON of `--output json` (field for
//! field) and what the text printers show. The exit code is decided here, from these values and
//! from the error a command failed with, and nowhere else.

use crate::exit;
use crate::local::LocalOutcome;
use crate::ops::{state, DlqMessage, Redrive, Status};
use crate::reperform::Reperformance;
use crate::verify::{ChainWalk, Verification};
use dbadmin_contracts::manifest::{BaselineSummary, ReconciliationSummary};
use dbadmin_contracts::{Inventory, InventoryError};
use dbadmin_ports::RunRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Everything asked for was done; every target was read.
    Ok,
    /// Nothing (or nothing trustworthy) was produced, or a check failed.
    Failure,
    /// A report was written, but some targets are error rows or the population is incomplete.
    Partial,
    /// The report is not there yet.
    NotReady,
}

impl Verdict {
    /// The process's exit code.
    pub fn code(self) -> u8 {
        match self {
            Verdict::Ok => exit::OK,
            Verdict::Failure => exit::FAILURE,
            Verdict::Partial => exit::PARTIAL,
            Verdict::NotReady => exit::NOT_READY,
        }
    }

    /// A command that returned an error: not ready yet ([`crate::NotReady`]), or failed.
    pub fn of_error(e: &anyhow::Error) -> Self {
        if e.downcast_ref::<crate::NotReady>().is_some() {
            Verdict::NotReady
        } else {
            Verdict::Failure
        }
    }

    fn partial_if(partial: bool) -> Self {
        if partial {
            Verdict::Partial
        } else {
            Verdict::Ok
        }
    }

    fn failure_unless(ok: bool) -> Self {
        if ok {
            Verdict::Ok
        } else {
            Verdict::Failure
        }
    }
}

/// A command's answer, judged for the exit code (and, for `--output json`, serialised).
pub trait Outcome {
    fn verdict(&self) -> Verdict;
}

fn incomplete(r: Option<&ReconciliationSummary>) -> bool {
    r.is_some_and(ReconciliationSummary::incomplete)
}

impl Outcome for LocalOutcome {
    fn verdict(&self) -> Verdict {
        Verdict::partial_if(self.errors > 0 || incomplete(self.reconciliation.as_ref()))
    }
}

/// A deployed report's version, written.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub report_id: String,
    pub version: u32,
    pub state: &'static str,
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    /// Where the report is (`s3://…`).
    pub report: String,
    pub tls_warning: Option<String>,
    pub reconciliation: Option<ReconciliationSummary>,
    pub baseline: Option<BaselineSummary>,
}

impl Written {
    /// `run`'s newest version, with what its manifest says.
    pub fn new(
        run: &RunRecord,
        tls_warning: Option<String>,
        reconciliation: Option<ReconciliationSummary>,
        baseline: Option<BaselineSummary>,
    ) -> Self {
        Written {
            report_id: run.report_id.clone(),
            version: run.reported_version,
            state: state(run),
            total: run.total,
            completed: run.completed,
            failed: run.failed,
            report: run.report_location.clone().unwrap_or_default(),
            tls_warning,
            reconciliation,
            baseline,
        }
    }
}

impl Outcome for Written {
    fn verdict(&self) -> Verdict {
        Verdict::partial_if(self.failed > 0 || incomplete(self.reconciliation.as_ref()))
    }
}

/// A report requested and not waited for.
#[derive(Debug, Clone, Serialize)]
pub struct Submitted {
    pub report_id: String,
    /// Always `requested`.
    pub state: &'static str,
}

impl Submitted {
    pub fn new(report_id: &str) -> Self {
        Submitted { report_id: report_id.to_owned(), state: "requested" }
    }
}

/// `finalize`: the report's finalize message sent again.
#[derive(Debug, Clone, Serialize)]
pub struct FinalizeSent {
    pub report_id: String,
    pub version: u32,
    /// Always `sent`.
    pub finalize: &'static str,
}

impl FinalizeSent {
    pub fn new(run: &RunRecord) -> Self {
        FinalizeSent { report_id: run.report_id.clone(), version: run.version, finalize: "sent" }
    }
}

/// `retry` of a report whose every target was read.
#[derive(Debug, Clone, Serialize)]
pub struct NothingToRetry {
    pub report_id: String,
    /// Always 0.
    pub retried: u64,
    pub version: u32,
}

impl NothingToRetry {
    pub fn new(run: &RunRecord) -> Self {
        NothingToRetry { report_id: run.report_id.clone(), retried: 0, version: run.reported_version }
    }
}

impl Outcome for Status {
    fn verdict(&self) -> Verdict {
        match self.state {
            "complete" => Verdict::partial_if(self.failed > 0 || incomplete(self.reconciliation.as_ref())),
            _ => Verdict::NotReady,
        }
    }
}

/// One report in `list`.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub report_id: String,
    pub state: &'static str,
    pub requested_by: String,
    pub requested_at: String,
    /// The newest written version.
    pub version: u32,
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    pub report: Option<String>,
}

impl From<&RunRecord> for Listed {
    fn from(r: &RunRecord) -> Self {
        Listed {
            report_id: r.report_id.clone(),
            state: state(r),
            requested_by: r.requested_by.clone(),
            requested_at: r.requested_at.clone(),
            version: r.reported_version,
            total: r.total,
            completed: r.completed,
            failed: r.failed,
            report: r.report_location.clone(),
        }
    }
}

/// `list`: the newest reports first.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Listing(pub Vec<Listed>);

/// `dlq list`: the messages in the dead-letter queues asked for.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct DeadLetters(pub Vec<DlqMessage>);

/// `dlq redrive --move-task`: the task AWS started.
#[derive(Debug, Clone, Serialize)]
pub struct MoveTask {
    pub task_handle: String,
}

/// `diff`: the changes between two reports and their counts by kind.
#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    #[serde(flatten)]
    pub diff: crate::diff::Diff,
    pub counts: BTreeMap<&'static str, usize>,
}

impl From<crate::diff::Diff> for Compared {
    fn from(diff: crate::diff::Diff) -> Self {
        Compared { counts: diff.counts(), diff }
    }
}

/// One problem of an invalid inventory.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

/// `inventory validate`: valid with its size, or every problem found.
#[derive(Debug, Clone, Serialize)]
pub struct InventoryCheck {
    /// What was checked (a path, `s3://` or `ssm:`).
    #[serde(skip)]
    pub name: String,
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_engine: Option<BTreeMap<String, usize>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<Problem>>,
    /// The problems as one message, for people.
    #[serde(skip)]
    pub error: Option<String>,
}

impl InventoryCheck {
    pub fn new(name: &str, parsed: Result<Inventory, InventoryError>) -> Self {
        let name = name.to_owned();
        match parsed {
            Ok(inv) => {
                let mut by_engine = BTreeMap::new();
                for t in &inv.targets {
                    *by_engine.entry(t.engine.to_string()).or_insert(0) += 1;
                }
                InventoryCheck {
                    name,
                    valid: true,
                    targets: Some(inv.targets.len()),
                    by_engine: Some(by_engine),
                    sha256: Some(inv.sha256),
                    problems: None,
                    error: None,
                }
            }
            Err(err) => {
                let problems = err.issues.iter().map(|i| Problem {
                    file: i.file.clone(),
                    line: i.line,
                    field: i.field.clone(),
                    message: i.message.clone(),
                });
                InventoryCheck {
                    name,
                    valid: false,
                    targets: None,
                    by_engine: None,
                    sha256: None,
                    problems: Some(problems.collect()),
                    error: Some(err.to_string()),
                }
            }
        }
    }
}

impl Outcome for InventoryCheck {
    fn verdict(&self) -> Verdict {
        Verdict::failure_unless(self.valid)
    }
}

/// `inventory discover`: a draft inventory of what AWS lists (printed as CSV whatever `--output`
/// says: it is written to a file).
#[derive(Debug, Clone)]
pub struct Discovered {
    pub accounts: usize,
    pub regions: usize,
    pub databases: usize,
    /// Account × region listings that failed (named in the draft's `#` lines).
    pub failed_listings: usize,
    pub organization_error: Option<String>,
    /// The draft inventory (CSV with `#` comment lines).
    pub draft: String,
}

impl Outcome for Discovered {
    /// Partial when a listing failed, or the organization's accounts could not be listed: the
    /// draft may leave databases out.
    fn verdict(&self) -> Verdict {
        Verdict::partial_if(self.failed_listings > 0 || self.organization_error.is_some())
    }
}

impl Outcome for Verification {
    fn verdict(&self) -> Verdict {
        Verdict::failure_unless(self.ok())
    }
}

impl Outcome for ChainWalk {
    fn verdict(&self) -> Verdict {
        Verdict::failure_unless(self.ok())
    }
}

/// `key export`: the public key that checks the signatures.
#[derive(Debug, Clone, Serialize)]
pub struct PublicKeyExport {
    pub key_id: String,
    /// SHA-256 of the key's DER bytes.
    pub sha256: String,
    pub pem: String,
    /// The file the PEM was written to, if one was asked for.
    #[serde(skip)]
    pub written_to: Option<PathBuf>,
}

/// One query text of this build.
#[derive(Debug, Clone, Serialize)]
pub struct BuiltQuery {
    pub name: &'static str,
    pub sha256: String,
    /// Its `{placeholder}` is filled from the server, so a manifest records the text as built there.
    pub template: bool,
    pub text: &'static str,
}

/// One query a report ran, against this build.
#[derive(Debug, Clone, Serialize)]
pub struct RanQuery {
    pub name: String,
    pub sha256: String,
    /// This build's text (a template: built from this build's template).
    pub this_build: bool,
    pub template: bool,
}

/// `queries show`: this build's query texts and, with a manifest, whether the report ran them.
#[derive(Debug, Clone, Serialize)]
pub struct Queries {
    pub queries: Vec<BuiltQuery>,
    pub manifest: Option<Vec<RanQuery>>,
}

impl Outcome for Queries {
    fn verdict(&self) -> Verdict {
        Verdict::partial_if(self.manifest.iter().flatten().any(|q| !q.this_build))
    }
}

/// `reperform`: what re-collecting one target found, and whether it is the report's.
#[derive(Debug, Clone, Serialize)]
pub struct Reperformed {
    #[serde(flatten)]
    pub found: Reperformance,
    pub identical: bool,
}

impl From<Reperformance> for Reperformed {
    fn from(found: Reperformance) -> Self {
        Reperformed { identical: found.identical(), found }
    }
}

impl Outcome for Reperformed {
    fn verdict(&self) -> Verdict {
        Verdict::partial_if(!self.identical)
    }
}

macro_rules! always_ok {
    ($($t:ty),*) => {$(
        impl Outcome for $t {
            fn verdict(&self) -> Verdict {
                Verdict::Ok
            }
        }
    )*};
}

always_ok!(Submitted, FinalizeSent, NothingToRetry, Listing, DeadLetters, Redrive, MoveTask, Compared, PublicKeyExport);

#[cfg(test)]
mod tests {
    use super::*;

    fn run(total: u64, completed: u64, failed: u64) -> RunRecord {
        let mut r = RunRecord::new("01J", "me", "2026-12-04T00:00:00Z", total);
        (r.completed, r.failed, r.reported_version) = (completed, failed, 1);
        r.report_location = Some("s3://b/reports/01J/v1/report.csv".into());
        r
    }

    #[test]
    fn a_written_report_with_error_rows_is_partial_and_keeps_its_json_fields() {
        assert_eq!(Written::new(&run(2, 2, 0), None, None, None).verdict(), Verdict::Ok);
        let partial = Written::new(&run(2, 2, 1), Some("no TLS".into()), None, None);
        assert_eq!(partial.verdict().code(), exit::PARTIAL);
        let json = serde_json::to_value(&partial).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "baseline",
                "completed",
                "failed",
                "reconciliation",
                "report",
                "report_id",
                "state",
                "tls_warning",
                "total",
                "version"
            ]
        );
        assert_eq!(json["state"], "complete");
    }

    #[test]
    fn a_valid_inventory_says_its_size_and_an_invalid_one_each_problem() {
        let csv = b"id,account_id,region,engine,host,port,databases,secret\n";
        let ok = InventoryCheck::new("i.csv", Inventory::parse("i.csv", csv));
        assert_eq!(ok.verdict(), Verdict::Ok);
        assert_eq!(serde_json::to_value(&ok).unwrap()["targets"], 0);
        assert!(serde_json::to_value(&ok).unwrap().get("problems").is_none());

        let bad = InventoryCheck::new("i.csv", Inventory::parse("i.csv", b"account_id\n1\n"));
        assert_eq!(bad.verdict().code(), exit::FAILURE);
        let json = serde_json::to_value(&bad).unwrap();
        assert_eq!(json["valid"], false);
        assert_eq!(json["problems"][0]["file"], "i.csv");
        assert!(json.get("targets").is_none() && bad.error.is_some());
    }

    #[test]
    fn a_status_is_not_ready_until_complete() {
        let status = |state, failed| Status {
            report_id: "01J".into(),
            state,
            requested_by: String::new(),
            requested_at: String::new(),
            version: 1,
            reported_version: 1,
            total: 1,
            completed: 1,
            failed,
            report_location: None,
            missing: vec![],
            failed_targets: vec![],
            dlq_messages: None,
            dlq_by_queue: BTreeMap::new(),
            reconciliation: None,
        };
        assert_eq!(status("running", 0).verdict().code(), exit::NOT_READY);
        assert_eq!(status("finalizing", 0).verdict().code(), exit::NOT_READY);
        assert_eq!(status("complete", 1).verdict().code(), exit::PARTIAL);
        assert_eq!(status("complete", 0).verdict().code(), exit::OK);
    }

    #[test]
    fn an_error_is_a_failure_unless_the_report_is_not_ready() {
        let not_ready = anyhow::Error::new(crate::NotReady("still running".into())).context("waiting");
        assert_eq!(Verdict::of_error(&not_ready).code(), exit::NOT_READY);
        assert_eq!(Verdict::of_error(&anyhow::anyhow!("denied")).code(), exit::FAILURE);
    }

    #[test]
    fn queries_a_report_ran_elsewhere_make_the_listing_partial() {
        let ran = |this_build| RanQuery { name: "n".into(), sha256: "s".into(), this_build, template: false };
        let q = |manifest| Queries { queries: vec![], manifest };
        assert_eq!(q(None).verdict(), Verdict::Ok);
        assert_eq!(q(Some(vec![ran(true)])).verdict(), Verdict::Ok);
        assert_eq!(q(Some(vec![ran(true), ran(false)])).verdict(), Verdict::Partial);
    }

    #[test]
    fn a_reperformance_is_identical_only_when_nothing_differs() {
        let found = |only_now: Vec<Vec<String>>| Reperformance {
            report_id: "01J".into(),
            version: 1,
            target_id: "pg".into(),
            only_in_report: vec![],
            only_now,
            queries_checked: 3,
            collected_at: "2026-12-04T00:00:00Z".into(),
        };
        let same = Reperformed::from(found(vec![]));
        assert_eq!(
            (same.verdict(), serde_json::to_value(&same).unwrap()["identical"].clone()),
            (Verdict::Ok, true.into())
        );
        let differs = Reperformed::from(found(vec![vec!["fx_new".into()]]));
        let json = serde_json::to_value(&differs).unwrap();
        assert_eq!((differs.verdict(), json["identical"].clone()), (Verdict::Partial, false.into()));
        assert_eq!(json["only_now"][0][0], "fx_new");
    }

    #[test]
    fn a_draft_that_may_leave_databases_out_is_partial() {
        let draft = |failed_listings, organization_error: Option<&str>| Discovered {
            accounts: 2,
            regions: 1,
            databases: 3,
            failed_listings,
            organization_error: organization_error.map(str::to_owned),
            draft: String::new(),
        };
        assert_eq!(draft(0, None).verdict(), Verdict::Ok);
        assert_eq!(draft(1, None).verdict(), Verdict::Partial);
        assert_eq!(draft(0, Some("AccessDenied")).verdict(), Verdict::Partial);
    }

    #[test]
    fn a_diff_serialises_its_reports_changes_and_counts() {
        let d = crate::diff::Diff { a: "a".into(), b: "b".into(), changes: vec![] };
        let json = serde_json::to_value(Compared::from(d)).unwrap();
        assert_eq!(json, serde_json::json!({"a": "a", "b": "b", "changes": [], "counts": {}}));
    }
}
