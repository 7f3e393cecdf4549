//! `report.html`: the report as a reviewer reads it. One self-contained file (no script, font,
//! style sheet or image from anywhere else), so it works from an e-mail attachment or an S3
//! download: what needs attention first (ERROR rows, reconciliation findings), then counts per
//! account, region and engine, a chart of admins per database and per engine (inline SVG), and
//! every database's admins with reason and grant path. Every text is escaped.

use crate::render::{Row, STATUS_ERROR};
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

/// What the page says about the report beyond its rows.
#[derive(Debug, Clone, Default)]
pub struct PageFacts<'a> {
    pub requested_by: &'a str,
    pub requested_at: &'a str,
    /// The key that signs the manifest (the page is one of the artifacts it signs).
    pub signer: &'a str,
    pub reconciliation: Option<&'a [ReconciliationRow]>,
}

#[derive(Default)]
struct Tally {
    databases: BTreeSet<String>,
    admins: BTreeSet<(String, String, String)>,
    errors: BTreeSet<String>,
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
        }
    }

    /// Adds rows (grouped by database, as the report renders them).
    pub fn push(&mut self, rows: &[Row]) {
        let mut start = 0;
        while start < rows.len() {
            let db = &rows[start].database_name;
            let end = rows[start..].iter().position(|r| &r.database_name != db).map_or(rows.len(), |n| start + n);
            self.database(&rows[start..end]);
            start = end;
        }
    }

    fn database(&mut self, rows: &[Row]) {
        let first = &rows[0];
        let admins: BTreeSet<_> = rows.iter().filter(|r| r.permission_level == "ADMIN").map(principal).collect();
        for (key, tallies) in [
            (&first.account_id, &mut self.by_account),
            (&first.region, &mut self.by_region),
            (&first.database_type, &mut self.by_engine),
        ] {
            let t = tallies.entry(key.clone()).or_default();
            t.databases.insert(first.database_name.clone());
            t.admins.extend(admins.iter().cloned());
            if first.collection_status == STATUS_ERROR {
                t.errors.insert(first.database_name.clone());
            }
        }
        self.admins_per_database.push((first.database_name.clone(), admins.len()));
        if first.collection_status == STATUS_ERROR {
            self.errors.push((first.database_name.clone(), first.error_kind.clone(), first.admin_reason.clone()));
        }
        let _ = write!(
            self.sections,
            "<section><h3>{} <small>{} · {} · {} · {}</small></h3>",
            esc(&first.database_name),
            esc(&first.database_type),
            esc(&first.account_id),
            esc(&first.region),
            esc(&first.endpoint)
        );
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
            "<table><thead><tr><th>Principal</th><th>Type</th><th>Level</th><th>Privilege</th><th>Scope</th>\
             <th>Reason</th><th>Grant path</th><th>Status</th></tr></thead><tbody>",
        );
        for r in rows {
            let who =
                if r.user_host.is_empty() { r.username.clone() } else { format!("{}@{}", r.username, r.user_host) };
            let _ = write!(
                self.sections,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if r.permission_level == "ADMIN" { "admin" } else { "elevated" },
                esc(&who),
                esc(&r.principal_type),
                esc(&r.permission_level),
                esc(&r.privilege),
                esc(&r.scope),
                esc(&r.admin_reason),
                esc(&r.grant_path),
                esc(&r.user_status)
            );
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
        self.attention(&mut page, facts.reconciliation);
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
                    t.databases.len(),
                    t.admins.len(),
                    t.errors.len()
                );
            }
            page.push_str("</tbody></table>");
        }
        page.push_str("</div><h2>Admins per database</h2>");
        page.push_str(&bar_chart(&self.admins_per_database));
        let per_engine: Vec<(String, usize)> =
            self.by_engine.iter().map(|(e, t)| (e.clone(), t.admins.len())).collect();
        page.push_str("<h2>Admins per engine</h2>");
        page.push_str(&bar_chart(&per_engine));
        page.push_str("<h2>Every database</h2>");
        page.push_str(&self.sections);
        page.push_str("</body></html>\n");
        page.into_bytes()
    }

    /// What needs attention, first: databases not read, and reconciliation findings.
    fn attention(&self, page: &mut String, reconciliation: Option<&[ReconciliationRow]>) {
        let findings: Vec<&ReconciliationRow> = reconciliation
            .unwrap_or_default()
            .iter()
            .filter(|r| !matches!(r.status, ReconciliationStatus::InBoth | ReconciliationStatus::Excluded))
            .collect();
        page.push_str("<h2>Needs attention</h2>");
        if self.errors.is_empty() && findings.is_empty() {
            page.push_str("<p>Every database was read; nothing to reconcile.</p>");
            return;
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
.status{color:#a00}";

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
    fn names_are_escaped_and_errors_come_first() {
        let mut html = Html::new("R1", 1, "2026-12-02T00:00:00Z");
        html.push(&[
            row("db-a", "<script>alert(1)</script>", "ADMIN"),
            row("db-a", "=cmd|' /C calc'!A0", "ELEVATED"),
            Row { collection_status: STATUS_ERROR.into(), error_kind: "timeout".into(), ..row("db-b", "", "") },
        ]);
        let page = String::from_utf8(html.finish(&PageFacts { signer: "key-1", ..PageFacts::default() })).unwrap();
        assert!(!page.contains("<script>"), "markup in a name is text");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("=cmd|&#39; /C calc&#39;!A0"));
        let attention = page.find("could not be read").unwrap();
        assert!(attention < page.find("Every database</h2>").unwrap(), "errors before the tables");
        assert!(!page.contains("src=") && !page.contains("href=") && !page.contains("@import"), "self-contained");
    }
}
