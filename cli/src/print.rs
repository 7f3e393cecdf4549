//! Printing: text for people, JSON for scripts (`--output json`), progress bars on stderr. Each
//! function returns the exit code of what it printed.

use crate::args::{DiffFormat, Output};
use anyhow::Context;
use db_admin_report::local::{LocalOutcome, Progress};
use db_admin_report::ops::{state, DlqMessage, Redrive, Status, WaitProgress};
use db_admin_report::{diff, exit, verify};
use dbadmin_contracts::manifest::{BaselineSummary, ReconciliationSummary};
use dbadmin_contracts::Inventory;
use dbadmin_ports::RunRecord;

pub fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
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

pub fn local_outcome(outcome: &LocalOutcome, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(outcome)?,
        Output::Text => {
            eprintln!(
                "Report {} v{}: {} databases, {} with errors, {} rows.",
                outcome.report_id, outcome.version, outcome.population, outcome.errors, outcome.rows
            );
            eprintln!("Manifest: {}", outcome.manifest);
            if outcome.signing_key_created {
                eprintln!(
                    "Made a local signing key at {} (mode 0600); keep it, it signs every local report.",
                    outcome.signing_key
                );
            }
            eprintln!(
                "Signed with {}; check it with `db-admin-report verify {}`.",
                outcome.signing_key,
                std::path::Path::new(&outcome.manifest).parent().map(|p| p.display().to_string()).unwrap_or_default()
            );
            if let Some(w) = &outcome.tls_warning {
                eprintln!("WARNING: {w}");
            }
            reconciliation(outcome.reconciliation.as_ref());
            review(outcome.baseline.as_ref());
            println!("{}", outcome.report);
        }
    }
    let incomplete = outcome.reconciliation.as_ref().is_some_and(|r| r.incomplete());
    Ok(if outcome.errors > 0 || incomplete { exit::PARTIAL } else { exit::OK })
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

/// A deployed report's version, written.
pub fn done(
    run: &RunRecord,
    tls_warning: Option<&str>,
    reconciled: Option<&ReconciliationSummary>,
    baseline: Option<&BaselineSummary>,
    output: Output,
) -> anyhow::Result<u8> {
    let location = run.report_location.clone().unwrap_or_default();
    match output {
        Output::Json => json(&serde_json::json!({
            "report_id": run.report_id, "version": run.reported_version, "state": state(run),
            "total": run.total, "completed": run.completed, "failed": run.failed, "report": location,
            "tls_warning": tls_warning, "reconciliation": reconciled, "baseline": baseline,
        }))?,
        Output::Text => {
            eprintln!(
                "Report {} v{}: {} databases, {} with errors.",
                run.report_id, run.reported_version, run.total, run.failed
            );
            if let Some(w) = tls_warning {
                eprintln!("WARNING: {w}");
            }
            reconciliation(reconciled);
            review(baseline);
            println!("{location}");
        }
    }
    let incomplete = reconciled.is_some_and(|r| r.incomplete());
    Ok(if run.failed > 0 || incomplete { exit::PARTIAL } else { exit::OK })
}

pub fn submitted(report_id: &str, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(&serde_json::json!({"report_id": report_id, "state": "requested"}))?,
        Output::Text => println!("{report_id}"),
    }
    Ok(exit::OK)
}

pub fn finalize_sent(run: &RunRecord, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => {
            json(&serde_json::json!({"report_id": run.report_id, "version": run.version, "finalize": "sent"}))?
        }
        Output::Text => println!(
            "Sent the finalize message of {} v{}; follow it with `db-admin-report status {}`.",
            run.report_id, run.version, run.report_id
        ),
    }
    Ok(exit::OK)
}

pub fn nothing_to_retry(run: &RunRecord, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => {
            json(&serde_json::json!({"report_id": run.report_id, "retried": 0, "version": run.reported_version}))?
        }
        Output::Text => {
            println!("Nothing to retry: every target of {} v{} was read.", run.report_id, run.reported_version)
        }
    }
    Ok(exit::OK)
}

pub fn status(s: &Status, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(s)?,
        Output::Text => {
            println!("Report {} ({}), requested by {} at {}", s.report_id, s.state, s.requested_by, s.requested_at);
            println!("Version {}: {} of {} databases done, {} with errors", s.version, s.completed, s.total, s.failed);
            if let Some(l) = &s.report_location {
                println!("Newest report (v{}): {l}", s.reported_version);
            }
            for m in &s.missing {
                match &m.last_error {
                    Some(e) => println!(
                        "  missing {}: last error ({} attempt(s), {}): {}",
                        m.target_id, e.attempts, e.at, e.error
                    ),
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
    }
    let incomplete = s.reconciliation.as_ref().is_some_and(|r| r.incomplete());
    Ok(match s.state {
        "complete" if s.failed > 0 || incomplete => exit::PARTIAL,
        "complete" => exit::OK,
        _ => exit::NOT_READY,
    })
}

pub fn runs(runs: &[RunRecord], output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => {
            let rows: Vec<_> = runs
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "report_id": r.report_id, "state": state(r), "requested_by": r.requested_by,
                        "requested_at": r.requested_at, "version": r.reported_version, "total": r.total,
                        "completed": r.completed, "failed": r.failed, "report": r.report_location,
                    })
                })
                .collect();
            json(&rows)?
        }
        Output::Text => {
            println!(
                "{:<26}  {:<20}  {:<10}  {:>3}  {:>11}  {:>6}  REQUESTED BY",
                "REPORT", "REQUESTED AT", "STATE", "VER", "DONE", "ERRORS"
            );
            for r in runs {
                println!(
                    "{:<26}  {:<20}  {:<10}  {:>3}  {:>11}  {:>6}  {}",
                    r.report_id,
                    r.requested_at,
                    state(r),
                    r.reported_version,
                    format!("{}/{}", r.completed, r.total),
                    r.failed,
                    r.requested_by
                );
            }
        }
    }
    Ok(exit::OK)
}

pub fn dlq_messages(messages: &[DlqMessage], output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(&messages)?,
        Output::Text => {
            for m in messages {
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
            println!("{} message(s) in the dead-letter queue", messages.len());
        }
    }
    Ok(exit::OK)
}

pub fn redrive(r: &Redrive, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(r)?,
        Output::Text => {
            let verb = if r.dry_run { "would move" } else { "moved" };
            for m in &r.moved {
                println!(
                    "{verb} {} (report {}, target {})",
                    m.message_id,
                    m.report_id.as_deref().unwrap_or("-"),
                    m.target_id.as_deref().unwrap_or("-")
                );
            }
            println!("{} message(s) {verb}, {} left in the dead-letter queue", r.moved.len(), r.left);
        }
    }
    Ok(exit::OK)
}

pub fn move_task(handle: &str, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(&serde_json::json!({"task_handle": handle}))?,
        Output::Text => println!("Started a message move task: {handle}"),
    }
    Ok(exit::OK)
}

pub fn diff(d: &diff::Diff, format: DiffFormat, output: Output) -> anyhow::Result<u8> {
    match (output, format) {
        (Output::Json, _) => {
            json(&serde_json::json!({"a": d.a, "b": d.b, "counts": d.counts(), "changes": d.changes}))?
        }
        (_, DiffFormat::Csv) => {
            use std::io::Write;
            std::io::stdout().write_all(&diff::to_csv(d)).context("writing to stdout")?;
        }
        (_, DiffFormat::Text) => print!("{}", diff::to_text(d)),
    }
    Ok(exit::OK)
}

pub fn inventory(
    name: &str,
    parsed: Result<Inventory, dbadmin_contracts::InventoryError>,
    output: Output,
) -> anyhow::Result<u8> {
    match parsed {
        Ok(inv) => {
            let mut by_engine = std::collections::BTreeMap::new();
            for t in &inv.targets {
                *by_engine.entry(t.engine.to_string()).or_insert(0usize) += 1;
            }
            match output {
                Output::Json => json(
                    &serde_json::json!({"valid": true, "targets": inv.targets.len(), "by_engine": by_engine, "sha256": inv.sha256}),
                )?,
                Output::Text => {
                    let engines: Vec<String> = by_engine.iter().map(|(e, n)| format!("{n} {e}")).collect();
                    println!("{name}: valid, {} targets ({})", inv.targets.len(), engines.join(", "));
                }
            }
            Ok(exit::OK)
        }
        Err(err) => {
            match output {
                Output::Json => json(&serde_json::json!({
                    "valid": false,
                    "problems": err.issues.iter().map(|i| serde_json::json!({"file": i.file, "line": i.line, "field": i.field, "message": i.message})).collect::<Vec<_>>(),
                }))?,
                Output::Text => eprintln!("error: {err}"),
            }
            Ok(exit::FAILURE)
        }
    }
}

pub fn verification(v: &verify::Verification, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(v)?,
        Output::Text => {
            for a in &v.artifacts {
                match &a.problem {
                    None => println!("ok       {}", a.name),
                    Some(p) => println!("MISMATCH {}: {p}", a.name),
                }
            }
            if let Some(p) = &v.problem {
                println!("FAILED   manifest: {p}");
            }
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
            println!(
                "         requested by {} at {}, finished at {} ({trust})",
                f.requested_by, f.requested_at, f.finished_at
            );
            println!(
                "         the signature file names key {} ({}) and the time {} (not signed)",
                dash(&s.key_id),
                dash(&s.algorithm),
                dash(&s.signed_at)
            );
            if let Some(source) = &s.public_key_source {
                println!("         checked with {source} (SHA-256 {})", dash(&s.public_key_sha256));
            }
            match &v.previous {
                Some(link) => println!(
                    "         chain: #{} after #{} ({} v{})",
                    v.sequence, link.sequence, link.report_id, link.version
                ),
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
    Ok(if v.ok() { exit::OK } else { exit::FAILURE })
}

pub fn chain_walk(w: &verify::ChainWalk, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(w)?,
        Output::Text => {
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
    Ok(if w.ok() { exit::OK } else { exit::FAILURE })
}

pub fn public_key(
    key_id: &str,
    der: &[u8],
    pem: &str,
    out: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<u8> {
    let sha256 = dbadmin_contracts::sha256_hex(der);
    if let Some(path) = out {
        std::fs::write(path, pem).with_context(|| format!("writing {}", path.display()))?;
    }
    match output {
        Output::Json => json(&serde_json::json!({ "key_id": key_id, "sha256": sha256, "pem": pem }))?,
        Output::Text => {
            if let Some(path) = out {
                println!("Wrote the public key of {key_id} (SHA-256 {sha256}) to {}.", path.display());
            } else {
                eprintln!("Public key of {key_id} (SHA-256 {sha256}):");
                print!("{pem}");
            }
        }
    }
    Ok(exit::OK)
}

/// `queries show`: every query text of this build with its SHA-256, and with a manifest, whether
/// each query the report ran is this build's text.
pub fn queries(
    engine: Option<dbadmin_contracts::Engine>,
    manifest: Option<&std::path::Path>,
    output: Output,
) -> anyhow::Result<u8> {
    use dbadmin_contracts::Engine;
    let prefix = engine.map(|e| match e {
        Engine::Mysql | Engine::Mariadb => "mysql/",
        Engine::Postgres => "postgres/",
        Engine::Sqlserver => "sqlserver/",
    });
    use dbadmin_collector::engine::is_template;
    let built: Vec<(&str, &str, String)> = dbadmin_collector::engine::queries()
        .into_iter()
        .filter(|(name, _)| prefix.is_none_or(|p| name.starts_with(p)))
        .map(|(name, text)| (name, text, dbadmin_contracts::sha256_hex(text.as_bytes())))
        .collect();
    let ran = match manifest {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let m: dbadmin_contracts::manifest::Manifest = dbadmin_contracts::decode(&bytes)
                .with_context(|| format!("reading {} as a manifest", path.display()))?;
            Some(m.queries)
        }
        None => None,
    };
    // For each query the report ran: this build's text, or none with that checksum.
    let checks: Vec<(String, String, bool)> = ran
        .iter()
        .flatten()
        .filter(|q| prefix.is_none_or(|p| q.name.starts_with(p)))
        .map(|q| {
            let same = built.iter().any(|(n, text, sha)| *n == q.name && (*sha == q.sha256 || is_template(text)));
            (q.name.clone(), q.sha256.clone(), same)
        })
        .collect();
    match output {
        Output::Json => json(&serde_json::json!({
            "queries": built.iter().map(|(name, text, sha256)| serde_json::json!({"name": name, "sha256": sha256, "template": is_template(text), "text": text})).collect::<Vec<_>>(),
            "manifest": ran.as_ref().map(|_| checks.iter().map(|(name, sha256, same)| serde_json::json!({"name": name, "sha256": sha256, "this_build": same})).collect::<Vec<_>>()),
        }))?,
        Output::Text => {
            for (name, text, sha256) in &built {
                if is_template(text) {
                    println!("-- {name}  (a template: its {{placeholder}} is filled from the server, so a manifest records the SHA-256 of the text as built there)\n{}\n", text.trim_end());
                } else {
                    println!("-- {name}  sha256:{sha256}\n{}\n", text.trim_end());
                }
            }
            if ran.is_some() {
                for (name, sha256, same) in &checks {
                    let template = built.iter().any(|(n, text, _)| *n == name.as_str() && is_template(text));
                    let verdict = match (*same, template) {
                        (true, true) => "built from this build's template (reperform checks the text the server gives)",
                        (true, false) => "this build runs the same text",
                        (false, _) => "NOT this build's text",
                    };
                    eprintln!("{name} sha256:{sha256}: {verdict}");
                }
            }
        }
    }
    Ok(if checks.iter().all(|(.., same)| *same) { exit::OK } else { exit::PARTIAL })
}

/// `reperform`: identical, or the access rows that differ.
pub fn reperformance(r: &db_admin_report::reperform::Reperformance, output: Output) -> anyhow::Result<u8> {
    match output {
        Output::Json => json(&serde_json::json!({
            "report_id": r.report_id, "version": r.version, "target_id": r.target_id,
            "identical": r.identical(), "only_in_report": r.only_in_report, "only_now": r.only_now,
            "queries_checked": r.queries_checked, "collected_at": r.collected_at,
        }))?,
        Output::Text => {
            println!(
                "{} of report {} v{}, collected again at {} with the report's {} query text(s):",
                r.target_id, r.report_id, r.version, r.collected_at, r.queries_checked
            );
            if r.identical() {
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
    Ok(if r.identical() { exit::OK } else { exit::PARTIAL })
}
