//! Report rows and their CSV and JSON forms. Pure functions, golden-tested.

use dbadmin_contracts::baseline::Baseline;
use dbadmin_contracts::discovery::ReconciliationRow;
use dbadmin_contracts::message::Population;
use dbadmin_contracts::{Outcome, Principal, Target, TargetResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

/// The collection status of a row's target.
pub const STATUS_OK: &str = "OK";
pub const STATUS_NO_ADMINS: &str = "NO_ADMINS";
pub const STATUS_ERROR: &str = "ERROR";

/// Declares [`Row`], [`HEADERS`] and the conversions between them from one table of
/// `field => "CSV header"`, so a column is named in exactly one place.
macro_rules! columns {
    ($( $(#[$doc:meta])* $field:ident => $header:literal ),* $(,)?) => {
        /// One line of the report: one finding of one principal, or one target's status row.
        #[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
        pub struct Row {
            $( $(#[$doc])* pub $field: String, )*
        }

        /// CSV headers, in the order of [`Row`]'s fields. The customer's columns come first.
        pub const HEADERS: [&str; [$($header),*].len()] = [$($header),*];

        impl Row {
            fn cells(&self) -> [&str; HEADERS.len()] {
                [$( &self.$field ),*]
            }

            /// A row from a cell lookup by [`HEADERS`] position.
            fn from_cells<'a>(cell: impl Fn(usize) -> &'a str) -> Row {
                let mut cells = (0..).map(|i| cell(i).to_owned());
                Row { $( $field: cells.next().unwrap_or_default() ),* }
            }
        }
    };
}

columns! {
    account_id => "Account ID",
    region => "Region",
    database_name => "Database Name",
    database_type => "Database Type",
    endpoint => "Endpoint",
    username => "Username",
    user_host => "User Host",
    principal_type => "Principal Type",
    role_name => "Role Name",
    permission_level => "Permission Level",
    privilege => "Privilege",
    scope => "Scope",
    admin_reason => "Admin Reason",
    grant_path => "Grant Path",
    last_login_date => "Last Login Date",
    /// The log the Last Login Date was read from and what it covers, or why there is none.
    login_evidence => "Login Evidence",
    user_status => "User Status",
    password_last_set => "Password Last Set",
    vendor_managed => "Vendor Managed",
    notes => "Notes",
    collection_status => "Collection Status",
    error_kind => "Error Kind",
    /// The TLS mode the connection used (`verify-full`, `verify-ca`, `require`, `disable`).
    tls => "TLS",
    /// SHA-256 of the certificate the server presented, where it can be read (PostgreSQL, MySQL, MariaDB).
    tls_certificate => "TLS Certificate SHA-256",
    collected_at => "Collected At",
    report_timestamp => "Report Timestamp",
    /// Against the approved-admin baseline: `APPROVED`, `UNAPPROVED` or `APPROVAL_EXPIRED` (principal
    /// rows of a report read against a baseline; empty otherwise).
    review_status => "Review Status",
    approved_by => "Approved By",
    approval_ticket => "Approval Ticket",
    /// The database's admins that can log in, vendor accounts aside (empty when it was not read).
    database_admins => "Database Admins",
    /// The database's review signals ([`crate::review`]), on each of its rows.
    review_signals => "Review Signals",
}

/// Builds every row: each target of the population contributes its findings, one `NO_ADMINS` row,
/// or one `ERROR` row (also when its result is missing). Sorted by account, database, principal.
pub fn rows(population: &Population, results: &BTreeMap<String, TargetResult>, report_timestamp: &str) -> Vec<Row> {
    if population.targets.is_empty() {
        return vec![empty_report_row(population, report_timestamp)];
    }
    let baseline = population.baseline.as_ref();
    target_order(population)
        .into_iter()
        .flat_map(|t| target_rows(t, results.get(&t.id), report_timestamp, baseline))
        .collect()
}

/// The order targets appear in a report: by account, then database. Rendering targets in this
/// order, each with [`target_rows`], gives exactly [`rows`]' order without holding every row.
pub fn target_order(population: &Population) -> Vec<&Target> {
    let mut targets: Vec<&Target> = population.targets.iter().collect();
    targets.sort_by(|a, b| (&a.account_id, &a.id).cmp(&(&b.account_id, &b.id)));
    targets
}

/// One target's rows, sorted by principal, with its review signals and (read against `baseline`,
/// on the report's day) each principal row's review status.
pub fn target_rows(
    target: &Target,
    result: Option<&TargetResult>,
    report_timestamp: &str,
    baseline: Option<&Baseline>,
) -> Vec<Row> {
    target_rows_with(target, result, report_timestamp, baseline, &crate::review::signals(result))
}

/// [`target_rows`] with the target's signals worked out already (the reporter shows them in
/// `report.html` too).
pub fn target_rows_with(
    target: &Target,
    result: Option<&TargetResult>,
    report_timestamp: &str,
    baseline: Option<&Baseline>,
    signals: &crate::review::Signals,
) -> Vec<Row> {
    let mut out = collected_rows(target, result, report_timestamp);
    let (admins, cell) = (signals.admins.map(|n| n.to_string()).unwrap_or_default(), signals.cell());
    for row in &mut out {
        row.database_admins.clone_from(&admins);
        row.review_signals.clone_from(&cell);
        if let Some(baseline) = baseline.filter(|_| !row.username.is_empty()) {
            let host = target.engine.has_hosts().then_some(row.user_host.as_str());
            let status = baseline.status(&row.account_id, &row.database_name, &row.username, host, report_timestamp);
            row.review_status = status.as_str().to_owned();
            if let Some(a) = status.approval() {
                row.approved_by.clone_from(&a.approved_by);
                row.approval_ticket.clone_from(&a.ticket);
            }
        }
    }
    out
}

/// One target's rows as collected: findings, or its status row.
fn collected_rows(target: &Target, result: Option<&TargetResult>, report_timestamp: &str) -> Vec<Row> {
    let base = target_base(target, report_timestamp);
    let Some(result) = result else { return vec![missing_result_row(base)] };
    let base = result_base(result, base);
    let mut out = match &result.outcome {
        Outcome::Failed(f) => vec![Row {
            collection_status: STATUS_ERROR.into(),
            error_kind: f.kind.to_string(),
            admin_reason: f.reason.clone(),
            ..base
        }],
        Outcome::Collected(c) if c.principals.is_empty() => vec![Row {
            collection_status: STATUS_NO_ADMINS.into(),
            admin_reason: format!(
                "no principal holds admin or elevated privileges ({} examined)",
                c.principals_examined
            ),
            ..base
        }],
        Outcome::Collected(c) => c.principals.iter().flat_map(|p| finding_rows(p, &base)).collect(),
    };
    sort_by_principal(&mut out);
    out
}

/// The cells every row of a target shares, from the population alone.
fn target_base(target: &Target, report_timestamp: &str) -> Row {
    Row {
        account_id: target.account_id.clone(),
        region: target.region.clone(),
        database_name: target.id.clone(),
        database_type: target.engine.to_string(),
        endpoint: format!("{}:{}", target.host, target.port),
        report_timestamp: report_timestamp.to_owned(),
        // The mode the target is configured with is the mode every connection to it uses.
        tls: target.tls.to_string(),
        ..Row::default()
    }
}

/// The `ERROR` row of a target whose result was never stored.
fn missing_result_row(base: Row) -> Row {
    Row {
        collection_status: STATUS_ERROR.into(),
        error_kind: dbadmin_contracts::ErrorKind::MissingResult.to_string(),
        admin_reason: "no result was stored for this target before the report was written".into(),
        ..base
    }
}

/// `base` with what the result says of the whole target: when it was collected, the server's
/// certificate and the login log read.
fn result_base(result: &TargetResult, base: Row) -> Row {
    let (certificate, login_evidence) = match &result.outcome {
        Outcome::Collected(c) => (
            c.server_certificate_sha256.clone().unwrap_or_default(),
            c.login_evidence.as_deref().map(dbadmin_contracts::LoginEvidence::display),
        ),
        Outcome::Failed(_) => (String::new(), None),
    };
    Row {
        collected_at: result.collected_at.clone(),
        tls_certificate: certificate,
        login_evidence: login_evidence.unwrap_or_default(),
        ..base
    }
}

/// One row per finding of a principal.
fn finding_rows<'a>(p: &'a Principal, base: &'a Row) -> impl Iterator<Item = Row> + 'a {
    p.findings.iter().map(move |f| Row {
        username: p.name.clone(),
        user_host: p.host.clone().unwrap_or_default(),
        principal_type: p.kind.as_str().into(),
        role_name: f.via_role.clone().unwrap_or_default(),
        permission_level: f.level.as_str().into(),
        privilege: f.privilege.clone(),
        scope: f.scope.clone(),
        admin_reason: f.reason.clone(),
        grant_path: f.path.join(" → "),
        last_login_date: p.last_login.display(),
        user_status: p.status.summary(),
        password_last_set: p.password_last_changed.clone().unwrap_or_else(|| "NOT RECORDED".into()),
        vendor_managed: if p.vendor_managed { "yes" } else { "no" }.into(),
        notes: p.notes.join("; "),
        collection_status: STATUS_OK.into(),
        ..base.clone()
    })
}

/// Sorts a target's rows by principal, then level, privilege, scope and grant path.
fn sort_by_principal(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        (&a.username, &a.user_host, &a.permission_level, &a.privilege, &a.scope, &a.grant_path).cmp(&(
            &b.username,
            &b.user_host,
            &b.permission_level,
            &b.privilege,
            &b.scope,
            &b.grant_path,
        ))
    });
}

/// The one row of a report whose population is empty, saying why.
pub fn empty_report_row(population: &Population, report_timestamp: &str) -> Row {
    let f = &population.filters;
    let list = |v: &[String]| if v.is_empty() { "any".to_owned() } else { v.join(";") };
    let engines: Vec<String> = f.engines.iter().map(ToString::to_string).collect();
    Row {
        collection_status: "NO_TARGETS".into(),
        admin_reason: format!(
            "no database in inventory {} matches accounts={}, regions={}, engines={}",
            population.inventory_source,
            list(&f.accounts),
            list(&f.regions),
            list(&engines)
        ),
        report_timestamp: report_timestamp.to_owned(),
        ..Row::default()
    }
}

/// Makes a cell safe to open in a spreadsheet: one that could start a formula gets a leading `'`.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// UTF-8 with a BOM, CRLF line ends, every cell neutralised against formula injection.
pub fn to_csv(rows: &[Row]) -> Vec<u8> {
    let mut r = Renderer::new("", 0, "");
    r.push(rows);
    r.finish().csv
}

/// Writes the CSV and the JSON of a report as rows arrive, to two writers (memory, or files that
/// hash what they are given), so a report never holds all its rows.
pub struct Renderer<W: Write = Vec<u8>> {
    csv: csv::Writer<W>,
    json: W,
    rows: usize,
}

/// What a [`Renderer`] wrote.
pub struct Rendered<W = Vec<u8>> {
    pub csv: W,
    pub json: W,
    pub rows: usize,
}

impl Renderer<Vec<u8>> {
    /// Renders into memory.
    pub fn new(report_id: &str, version: u32, report_timestamp: &str) -> Renderer {
        Renderer::to(Vec::new(), Vec::new(), report_id, version, report_timestamp).expect("write to memory")
    }

    /// Adds rows (writing to memory cannot fail).
    pub fn push(&mut self, rows: &[Row]) {
        self.write(rows).expect("write to memory");
    }

    pub fn finish(self) -> Rendered {
        self.finish_with(None).expect("write to memory")
    }
}

impl<W: Write> Renderer<W> {
    /// Renders into `csv` and `json`.
    pub fn to(mut csv: W, mut json: W, report_id: &str, version: u32, report_timestamp: &str) -> std::io::Result<Self> {
        csv.write_all(b"\xEF\xBB\xBF")?;
        let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(csv);
        csv.write_record(HEADERS)?;
        #[derive(Serialize)]
        struct Head<'a> {
            schema_version: u32,
            report_id: &'a str,
            version: u32,
            report_timestamp: &'a str,
            columns: [&'a str; HEADERS.len()],
        }
        let head = Head { schema_version: JSON_SCHEMA_VERSION, report_id, version, report_timestamp, columns: HEADERS };
        let mut head = serde_json::to_vec(&head).expect("report head serializes");
        head.pop(); // the closing brace: rows follow
        json.write_all(&head)?;
        json.write_all(b",\"rows\":[")?;
        Ok(Renderer { csv, json, rows: 0 })
    }

    pub fn write(&mut self, rows: &[Row]) -> std::io::Result<()> {
        for row in rows {
            self.csv.write_record(row.cells().iter().map(|c| neutralise(c).into_owned()))?;
            self.json.write_all(if self.rows > 0 { b",\n" } else { b"\n" })?;
            serde_json::to_writer(&mut self.json, &row.cells())?;
            self.rows += 1;
        }
        Ok(())
    }

    /// Ends the report; with `reconciliation`, `report.json` gets a `reconciliation` section too.
    pub fn finish_with(mut self, reconciliation: Option<&[ReconciliationRow]>) -> std::io::Result<Rendered<W>> {
        self.json.write_all(b"\n]")?;
        if let Some(rows) = reconciliation {
            self.json.write_all(b",\"reconciliation\":")?;
            serde_json::to_writer(&mut self.json, rows)?;
        }
        self.json.write_all(b"}\n")?;
        self.json.flush()?;
        let csv = self.csv.into_inner().map_err(|e| std::io::Error::other(e.error().to_string()))?;
        Ok(Rendered { csv, json: self.json, rows: self.rows })
    }
}

/// The columns of `reconciliation.csv`.
pub const RECONCILIATION_HEADERS: [&str; 9] =
    ["Status", "Account ID", "Region", "Inventory ID", "RDS Identifier", "ARN", "Engine", "Endpoint", "Reason"];

/// `reconciliation.csv`: UTF-8 with a BOM, CRLF, every cell neutralised like the report's.
pub fn reconciliation_csv(rows: &[ReconciliationRow]) -> Vec<u8> {
    let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(b"\xEF\xBB\xBF".to_vec());
    csv.write_record(RECONCILIATION_HEADERS).expect("write to memory");
    for r in rows {
        let status = r.status.to_string();
        let cells = [
            &status,
            &r.account_id,
            &r.region,
            &r.inventory_id,
            &r.identifier,
            &r.arn,
            &r.engine,
            &r.endpoint,
            &r.reason,
        ];
        csv.write_record(cells.iter().map(|c| neutralise(c).into_owned())).expect("write to memory");
    }
    csv.into_inner().unwrap_or_else(|e| e.into_inner().get_ref().clone())
}

/// Reads rows back from a report CSV. Cells stay as written: neutralisation cannot be undone
/// (a name may itself start with `'`), so compare CSVs with CSVs and JSON with JSON.
pub fn from_csv(bytes: &[u8]) -> Result<Vec<Row>, csv::Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers()?.clone();
    let index: Vec<Option<usize>> = HEADERS.iter().map(|h| headers.iter().position(|c| c == *h)).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(Row::from_cells(|i| index[i].and_then(|p| record.get(p)).unwrap_or("")));
    }
    Ok(rows)
}

/// The version of `report.json`'s layout: 2 = `columns` names the cells of each `rows` array.
pub const JSON_SCHEMA_VERSION: u32 = 2;

/// Reads rows from a report JSON ([`to_json`]), matching cells to columns by name.
pub fn from_json(bytes: &[u8]) -> Result<Vec<Row>, serde_json::Error> {
    #[derive(Deserialize)]
    struct Report {
        schema_version: u32,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
    }
    let report: Report = serde_json::from_slice(bytes)?;
    if report.schema_version != JSON_SCHEMA_VERSION {
        return Err(serde::de::Error::custom(format!(
            "report.json schema_version {} is not supported (this tool reads {JSON_SCHEMA_VERSION})",
            report.schema_version
        )));
    }
    let index: Vec<Option<usize>> = HEADERS.iter().map(|h| report.columns.iter().position(|c| c == h)).collect();
    Ok(report
        .rows
        .iter()
        .map(|cells| Row::from_cells(|i| index[i].and_then(|p| cells.get(p)).map_or("", |c| c)))
        .collect())
}

/// The same rows for machines (values as collected, no spreadsheet neutralisation), one row per line.
pub fn to_json(report_id: &str, version: u32, report_timestamp: &str, rows: &[Row]) -> Vec<u8> {
    let mut r = Renderer::new(report_id, version, report_timestamp);
    r.push(rows);
    r.finish().json
}

/// Targets per status (`OK`, `NO_ADMINS`, `ERROR`) and errors per kind (`ERROR:timeout`).
pub fn status_counts(population: &Population, results: &BTreeMap<String, TargetResult>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for t in &population.targets {
        count_status(&mut counts, results.get(&t.id));
    }
    counts
}

/// Adds one target's status (and error kind) to `counts`.
pub fn count_status(counts: &mut BTreeMap<String, u64>, result: Option<&TargetResult>) {
    let keys: Vec<String> = match result.map(|r| &r.outcome) {
        None => vec![STATUS_ERROR.into(), "ERROR:missing_result".into()],
        Some(Outcome::Failed(f)) => vec![STATUS_ERROR.into(), format!("ERROR:{}", f.kind)],
        Some(Outcome::Collected(c)) if c.principals.is_empty() => vec![STATUS_NO_ADMINS.into()],
        Some(Outcome::Collected(_)) => vec![STATUS_OK.into()],
    };
    for k in keys {
        *counts.entry(k).or_insert(0) += 1;
    }
}
