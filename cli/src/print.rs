//! Printing: text for people, JSON for scripts (`--output json`), progress bars on stderr. A
//! printer only prints a command's [`Outcome`]; the exit code is the outcome's [`Verdict`].

use crate::args::{DiffFormat, Output};
use anyhow::Context;
use db_admin_report::local::{LocalOutcome, Progress};
use db_admin_report::ops::{state, Redrive, Status, WaitProgress};
use db_admin_report::outcome::{
    Compared, DeadLetters, Discovered, FinalizeSent, InventoryCheck, Listing, MoveTask, NothingToRetry, Outcome,
    PublicKeyExport, Queries, Reperformed, Submitted, Verdict, Written,
};
use db_admin_report::{diff, verify};
use dbadmin_contracts::manifest::{BaselineSummary, ReconciliationSummary};
use dbadmin_ports::RunRecord;

/// An outcome as text for people: the answer on stdout, what goes with it on stderr.
pub trait Text {
    fn text(&self);
}

/// Prints `outcome` as `output` asks and returns its verdict.
pub fn show<T: Outcome + Text + serde::Serialize>(outcome: &T, output: Output) -> anyhow::Result<Verdict> {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(outcome)?),
        Output::Text => outcome.text(),
    }
    Ok(outcome.verdict())
}

/// `diff` also prints as CSV.
pub fn diff(d: &Compared, format: DiffFormat, output: Output) -> anyhow::Result<Verdict> {
    if output == Output::Text && format == DiffFormat::Csv {
        use std::io::Write;
        std::io::stdout().write_all(&diff::to_csv(&d.diff)).context("writing to stdout")?;
        return Ok(d.verdict());
    }
    show(d, output)
}

/// A progress bar on stderr, or a hidden one.
pub fn progress_bar(hidden: bool) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let template = "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} databases, {msg}";
    let style = indicatif::ProgressStyle::with_template(template).expect("static template");
    indicatif::ProgressBar::new(0).with_style(style)
}

fn errors(n: u64) -> String {
    if n == 1 {
        "1 error".to_owned()
    } else {
        format!("{n} errors")
    }
}

/// The local run's progress.
pub struct Bar(pub indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, total: usize) {
        self.0.set_length(total as u64);
        self.0.reset_elapsed();
    }
    fn advance(&self, done: usize, errors: usize) {
        self.0.set_position(done as u64);
        self.0.set_message(format!("{errors} error{}", if errors == 1 { "" } else { "s" }));
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A deployed run's progress, read from the run table.
pub struct RunBar(pub indicatif::ProgressBar);

impl WaitProgress for RunBar {
    fn update(&self, run: Option<&RunRecord>) {
        match run {
            None => self.0.set_message("waiting for the publisher to pick up the request"),
            Some(run) => {
                self.0.set_length(run.total);
                self.0.set_position(run.completed);
                self.0.set_message(format!("{}, {}", errors(run.failed), state(run)));
            }
        }
        self.0.tick();
    }
}

impl Text for LocalOutcome {
    fn text(&self) {
        eprintln!(
            "Report {} v{}: {} databases, {} with errors, {} rows.",
            self.report_id, self.version, self.population, self.errors, self.rows
        );
        eprintln!("Manifest: {}", self.manifest);
        if self.signing_key_created {
            eprintln!(
                "Made a local signing key at {} (mode 0600); keep it, it signs every local report.",
                self.signing_key
            );
        }
        let folder = std::path::Path::new(&self.manifest).parent().map(|p| p.display().to_string());
        eprintln!(
            "Signed with {}; check it with `db-admin-report verify {}`.",
            self.signing_key,
            folder.unwrap_or_default()
        );
        written(&self.report, self.tls_warning.as_deref(), self.reconciliation.as_ref(), self.baseline.as_ref());
    }
}

/// What goes with a written report, local or deployed: the TLS warning, the reconciliation and
/// the review on stderr, then where the report is on stdout.
fn written(
    report: &str,
    tls_warning: Option<&str>,
    reconciled: Option<&ReconciliationSummary>,
    baseline: Option<&BaselineSummary>,
) {
    if let Some(w) = tls_warning {
        eprintln!("WARNING: {w}");
    }
    reconciliation(reconciled);
    review(baseline);
    println!("{report}");
}

/// The review statuses against the baseline, on stderr.
fn review(summary: Option<&BaselineSummary>) {
    let Some(b) = summary else { return };
    let counts: Vec<String> = b.review_counts.iter().map(|(status, n)| format!("{status} {n}")).collect();
    eprintln!(
        "Review against baseline {} ({} approvals): {} principal row(s).",
        b.source,
        b.approvals,
        if counts.is_empty() { "no admin or elevated".to_owned() } else { counts.join(", ") }
    );
    let not_approved: u64 = ["UNAPPROVED", "APPROVAL_EXPIRED"].iter().filter_map(|s| b.review_counts.get(*s)).sum();
    if not_approved > 0 {
        eprintln!("REVIEW: {not_approved} principal row(s) are not approved; filter the report on Review Status.");
    }
}

/// The reconciliation's counts and finding, on stderr.
fn reconciliation(summary: Option<&ReconciliationSummary>) {
    let Some(r) = summary else { return };
    let counts: Vec<String> = r.counts.iter().map(|(status, n)| format!("{status} {n}")).collect();
    eprintln!(
        "Reconciliation with AWS ({} account(s) × {} region(s)): {}.",
        r.scope.accounts.len(),
        r.scope.regions.len(),
        if counts.is_empty() { "nothing listed".to_owned() } else { counts.join(", ") }
    );
    if let Some(e) = &r.scope.organization_error {
        eprintln!("WARNING: the organization's accounts could not be listed: {e}");
    }
    if let Some(f) = &r.finding {
        eprintln!("INCOMPLETE: {f}");
    }
}

impl Text for Written {
    fn text(&self) {
        eprintln!(
            "Report {} v{}: {} databases, {} with errors.",
            self.report_id, self.version, self.total, self.failed
        );
        written(&self.report, self.tls_warning.as_deref(), self.reconciliation.as_ref(), self.baseline.as_ref());
    }
}

impl Text for Submitted {
    fn text(&self) {
        println!("{}", self.report_id);
    }
}

impl Text for FinalizeSent {
    fn text(&self) {
        println!(
            "Sent the finalize message of {} v{}; follow it with `db-admin-report status {}`.",
            self.report_id, self.version, self.report_id
        );
    }
}

impl Text for NothingToRetry {
    fn text(&self) {
        println!("Nothing to retry: every target of {} v{} was read.", self.report_id, self.version);
    }
}

impl Text for Status {
    fn text(&self) {
        let s = self;
        println!("Report {} ({}), requested by {} at {}", s.report_id, s.state, s.requested_by, s.requested_at);
        println!("Version {}: {} of {} databases done, {} with errors", s.version, s.completed, s.total, s.failed);
        if let Some(l) = &s.report_location {
            println!("Newest report (v{}): {l}", s.reported_version);
        }
        for m in &s.missing {
            match &m.last_error {
                Some(e) => {
                    println!("  missing {}: last error ({} attempt(s), {}): {}", m.target_id, e.attempts, e.at, e.error)
                }
                None => println!("  missing {}: not collected yet", m.target_id),
            }
        }
        for f in &s.failed_targets {
            println!("  error   {}: {}: {}", f.target_id, f.error_kind, f.reason);
        }
        if let Some(n) = s.dlq_messages {
            let each: Vec<String> = s.dlq_by_queue.iter().map(|(q, n)| format!("{} {n}", q.as_str())).collect();
            println!(
                "Dead-letter queues: {n} message(s) of this report ({}; db-admin-report dlq list)",
                each.join(", ")
            );
        }
        reconciliation(s.reconciliation.as_ref());
        finalizing(s);
    }
}

/// What to do about a report whose every database is counted but no version is written yet.
fn finalizing(s: &Status) {
    let finalize_dead = s.dlq_by_queue.get(&db_admin_report::ops::Queue::Finalize).copied().unwrap_or(0);
    if s.state == "finalizing" && finalize_dead > 0 {
        println!(
            "Stuck: every database is counted but the report's finalize message is in the finalize \
             dead-letter queue. Unstick it: db-admin-report finalize {} (or dlq redrive --queue finalize)",
            s.report_id
        );
    } else if s.state == "finalizing" {
        println!(
            "Every database is counted and the report is being written. If no version appears within the \
             reporter's lease (twice its time-out), send the finalize again: db-admin-report finalize {}",
            s.report_id
        );
    }
}

impl Text for Listing {
    fn text(&self) {
        println!(
            "{:<26}  {:<20}  {:<10}  {:>3}  {:>11}  {:>6}  REQUESTED BY",
            "REPORT", "REQUESTED AT", "STATE", "VER", "DONE", "ERRORS"
        );
        for r in &self.0 {
            println!(
                "{:<26}  {:<20}  {:<10}  {:>3}  {:>11}  {:>6}  {}",
                r.report_id,
                r.requested_at,
                r.state,
                r.version,
                format!("{}/{}", r.completed, r.total),
                r.failed,
                r.requested_by
            );
        }
    }
}

impl Text for DeadLetters {
    fn text(&self) {
        for m in &self.0 {
            println!(
                "{:<8}  {}  report {}  target {}  received {}x  sent {}\n    last error: {}",
                m.queue.as_str(),
                m.message_id,
                m.report_id.as_deref().unwrap_or("-"),
                m.target_id.as_deref().unwrap_or("-"),
                m.receive_count.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                m.sent_at.as_deref().unwrap_or("?"),
                m.last_error.as_deref().unwrap_or("none recorded")
            );
        }
        println!("{} message(s) in the dead-letter queue", self.0.len());
    }
}

impl Text for Redrive {
    fn text(&self) {
        let verb = if self.dry_run { "would move" } else { "moved" };
        for m in &self.moved {
            println!(
                "{verb} {} (report {}, target {})",
                m.message_id,
                m.report_id.as_deref().unwrap_or("-"),
                m.target_id.as_deref().unwrap_or("-")
            );
        }
        println!("{} message(s) {verb}, {} left in the dead-letter queue", self.moved.len(), self.left);
    }
}

impl Text for MoveTask {
    fn text(&self) {
        println!("Started a message move task: {}", self.task_handle);
    }
}

impl Text for Compared {
    fn text(&self) {
        print!("{}", diff::to_text(&self.diff));
    }
}

impl Text for InventoryCheck {
    fn text(&self) {
        if let Some(e) = &self.error {
            eprintln!("error: {e}");
            return;
        }
        let engines: Vec<String> = self.by_engine.iter().flatten().map(|(e, n)| format!("{n} {e}")).collect();
        println!("{}: valid, {} targets ({})", self.name, self.targets.unwrap_or(0), engines.join(", "));
    }
}

impl Text for Discovered {
    fn text(&self) {
        if let Some(e) = &self.organization_error {
            eprintln!("WARNING: the organization's accounts could not be listed: {e}");
        }
        print!("{}", self.draft);
        let failed = match self.failed_listings {
            0 => String::new(),
            n => format!(", {n} listing(s) failed (see the # lines)"),
        };
        eprintln!(
            "Listed {} account(s) × {} region(s): {} database(s){failed}. Review the draft, fill the empty secrets, then `db-admin-report inventory validate`.",
            self.accounts, self.regions, self.databases
        );
    }
}

impl Text for verify::Verification {
    fn text(&self) {
        let v = self;
        for a in &v.artifacts {
            match &a.problem {
                None => println!("ok       {}", a.name),
                Some(p) => println!("MISMATCH {}: {p}", a.name),
            }
        }
        if let Some(p) = &v.problem {
            println!("FAILED   manifest: {p}");
        }
        signature(v);
        match &v.previous {
            Some(link) => {
                println!(
                    "         chain: #{} after #{} ({} v{})",
                    v.sequence, link.sequence, link.report_id, link.version
                )
            }
            None => println!("         chain: #{} (the first report of the chain)", v.sequence),
        }
        if let Some(c) = &v.chain {
            match &c.problem {
                None => println!("ok       chain to {}", c.previous.display()),
                Some(p) => println!("FAILED   chain to {}: {p}", c.previous.display()),
            }
        }
        if let Some(w) = &v.tls_warning {
            println!("WARNING  {w}");
        }
        if !v.unbound_secrets.is_empty() {
            println!(
                "WARNING  {} target(s) used a secret that names no database (no RDS fields, no \
                 db-admin-report:hosts): the inventory alone decided where the password went: {}",
                v.unbound_secrets.len(),
                v.unbound_secrets.join(", ")
            );
        }
        println!("{} v{}: {}", v.report_id, v.version, if v.ok() { "ok" } else { "FAILED" });
    }
}

/// The signature's check, and the facts it vouches for.
fn signature(v: &verify::Verification) {
    let s = &v.signature;
    match &s.problem {
        None => println!("ok       signature"),
        Some(p) => println!("FAILED   signature: {p}"),
    }
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    // Facts only from the signed manifest, and only once its signature holds; the signature
    // file's key name and time are its own claims.
    let f = &v.signed;
    let trust = if s.ok { "signed" } else { "UNSIGNED: not to be relied on" };
    println!("         requested by {} at {}, finished at {} ({trust})", f.requested_by, f.requested_at, f.finished_at);
    println!(
        "         the signature file names key {} ({}) and the time {} (not signed)",
        dash(&s.key_id),
        dash(&s.algorithm),
        dash(&s.signed_at)
    );
    if let Some(source) = &s.public_key_source {
        println!("         checked with {source} (SHA-256 {})", dash(&s.public_key_sha256));
    }
}

impl Text for verify::ChainWalk {
    fn text(&self) {
        let w = self;
        for r in &w.reports {
            println!("#{:<6} {} v{}  {}", r.sequence, r.report_id, r.version, r.manifest.display());
        }
        for p in &w.problems {
            println!("FAILED   {p}");
        }
        match (w.reports.first(), w.reports.last()) {
            (Some(first), Some(last)) if w.ok() => println!(
                "chain #{}..#{}: ok ({} signed reports, each intact and naming the one before it; reports \
                 before #{} or after #{} are not in this folder and were not checked)",
                first.sequence,
                last.sequence,
                w.reports.len(),
                first.sequence,
                last.sequence
            ),
            (None, _) | (_, None) => println!("no signed report found: FAILED"),
            _ => println!("chain: FAILED"),
        }
    }
}

impl Text for PublicKeyExport {
    fn text(&self) {
        match &self.written_to {
            Some(path) => {
                println!("Wrote the public key of {} (SHA-256 {}) to {}.", self.key_id, self.sha256, path.display())
            }
            None => {
                eprintln!("Public key of {} (SHA-256 {}):", self.key_id, self.sha256);
                print!("{}", self.pem);
            }
        }
    }
}

impl Text for Queries {
    fn text(&self) {
        for q in &self.queries {
            if q.template {
                println!("-- {}  (a template: its {{placeholder}} is filled from the server, so a manifest records the SHA-256 of the text as built there)\n{}\n", q.name, q.text.trim_end());
            } else {
                println!("-- {}  sha256:{}\n{}\n", q.name, q.sha256, q.text.trim_end());
            }
        }
        for q in self.manifest.iter().flatten() {
            let verdict = match (q.this_build, q.template) {
                (true, true) => "built from this build's template (reperform checks the text the server gives)",
                (true, false) => "this build runs the same text",
                (false, _) => "NOT this build's text",
            };
            eprintln!("{} sha256:{}: {verdict}", q.name, q.sha256);
        }
    }
}

impl Text for Reperformed {
    fn text(&self) {
        let r = &self.found;
        println!(
            "{} of report {} v{}, collected again at {} with the report's {} query text(s):",
            r.target_id, r.report_id, r.version, r.collected_at, r.queries_checked
        );
        if self.identical {
            println!("identical: the same principals hold the same access for the same reasons");
        }
        for row in &r.only_in_report {
            println!("- in the report, not now: {}", row.join(" | "));
        }
        for row in &r.only_now {
            println!("+ now, not in the report: {}", row.join(" | "));
        }
    }
}
