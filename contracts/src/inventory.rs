//! The database inventory: one CSV row per database, validated strictly.
//!
//! The operations team maintains it by hand, so every problem is reported with
//! the file, the line and the field at fault, all at once, and an inventory with
//! any error yields no targets at all.
//!
//! ```csv
//! id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags
//! orders-db,123456789012,eu-west-1,postgres,orders.internal,5432,orders;billing,prod/orders/admin-report,,verify-full,owner=payments;env=prod
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A database engine the collector understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Sqlserver,
    Mysql,
    Mariadb,
    Postgres,
}

/// A host name as DNS compares it: without the root's trailing dot, in lower case.
pub fn host_key(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

impl Engine {
    /// Whether its accounts are `user@host` pairs (MySQL and MariaDB), so a principal's host is part
    /// of who it is (an empty host meaning any host), not absent.
    pub fn has_hosts(self) -> bool {
        matches!(self, Engine::Mysql | Engine::Mariadb)
    }
}

string_forms!(Engine, "engine", {
    Sqlserver => "sqlserver",
    Mysql => "mysql",
    Mariadb => "mariadb",
    Postgres => "postgres",
});

/// How the collector protects its connection to a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Encrypt, check the certificate chain and that it names the host (the default).
    #[default]
    VerifyFull,
    /// Encrypt and check the certificate chain, but not the host name.
    VerifyCa,
    /// Encrypt without checking the certificate: protects against passive eavesdropping only.
    Require,
    /// Plain text. Only for local test servers; recorded in every result.
    Disable,
}

string_forms!(TlsMode, "TLS mode", {
    VerifyFull => "verify-full",
    VerifyCa => "verify-ca",
    Require => "require",
    Disable => "disable",
});

impl TlsMode {
    /// Whether this mode protects at least as much as `floor` (`verify-full` > `verify-ca` >
    /// `require` > `disable`).
    pub fn at_least(self, floor: TlsMode) -> bool {
        let rank = |m: TlsMode| match m {
            TlsMode::Disable => 0,
            TlsMode::Require => 1,
            TlsMode::VerifyCa => 2,
            TlsMode::VerifyFull => 3,
        };
        rank(self) >= rank(floor)
    }

    /// Whether the mode checks who the server is (its certificate chain at least).
    pub fn verifies_server(self) -> bool {
        matches!(self, TlsMode::VerifyFull | TlsMode::VerifyCa)
    }
}

/// Which databases a report covers (the inventory's targets, and what discovery lists). Empty
/// lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub accounts: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub engines: Vec<Engine>,
}

impl Filters {
    /// Whether a database of `account_id` in `region` is in the report's scope; `engine` is `None`
    /// for an engine this tool does not read (in scope only when no engine is asked for).
    pub fn admits(&self, account_id: &str, region: &str, engine: Option<Engine>) -> bool {
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account_id))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
            && (self.engines.is_empty() || engine.is_some_and(|e| self.engines.contains(&e)))
    }

    /// [`Filters::admits`] for an inventory entry.
    pub fn admits_target(&self, t: &Target) -> bool {
        self.admits(&t.account_id, &t.region, Some(t.engine))
    }
}

/// One database to audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub id: String,
    pub account_id: String,
    pub region: String,
    pub engine: Engine,
    pub host: String,
    pub port: u16,
    /// Databases to inspect; empty means every online user database (engines with per-database scope).
    #[serde(default)]
    pub databases: Vec<String>,
    /// The name or ARN of the secret holding the collector's login for this database.
    pub secret: String,
    /// Role to assume in the target account instead of the deployment's default.
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub tls: TlsMode,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Where the engine's login log is (`file:PATH`, a file or a folder of them, read by local
    /// runs): the Last Login Date's evidence. Optional column `login_log`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_log: Option<String>,
}

/// A parsed, valid inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Where it came from (a path or an `s3://` URI), as given.
    pub source: String,
    /// SHA-256 of the exact bytes parsed.
    pub sha256: String,
    pub targets: Vec<Target>,
}

/// One problem in an inventory, located precisely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryIssue {
    pub file: String,
    /// 1-based line number in the file (the header is line 1 when present).
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for InventoryIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: the source has no lines (a Parameter Store parameter); its name is the place.
        match (&self.field, self.line) {
            (Some(field), 0) => write!(f, "{}: field '{}': {}", self.file, field, self.message),
            (None, 0) => write!(f, "{}: {}", self.file, self.message),
            (Some(field), line) => write!(f, "{}:{}: field '{}': {}", self.file, line, field, self.message),
            (None, line) => write!(f, "{}:{}: {}", self.file, line, self.message),
        }
    }
}

/// Every problem found in an inventory. Nothing may run on an inventory that has any.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InventoryError {
    pub issues: Vec<InventoryIssue>,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid inventory ({} problem{})",
            self.issues.len(),
            if self.issues.len() == 1 { "" } else { "s" }
        )?;
        for issue in &self.issues {
            write!(f, "\n  {issue}")?;
        }
        Ok(())
    }
}

/// An inventory as a source holds it: one CSV (a file, an S3 object, one Parameter Store
/// parameter), or one Parameter Store parameter per database, each a JSON object with the CSV's
/// columns (`ssm:/prefix/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventoryDocument {
    Csv(Vec<u8>),
    /// `(parameter name, value)`, in name order.
    Parameters(Vec<(String, String)>),
}

impl Inventory {
    /// Reads and validates an inventory document from `source` (named in every error).
    pub fn read(source: &str, document: &InventoryDocument) -> Result<Inventory, InventoryError> {
        match document {
            InventoryDocument::Csv(bytes) => Inventory::parse(source, bytes),
            InventoryDocument::Parameters(parameters) => Inventory::from_parameters(source, parameters),
        }
    }

    /// One database per parameter, each a JSON object keyed by the inventory's columns (values are
    /// strings or numbers; `databases` may be a list, `tags` an object). Every problem names the
    /// parameter and the field; the checksum covers every parameter's name and value.
    pub fn from_parameters(source: &str, parameters: &[(String, String)]) -> Result<Inventory, InventoryError> {
        let at = |name: &str, field: Option<&str>, message: String| InventoryIssue {
            file: name.to_owned(),
            line: 0,
            field: field.map(str::to_owned),
            message,
        };
        let (mut targets, mut issues) = (Vec::new(), Vec::new());
        let mut seen_ids: BTreeMap<String, u64> = BTreeMap::new();
        if parameters.is_empty() {
            issues.push(at(source, None, "no parameter under this path".into()));
        }
        for (i, (name, value)) in parameters.iter().enumerate() {
            let fields = match parameter_fields(value) {
                Ok(fields) => fields,
                Err(found) => {
                    issues.extend(found.into_iter().map(|(field, message)| at(name, field.as_deref(), message)));
                    continue;
                }
            };
            let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| !fields.contains_key(*c)).collect();
            for column in &missing {
                issues.push(at(name, Some(column), "required field is missing".into()));
            }
            let get = |column: &str| fields.get(column).map(String::as_str).unwrap_or("");
            match target_from(&get, &seen_ids) {
                Ok(t) if missing.is_empty() => {
                    seen_ids.insert(t.id.clone(), i as u64 + 1);
                    targets.push(t);
                }
                Ok(_) => {}
                // The fields that are there are checked too (a missing one is reported once).
                Err(found) => issues.extend(
                    found
                        .into_iter()
                        .filter(|(field, _)| !missing.contains(field))
                        .map(|(field, message)| at(name, Some(field), message)),
                ),
            }
        }
        if !issues.is_empty() {
            return Err(InventoryError { issues });
        }
        let canonical = serde_json::to_vec(parameters).unwrap_or_default();
        Ok(Inventory { source: source.to_owned(), sha256: crate::sha256_hex(&canonical), targets })
    }
}

/// A parameter's JSON object as column → text, or its problems as `(field, message)`.
#[allow(clippy::type_complexity)]
fn parameter_fields(value: &str) -> Result<BTreeMap<String, String>, Vec<(Option<String>, String)>> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(value)
        .map_err(|e| vec![(None, format!("not a JSON object with the inventory's columns: {e}"))])?;
    let mut fields = BTreeMap::new();
    let mut bad = Vec::new();
    for (column, v) in object {
        if !COLUMNS.contains(&column.as_str()) {
            bad.push((Some(column), format!("unknown field (expected: {})", COLUMNS.join(", "))));
            continue;
        }
        let text = match (&v, column.as_str()) {
            (serde_json::Value::String(s), _) => s.trim().to_owned(),
            (serde_json::Value::Number(n), _) => n.to_string(),
            (serde_json::Value::Null, _) => String::new(),
            (serde_json::Value::Array(items), "databases") if items.iter().all(|i| i.is_string()) => {
                items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join(";")
            }
            (serde_json::Value::Object(tags), "tags") if tags.values().all(|t| t.is_string()) => {
                tags.iter().map(|(k, t)| format!("{k}={}", t.as_str().unwrap_or(""))).collect::<Vec<_>>().join(";")
            }
            _ => {
                bad.push((Some(column), format!("unexpected value {v}")));
                continue;
            }
        };
        fields.insert(column, text);
    }
    if bad.is_empty() {
        Ok(fields)
    } else {
        Err(bad)
    }
}

const COLUMNS: [&str; 12] = [
    "id",
    "account_id",
    "region",
    "engine",
    "host",
    "port",
    "databases",
    "secret",
    "role_arn",
    "tls",
    "tags",
    "login_log",
];
const REQUIRED: [&str; 7] = ["id", "account_id", "region", "engine", "host", "port", "secret"];

impl Inventory {
    /// Parses and validates an inventory CSV. `file` names it in every error.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Inventory, InventoryError> {
        let at = |line: u64, field: Option<&str>, message: String| InventoryIssue {
            file: file.to_owned(),
            line,
            field: field.map(str::to_owned),
            message,
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
            Err(e) => {
                let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64;
                return Err(InventoryError { issues: vec![at(line, None, "not valid UTF-8".into())] });
            }
        };
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text.as_bytes());
        let index = header(&mut reader, text).map_err(|found| InventoryError {
            issues: found.into_iter().map(|(line, field, message)| at(line, field.as_deref(), message)).collect(),
        })?;

        let (mut targets, mut issues) = (Vec::new(), Vec::new());
        let mut seen_ids: BTreeMap<String, u64> = BTreeMap::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    issues.push(at(line, None, format!("malformed CSV row: {}", csv_error_kind(&e))));
                    continue;
                }
            };
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            let row = Row { index: &index, record: &record };
            match target(&row, &seen_ids) {
                Ok(t) => targets.push(t),
                Err(found) => issues.extend(found.into_iter().map(|(field, message)| at(line, Some(field), message))),
            }
            if !row.get("id").is_empty() {
                seen_ids.entry(row.get("id").to_owned()).or_insert(line);
            }
        }
        if !issues.is_empty() {
            return Err(InventoryError { issues });
        }
        Ok(Inventory { source: file.to_owned(), sha256: crate::sha256_hex(bytes), targets })
    }
}

/// The header's column positions, or every problem with it as `(line, column, message)`.
#[allow(clippy::type_complexity)]
fn header(
    reader: &mut csv::Reader<&[u8]>,
    text: &str,
) -> Result<BTreeMap<String, usize>, Vec<(u64, Option<String>, String)>> {
    let headers = reader.headers().map_err(|e| vec![(1, None, format!("cannot read header: {e}"))])?.clone();
    let line = text.lines().position(|l| !l.trim().is_empty() && !l.starts_with('#')).map_or(1, |i| i as u64 + 1);
    let mut index = BTreeMap::new();
    let mut issues = Vec::new();
    for (i, name) in headers.iter().enumerate() {
        if !COLUMNS.contains(&name) {
            issues.push((line, Some(name.to_owned()), format!("unknown column (expected: {})", COLUMNS.join(", "))));
        } else if index.insert(name.to_owned(), i).is_some() {
            issues.push((line, Some(name.to_owned()), "column appears twice".into()));
        }
    }
    for required in REQUIRED {
        if !index.contains_key(required) {
            issues.push((line, Some(required.to_owned()), "required column is missing".into()));
        }
    }
    if issues.is_empty() {
        Ok(index)
    } else {
        Err(issues)
    }
}

/// One data row's fields by column name.
struct Row<'a> {
    index: &'a BTreeMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    fn get(&self, column: &str) -> &'a str {
        self.index.get(column).and_then(|i| self.record.get(*i)).unwrap_or("")
    }
}

/// One row as a target, or every problem with it as `(column, message)`.
fn target(row: &Row<'_>, seen_ids: &BTreeMap<String, u64>) -> Result<Target, Vec<(&'static str, String)>> {
    target_from(&|column| row.get(column), seen_ids)
}

/// One entry as a target from its fields by column name, or every problem with it.
fn target_from<'a>(
    get: &dyn Fn(&str) -> &'a str,
    seen_ids: &BTreeMap<String, u64>,
) -> Result<Target, Vec<(&'static str, String)>> {
    let mut bad: Vec<(&'static str, String)> = Vec::new();
    fn take<T>(bad: &mut Vec<(&'static str, String)>, field: &'static str, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| bad.push((field, m))).ok()
    }
    let id = take(&mut bad, "id", check_id(get("id"), seen_ids));
    let account_id = take(&mut bad, "account_id", check_account(get("account_id")));
    let region = take(&mut bad, "region", check_region(get("region")));
    let engine = take(&mut bad, "engine", get("engine").parse::<Engine>());
    let host = take(&mut bad, "host", check_host(get("host")));
    let port = take(&mut bad, "port", parse_port(get("port")));
    let databases = take(&mut bad, "databases", parse_databases(get("databases")));
    let secret = take(&mut bad, "secret", check_secret(get("secret")));
    let role_arn = take(&mut bad, "role_arn", parse_role_arn(get("role_arn")));
    let tls = take(&mut bad, "tls", parse_tls(get("tls")));
    let tags = take(&mut bad, "tags", parse_tags(get("tags")));
    let login_log = take(&mut bad, "login_log", parse_login_log(get("login_log")));
    if let (Some(Some(log)), Some(host), Some(tags)) = (&login_log, &host, &tags) {
        if let Err(why) = check_login_log_is_the_databases(log, host, tags) {
            bad.push(("login_log", why));
        }
    }
    if let (Some(Some(arn)), Some(account)) = (&role_arn, &account_id) {
        let arn_account = arn.split(':').nth(4).unwrap_or_default();
        if arn_account != account {
            bad.push((
                "role_arn",
                format!(
                    "'{arn}' is a role of account {arn_account}, but the row's account_id is {account}: the \
                     database would be read through one account and reported under another"
                ),
            ));
        }
    }
    match (id, account_id, region, engine, host, port, databases, secret, role_arn, tls, tags, login_log) {
        (
            Some(id),
            Some(account_id),
            Some(region),
            Some(engine),
            Some(host),
            Some(port),
            Some(databases),
            Some(secret),
            Some(role_arn),
            Some(tls),
            Some(tags),
            Some(login_log),
        ) if bad.is_empty() => {
            Ok(Target { id, account_id, region, engine, host, port, databases, secret, role_arn, tls, tags, login_log })
        }
        _ => Err(bad),
    }
}

fn check_id(id: &str, seen_ids: &BTreeMap<String, u64>) -> Result<String, String> {
    if id.is_empty() {
        Err("is empty".into())
    } else if !valid_id(id) {
        Err(format!("'{id}' may only hold letters, digits, '.', '_' and '-', start with a letter or digit, and be at most 128 characters"))
    } else if crate::keys::is_reserved_target_id(id) {
        Err(format!(
            "'{id}' is reserved: its result would be named {id}.json, like a run's or a report's own file \
             (which the evidence bucket's policy protects, and verify reads)"
        ))
    } else if let Some(first) = seen_ids.get(id) {
        Err(format!("duplicate id '{id}' (first used on line {first})"))
    } else {
        Ok(id.to_owned())
    }
}

/// An AWS account id: twelve ASCII digits. The one check of that shape, for the inventory, the
/// baseline, role ARNs and a request's account filters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(text: &str) -> Result<AccountId, String> {
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(text.to_owned()))
        } else {
            Err(format!("'{text}' is not a 12-digit AWS account id"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_account(account_id: &str) -> Result<String, String> {
    AccountId::parse(account_id).map(|a| a.0)
}

fn check_region(region: &str) -> Result<String, String> {
    if valid_region(region) {
        Ok(region.to_owned())
    } else {
        Err(format!("'{region}' is not an AWS region name (like eu-west-1)"))
    }
}

fn check_host(host: &str) -> Result<String, String> {
    if host.is_empty() {
        Err("is empty".into())
    } else if host.chars().any(|c| c.is_whitespace() || c == '/' || c == '@') {
        Err(format!("'{host}' is not a host name or address"))
    } else {
        Ok(host.to_owned())
    }
}

fn parse_port(port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("'{port}' is not a port number (1-65535)")),
    }
}

fn parse_databases(list: &str) -> Result<Vec<String>, String> {
    let databases = split_list(list);
    if databases.iter().any(|d| d.chars().any(char::is_control)) {
        Err("a database name holds a control character".into())
    } else {
        Ok(databases)
    }
}

fn check_secret(secret: &str) -> Result<String, String> {
    if secret.is_empty() {
        Err("is empty: every database needs the secret holding the collector's login".into())
    } else {
        Ok(secret.to_owned())
    }
}

fn parse_role_arn(arn: &str) -> Result<Option<String>, String> {
    match arn {
        "" => Ok(None),
        arn if valid_role_arn(arn) => Ok(Some(arn.to_owned())),
        arn => Err(format!("'{arn}' is not an IAM role ARN (arn:aws:iam::123456789012:role/name)")),
    }
}

fn parse_login_log(log: &str) -> Result<Option<String>, String> {
    match log {
        "" => Ok(None),
        l if l.strip_prefix("file:").is_some_and(|p| !p.trim().is_empty()) => Ok(Some(l.to_owned())),
        l if l.strip_prefix("cloudwatch:").and_then(rds_log_group).is_some() => Ok(Some(l.to_owned())),
        l => Err(format!(
            "'{l}' is not a login log (file:PATH, a log file or a folder of them; or cloudwatch:GROUP, a log group \
             RDS exports to: /aws/rds/instance/ID/postgresql, /aws/rds/cluster/ID/postgresql, …/audit)"
        )),
    }
}

/// The RDS identifier a log group RDS exports to is named by: `/aws/rds/instance/ID/postgresql`,
/// `/aws/rds/cluster/ID/audit`.
pub fn rds_log_group(group: &str) -> Option<&str> {
    let rest = group.strip_prefix("/aws/rds/instance/").or_else(|| group.strip_prefix("/aws/rds/cluster/"))?;
    let (id, log) = rest.split_once('/')?;
    (!id.is_empty() && matches!(log, "postgresql" | "audit")).then_some(id)
}

/// A `cloudwatch:` login log must be the log of the database the row reads. For a host that is an
/// RDS endpoint, that is the endpoint's own: its first label is the identifier, and a cluster
/// endpoint (`ID.cluster-…`) has a cluster's group, an instance endpoint an instance's. Only a
/// host that is no RDS endpoint (a proxy, an address) may name its database by the row's
/// `identifier=` or `arn=` tag. Otherwise one database's rows would be dated by another's logins.
fn check_login_log_is_the_databases(log: &str, host: &str, tags: &BTreeMap<String, String>) -> Result<(), String> {
    let Some(id) = log.strip_prefix("cloudwatch:").and_then(rds_log_group) else { return Ok(()) };
    let cluster_group = log.starts_with("cloudwatch:/aws/rds/cluster/");
    let host = host.to_ascii_lowercase();
    let named = if host.ends_with(".rds.amazonaws.com") || host.ends_with(".rds.amazonaws.com.cn") {
        let mut labels = host.split('.');
        let first = labels.next().unwrap_or_default();
        let cluster_endpoint = labels.next().is_some_and(|l| l.starts_with("cluster-"));
        first.eq_ignore_ascii_case(id) && cluster_endpoint == cluster_group
    } else {
        tags.get("identifier").is_some_and(|t| t == id)
            || tags
                .get("arn")
                .is_some_and(|a| a.ends_with(&format!(":{}:{id}", if cluster_group { "cluster" } else { "db" })))
    };
    if named {
        Ok(())
    } else {
        Err(format!(
            "'{log}' is the log of RDS database '{id}', which this row does not read (its host is {host}; an \
             identifier={id} or arn= tag would name it)"
        ))
    }
}

fn parse_tls(tls: &str) -> Result<TlsMode, String> {
    match tls {
        "" => Ok(TlsMode::default()),
        t => t.parse::<TlsMode>(),
    }
}

fn parse_tags(list: &str) -> Result<BTreeMap<String, String>, String> {
    let mut tags = BTreeMap::new();
    for pair in split_list(list) {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                if tags.insert(k.trim().to_owned(), v.trim().to_owned()).is_some() {
                    return Err(format!("tag '{}' appears twice", k.trim()));
                }
            }
            _ => return Err(format!("'{pair}' is not key=value")),
        }
    }
    Ok(tags)
}

fn csv_error_kind(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields, the header has {expected_len}")
        }
        _ => e.to_string(),
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(';').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

fn valid_id(id: &str) -> bool {
    id.len() <= 128
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-2`: lower-case words and a trailing number.
fn valid_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn valid_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && AccountId::parse(parts[4]).is_ok()
        && parts[5].strip_prefix("role/").is_some_and(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags\n";

    fn parse(body: &str) -> Result<Inventory, InventoryError> {
        Inventory::parse("inv.csv", format!("{HEADER}{body}").as_bytes())
    }

    fn messages(body: &str) -> Vec<String> {
        parse(body).unwrap_err().issues.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn parses_a_valid_row_with_defaults() {
        let inv = parse("db1,123456789012,eu-west-1,mysql,db.local,3306,,prod/db1,,,owner=ops;env=prod\n").unwrap();
        assert_eq!(inv.targets.len(), 1);
        let t = &inv.targets[0];
        assert_eq!(t.engine, Engine::Mysql);
        assert_eq!(t.tls, TlsMode::VerifyFull, "TLS must default to verify-full");
        assert_eq!(t.tags.get("env").map(String::as_str), Some("prod"));
        assert!(t.databases.is_empty());
        assert_eq!(inv.sha256.len(), 64);
    }

    #[test]
    fn comments_blank_cells_and_bom_are_fine() {
        let text = format!("\u{feff}# estate inventory\n{HEADER}db1, 123456789012 ,eu-west-1,postgres,h,5432,a;b,s,arn:aws:iam::123456789012:role/collector,disable,\n");
        let inv = Inventory::parse("inv.csv", text.as_bytes()).unwrap();
        assert_eq!(inv.targets[0].databases, vec!["a", "b"]);
        assert_eq!(inv.targets[0].tls, TlsMode::Disable);
        assert!(inv.targets[0].role_arn.is_some());
    }

    #[test]
    fn every_rule_names_file_line_and_field() {
        let cases = [
            ("db1,12345,eu-west-1,mysql,h,3306,,s,,,\n", "inv.csv:2: field 'account_id'"),
            (
                "db1,123456789012,eu-west-1,mysql,h,3306,,s,arn:aws:iam::210987654321:role/c,,\n",
                "inv.csv:2: field 'role_arn': 'arn:aws:iam::210987654321:role/c' is a role of account 210987654321",
            ),
            ("db1,123456789012,eu-west-1,oracle,h,3306,,s,,,\n", "inv.csv:2: field 'engine': unknown engine 'oracle'"),
            ("db1,123456789012,eu-west-1,mysql,h,0,,s,,,\n", "inv.csv:2: field 'port'"),
            ("db1,123456789012,eu-west-1,mysql,h,70000,,s,,,\n", "inv.csv:2: field 'port'"),
            ("db1,123456789012,eu-west-1,mysql,h,3306,,s,,tls-maybe,\n", "inv.csv:2: field 'tls': unknown TLS mode"),
            ("db1,123456789012,eu-west-1,mysql,h,3306,,,,,\n", "inv.csv:2: field 'secret'"),
            ("db1,123456789012,Europe,mysql,h,3306,,s,,,\n", "inv.csv:2: field 'region'"),
            ("db 1,123456789012,eu-west-1,mysql,h,3306,,s,,,\n", "inv.csv:2: field 'id'"),
            ("db1,123456789012,eu-west-1,mysql,h,3306,,s,role/x,,\n", "inv.csv:2: field 'role_arn'"),
            ("db1,123456789012,eu-west-1,mysql,h,3306,,s,,,owner\n", "inv.csv:2: field 'tags'"),
            ("db1,123456789012,eu-west-1,mysql,,3306,,s,,,\n", "inv.csv:2: field 'host'"),
            (
                "population,123456789012,eu-west-1,mysql,h,3306,,s,,,\n",
                "inv.csv:2: field 'id': 'population' is reserved",
            ),
            ("retry-v2,123456789012,eu-west-1,mysql,h,3306,,s,,,\n", "inv.csv:2: field 'id': 'retry-v2' is reserved"),
            ("manifest,123456789012,eu-west-1,mysql,h,3306,,s,,,\n", "inv.csv:2: field 'id': 'manifest' is reserved"),
            (
                "manifest.sig,123456789012,eu-west-1,mysql,h,3306,,s,,,\n",
                "inv.csv:2: field 'id': 'manifest.sig' is reserved",
            ),
        ];
        for (row, expected) in cases {
            let msgs = messages(row);
            assert!(msgs.iter().any(|m| m.starts_with(expected)), "{row:?}: {msgs:?} should hold {expected:?}");
        }
    }

    #[test]
    fn duplicate_ids_name_both_lines_and_nothing_is_returned() {
        let msgs = messages(
            "db1,123456789012,eu-west-1,mysql,h,3306,,s,,,\n\
             db2,123456789012,eu-west-1,mysql,h,3306,,s,,,\n\
             db1,123456789012,eu-west-1,mysql,h,3307,,s,,,\n",
        );
        assert_eq!(msgs, vec!["inv.csv:4: field 'id': duplicate id 'db1' (first used on line 2)"]);
    }

    #[test]
    fn all_problems_are_reported_at_once() {
        let err =
            parse("db1,1,eu-west-1,mysql,h,3306,,s,,,\ndb2,123456789012,eu-west-1,mysql,h,x,,s,,,\n").unwrap_err();
        assert_eq!(err.issues.len(), 2);
        assert_eq!((err.issues[0].line, err.issues[1].line), (2, 3));
    }

    #[test]
    fn wrong_field_count_and_unknown_or_missing_columns() {
        let msgs = messages("db1,123456789012,eu-west-1\n");
        assert!(msgs[0].starts_with("inv.csv:2: malformed CSV row: has 3 fields, the header has 11"), "{msgs:?}");

        let err = Inventory::parse("x.csv", b"id,account,region\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("x.csv:1: field 'account': unknown column"), "{text}");
        assert!(text.contains("x.csv:1: field 'engine': required column is missing"), "{text}");
    }

    /// One Parameter Store parameter per database: the same rules as a CSV row, every problem
    /// named by the parameter and the field, and nothing accepted from a set with any problem.
    #[test]
    fn parameters_are_validated_like_rows_and_named_in_errors() {
        let good = r#"{"id": "orders", "account_id": "123456789012", "region": "eu-west-1", "engine": "postgres",
            "host": "orders.x", "port": 5432, "databases": ["orders", "billing"], "secret": "prod/orders",
            "tags": {"owner": "payments"}}"#;
        let params = vec![("/dbadmin/inventory/orders".to_owned(), good.to_owned())];
        let inv = Inventory::from_parameters("ssm:/dbadmin/inventory/", &params).unwrap();
        let t = &inv.targets[0];
        assert_eq!(
            (t.id.as_str(), t.port, t.databases.len(), t.tags["owner"].as_str()),
            ("orders", 5432, 2, "payments")
        );
        assert_eq!(inv.sha256.len(), 64);

        let bad = vec![
            ("/dbadmin/inventory/a".to_owned(), good.replace("5432", "0")),
            ("/dbadmin/inventory/b".to_owned(), r#"{"id": "b", "colour": "red"}"#.to_owned()),
            ("/dbadmin/inventory/c".to_owned(), "id,account_id".to_owned()),
            ("/dbadmin/inventory/d".to_owned(), good.replace(r#""secret": "prod/orders","#, "")),
        ];
        let err = Inventory::from_parameters("ssm:/dbadmin/inventory/", &bad).unwrap_err();
        let text: Vec<String> = err.issues.iter().map(ToString::to_string).collect();
        assert!(
            text.contains(&"/dbadmin/inventory/a: field 'port': '0' is not a port number (1-65535)".to_owned()),
            "{text:?}"
        );
        assert!(text.iter().any(|t| t.starts_with("/dbadmin/inventory/b: field 'colour': unknown field")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("/dbadmin/inventory/c: not a JSON object")), "{text:?}");
        assert!(
            text.contains(&"/dbadmin/inventory/d: field 'secret': required field is missing".to_owned()),
            "{text:?}"
        );
        assert!(Inventory::from_parameters("ssm:/empty/", &[]).unwrap_err().to_string().contains("no parameter"));
    }

    /// A login log is a file, or the CloudWatch log group RDS exports the row's own database's log to.
    #[test]
    fn a_login_log_names_a_file_or_the_rows_own_rds_log_group() {
        let header = "id,account_id,region,engine,host,port,secret,tags,login_log\n";
        let parse = |row: &str| Inventory::parse("inv.csv", format!("{header}{row}\n").as_bytes());
        let ok = |row: &str| parse(row).unwrap().targets[0].login_log.clone();
        assert_eq!(ok("a,123456789012,eu-west-1,postgres,h,5432,s,,"), None);
        assert_eq!(ok("a,123456789012,eu-west-1,postgres,h,5432,s,,file:/var/log/pg"), Some("file:/var/log/pg".into()));
        let rds = "orders.abc.eu-west-1.rds.amazonaws.com";
        // An RDS endpoint's tag cannot name another database's log; a cluster endpoint has a cluster's.
        let other = "cloudwatch:/aws/rds/instance/billing/postgresql";
        assert!(parse(&format!("a,123456789012,eu-west-1,postgres,{rds},5432,s,identifier=billing,{other}")).is_err());
        let cluster = "orders.cluster-abc.eu-west-1.rds.amazonaws.com";
        assert!(parse(&format!(
            "a,123456789012,eu-west-1,postgres,{cluster},5432,s,,cloudwatch:/aws/rds/cluster/orders/postgresql"
        ))
        .is_ok());
        assert!(parse(&format!(
            "a,123456789012,eu-west-1,postgres,{cluster},5432,s,,cloudwatch:/aws/rds/instance/orders/postgresql"
        ))
        .is_err());
        let group = "cloudwatch:/aws/rds/instance/orders/postgresql";
        assert_eq!(ok(&format!("a,123456789012,eu-west-1,postgres,{rds},5432,s,,{group}")).as_deref(), Some(group));
        assert!(ok(&format!("a,123456789012,eu-west-1,postgres,127.0.0.1,5432,s,identifier=orders,{group}")).is_some());
        let cases = [
            (
                format!("a,123456789012,eu-west-1,postgres,billing.x.rds.amazonaws.com,5432,s,,{group}"),
                "of RDS database 'orders'",
            ),
            ("a,123456789012,eu-west-1,postgres,h,5432,s,,cloudwatch:/my/own/group".into(), "is not a login log"),
            ("a,123456789012,eu-west-1,postgres,h,5432,s,,s3://bucket/log".into(), "is not a login log"),
        ];
        for (row, says) in cases {
            let err = parse(&row).unwrap_err().to_string();
            assert!(err.contains("field 'login_log'") && err.contains(says), "{row}: {err}");
        }
    }
}
