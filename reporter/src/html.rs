//! `report.html`: the report as a reviewer reads it. One self-contained file (no script, font,
//! style sheet or image from anywhere else), so it works from an e-mail attachment or an S3
//! download: what needs attention first (ERROR rows, reconciliation findings), then counts per
//! account, region and engine, a chart of admins per database and per engine (inline SVG), and
//! every database's admins: one row per principal, listing each of its privileges with scope,
//! reason and grant path, then its status and review. Every text is escaped.
//!
//! Needs attention lists, in order: databases not read, reconciliation findings, each database's
//! review signals ([`crate::review`]) and, against a baseline, the admins not approved. Then what
//! changed since the report signed before this one, when there is one.
//!
//! Large reports stay usable: the detailed tables stop after [`DETAIL_ROW_LIMIT`] rows, the
//! remaining databases get one summary line each, and every list in Needs attention and in the
//! changes is cut at [`LIST_LIMIT`] lines; the page says so where it cuts, and `report.csv` holds
//! every row.

use crate::diff::{compare_target, sides, Change, TargetKey, TargetSide};
use crate::render::{Row, STATUS_ERROR};
use crate::review::Signals;
use dbadmin_contracts::discovery::{ReconciliationRow, ReconciliationStatus};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Report rows (principal findings, as in `report.csv`) shown in detailed tables, however many
/// principals they make; databases past it get one summary line each.
pub const DETAIL_ROW_LIMIT: usize = 20_000;
/// Lines of each list in Needs attention and in the changes.
pub const LIST_LIMIT: usize = 1_000;
/// Summary lines per table: the browser lays out (and skips while off screen) one chunk at a time.
const CHUNK: usize = 500;

/// What the page says about the report beyond its rows.
#[derive(Debug, Clone, Default)]
pub struct PageFacts<'a> {
    pub requested_by: &'a str,
    pub requested_at: &'a str,
    /// The key that signs the manifest (the page is one of the artifacts it signs).
    pub signer: &'a str,
    pub reconciliation: Option<&'a [ReconciliationRow]>,
    /// The approved-admin baseline's source and SHA-256, when the report was read against one.
    pub baseline: Option<(&'a str, &'a str)>,
}

/// The report this one is compared with, as the page receives it.
pub enum Previous {
    /// No report was signed before this one.
    None,
    /// That report (`label`: id and version) is not compared, for `reason` (it cannot be read, or
    /// it is too large to compare in memory); the page says why.
    NotCompared { label: String, reason: String },
    /// That report's databases.
    Report { label: String, sides: BTreeMap<TargetKey, TargetSide> },
}

/// The comparison with the previous report, built as databases arrive.
struct Comparison {
    label: String,
    before: BTreeMap<TargetKey, TargetSide>,
    /// The first [`LIST_LIMIT`] changes (the page shows no more).
    changes: Vec<Change>,
    /// Every change, by kind.
    counts: BTreeMap<&'static str, usize>,
    /// Databases of this report that the previous one did not have.
    new_databases: usize,
    /// Databases not comparable because one of the reports could not read them.
    unreadable: usize,
}

/// Counts of one account, region or engine. Each database arrives once and a principal belongs to
/// one database, so counting is enough: the page holds no set of every admin.
#[derive(Default)]
struct Tally {
    databases: usize,
    admins: usize,
    errors: usize,
}

/// Builds the page as rows arrive (one database's rows at a time, as the report is rendered).
pub struct Html {
    report_id: String,
    version: u32,
    report_timestamp: String,
    sections: String,
    errors: Vec<(String, String, String)>,
    by_account: BTreeMap<String, Tally>,
    by_region: BTreeMap<String, Tally>,
    by_engine: BTreeMap<String, Tally>,
    /// Admins (principals holding ADMIN) per database, in report order.
    admins_per_database: Vec<(String, usize)>,
    /// `(database, signal codes, details as escaped HTML)` of every database with a signal other
    /// than ERROR.
    signals: Vec<(String, String, String)>,
    /// `(database, principal, level, review status)` of every principal not approved.
    /// (the first [`LIST_LIMIT`]; `unapproved_total` counts them all).
    unapproved: Vec<(String, String, String, String)>,
    unapproved_total: usize,
    /// Report rows written in detailed tables so far (each principal's findings count, not its one
    /// table row).
    detailed_rows: usize,
    /// One summary line per database past [`DETAIL_ROW_LIMIT`], in tables of [`CHUNK`] lines.
    summaries: Vec<(usize, String)>,
    comparison: Result<Option<Comparison>, (String, String)>,
}

fn who(r: &Row) -> String {
    match r.database_type.parse::<dbadmin_contracts::Engine>() {
        // An empty host on MySQL/MariaDB is "any host", still an account of its own.
        Ok(engine) if engine.has_hosts() => quoted_account(&r.username, &r.user_host),
        _ => account_name(&r.username, &r.user_host),
    }
}

fn quoted_account(username: &str, host: &str) -> String {
    format!("'{}'@'{}'", username.replace('\'', "''"), host.replace('\'', "''"))
}

/// A principal as its engine writes it: a MySQL-style account quoted, `'svc'@'%'` (quotes
/// doubled inside), a role without a host by its bare name. The two cannot be confused: a
/// PostgreSQL role named `svc@%` shows as `svc@%`, the MySQL account as `'svc'@'%'`.
fn account_name(username: &str, host: &str) -> String {
    if host.is_empty() {
        username.to_owned()
    } else {
        quoted_account(username, host)
    }
}

fn principal(r: &Row) -> (String, String, String) {
    (r.database_name.clone(), r.username.clone(), r.user_host.clone())
}

impl Html {
    pub fn new(report_id: &str, version: u32, report_timestamp: &str) -> Html {
        Html {
            report_id: report_id.to_owned(),
            version,
            report_timestamp: report_timestamp.to_owned(),
            sections: String::new(),
            errors: Vec::new(),
            by_account: BTreeMap::new(),
            by_region: BTreeMap::new(),
            by_engine: BTreeMap::new(),
            admins_per_database: Vec::new(),
            signals: Vec::new(),
            unapproved: Vec::new(),
            unapproved_total: 0,
            detailed_rows: 0,
            summaries: Vec::new(),
            comparison: Ok(None),
        }
    }

    /// Compares every database added from now on with `previous`.
    pub fn compare_with(&mut self, previous: Previous) {
        self.comparison = match previous {
            Previous::None => Ok(None),
            Previous::NotCompared { label, reason } => Err((label, reason)),
            Previous::Report { label, sides } => Ok(Some(Comparison {
                label,
                before: sides,
                changes: Vec::new(),
                counts: BTreeMap::new(),
                new_databases: 0,
                unreadable: 0,
            })),
        };
    }

    /// Adds one database: its rows (as the report renders them) and its review signals.
    pub fn target(&mut self, rows: &[Row], signals: &Signals) {
        let Some(first) = rows.first() else { return };
        if first.database_name.is_empty() {
            return; // the one row of a report with no targets
        }
        let codes: Vec<&str> = signals.codes.iter().copied().filter(|c| *c != crate::review::ERROR).collect();
        if !codes.is_empty() {
            let details: Vec<String> = signals.details.iter().map(|d| esc(d)).collect();
            self.signals.push((first.database_name.clone(), codes.join("; "), details.join("<br>")));
        }
        let mut seen = BTreeSet::new();
        for r in rows.iter().filter(|r| matches!(r.review_status.as_str(), "UNAPPROVED" | "APPROVAL_EXPIRED")) {
            if !seen.insert((&r.username, &r.user_host)) {
                continue;
            }
            self.unapproved_total += 1;
            if self.unapproved.len() < LIST_LIMIT {
                self.unapproved.push((
                    r.database_name.clone(),
                    who(r),
                    r.permission_level.clone(),
                    r.review_status.clone(),
                ));
            }
        }
        if let Ok(Some(c)) = &mut self.comparison {
            let key = TargetKey::of(first);
            let after = sides(rows).remove(&key);
            let before = c.before.remove(&key);
            for change in compare_target(&key, before.as_ref(), after.as_ref()) {
                match &change {
                    Change::NotComparable { .. } if before.is_none() => c.new_databases += 1,
                    Change::NotComparable { .. } => c.unreadable += 1,
                    _ => {
                        *c.counts.entry(change.kind()).or_default() += 1;
                        if c.changes.len() < LIST_LIMIT {
                            c.changes.push(change);
                        }
                    }
                }
            }
        }
        self.database(rows, signals);
    }

    fn database(&mut self, rows: &[Row], signals: &Signals) {
        let first = &rows[0];
        let admins: BTreeSet<_> = rows.iter().filter(|r| r.permission_level == "ADMIN").map(principal).collect();
        self.tally(first, admins.len());
        if self.detailed_rows >= DETAIL_ROW_LIMIT {
            self.summary_line(first, admins.len(), signals);
            return;
        }
        self.detailed_rows += rows.len();
        self.section(rows, signals);
    }

    /// Counts the database under its account, region and engine, with its admins and whether it
    /// was read; notes its admins for the chart and, if it was not read, its error.
    fn tally(&mut self, first: &Row, admins: usize) {
        for (key, tallies) in [
            (&first.account_id, &mut self.by_account),
            (&first.region, &mut self.by_region),
            (&first.database_type, &mut self.by_engine),
        ] {
            let t = tallies.entry(key.clone()).or_default();
            t.databases += 1;
            t.admins += admins;
            if first.collection_status == STATUS_ERROR {
                t.errors += 1;
            }
        }
        self.admins_per_database.push((first.database_name.clone(), admins));
        if first.collection_status == STATUS_ERROR {
            self.errors.push((first.database_name.clone(), first.error_kind.clone(), first.admin_reason.clone()));
        }
    }

    /// The database's one line past [`DETAIL_ROW_LIMIT`], in the current chunk of [`CHUNK`] lines.
    fn summary_line(&mut self, first: &Row, admins: usize, signals: &Signals) {
        if self.summaries.last().is_none_or(|(lines, _)| *lines >= CHUNK) {
            self.summaries.push((0, String::new()));
        }
        let (lines, chunk) = self.summaries.last_mut().expect("a chunk");
        *lines += 1;
        let _ = write!(
            chunk,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&first.database_name),
            esc(&first.database_type),
            esc(&first.account_id),
            esc(&first.region),
            esc(&first.collection_status),
            admins,
            esc(&signals.cell())
        );
    }

    /// The database's detailed section: its heading and signals, then why it has no table (its
    /// status, when not `OK`) or one row per principal.
    fn section(&mut self, rows: &[Row], signals: &Signals) {
        let first = &rows[0];
        let _ = write!(
            self.sections,
            "<section><h3>{} <small>{} · {} · {} · {}</small></h3>",
            esc(&first.database_name),
            esc(&first.database_type),
            esc(&first.account_id),
            esc(&first.region),
            esc(&first.endpoint)
        );
        if !signals.codes.is_empty() {
            let _ = write!(self.sections, "<p class=\"signals\">{}</p>", esc(&signals.cell()));
        }
        if first.collection_status != "OK" {
            let _ = write!(
                self.sections,
                "<p class=\"status\">{} {}: {}</p></section>",
                esc(&first.collection_status),
                esc(&first.error_kind),
                esc(&first.admin_reason)
            );
            return;
        }
        self.sections.push_str(
            "<table><thead><tr><th>Principal</th><th>Type</th><th>Level</th><th>Privileges and reasons</th>\
             <th>Status</th><th>Review</th></tr></thead><tbody>",
        );
        for findings in by_principal(rows) {
            principal_row(&mut self.sections, &findings);
        }
        self.sections.push_str("</tbody></table></section>");
    }

    /// The whole page.
    pub fn finish(self, facts: &PageFacts<'_>) -> Vec<u8> {
        let mut page = String::new();
        let title = format!("Database administrator access — report {} v{}", self.report_id, self.version);
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{STYLE}</style></head><body>\
             <h1>{}</h1><p class=\"meta\">Report time {} · requested by {} at {} · signed with {} (manifest.sig.json beside this page)</p>",
            esc(&title),
            esc(&title),
            esc(&self.report_timestamp),
            esc(facts.requested_by),
            esc(facts.requested_at),
            esc(facts.signer)
        );
        if let Some((source, sha256)) = facts.baseline {
            let _ = write!(
                page,
                "<p class=\"meta\">Read against the approved-admin baseline {} (SHA-256 {})</p>",
                esc(source),
                esc(sha256)
            );
        }
        self.attention(&mut page, facts.reconciliation, facts.baseline.is_some());
        self.changes(&mut page);
        page.push_str("<h2>Counts</h2><div class=\"counts\">");
        for (heading, tallies) in
            [("Account", &self.by_account), ("Region", &self.by_region), ("Engine", &self.by_engine)]
        {
            let _ = write!(page, "<table><thead><tr><th>{heading}</th><th>Databases</th><th>Admins</th><th>Errors</th></tr></thead><tbody>");
            for (key, t) in tallies {
                let _ = write!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(key),
                    t.databases,
                    t.admins,
                    t.errors
                );
            }
            page.push_str("</tbody></table>");
        }
        page.push_str("</div><h2>Admins per database</h2>");
        page.push_str(&bar_chart(&self.admins_per_database));
        let per_engine: Vec<(String, usize)> = self.by_engine.iter().map(|(e, t)| (e.clone(), t.admins)).collect();
        page.push_str("<h2>Admins per engine</h2>");
        page.push_str(&bar_chart(&per_engine));
        page.push_str("<h2>Every database</h2>");
        page.push_str(&self.sections);
        if !self.summaries.is_empty() {
            let _ = write!(
                page,
                "<h3>Further databases, one line each</h3><p>The detailed tables above stop after {DETAIL_ROW_LIMIT} \
                 principal rows; report.csv holds every row of every database.</p>"
            );
            for (_, chunk) in &self.summaries {
                let _ = write!(
                    page,
                    "<div class=\"chunk\"><table><thead><tr><th>Database</th><th>Engine</th><th>Account</th>\
                     <th>Region</th><th>Status</th><th>Admins</th><th>Review signals</th></tr></thead><tbody>{chunk}\
                     </tbody></table></div>"
                );
            }
        }
        page.push_str("</body></html>\n");
        page.into_bytes()
    }

    /// What changed since the report signed before this one.
    fn changes(&self, page: &mut String) {
        page.push_str("<h2>Changes since the previous report</h2>");
        let c = match &self.comparison {
            Ok(None) => {
                page.push_str("<p>No report was signed before this one: nothing to compare with.</p>");
                return;
            }
            Err((label, reason)) => {
                let _ = write!(page, "<p>The previous report ({}) is not compared: {}.</p>", esc(label), esc(reason));
                return;
            }
            Ok(Some(c)) => c,
        };
        let count = |kind| c.counts.get(kind).copied().unwrap_or(0);
        let _ = write!(
            page,
            "<p>Compared with {}, the report signed before this one: {} admin(s) added, {} removed, {} changed; \
             {} database(s) new in this report, {} no longer in it, {} not comparable because one of the reports \
             could not read them.</p>",
            esc(&c.label),
            count("added"),
            count("removed"),
            count("changed"),
            c.new_databases,
            c.before.len(),
            c.unreadable
        );
        if c.changes.is_empty() {
            return;
        }
        page.push_str(
            "<table class=\"changes\"><thead><tr><th>Change</th><th>Database</th><th>Principal</th><th>Before</th>\
             <th>After</th><th>Review</th></tr></thead><tbody>",
        );
        let access = |a: &crate::diff::Access| {
            format!("{} [{}]", a.level, a.privileges.iter().cloned().collect::<Vec<_>>().join(", "))
        };
        for change in c.changes.iter().take(LIST_LIMIT) {
            let (key, before, after, review) = match change {
                Change::Added { key, after, review_status } => {
                    (key, String::new(), access(after), review_status.clone().unwrap_or_default())
                }
                Change::Removed { key, before } => (key, access(before), String::new(), String::new()),
                Change::Changed { key, before, after } => (key, access(before), access(after), String::new()),
                Change::NotComparable { .. } => continue,
            };
            let name = account_name(&key.username, &key.user_host);
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                change.kind(),
                esc(&key.target.database_name),
                esc(&name),
                esc(&before),
                esc(&after),
                esc(&review)
            );
        }
        page.push_str("</tbody></table>");
        cut_note(page, c.counts.values().sum(), "db-admin-report diff lists every change");
    }

    /// What needs attention, first: databases not read, reconciliation findings, review signals and
    /// admins not approved.
    fn attention(&self, page: &mut String, reconciliation: Option<&[ReconciliationRow]>, baseline: bool) {
        let findings: Vec<&ReconciliationRow> = reconciliation
            .unwrap_or_default()
            .iter()
            .filter(|r| !matches!(r.status, ReconciliationStatus::InBoth | ReconciliationStatus::Excluded))
            .collect();
        page.push_str("<h2>Needs attention</h2>");
        if self.errors.is_empty() && findings.is_empty() {
            page.push_str("<p>Every database was read; nothing to reconcile.</p>");
        }
        if !self.errors.is_empty() {
            let _ = write!(page, "<h3>{} database(s) could not be read</h3><table class=\"attention\"><thead><tr><th>Database</th><th>Error</th><th>Reason</th></tr></thead><tbody>", self.errors.len());
            for (db, kind, reason) in &self.errors {
                let _ = write!(page, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(db), esc(kind), esc(reason));
            }
            page.push_str("</tbody></table>");
        }
        if !findings.is_empty() {
            let _ = write!(page, "<h3>{} reconciliation finding(s)</h3><table class=\"attention\"><thead><tr><th>Status</th><th>Account</th><th>Region</th><th>Inventory</th><th>RDS</th><th>Reason</th></tr></thead><tbody>", findings.len());
            for r in findings {
                let _ = write!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&r.status.to_string()),
                    esc(&r.account_id),
                    esc(&r.region),
                    esc(&r.inventory_id),
                    esc(&r.identifier),
                    esc(&r.reason)
                );
            }
            page.push_str("</tbody></table>");
        }
        if !self.signals.is_empty() {
            let _ = write!(page, "<h3>{} database(s) with review signals</h3><table class=\"attention\"><thead><tr><th>Database</th><th>Signals</th><th>Detail</th></tr></thead><tbody>", self.signals.len());
            for (db, codes, detail) in self.signals.iter().take(LIST_LIMIT) {
                let _ = write!(page, "<tr><td>{}</td><td>{}</td><td>{detail}</td></tr>", esc(db), esc(codes));
            }
            page.push_str("</tbody></table>");
            cut_note(page, self.signals.len(), "filter report.csv on Review Signals for every one");
        }
        if baseline && self.unapproved_total == 0 {
            page.push_str("<p>Every admin and elevated principal is approved in the baseline.</p>");
        } else if baseline {
            let _ = write!(page, "<h3>{} principal(s) not approved in the baseline</h3><table class=\"attention\"><thead><tr><th>Database</th><th>Principal</th><th>Level</th><th>Review status</th></tr></thead><tbody>", self.unapproved_total);
            for (db, who, level, status) in self.unapproved.iter().take(LIST_LIMIT) {
                let _ = write!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(db),
                    esc(who),
                    esc(level),
                    esc(status)
                );
            }
            page.push_str("</tbody></table>");
            cut_note(page, self.unapproved_total, "filter report.csv on Review Status for every one");
        }
    }
}

/// A database's rows grouped by principal (username and host), principals in the order they first
/// appear and each one's rows in report order.
fn by_principal(rows: &[Row]) -> Vec<Vec<&Row>> {
    let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut groups: Vec<Vec<&Row>> = Vec::new();
    for r in rows {
        let i = *index.entry((&r.username, &r.user_host)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(r);
    }
    groups
}

/// One principal's table row: who it is, its highest level, each finding (privilege, scope, level
/// where it differs, reason and grant path) as an item of a list, its account status and review.
fn principal_row(out: &mut String, findings: &[&Row]) {
    let r = findings[0];
    let admin = findings.iter().any(|f| f.permission_level == "ADMIN");
    let level = if admin { "ADMIN" } else { r.permission_level.as_str() };
    let review = match (r.review_status.as_str(), r.approved_by.is_empty()) {
        ("", _) => String::new(),
        (status, true) => status.to_owned(),
        (status, false) => format!("{status} by {} ({})", r.approved_by, r.approval_ticket),
    };
    let _ = write!(
        out,
        "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td><ul class=\"findings\">",
        if admin { "admin" } else { "elevated" },
        esc(&who(r)),
        esc(&r.principal_type),
        esc(level)
    );
    for f in findings {
        let _ = write!(out, "<li><b>{}</b>", esc(&f.privilege));
        if !f.scope.is_empty() {
            let _ = write!(out, " on {}", esc(&f.scope));
        }
        if f.permission_level != level {
            let _ = write!(out, " ({})", esc(&f.permission_level));
        }
        let _ = write!(out, ": {}<br><span class=\"path\">{}</span></li>", esc(&f.admin_reason), esc(&f.grant_path));
    }
    let _ = write!(out, "</ul></td><td>{}</td><td>{}</td></tr>", esc(&r.user_status), esc(&review));
}

/// Says where a list was cut at [`LIST_LIMIT`] and where the rest is.
fn cut_note(page: &mut String, total: usize, rest: &str) {
    if total > LIST_LIMIT {
        let _ = write!(page, "<p>The first {LIST_LIMIT} of {total} are shown; {}.</p>", esc(rest));
    }
}

/// A horizontal bar chart as inline SVG: one labelled bar per entry (at most 60, the largest).
fn bar_chart(values: &[(String, usize)]) -> String {
    let mut shown: Vec<&(String, usize)> = values.iter().collect();
    shown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let more = shown.len().saturating_sub(60);
    shown.truncate(60);
    let max = shown.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (row, label_w, bar_w) = (18, 260, 460);
    let height = shown.len() * row + 4;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{}\" height=\"{height}\" viewBox=\"0 0 {} {height}\">",
        label_w + bar_w + 60,
        label_w + bar_w + 60
    );
    for (i, (label, n)) in shown.iter().enumerate() {
        let y = i * row;
        let w = n * bar_w / max;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{label_w}\" y=\"{}\" width=\"{w}\" height=\"{}\"></rect><text x=\"{}\" y=\"{}\">{n}</text>",
            label_w - 6,
            y + 13,
            esc(label),
            y + 3,
            row - 6,
            label_w + w + 6,
            y + 13
        );
    }
    svg.push_str("</svg>");
    if more > 0 {
        let _ = write!(svg, "<p>… and {more} more databases (every one is listed below).</p>");
    }
    svg
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}h1{font-size:1.4em}\
h3 small{font-weight:normal;color:#666}table{border-collapse:collapse;margin:.5em 0 1.5em}\
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top;font-size:.9em}\
th{background:#f3f3f3}tr.admin td:nth-child(3){font-weight:bold}.attention td{background:#fff4f4}\
.counts{display:flex;gap:2em;flex-wrap:wrap}.meta{color:#555}svg text{font-size:12px}svg rect{fill:#4a78b5}\
.findings{margin:0;padding-left:1.2em}.path{color:#555;font-size:.9em}.status{color:#a00}.signals{color:#8a5a00;font-weight:bold}\
section,.chunk{content-visibility:auto;contain-intrinsic-size:auto 600px}";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(db: &str, user: &str, level: &str) -> Row {
        Row {
            account_id: "111111111111".into(),
            region: "eu-west-1".into(),
            database_name: db.into(),
            database_type: "postgres".into(),
            endpoint: "h:5432".into(),
            username: user.into(),
            permission_level: level.into(),
            collection_status: "OK".into(),
            ..Row::default()
        }
    }

    #[test]
    fn past_the_detail_limit_databases_get_one_line_each_and_the_page_says_so() {
        let mut html = Html::new("R1", 1, "2026-12-02T00:00:00Z");
        let big: Vec<Row> = (0..DETAIL_ROW_LIMIT).map(|i| row("db-big", &format!("u{i}"), "ADMIN")).collect();
        html.target(&big, &Signals::default());
        for i in 0..(CHUNK + 1) {
            html.target(&[row(&format!("db-small-{i:04}"), "<b>x</b>", "ADMIN")], &Signals::default());
        }
        let page = String::from_utf8(html.finish(&PageFacts::default())).unwrap();
        assert!(page.contains("<h3>db-big <small>"), "the first database is detailed");
        assert!(!page.contains("<h3>db-small-0000"), "past the limit: no detailed section");
        assert!(page.contains("<tr><td>db-small-0000</td><td>postgres</td>"), "but one summary line");
        assert!(page.contains("stop after 20000 principal rows; report.csv holds every row"));
        assert_eq!(page.matches("<div class=\"chunk\">").count(), 2, "{} lines in tables of {CHUNK}", CHUNK + 1);
        assert!(!page.contains("<b>x</b>"));
    }

    #[test]
    fn a_principal_is_one_row_listing_each_of_its_privileges() {
        let finding = |user: &str, level: &str, privilege: &str| Row {
            privilege: privilege.into(),
            scope: "<x-scope>*.*".into(),
            admin_reason: format!("<x-reason>{privilege} reason"),
            grant_path: format!("{user} → <x-path>{privilege}"),
            user_status: "<x-status>LOCKED".into(),
            review_status: "APPROVED".into(),
            approved_by: "<x-by>Carol".into(),
            approval_ticket: "SEC-1".into(),
            ..row("db-a", user, level)
        };
        let mut html = Html::new("R1", 1, "2026-12-02T00:00:00Z");
        html.target(
            &[
                finding("alice", "ADMIN", "SUPER"),
                finding("bob", "ELEVATED", "PROCESS"),
                finding("alice", "ELEVATED", "<x-priv>PROCESS"),
            ],
            &Signals::default(),
        );
        let page = String::from_utf8(html.finish(&PageFacts::default())).unwrap();
        let table = &page[page.find("<h3>db-a").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        let rows: Vec<&str> = table.split("<tr").skip(2).collect(); // the table and head rows
        assert_eq!(rows.len(), 2, "one row per principal: {table}");
        let alice: Vec<&&str> = rows.iter().filter(|r| r.contains("alice")).collect();
        assert_eq!(alice.len(), 1, "alice's two privileges share one row: {table}");
        let alice = alice[0];
        assert!(alice.starts_with(" class=\"admin\"><td>alice</td><td></td><td>ADMIN</td>"), "{alice}");
        for text in [
            "<li><b>SUPER</b> on &lt;x-scope&gt;*.*: &lt;x-reason&gt;SUPER reason<br>\
             <span class=\"path\">alice → &lt;x-path&gt;SUPER</span></li>",
            "<li><b>&lt;x-priv&gt;PROCESS</b> on &lt;x-scope&gt;*.* (ELEVATED): &lt;x-reason&gt;&lt;x-priv&gt;PROCESS reason",
            "<td>&lt;x-status&gt;LOCKED</td><td>APPROVED by &lt;x-by&gt;Carol (SEC-1)</td></tr>",
        ] {
            assert!(alice.contains(text), "{text} in {alice}");
        }
        assert!(rows.iter().any(|r| r.starts_with(" class=\"elevated\"><td>bob</td><td></td><td>ELEVATED</td>")));
        assert!(!page.contains("<x-"), "every text from a database is escaped");
    }

    #[test]
    fn names_are_escaped_and_errors_come_first() {
        let mut html = Html::new("R1", 1, "2026-12-02T00:00:00Z");
        html.target(
            &[row("db-a", "<script>alert(1)</script>", "ADMIN"), row("db-a", "=cmd|' /C calc'!A0", "ELEVATED")],
            &Signals::default(),
        );
        html.target(
            &[Row { collection_status: STATUS_ERROR.into(), error_kind: "timeout".into(), ..row("db-b", "", "") }],
            &Signals::default(),
        );
        let page = String::from_utf8(html.finish(&PageFacts { signer: "key-1", ..PageFacts::default() })).unwrap();
        assert!(!page.contains("<script>"), "markup in a name is text");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("=cmd|&#39; /C calc&#39;!A0"));
        let attention = page.find("could not be read").unwrap();
        assert!(attention < page.find("Every database</h2>").unwrap(), "errors before the tables");
        assert!(!page.contains("src=") && !page.contains("href=") && !page.contains("@import"), "self-contained");
    }
}
