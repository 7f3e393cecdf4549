//! What the collector found for one target: its admin principals, or one typed error.

use crate::inventory::{Engine, Target, TlsMode};
use crate::version::Versioned;
use serde::{Deserialize, Serialize};

/// The version of the admin definition (ADMIN-MODEL.md) the collectors implement.
/// Bump it whenever a classification rule changes; every manifest records it.
pub const ADMIN_DEFINITION_VERSION: &str = "2026.12-2";

/// The target a result belongs to, copied so a result stands on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRef {
    pub id: String,
    pub account_id: String,
    pub region: String,
    pub engine: Engine,
    pub host: String,
    pub port: u16,
}

impl From<&Target> for TargetRef {
    fn from(t: &Target) -> Self {
        TargetRef {
            id: t.id.clone(),
            account_id: t.account_id.clone(),
            region: t.region.clone(),
            engine: t.engine,
            host: t.host.clone(),
            port: t.port,
        }
    }
}

/// One target's outcome, stored at `runs/{report_id}/results/{target_id}.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetResult {
    pub schema_version: u32,
    pub report_id: String,
    pub target: TargetRef,
    /// When collection finished (RFC 3339, UTC).
    pub collected_at: String,
    /// Connection attempts made (retries of transient failures included).
    pub attempts: u32,
    /// Time spent on the database itself (connecting, retries and catalog queries), in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// What tied the login's secret to this database, when a login was read ([`CredentialBinding`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_binding: Option<CredentialBinding>,
    pub outcome: Outcome,
}

/// What made the collector send a secret's password to a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialBinding {
    /// The secret's own RDS fields (`host`, `port`, `engine`, `dbInstanceIdentifier`) name it.
    RdsFields,
    /// The secret's `db-admin-report:hosts` list names it.
    AllowList,
    /// Nothing in the secret names a database: the inventory alone decided where the password went.
    #[default]
    Unbound,
}

impl Versioned for TargetResult {
    const SCHEMA_VERSION: u32 = 1;
    const KIND: &'static str = "target result";
}

/// Either what was found, or why nothing could be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Collected(Collected),
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collected {
    /// The server's own version string.
    pub server_version: String,
    /// The TLS mode the connection used.
    pub tls: TlsMode,
    /// SHA-256 of the certificate the server presented on that connection (its DER), where the
    /// driver lets the collector see it (PostgreSQL); `None` without TLS or where it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_certificate_sha256: Option<String>,
    pub admin_definition_version: String,
    /// Every query text run, by name and SHA-256, so an auditor can re-perform it.
    pub queries: Vec<QueryRecord>,
    /// How many principals (accounts and roles) the server holds in all.
    pub principals_examined: u32,
    /// What the collector could not read, or what the server's catalogs said that disagrees with
    /// itself or with what the server enforces (a catalog object that is not the engine's own, grant
    /// tables that differ from the privileges in force). Each is a sentence naming both sides; the
    /// report marks the database `CATALOG_MISMATCH`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub catalog_warnings: Vec<String>,
    /// The principals holding admin or elevated privileges, with every finding.
    pub principals: Vec<Principal>,
    /// Where the principals' last logins were read from, over which window; or why there is no
    /// such evidence (docs/report.md, "Last login"). `None` in results written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_evidence: Option<Box<LoginEvidence>>,
    /// The server's settings that decide whether its log dates logins, as read at collection;
    /// `None` where the engine has none the collector reads. (Results of 2026-12-03 recorded them as
    /// one line of text under `login_logging`, which is no longer read: not known.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_settings: Option<Box<LoginSettings>>,
}

/// PostgreSQL's settings that decide whether its log writes logins in a form the collector reads,
/// as the collector's own session shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LoginSettings {
    /// `on`/`off`, or (18+) a list of aspects.
    pub log_connections: String,
    /// `fatal` or `panic` drop a login's LOG line.
    pub log_min_messages: String,
    /// The language of the log's lines.
    pub lc_messages: String,
    /// `log_min_messages` or `lc_messages` is set for a login or a database, so the session's
    /// value need not be the server's.
    pub overridden: bool,
}

/// The login evidence of one database: a log the engine wrote, read over a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LoginEvidence {
    /// The log read, as the inventory names it (`file:/var/log/postgresql/...`); empty when none.
    pub source: String,
    /// The window asked for, in days, ending at collection.
    pub window_days: u32,
    /// The first and last record the log holds (UTC, RFC 3339): what it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub covers_to: Option<String>,
    /// Successful logins found in the window, and lines that could not be attributed with
    /// certainty (a name that could be read two ways, or a broken line), which count for no one.
    pub logins: u64,
    pub unattributed: u64,
    /// SHA-256 of the bytes read, so the evidence can be re-read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    /// Why there is no usable evidence (no log named, the engine keeps none, unreadable): the
    /// `LOGIN_EVIDENCE_MISSING` review signal, and every row says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

impl LoginEvidence {
    /// Evidence that is not there, and why.
    pub fn missing(source: &str, window_days: u32, why: impl Into<String>) -> Self {
        LoginEvidence { source: source.to_owned(), window_days, missing: Some(why.into()), ..Default::default() }
    }

    /// The report's "Login Evidence" cell: the source and what it covers, or why there is none.
    pub fn display(&self) -> String {
        match &self.missing {
            Some(why) => format!("NONE: {why}"),
            None => format!(
                "{} {}..{} (window {} days)",
                self.source,
                self.covers_from.as_deref().map_or("?", |t| t.get(..10).unwrap_or(t)),
                self.covers_to.as_deref().map_or("?", |t| t.get(..10).unwrap_or(t)),
                self.window_days
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: ErrorKind,
    /// A human sentence naming the thing at fault. Never holds a secret.
    pub reason: String,
}

/// Why a target could not be read. Each is a database-level outcome that becomes an error row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    AuthenticationFailed,
    Unreachable,
    Timeout,
    Tls,
    InsufficientPrivilege,
    UnsupportedVersion,
    /// The login's secret is missing or malformed.
    Credentials,
    /// The login's secret names another database (its host, port, engine or RDS identifier): it was
    /// not sent to this one, and no connection was opened.
    CredentialHostMismatch,
    /// The target cannot be collected as configured (an engine this build lacks, say).
    Configuration,
    /// A catalog query failed for another reason.
    Query,
    /// The report was finalized without this target's result (never expected; reported, not hidden).
    MissingResult,
    /// The stored result cannot be read (truncated, or written by a newer version of the tool).
    UnreadableResult,
}

string_forms!(ErrorKind, "error kind", {
    AuthenticationFailed => "authentication_failed",
    Unreachable => "unreachable",
    Timeout => "timeout",
    Tls => "tls",
    InsufficientPrivilege => "insufficient_privilege",
    UnsupportedVersion => "unsupported_version",
    Credentials => "credentials",
    CredentialHostMismatch => "credential_host_mismatch",
    Configuration => "configuration",
    Query => "query",
    MissingResult => "missing_result",
    UnreadableResult => "unreadable_result",
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRecord {
    pub name: String,
    pub sha256: String,
}

/// Admin outranks elevated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Admin,
    Elevated,
}

string_forms!(Level, "level", { Admin => "ADMIN", Elevated => "ELEVATED" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PrincipalKind {
    User,
    Role,
    /// A directory group whose members need expansion outside the database.
    Group,
}

string_forms!(PrincipalKind, "principal type", { User => "USER", Role => "ROLE", Group => "GROUP" });

/// One privilege that makes a principal admin or elevated, and how it reaches them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Finding {
    pub level: Level,
    /// The privilege, as the engine names it (`SUPER`, `rolsuper`, `CREATE USER`).
    pub privilege: String,
    /// Where it applies: `server`, `database app`, `schema mysql`, `table mysql.user`.
    pub scope: String,
    /// Why this privilege counts, in a sentence a reviewer can check.
    pub reason: String,
    /// The chain from the principal to the privilege: the principal, every role on the way, the privilege.
    pub path: Vec<String>,
    /// The role that holds the privilege directly, when it comes through one.
    pub via_role: Option<String>,
    /// Set when the privilege reaches the principal through what every account receives
    /// (`PUBLIC`, MySQL's `@@mandatory_roles`, SQL Server's `public`), not a grant of its own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub to_everyone: bool,
}

/// A principal holding at least one admin or elevated privilege.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    /// MySQL/MariaDB host part (`'app'@'%'`); `None` on engines without one.
    pub host: Option<String>,
    pub kind: PrincipalKind,
    /// The highest level among its findings.
    pub level: Level,
    pub findings: Vec<Finding>,
    pub status: AccountStatus,
    /// RFC 3339 when the engine records it.
    pub password_last_changed: Option<String>,
    /// Whether a password is set, when the engine shows it without revealing the hash.
    pub password_set: Option<bool>,
    pub last_login: LastLogin,
    pub auth_plugin: Option<String>,
    /// A cloud vendor's or the engine's own account: reported, flagged, never dropped.
    pub vendor_managed: bool,
    /// Facts a reviewer needs beside the status: "members need directory expansion", "orphaned
    /// database user", "CHECK_POLICY OFF", creation and modification dates.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Principal {
    /// `'user'@'host'` for MySQL-style identities, the plain name otherwise.
    pub fn display_name(&self) -> String {
        match &self.host {
            Some(h) => format!("'{}'@'{}'", self.name, h),
            None => self.name.clone(),
        }
    }
}

/// Account state flags; none set means the account is usable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStatus {
    /// `LOCKED`, `PASSWORD_EXPIRED`, `NOLOGIN`, `VALID_UNTIL_PASSED`, `CONNECTION_LIMIT_0`, `DISABLED`, `MUST_CHANGE`, `CONNECT_DENIED`, `ROLE`.
    pub flags: Vec<String>,
}

impl AccountStatus {
    pub fn summary(&self) -> String {
        if self.flags.is_empty() {
            "ACTIVE".to_owned()
        } else {
            self.flags.join("|")
        }
    }
}

/// What the engine knows about the last login. No engine here records it durably.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "at", rename_all = "snake_case")]
pub enum LastLogin {
    /// The engine keeps no last-login time.
    NotRecorded,
    /// Seen only in a session open at collection time (SQL Server).
    ActiveSession(String),
    /// The engine only knows open sessions, and this principal had none (SQL Server).
    NoOpenSession,
    /// The last successful login in the login evidence's window (UTC, RFC 3339).
    Logged(String),
    /// No login in the window, and the log covers all of it.
    NeverInWindow,
    /// No login since the log starts (its first record, given), later than the window's start.
    NeverSince(String),
}

impl LastLogin {
    pub fn display(&self) -> String {
        match self {
            LastLogin::NotRecorded => "NOT RECORDED BY ENGINE".to_owned(),
            LastLogin::ActiveSession(at) => format!("{at} (open session)"),
            LastLogin::NoOpenSession => "NO OPEN SESSION (NO LOGIN HISTORY KEPT)".to_owned(),
            LastLogin::Logged(at) => at.clone(),
            LastLogin::NeverInWindow => "NEVER IN WINDOW".to_owned(),
            LastLogin::NeverSince(from) => format!("NEVER SINCE {from} (THE LOG STARTS THERE)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_settings_are_read_typed_and_the_earlier_line_of_text_is_set_aside() {
        let settings = LoginSettings {
            log_connections: "on".into(),
            log_min_messages: "warning".into(),
            lc_messages: "C".into(),
            overridden: false,
        };
        let collected = Collected {
            server_version: "15.10".into(),
            tls: TlsMode::VerifyFull,
            server_certificate_sha256: None,
            admin_definition_version: ADMIN_DEFINITION_VERSION.into(),
            queries: vec![],
            principals_examined: 0,
            catalog_warnings: vec![],
            principals: vec![],
            login_evidence: None,
            login_settings: Some(Box::new(settings.clone())),
        };
        let json = serde_json::to_value(&collected).unwrap();
        assert_eq!(json["login_settings"]["log_connections"], "on");
        let back: Collected = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back.login_settings.as_deref(), Some(&settings));

        // A result of 2026-12-03 still reads; its line of text is not believed.
        let mut earlier = json;
        earlier.as_object_mut().unwrap().remove("login_settings");
        earlier["login_logging"] = "log_connections=on; log_min_messages=warning; lc_messages=C; overridden=f".into();
        let read: Collected = serde_json::from_value(earlier).unwrap();
        assert_eq!(read.login_settings, None);
    }
}
