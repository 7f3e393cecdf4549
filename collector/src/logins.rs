//! Login evidence (docs/report.md, "Last login"): a database's own connection log, read over a
//! window, gives each principal its last successful login. Parsing and attribution are pure and
//! tested on hostile lines; [`evidence`] reads the log the inventory names (`login_log`).
//!
//! Only logs that cannot be made to say another's login are read: PostgreSQL's `jsonlog` (15+) and
//! `csvlog`, whose user field is the server's (the session's authenticated login) and escaped. Any
//! session can write the *words* of a login (`RAISE LOG`), and PostgreSQL's plain `stderr` format
//! and MariaDB's audit log write client-chosen names as they are (even a failed login's user or
//! database name, line breaks included), so a line of anyone's choosing can read as another's
//! login: those logs are refused, with that reason.

use dbadmin_contracts::{Collected, Engine, LastLogin, LoginEvidence, LoginSettings, Principal, Target};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The window asked for when none is configured (days, ending at collection).
pub const DEFAULT_WINDOW_DAYS: u32 = 90;

/// One successful login: who, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub at: OffsetDateTime,
}

/// What one log says: each successful login, and what it covers.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    pub logins: Vec<Login>,
    /// The first and last record of any kind: what the log covers.
    pub first: Option<OffsetDateTime>,
    pub last: Option<OffsetDateTime>,
    /// Login records that name no user, or a time that cannot be read.
    pub unattributed: u64,
    /// The postmaster's lines saying a setting that decides whether logins are written changed at
    /// a reload: `(setting, new value, when)` ([`Parsed::never_from`]).
    pub changes: Vec<(String, String, OffsetDateTime)>,
}

impl Parsed {
    fn saw(&mut self, at: OffsetDateTime) {
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
    }

    /// Where "never" may start, from the settings' changes in time order: after `log_connections`
    /// comes back on from an `off` the log shows, or after any change of `log_min_messages`,
    /// `log_destination` or `lc_messages` (a change to `fatal` is not itself written, so each
    /// counts); `log_connections` still off at the log's end (turned on by a restart) leaves
    /// only the log's end. `None`: the log's own start stands.
    pub fn never_from(&self) -> Option<OffsetDateTime> {
        let mut changes: Vec<&(String, String, OffsetDateTime)> = self.changes.iter().collect();
        changes.sort_by_key(|(.., at)| *at);
        let (mut from, mut off) = (None, false);
        for (name, value, at) in changes {
            if name != "log_connections" || (off && connections_logged(value)) {
                from = Some(*at);
            }
            if name == "log_connections" {
                off = !connections_logged(value);
            }
        }
        if off {
            from = self.last.or(from);
        }
        from
    }

    /// Another log's (a CloudWatch event's, a file's) findings.
    fn merge(&mut self, other: Parsed) {
        self.logins.extend(other.logins);
        self.unattributed += other.unattributed;
        for at in other.first.into_iter().chain(other.last) {
            self.saw(at);
        }
        self.changes.extend(other.changes);
    }
}

/// PostgreSQL's log time, `2026-12-03 22:14:08.123 UTC` (or `GMT`, or a numeric offset such as
/// `+01` / `+0100`): the format of `log_line_prefix`'s `%m`/`%t`, `jsonlog`'s and `csvlog`'s.
pub fn postgres_time(text: &str) -> Option<OffsetDateTime> {
    let (stamp, zone) = text.trim().rsplit_once(' ')?;
    let offset = match zone {
        "UTC" | "GMT" | "Z" => time::UtcOffset::UTC,
        z if z.starts_with(['+', '-']) => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits = &z[1..];
            let (h, m) = match digits.len() {
                2 => (digits.parse::<i8>().ok()?, 0),
                4 => (digits[..2].parse::<i8>().ok()?, digits[2..].parse::<i8>().ok()?),
                _ => return None,
            };
            time::UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
        _ => return None,
    };
    let (date, clock) = stamp.split_once(' ')?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(date, &format).ok()?;
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let mut parts = hms.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, s) = (parts.next()??, parts.next()??, parts.next()??);
    let nanos = format!("{fraction:0<9}").get(..9)?.parse::<u32>().ok()?;
    let clock = time::Time::from_hms_nano(h, m, s, nanos).ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_offset(offset).to_offset(time::UtcOffset::UTC))
}

const AUTHORIZED: &str = "connection authorized:";
/// The words of the server's own line when a setting changes at a reload.
const CHANGED: &str = "changed to";

/// The setting and its new value when a record is the postmaster's own line at a reload saying a
/// setting that decides whether logins are written changed (`parameter "log_connections" changed
/// to "off"`). Only the postmaster's records count: any session, and any background worker running
/// a user's code (autovacuum evaluating an index expression), can RAISE the words.
fn login_logging_change<'m>(backend_type: Option<&str>, message: &'m str) -> Option<(&'m str, &'m str)> {
    if backend_type != Some("postmaster") {
        return None;
    }
    let (name, rest) = message.strip_prefix("parameter \"")?.split_once('"')?;
    let value = rest.strip_prefix(' ')?.strip_prefix(CHANGED)?.strip_prefix(" \"")?.strip_suffix('"')?;
    ["log_connections", "log_min_messages", "log_destination", "lc_messages"].contains(&name).then_some((name, value))
}

/// A csvlog record starts with its log time and a comma: `2026-12-03 22:14:08.123 UTC,` (whatever
/// the zone: one this collector cannot read makes the record unreadable, not another format).
fn looks_like_csvlog(line: &str) -> bool {
    let Some((time, _)) = line.split_once(',') else { return false };
    let words: Vec<&str> = time.split(' ').collect();
    words.len() == 3
        && words[0].len() == 10
        && words[0].bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && words[1].bytes().all(|b| b.is_ascii_digit() || b == b':' || b == b'.')
}

/// Whether a PostgreSQL message is a successful login (a replication connection's included).
fn is_login(message: &str) -> bool {
    message.starts_with(AUTHORIZED) || message.starts_with("replication connection authorized:")
}

/// Why PostgreSQL's plain `stderr` format is not read.
const STDERR_REFUSED: &str = "the log is in PostgreSQL's stderr format, where a client can write a line that reads as \
     another role's login (a failed login's user and database names are written as sent, line breaks included): set \
     log_destination to jsonlog or csvlog";

/// A PostgreSQL log in `jsonlog` (one JSON object a line) or `csvlog` format: each login is
/// attributed by the record's user field, never by the message's words. `Err` names why the log
/// cannot serve as evidence (the `stderr` format, or no record PostgreSQL wrote).
pub fn parse_postgres(text: &str) -> Result<Parsed, String> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let mut parsed = Parsed::default();
    if first.trim_start().starts_with('{') {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(at) = record["timestamp"].as_str().and_then(postgres_time) else { continue };
            parsed.saw(at);
            let message = record["message"].as_str().unwrap_or_default();
            if let Some((name, value)) = login_logging_change(record["backend_type"].as_str(), message) {
                parsed.changes.push((name.to_owned(), value.to_owned(), at));
            }
            if record["message"].as_str().is_some_and(is_login) {
                match record["user"].as_str().filter(|u| !u.is_empty()) {
                    Some(user) => parsed.logins.push(Login { user: user.to_owned(), at }),
                    None => parsed.unattributed += 1,
                }
            }
        }
    } else if looks_like_csvlog(first) {
        // csvlog: log_time, user_name, database_name, …, message (the 14th column); quoted, so a
        // record may span lines.
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        for record in reader.records().flatten() {
            let Some(at) = record.get(0).and_then(postgres_time) else { continue };
            parsed.saw(at);
            // backend_type is the 24th column (PostgreSQL 13+).
            if let Some((name, value)) = login_logging_change(record.get(23), record.get(13).unwrap_or_default()) {
                parsed.changes.push((name.to_owned(), value.to_owned(), at));
            }
            if record.get(13).is_some_and(is_login) {
                match record.get(1).filter(|u| !u.is_empty()) {
                    Some(user) => parsed.logins.push(Login { user: user.to_owned(), at }),
                    None => parsed.unattributed += 1,
                }
            }
        }
    } else {
        return Err(STDERR_REFUSED.into());
    }
    if parsed.first.is_none() {
        return Err("the log holds no record PostgreSQL wrote".into());
    }
    Ok(parsed)
}

/// The principal a login is of: the one reported under that role name (PostgreSQL's roles have no
/// host). `None` when none is, or (never on PostgreSQL) more than one could be meant.
fn account_of(principals: &[Principal], login: &Login) -> Option<usize> {
    let mut same = principals.iter().enumerate().filter(|(_, p)| p.name == login.user).map(|(i, _)| i);
    match (same.next(), same.next()) {
        (Some(i), None) => Some(i),
        _ => None,
    }
}

/// Sets each principal's last login from `parsed` over `window_days` ending at `now`, and says
/// what the evidence was. A principal with no login: `NEVER IN WINDOW` when the log covers all of
/// the window, else "never since the log starts".
pub fn attribute(
    principals: &mut [Principal],
    parsed: &Parsed,
    source: &str,
    sha256: String,
    window_days: u32,
    now: OffsetDateTime,
) -> LoginEvidence {
    let start = now - time::Duration::days(i64::from(window_days));
    let mut last: BTreeMap<usize, OffsetDateTime> = BTreeMap::new();
    let (mut logins, mut unattributed) = (0, parsed.unattributed);
    // A login dated after collection is no evidence of anything.
    for login in parsed.logins.iter().filter(|l| l.at >= start && l.at <= now) {
        logins += 1;
        match account_of(principals, login) {
            Some(i) => {
                let seen = last.entry(i).or_insert(login.at);
                *seen = (*seen).max(login.at);
            }
            // Not a reported principal, or an account that cannot be told apart.
            None if principals.iter().any(|p| p.name == login.user) => unattributed += 1,
            None => {}
        }
    }
    // "Never" holds only since the log starts, and since the server last changed whether it
    // writes logins.
    let first = parsed.first.unwrap_or(now);
    let first = parsed.never_from().map_or(first, |from| from.max(first));
    for (i, p) in principals.iter_mut().enumerate() {
        p.last_login = match last.get(&i) {
            Some(at) => LastLogin::Logged(dbadmin_contracts::format_rfc3339(*at)),
            None if first <= start => LastLogin::NeverInWindow,
            None => LastLogin::NeverSince(dbadmin_contracts::format_rfc3339(first)),
        };
    }
    LoginEvidence {
        source: source.to_owned(),
        window_days,
        covers_from: parsed.first.map(dbadmin_contracts::format_rfc3339),
        covers_to: parsed.last.map(dbadmin_contracts::format_rfc3339),
        logins,
        unattributed,
        sha256,
        missing: None,
    }
}

/// Why a MariaDB database never has login evidence, whether or not its row names a log.
const MARIADB_REFUSED: &str =
    "MariaDB's login log (the server_audit plugin) writes a user name as the client sent it, a \
     failed login's too, line breaks included: any client can write a line that reads as another account's login, so \
     it cannot date one";

/// Why a database has no login evidence when its inventory row names no log.
fn no_log_named(engine: Engine) -> String {
    match engine {
        Engine::Postgres => "no login log named (inventory column login_log); PostgreSQL writes logins with \
                             log_connections on, in jsonlog or csvlog"
            .into(),
        Engine::Mysql => "Oracle MySQL's community server keeps no login log".into(),
        Engine::Mariadb => MARIADB_REFUSED.into(),
        Engine::Sqlserver => "SQL Server Audit is not read; only sessions open at collection are".into(),
    }
}

/// Whether a `log_connections` value writes a login's line ("connection authorized", the
/// `authorization` aspect of 18's lists).
fn connections_logged(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    matches!(value.as_str(), "on" | "true" | "yes" | "1" | "all")
        || value.split(',').map(str::trim).any(|a| matches!(a, "authorization" | "all"))
}

/// Why a PostgreSQL server with the login settings collected (`None`: not read) writes no login
/// line this collector can read, or `None` when it does. A login's line is at level LOG, which `log_min_messages` `fatal`
/// or `panic` drops, and in English only while `lc_messages` is C, POSIX or English.
/// `log_connections` is the server's alone (refused per role or database), but `log_min_messages`
/// and `lc_messages` can be set for a login or a database (`overridden`), and then the collector's
/// session does not show the server's value. Read at collection: the log's own lines say when they
/// changed at a reload ([`Parsed::never_from`]).
fn postgres_logging_off(settings: Option<&LoginSettings>) -> Option<String> {
    let Some(settings) = settings else {
        return Some("the server's login-logging settings could not be read at collection".into());
    };
    let connections = settings.log_connections.trim();
    if !connections_logged(connections) {
        let shown = if connections.is_empty() { "empty" } else { connections };
        return Some(format!(
            "log_connections is {shown} on the server at collection: it does not write logins, so its log \
             cannot date one (turn it on: log_connections = on, in the parameter group on RDS)"
        ));
    }
    if settings.overridden {
        return Some(
            "log_min_messages or lc_messages is set for a login or a database (ALTER ROLE/DATABASE … SET): \
             the collector cannot see whether the server writes logins"
                .into(),
        );
    }
    let level = settings.log_min_messages.trim().to_ascii_lowercase();
    if matches!(level.as_str(), "fatal" | "panic") {
        return Some(format!(
            "log_min_messages is {level} on the server at collection: it drops LOG lines, logins included"
        ));
    }
    let language = settings.lc_messages.trim();
    let lang = language.to_ascii_lowercase();
    let base = lang.split(['.', '@']).next().unwrap_or_default();
    let english = ["", "c", "posix"].contains(&base) || base == "en" || base.starts_with("en_");
    (!english).then(|| {
        format!(
            "lc_messages is {language} on the server at collection: its login lines are not in English, which is read"
        )
    })
}

/// What the collector asks CloudWatch Logs for a `cloudwatch:` login log, as
/// `queries show` prints it and a result records it (the SHA-256 of the text as built, like a
/// query template's): the group's oldest event (what it covers), then the login lines of the window.
pub const CLOUDWATCH_POSTGRES: (&str, &str) = (
    "logs/postgres",
    "FilterLogEvents logGroupName={group} startTime=0 limit=1\n\
     FilterLogEvents logGroupName={group} filterPattern=\"connection authorized:\" startTime={start} endTime={end}\n\
     FilterLogEvents logGroupName={group} filterPattern=\"changed to\" startTime={start} endTime={end}\n",
);
/// The login evidence of `target` (setting each principal's Last Login Date) from the log its
/// inventory row names: `file:PATH` (a log file or a folder of them; local runs only, `local`) or
/// `cloudwatch:GROUP` (through `logs`, in the target's account).
pub async fn evidence(
    target: &Target,
    collected: &mut Collected,
    window_days: u32,
    now: OffsetDateTime,
    local: bool,
    logs: &dyn dbadmin_ports::LoginLogs,
) -> LoginEvidence {
    let Some(source) = target.login_log.as_deref() else {
        return LoginEvidence::missing("", window_days, no_log_named(target.engine));
    };
    let missing = |why: String| LoginEvidence::missing(source, window_days, why);
    match target.engine {
        Engine::Postgres => {
            if let Some(off) = postgres_logging_off(collected.login_settings.as_deref()) {
                return missing(off);
            }
        }
        Engine::Mariadb => return missing(MARIADB_REFUSED.into()),
        engine => return missing(no_log_named(engine)),
    }
    let start = now - time::Duration::days(i64::from(window_days));
    let from_ms = |ms: i64| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok();
    let (parsed, sha256) = if let Some(path) = source.strip_prefix("file:") {
        if !local {
            return missing("file: logs are read by local runs only".into());
        }
        let files = match read_log(std::path::Path::new(path)) {
            Ok(files) => files,
            Err(e) => return missing(format!("cannot read {path}: {e}")),
        };
        // Each file in its own format: a folder holding a stderr file beside a jsonlog one (with
        // log_destination = 'stderr,jsonlog') is refused, not read as jsonlog.
        let (mut parsed, mut read) = (Parsed::default(), Vec::new());
        for bytes in &files {
            read.extend_from_slice(bytes);
            if !read.ends_with(b"\n") {
                read.push(b'\n');
            }
            match parse_postgres(&String::from_utf8_lossy(bytes)) {
                Ok(one) => parsed.merge(one),
                Err(why) if why == STDERR_REFUSED => return missing(why),
                Err(_) => {}
            }
        }
        if parsed.first.is_none() {
            return missing("the log holds no record PostgreSQL wrote".into());
        }
        (parsed, dbadmin_contracts::sha256_hex(&read))
    } else if let Some(group) = source.strip_prefix("cloudwatch:") {
        let ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
        let asked = CLOUDWATCH_POSTGRES
            .1
            .replace("{group}", group)
            .replace("{start}", &ms(start).to_string())
            .replace("{end}", &ms(now).to_string());
        collected.queries.push(dbadmin_contracts::QueryRecord {
            name: CLOUDWATCH_POSTGRES.0.to_owned(),
            sha256: dbadmin_contracts::sha256_hex(asked.as_bytes()),
        });
        let read = match logs.read(target, group, &[AUTHORIZED, CHANGED], ms(start), ms(now)).await {
            Ok(read) => read,
            Err(e) => return missing(e.to_string()),
        };
        let Some(oldest) = read.oldest.and_then(from_ms) else {
            return missing(format!("log group {group} holds no event"));
        };
        match parse_events(&read.events) {
            // CloudWatch returns the login lines only: what the group covers is its oldest event.
            Ok(mut parsed) => {
                parsed.first = Some(parsed.first.map_or(oldest, |f| f.min(oldest)));
                parsed.last = Some(now);
                let all: Vec<&str> = read.events.iter().map(|(_, m)| m.as_str()).collect();
                (parsed, dbadmin_contracts::sha256_hex(all.join("\n").as_bytes()))
            }
            Err(why) => return missing(why),
        }
    } else {
        return missing(format!("{source} is not a login log this collector reads"));
    };
    attribute(&mut collected.principals, &parsed, source, sha256, window_days, now)
}

/// CloudWatch Logs events, each one record as RDS exported it, parsed one by one (a record that
/// cannot be read spoils no other). An event in the `stderr` format refuses the log; login lines
/// that are all unreadable are no evidence, never "no login".
fn parse_events(events: &[(i64, String)]) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut unreadable = 0;
    for (_, message) in events {
        match parse_postgres(message) {
            Ok(one) => {
                parsed.merge(one);
            }
            Err(why) if why == STDERR_REFUSED => return Err(why),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 && unreadable == events.len() {
        return Err(format!("none of the {unreadable} login lines could be read (a log time in a named zone?)"));
    }
    parsed.unattributed += unreadable as u64;
    Ok(parsed)
}

/// A file, or every file of a folder (not recursing, in name order).
fn read_log(path: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    if !path.is_dir() {
        return Ok(vec![std::fs::read(path)?]);
    }
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    files.into_iter().map(std::fs::read).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dbadmin_contracts::{AccountStatus, Level, PrincipalKind};

    fn at(text: &str) -> OffsetDateTime {
        dbadmin_contracts::parse_rfc3339(text).unwrap()
    }

    fn principal(name: &str) -> Principal {
        Principal {
            name: name.into(),
            host: None,
            kind: PrincipalKind::User,
            level: Level::Admin,
            findings: vec![],
            status: AccountStatus::default(),
            password_last_changed: None,
            password_set: None,
            last_login: LastLogin::NotRecorded,
            auth_plugin: None,
            vendor_managed: false,
            notes: vec![],
        }
    }

    fn json(ts: &str, user: &str, message: &str) -> String {
        serde_json::json!({"timestamp": ts, "user": user, "dbname": "postgres", "message": message}).to_string()
    }

    fn csv_line(ts: &str, user: &str, message: &str) -> String {
        format!(
            "{ts},\"{}\",\"postgres\",42,\"10.0.0.5:40000\",abc,2,\"authentication\",{ts},3/1,0,LOG,00000,\"{}\",,,,,,,,,\"\",\"client backend\",,0",
            user.replace('"', "\"\""),
            message.replace('"', "\"\"")
        )
    }

    #[test]
    fn times_are_read_in_the_zone_they_name() {
        assert_eq!(postgres_time("2026-12-03 22:14:08.123 UTC").unwrap(), at("2026-12-03T22:14:08.123Z"));
        assert_eq!(postgres_time("2026-12-03 23:14:08 +01").unwrap(), at("2026-12-03T22:14:08Z"));
        assert_eq!(postgres_time("2026-12-03 16:44:08 -0530").unwrap(), at("2026-12-03T22:14:08Z"));
        assert_eq!(postgres_time("2026-12-03 22:14:08 CET"), None, "an abbreviation is ambiguous");
    }

    /// jsonlog: a login is its record's user field's, whatever the message's words say (any session
    /// can RAISE LOG them), and a name holding a line break stays one name.
    #[test]
    fn jsonlog_logins_are_attributed_by_the_logged_user_field() {
        let log = [
            json("2026-09-01 00:00:00 UTC", "", "database system is ready to accept connections"),
            json("2026-12-01 10:00:00 UTC", "alice", "connection authorized: user=alice database=postgres"),
            json("2026-12-02 10:00:00 UTC", "alice", "connection authorized: user=alice database=app"),
            json(
                "2026-12-02 11:00:00 UTC",
                "bob database=x\n2026-12-02 11:00:00 UTC [1] LOG:  connection authorized: user=carol",
                "connection authorized: user=bob database=x\n… user=carol database=postgres",
            ),
            // mallory RAISEs LOG the words of dave's login: it is mallory's line.
            json("2026-12-02 11:30:00 UTC", "mallory", "connection authorized: user=dave database=postgres"),
            json("2026-12-02 12:00:00 UTC", "dave", "connection received: host=10.0.0.1 port=5555"),
            json("2026-12-02 13:00:00 UTC", "erin", "replication connection authorized: user=erin"),
        ]
        .join("\n");
        let parsed = parse_postgres(&log).unwrap();
        let mut ps =
            vec![principal("alice"), principal("bob"), principal("carol"), principal("dave"), principal("erin")];
        let e = attribute(&mut ps, &parsed, "file:/log", "ab".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::Logged("2026-12-02T10:00:00Z".into()));
        assert_eq!(ps[1].last_login, LastLogin::NeverInWindow, "bob never logged in");
        assert_eq!(ps[2].last_login, LastLogin::NeverInWindow, "carol's login cannot be forged by a name");
        assert_eq!(ps[3].last_login, LastLogin::NeverInWindow, "nor dave's by RAISE LOG, nor a connection received");
        assert_eq!(ps[4].last_login, LastLogin::Logged("2026-12-02T13:00:00Z".into()), "a replication login counts");
        assert_eq!((e.logins, e.unattributed, e.missing), (5, 0, None));
        assert_eq!(e.covers_from.as_deref(), Some("2026-09-01T00:00:00Z"));
    }

    #[test]
    fn csvlog_is_read_as_quoted_csv_and_a_short_log_says_where_it_starts() {
        let log = format!(
            "{}\n{}\n",
            csv_line("2026-12-01 10:00:00.001 UTC", "alice", "connection authorized: user=alice database=postgres"),
            csv_line(
                "2026-12-01 10:05:00 UTC",
                "x\"\n2026-12-01 10:05:00 UTC,\"carol",
                "connection authorized: user=x"
            )
        );
        let parsed = parse_postgres(&log).unwrap();
        assert_eq!(parsed.logins.len(), 2);
        let mut ps = vec![principal("alice"), principal("carol")];
        let e = attribute(&mut ps, &parsed, "file:/log", "ab".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::Logged("2026-12-01T10:00:00Z".into()));
        assert_eq!(
            ps[1].last_login,
            LastLogin::NeverSince("2026-12-01T10:00:00Z".into()),
            "a quoted line break forges nothing"
        );
        assert_eq!(e.logins, 2);
    }

    #[test]
    fn logins_outside_the_window_do_not_count_and_stderr_is_refused() {
        let log = [
            json("2026-01-01 00:00:00 UTC", "alice", "connection authorized: user=alice database=postgres"),
            json("2027-01-01 00:00:00 UTC", "alice", "connection authorized: user=alice database=postgres"),
        ]
        .join("\n");
        let mut ps = vec![principal("alice")];
        attribute(&mut ps, &parse_postgres(&log).unwrap(), "f", "x".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::NeverInWindow, "before the window, and after collection");
        // RDS's stderr prefix: a failed login's database name is written as sent, so it can hold a
        // whole login line of anyone's.
        let stderr = "2026-12-01 10:00:00 UTC:10.0.0.5(40000):root@x:[1]:LOG:  connection authorized: user=root \
                      database=x:[99]:FATAL:  password authentication failed for user \"root\"\n";
        assert!(parse_postgres(stderr).unwrap_err().contains("stderr format"));
    }

    /// CloudWatch events are read one by one: a csvlog record that cannot be read spoils no other,
    /// an all-unreadable log is no evidence (never "no login"), and a stderr event refuses the log.
    #[test]
    fn cloudwatch_events_are_parsed_one_by_one() {
        let good = csv_line("2026-12-01 10:00:00 UTC", "alice", "connection authorized: user=alice database=postgres");
        let broken = "2026-12-01 10:00:00 PST,\"bob\",\"unterminated".to_owned();
        let parsed = parse_events(&[(0, broken.clone()), (0, good)]).unwrap();
        assert_eq!((parsed.logins.len(), parsed.unattributed), (1, 1));
        assert!(parse_events(&[(0, broken)]).unwrap_err().contains("could be read"));
        let stderr = "2026-12-01 10:00:00 UTC:h(1):a@b:[1]:LOG:  connection authorized: user=a database=b".to_owned();
        assert!(parse_events(&[(0, stderr)]).unwrap_err().contains("stderr format"));
    }

    /// The postmaster says at a reload that log_connections went off and came back on: before
    /// then its log may lack logins, so "never" holds only since. A session, or a background worker
    /// running a user's code, writing the same words changes nothing.
    #[test]
    fn never_holds_only_since_the_server_last_changed_whether_it_logs_logins() {
        let from = |backend: &str, ts: &str, message: &str| {
            serde_json::json!({"timestamp": ts, "pid": 1, "error_severity": "LOG", "message": message,
                "backend_type": backend})
            .to_string()
        };
        let changed = |v: &str| format!("parameter \"log_connections\" changed to \"{v}\"");
        let log = [
            json("2026-08-01 00:00:00 UTC", "", "database system is ready to accept connections"),
            json("2026-10-01 00:00:00 UTC", "alice", "connection authorized: user=alice database=postgres"),
            from("postmaster", "2026-10-20 00:00:00 UTC", &changed("off")),
            from("postmaster", "2026-11-01 00:00:00 UTC", &changed("on")),
            from("autovacuum worker", "2026-11-10 00:00:00 UTC", &changed("on")),
            json("2026-11-20 00:00:00 UTC", "mallory", &changed("on")),
        ]
        .join("\n");
        let parsed = parse_postgres(&log).unwrap();
        assert_eq!(parsed.never_from(), Some(at("2026-11-01T00:00:00Z")), "only the postmaster's lines count");
        let mut ps = vec![principal("alice"), principal("bob")];
        attribute(&mut ps, &parsed, "f", "x".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::Logged("2026-10-01T00:00:00Z".into()), "a logged login stays");
        assert_eq!(ps[1].last_login, LastLogin::NeverSince("2026-11-01T00:00:00Z".into()));
        // Turned on with nothing off before it in the log: the window stands.
        let on_only =
            [log.lines().next().unwrap().to_owned(), from("postmaster", "2026-11-01 00:00:00 UTC", &changed("on"))];
        assert_eq!(parse_postgres(&on_only.join("\n")).unwrap().never_from(), None);
        // csvlog: backend_type is the 24th column; any change of log_min_messages counts.
        let csv = format!(
            "{}\n{}\n",
            csv_line("2026-08-01 00:00:00 UTC", "", "database system is ready to accept connections"),
            csv_line("2026-11-02 00:00:00 UTC", "", "parameter \"log_min_messages\" changed to \"warning\"")
                .replace("\"client backend\"", "\"postmaster\"")
        );
        assert_eq!(parse_postgres(&csv).unwrap().never_from(), Some(at("2026-11-02T00:00:00Z")));
    }

    /// A server's login-logging settings with `log_connections` as given, the rest as it writes logins.
    fn logging(log_connections: &str) -> LoginSettings {
        LoginSettings {
            log_connections: log_connections.into(),
            log_min_messages: "warning".into(),
            lc_messages: "C".into(),
            overridden: false,
        }
    }

    #[test]
    fn a_server_that_writes_no_login_line_is_named() {
        let settings = |c: &str, level: &str, lang: &str, over: &str| LoginSettings {
            log_connections: c.into(),
            log_min_messages: level.into(),
            lc_messages: lang.into(),
            overridden: over == "t",
        };
        for on in ["on", "all", "receipt,authorization", "TRUE", "receipt, authorization"] {
            assert_eq!(postgres_logging_off(Some(&settings(on, "warning", "C", "f"))), None, "{on}");
        }
        for lang in ["", "en_US.UTF-8", "POSIX", "C.UTF-8", "C"] {
            assert_eq!(postgres_logging_off(Some(&settings("on", "notice", lang, "f"))), None, "{lang}");
        }
        for off in ["off", "", "receipt,authentication", "setup_durations", "0"] {
            let why = postgres_logging_off(Some(&settings(off, "warning", "C", "f"))).unwrap();
            assert!(why.starts_with("log_connections is "), "{off}: {why}");
        }
        let quiet = postgres_logging_off(Some(&settings("on", "fatal", "C", "f"))).unwrap();
        assert!(quiet.starts_with("log_min_messages is fatal"), "{quiet}");
        let german = postgres_logging_off(Some(&settings("on", "warning", "de_DE.UTF-8", "f"))).unwrap();
        assert!(german.starts_with("lc_messages is de_DE.UTF-8"), "{german}");
        let masked = postgres_logging_off(Some(&settings("on", "warning", "C", "t"))).unwrap();
        assert!(masked.contains("set for a login or a database"), "{masked}");
        assert!(postgres_logging_off(None).unwrap().contains("could not be read"), "unknown is not on");
    }

    /// A server that does not write logins has no evidence, whatever its log holds.
    #[tokio::test]
    async fn a_log_of_a_server_with_log_connections_off_dates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("postgresql.json");
        let line = json("2026-12-01 10:00:00 UTC", "fx_super", "connection authorized: user=fx_super database=x");
        std::fs::write(&path, line).unwrap();
        let target = Target {
            engine: Engine::Postgres,
            login_log: Some(format!("file:{}", path.display())),
            ..dbadmin_ports::fixtures::target("p")
        };
        let mut collected = collected(vec![principal("fx_super")]);
        collected.login_settings = Some(Box::new(logging("off")));
        let now = at("2026-12-04T00:00:00Z");
        let e = evidence(&target, &mut collected, 90, now, true, &dbadmin_ports::logs::NoCloudLogs).await;
        assert!(e.missing.unwrap().contains("log_connections is off"));
        assert_eq!(collected.principals[0].last_login, LastLogin::NotRecorded);
        collected.login_settings = Some(Box::new(logging("on")));
        let e = evidence(&target, &mut collected, 90, now, true, &dbadmin_ports::logs::NoCloudLogs).await;
        assert_eq!((e.missing, e.logins), (None, 1));
        assert_eq!(collected.principals[0].last_login, LastLogin::Logged("2026-12-01T10:00:00Z".into()));
    }

    /// A folder with a stderr file beside the jsonlog one: a failed login's name in the stderr
    /// file can hold a whole jsonlog line, so the folder is refused, not read as jsonlog.
    #[tokio::test]
    async fn a_folder_holding_a_stderr_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let line = json("2026-12-01 10:00:00 UTC", "fx_super", "connection authorized: user=fx_super database=x");
        std::fs::write(dir.path().join("postgresql.json"), &line).unwrap();
        let forged =
            format!("2026-12-01 10:00:00 UTC [9] FATAL:  password authentication failed for user \"x\n\t{line}\"\n");
        std::fs::write(dir.path().join("postgresql.log"), forged).unwrap();
        let target = Target {
            engine: Engine::Postgres,
            login_log: Some(format!("file:{}", dir.path().display())),
            ..dbadmin_ports::fixtures::target("p")
        };
        let mut collected = collected(vec![principal("fx_super")]);
        collected.login_settings = Some(Box::new(logging("on")));
        let now = at("2026-12-04T00:00:00Z");
        let e = evidence(&target, &mut collected, 90, now, true, &dbadmin_ports::logs::NoCloudLogs).await;
        assert!(e.missing.unwrap().contains("stderr format"));
        std::fs::remove_file(dir.path().join("postgresql.log")).unwrap();
        let e = evidence(&target, &mut collected, 90, now, true, &dbadmin_ports::logs::NoCloudLogs).await;
        assert_eq!((e.missing, e.logins), (None, 1), "the jsonlog file alone is read");
    }

    fn collected(principals: Vec<Principal>) -> Collected {
        Collected {
            server_version: "x".into(),
            tls: dbadmin_contracts::TlsMode::VerifyFull,
            server_certificate_sha256: None,
            admin_definition_version: "v".into(),
            queries: vec![],
            principals_examined: 2,
            catalog_warnings: vec![],
            principals,
            login_evidence: None,
            login_settings: None,
        }
    }

    /// MariaDB's audit plugin writes a failed login's user name as sent: a line of anyone's choosing.
    #[tokio::test]
    async fn an_audit_log_is_refused_as_evidence() {
        let target = Target {
            engine: Engine::Mariadb,
            login_log: Some("cloudwatch:/aws/rds/instance/m/audit".into()),
            ..dbadmin_ports::fixtures::target("m")
        };
        let mut collected = collected(vec![principal("fx_super")]);
        let e =
            evidence(&target, &mut collected, 90, at("2026-12-04T00:00:00Z"), true, &dbadmin_ports::logs::NoCloudLogs)
                .await;
        assert!(e.missing.unwrap().contains("a failed login's too"));
        assert_eq!(collected.principals[0].last_login, LastLogin::NotRecorded);
    }
}
