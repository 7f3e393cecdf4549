//! Login evidence (docs/report.md, "Last login"): a database's own connection log, read over a
//! window, gives each principal its last successful login. Parsing and attribution are pure and
//! tested on hostile lines; [`evidence`] reads the log the inventory names (`login_log`).
//!
//! PostgreSQL's `jsonlog` (15+) and `csvlog` escape what they log. PostgreSQL's plain `stderr`
//! format and MariaDB's audit log (`server_audit`) write names as they are, so a name holding a
//! line break writes a line of its choosing and could forge a login for anyone: the `stderr`
//! format is refused, and an audit log is believed only when no account of the server has a line
//! break in its name.

use dbadmin_contracts::{Collected, Engine, LastLogin, LoginEvidence, Principal, Target};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The window asked for when none is configured (days, ending at collection).
pub const DEFAULT_WINDOW_DAYS: u32 = 90;

/// One successful login: who (`host` is the client's, for engines whose accounts have hosts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub host: Option<String>,
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
}

impl Parsed {
    fn saw(&mut self, at: OffsetDateTime) {
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
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

/// A PostgreSQL log in `jsonlog` (one JSON object a line) or `csvlog` format. `Err` names why the
/// log cannot serve as evidence (the `stderr` format, or nothing readable).
pub fn parse_postgres(text: &str, forgeable: bool) -> Result<Parsed, String> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let mut parsed = Parsed::default();
    if first.trim_start().starts_with('{') {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(at) = record["timestamp"].as_str().and_then(postgres_time) else { continue };
            parsed.saw(at);
            if record["message"].as_str().is_some_and(|m| m.starts_with(AUTHORIZED)) {
                match record["user"].as_str().filter(|u| !u.is_empty()) {
                    Some(user) => parsed.logins.push(Login { user: user.to_owned(), host: None, at }),
                    None => parsed.unattributed += 1,
                }
            }
        }
    } else if postgres_time(first.split(',').next().unwrap_or_default()).is_some() {
        // csvlog: log_time, user_name, database_name, …, message (the 14th column); quoted, so a
        // record may span lines.
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        for record in reader.records().flatten() {
            let Some(at) = record.get(0).and_then(postgres_time) else { continue };
            parsed.saw(at);
            if record.get(13).is_some_and(|m| m.starts_with(AUTHORIZED)) {
                match record.get(1).filter(|u| !u.is_empty()) {
                    Some(user) => parsed.logins.push(Login { user: user.to_owned(), host: None, at }),
                    None => parsed.unattributed += 1,
                }
            }
        }
    } else if forgeable {
        return Err("the log is in PostgreSQL's stderr format, which writes role names as they are, and a role of \
                    this server has a name that could write a login line of its choosing (a line break, or \
                    ' database=' or 'user=' in it): set log_destination to jsonlog or csvlog"
            .into());
    } else {
        parse_postgres_stderr(text, &mut parsed);
    }
    if parsed.first.is_none() {
        return Err("the log holds no record PostgreSQL wrote".into());
    }
    Ok(parsed)
}

/// PostgreSQL's `stderr` format, as RDS writes and exports it (`log_line_prefix`
/// `%t:%r:%u@%d:[%p]:`): each line that starts with a time is a record; a login is
/// `…:USER@DB:[PID]:LOG:  connection authorized: user=USER database=…`. Any session can write a
/// line of that text (`RAISE LOG`), but not the prefix, which is the server's: a login counts only
/// when the prefix names the same user. A prefix without the user (`%m [%p] `) proves nothing, so
/// its login lines count for no one. Read only when no role's name could write a whole line itself
/// ([`parse_postgres`]).
fn parse_postgres_stderr(text: &str, parsed: &mut Parsed) {
    let marker = format!(":LOG:  {AUTHORIZED} user=");
    for line in text.lines() {
        let mut words = line.splitn(3, ' ');
        let (Some(date), Some(clock), Some(rest)) = (words.next(), words.next(), words.next()) else { continue };
        let zone = rest.split([' ', ':']).next().unwrap_or_default();
        let Some(at) = postgres_time(&format!("{date} {clock} {zone}")) else { continue };
        parsed.saw(at);
        let Some((prefix, after)) = line.split_once(&marker) else {
            if line.contains(&format!("LOG:  {AUTHORIZED} user=")) {
                parsed.unattributed += 1;
            }
            continue;
        };
        // The prefix ends `:USER@DB:[PID]`; the message says `USER database=…`.
        let by_prefix = prefix
            .rsplit_once(":[")
            .and_then(|(head, _)| head.rsplit_once(':'))
            .and_then(|(_, user_at_db)| user_at_db.rsplit_once('@'))
            .map(|(user, _)| user);
        let by_message = after.split_once(" database=").map(|(user, _)| user);
        match (by_prefix, by_message) {
            (Some(p), Some(m)) if p == m && !m.is_empty() => {
                parsed.logins.push(Login { user: m.to_owned(), host: None, at })
            }
            _ => parsed.unattributed += 1,
        }
    }
}

/// MariaDB's audit log (`server_audit`, `server_audit_events=CONNECT`), in UTC:
/// `20261203 22:31:05,serverhost,user,client host,connection id,query id,CONNECT,database,,0`. A
/// `CONNECT` with return code 0 is a successful login. The fields after the user are read from the
/// right, so a user name holding commas stays whole; a line whose fields do not fall into place
/// counts for no one.
pub fn parse_mariadb_audit(text: &str, forgeable: bool) -> Result<Parsed, String> {
    if forgeable {
        return Err("an account of this server has a line break in its name, and the audit log writes names as \
                    they are: any line of it could be that account's forgery"
            .into());
    }
    let mut parsed = Parsed::default();
    let format = time::macros::format_description!("[year][month][day] [hour]:[minute]:[second]");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let Some(at) = fields
            .first()
            .and_then(|t| time::PrimitiveDateTime::parse(t, &format).ok())
            .map(time::PrimitiveDateTime::assume_utc)
        else {
            continue;
        };
        parsed.saw(at);
        let n = fields.len();
        if n < 10 || !fields.contains(&"CONNECT") {
            continue;
        }
        let whole = fields[n - 4] == "CONNECT"
            && fields[n - 2].is_empty()
            && [n - 6, n - 5].iter().all(|i| fields[*i].bytes().all(|b| b.is_ascii_digit()) && !fields[*i].is_empty());
        if !whole {
            parsed.unattributed += 1;
            continue;
        }
        if fields[n - 1] != "0" {
            continue;
        }
        let user = fields[2..n - 7].join(",");
        parsed.logins.push(Login { user, host: Some(fields[n - 7].to_owned()), at });
    }
    if parsed.first.is_none() {
        return Err("the log holds no record MariaDB's audit plugin wrote".into());
    }
    Ok(parsed)
}

/// The principal a login is of: by name alone (PostgreSQL), or (MySQL, MariaDB) the one account of
/// that user whose host pattern admits the client's host, preferring an exact host as the server
/// does. `None` when no account or more than one could be meant.
fn account_of(principals: &[Principal], login: &Login) -> Option<usize> {
    let same_user: Vec<usize> =
        principals.iter().enumerate().filter(|(_, p)| p.name == login.user).map(|(i, _)| i).collect();
    let Some(client) = &login.host else {
        return (same_user.len() == 1).then(|| same_user[0]);
    };
    let host = |i: &usize| principals[*i].host.clone().unwrap_or_default();
    if let Some(exact) = same_user.iter().find(|i| host(i).eq_ignore_ascii_case(client)) {
        return Some(*exact);
    }
    let admitting: Vec<usize> = same_user
        .into_iter()
        .filter(|i| !host(i).is_empty() && crate::model::mysql::host_pattern_matches(&host(i), client))
        .collect();
    (admitting.len() == 1).then(|| admitting[0])
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
    for login in parsed.logins.iter().filter(|l| l.at >= start) {
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
    let first = parsed.first.unwrap_or(now);
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

/// Why a database has no login evidence when its inventory row names no log.
fn no_log_named(engine: Engine) -> String {
    match engine {
        Engine::Postgres => "no login log named (inventory column login_log); PostgreSQL writes logins with \
                             log_connections on, in jsonlog or csvlog"
            .into(),
        Engine::Mysql => "Oracle MySQL's community server keeps no login log".into(),
        Engine::Mariadb => "no login log named (inventory column login_log); MariaDB writes logins with the \
                            server_audit plugin (server_audit_events=CONNECT)"
            .into(),
        Engine::Sqlserver => "SQL Server Audit is not read; only sessions open at collection are".into(),
    }
}

/// What the collector asks CloudWatch Logs for a `cloudwatch:` login log, per engine, as
/// `queries show` prints it and a result records it (the SHA-256 of the text as built, like a
/// query template's): the group's oldest event (what it covers), then the login lines of the window.
pub const CLOUDWATCH_POSTGRES: (&str, &str) = (
    "logs/postgres",
    "FilterLogEvents logGroupName={group} startTime=0 limit=1\n\
     FilterLogEvents logGroupName={group} filterPattern=\"connection authorized\" startTime={start} endTime={end}\n",
);
pub const CLOUDWATCH_MARIADB: (&str, &str) = (
    "logs/mariadb",
    "FilterLogEvents logGroupName={group} startTime=0 limit=1\n\
     FilterLogEvents logGroupName={group} filterPattern=\"CONNECT\" startTime={start} endTime={end}\n",
);

/// An engine's log parser: the text, and whether a name could forge a line in it.
type Parser = fn(&str, bool) -> Result<Parsed, String>;

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
    let (parse, phrase, request): (Parser, &str, (&str, &str)) = match target.engine {
        Engine::Postgres => (parse_postgres, AUTHORIZED, CLOUDWATCH_POSTGRES),
        Engine::Mariadb => (parse_mariadb_audit, "CONNECT", CLOUDWATCH_MARIADB),
        engine => return missing(no_log_named(engine)),
    };
    let forgeable = collected.name_could_forge_a_log_line;
    let start = now - time::Duration::days(i64::from(window_days));
    let (text, oldest) = if let Some(path) = source.strip_prefix("file:") {
        if !local {
            return missing("file: logs are read by local runs only".into());
        }
        match read_log(std::path::Path::new(path)) {
            Ok(b) => (String::from_utf8_lossy(&b).into_owned(), None),
            Err(e) => return missing(format!("cannot read {path}: {e}")),
        }
    } else if let Some(group) = source.strip_prefix("cloudwatch:") {
        let ms = |t: OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000) as i64;
        let asked = request
            .1
            .replace("{group}", group)
            .replace("{start}", &ms(start).to_string())
            .replace("{end}", &ms(now).to_string());
        collected.queries.push(dbadmin_contracts::QueryRecord {
            name: request.0.to_owned(),
            sha256: dbadmin_contracts::sha256_hex(asked.as_bytes()),
        });
        match logs.read(target, group, phrase, ms(start), ms(now)).await {
            Ok(read) if read.oldest.is_none() => return missing(format!("log group {group} holds no event")),
            Ok(read) => {
                let lines: Vec<&str> = read.events.iter().map(|(_, m)| m.as_str()).collect();
                (lines.join("\n"), read.oldest)
            }
            Err(e) => return missing(e.to_string()),
        }
    } else {
        return missing(format!("{source} is not a login log this collector reads"));
    };
    let sha256 = dbadmin_contracts::sha256_hex(text.as_bytes());
    match parse(&text, forgeable) {
        Ok(mut parsed) => {
            // CloudWatch returns the login lines only: what the group covers is its oldest event.
            if let Some(oldest) =
                oldest.and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
            {
                parsed.first = Some(oldest);
            }
            attribute(&mut collected.principals, &parsed, source, sha256, window_days, now)
        }
        Err(why) if oldest.is_some() && why.starts_with("the log holds no record") => {
            // A group whose window holds no login: every principal is "never".
            let parsed = Parsed {
                first: oldest.and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()),
                last: Some(now),
                ..Parsed::default()
            };
            attribute(&mut collected.principals, &parsed, source, sha256, window_days, now)
        }
        Err(why) => missing(why),
    }
}

/// A file, or every file of a folder (not recursing, in name order), one after the other.
fn read_log(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    if !path.is_dir() {
        return std::fs::read(path);
    }
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        out.extend(std::fs::read(f)?);
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    Ok(out)
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

    #[test]
    fn times_are_read_in_the_zone_they_name() {
        assert_eq!(postgres_time("2026-12-03 22:14:08.123 UTC").unwrap(), at("2026-12-03T22:14:08.123Z"));
        assert_eq!(postgres_time("2026-12-03 23:14:08 +01").unwrap(), at("2026-12-03T22:14:08Z"));
        assert_eq!(postgres_time("2026-12-03 16:44:08 -0530").unwrap(), at("2026-12-03T22:14:08Z"));
        assert_eq!(postgres_time("2026-12-03 22:14:08 CET"), None, "an abbreviation is ambiguous");
    }

    #[test]
    fn jsonlog_logins_are_attributed_by_the_logged_user_field() {
        let log = [
            json("2026-09-01 00:00:00 UTC", "", "database system is ready to accept connections"),
            json("2026-12-01 10:00:00 UTC", "alice", "connection authorized: user=alice database=postgres"),
            json("2026-12-02 10:00:00 UTC", "alice", "connection authorized: user=alice database=app"),
            // A name that would read as another in the message text is the user field's, whole.
            json(
                "2026-12-02 11:00:00 UTC",
                "bob database=x\n2026-12-02 11:00:00 UTC [1] LOG:  connection authorized: user=carol",
                "connection authorized: user=bob database=x\n… user=carol database=postgres",
            ),
            json("2026-12-02 12:00:00 UTC", "dave", "connection received: host=10.0.0.1 port=5555"),
        ]
        .join("\n");
        let parsed = parse_postgres(&log, false).unwrap();
        let mut ps = vec![principal("alice"), principal("bob"), principal("carol"), principal("dave")];
        let e = attribute(&mut ps, &parsed, "file:/log", "ab".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::Logged("2026-12-02T10:00:00Z".into()));
        assert_eq!(ps[1].last_login, LastLogin::NeverInWindow, "bob never logged in");
        assert_eq!(ps[2].last_login, LastLogin::NeverInWindow, "carol's login cannot be forged");
        assert_eq!(ps[3].last_login, LastLogin::NeverInWindow, "a connection received is not a login");
        assert_eq!((e.logins, e.unattributed, e.missing), (3, 0, None));
        assert_eq!(e.covers_from.as_deref(), Some("2026-09-01T00:00:00Z"));
    }

    #[test]
    fn csvlog_is_read_as_quoted_csv_and_a_short_log_says_where_it_starts() {
        let log = "2026-12-01 10:00:00.001 UTC,\"alice\",\"postgres\",42,\"127.0.0.1:5000\",abc,2,\"authentication\",\
                   2026-12-01 10:00:00 UTC,3/1,0,LOG,00000,\"connection authorized: user=alice database=postgres\",,,,,,,,,\"\",\"client backend\",,0\n\
                   2026-12-01 10:05:00 UTC,\"x\"\"\n2026-12-01 10:05:00 UTC,\"\"carol\",\"postgres\",43,,abd,2,,,,0,LOG,00000,\
                   \"connection authorized: user=x\",,,,,,,,,\"\",\"client backend\",,0\n";
        let parsed = parse_postgres(log, false).unwrap();
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
    fn logins_before_the_window_do_not_count_and_stderr_is_refused() {
        let log = [
            json("2026-01-01 00:00:00 UTC", "alice", "connection authorized: user=alice database=postgres"),
            json("2026-12-01 00:00:00 UTC", "bob", "connection authorized: user=bob database=postgres"),
        ]
        .join("\n");
        let mut ps = vec![principal("alice")];
        attribute(&mut ps, &parse_postgres(&log, false).unwrap(), "f", "x".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::NeverInWindow);
    }

    /// The stderr format as RDS writes it and with the default prefix: read while no role's name
    /// could write a login line of its own, refused once one could.
    #[test]
    fn the_stderr_format_is_read_only_while_no_name_can_forge_a_line() {
        let stderr = "2026-12-01 10:00:00 UTC:10.0.0.5(40000):alice@postgres:[42]:LOG:  connection authorized: \
                      user=alice database=postgres application_name=psql SSL enabled\n\
                      2026-12-01 11:00:00.123 UTC [43] LOG:  connection authorized: user=bob database=app\n\
                      \tcontinued statement text\n\
                      2026-12-01 12:00:00 UTC:10.0.0.6(40001):carol@postgres:[44]:LOG:  connection received: host=x\n";
        let parsed = parse_postgres(stderr, false).unwrap();
        let users: Vec<&str> = parsed.logins.iter().map(|l| l.user.as_str()).collect();
        assert_eq!(users, ["alice"], "bob's line has no user in its prefix: it proves nothing");
        assert_eq!(parsed.unattributed, 1);
        assert_eq!(parsed.last, Some(at("2026-12-01T12:00:00Z")));
        // Any session can RAISE LOG the words of a login; the prefix is the server's and names it.
        let raised = "2026-12-01 10:00:00 UTC:10.0.0.9(40002):mallory@postgres:[45]:LOG:  connection authorized: \
                      user=dormant database=postgres\n";
        let parsed = parse_postgres(raised, false).unwrap();
        assert!(parsed.logins.is_empty() && parsed.unattributed == 1, "{parsed:?}");
        assert!(parse_postgres(stderr, true).unwrap_err().contains("stderr format"));
        // jsonlog is escaped: read whatever the names.
        let json = json("2026-12-01 10:00:00 UTC", "a\nb", "connection authorized: user=a");
        assert_eq!(parse_postgres(&json, true).unwrap().logins.len(), 1);
    }

    fn account(user: &str, host: &str) -> Principal {
        Principal { host: Some(host.into()), ..principal(user) }
    }

    #[test]
    fn mariadb_audit_logins_are_attributed_to_the_account_the_server_would_pick() {
        let log = "20260901 00:00:00,vm,root,localhost,1,0,CONNECT,,,0\n\
                   20261201 10:00:00,vm,alice,10.0.0.7,4,0,CONNECT,app,,0\n\
                   20261201 10:00:01,vm,alice,10.0.0.7,4,0,DISCONNECT,app,,0\n\
                   20261202 10:00:00,vm,bob,10.0.0.8,5,0,FAILED_CONNECT,,,1045\n\
                   20261202 11:00:00,vm,o,dd,192.168.1.1,6,0,CONNECT,,,0\n\
                   20261202 12:00:00,vm,carol,localhost,7,0,CONNECT,,,0\n";
        let parsed = parse_mariadb_audit(log, false).unwrap();
        assert_eq!(parsed.logins.len(), 4, "{parsed:?}");
        assert_eq!(parsed.logins[2].user, "o,dd", "a comma in a name keeps it whole");
        let mut ps = vec![
            account("alice", "10.0.0.%"),
            account("alice", "%"),
            account("bob", "%"),
            account("o,dd", "%"),
            account("carol", "%"),
            account("carol", "localhost"),
        ];
        let e = attribute(&mut ps, &parsed, "file:/audit.log", "ab".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::NeverInWindow, "two accounts admit 10.0.0.7: told apart by no one");
        assert_eq!(ps[1].last_login, LastLogin::NeverInWindow);
        assert_eq!(ps[2].last_login, LastLogin::NeverInWindow, "a failed login is no login");
        assert_eq!(ps[3].last_login, LastLogin::Logged("2026-12-02T11:00:00Z".into()));
        assert_eq!(ps[4].last_login, LastLogin::NeverInWindow, "an exact host wins over %");
        assert_eq!(ps[5].last_login, LastLogin::Logged("2026-12-02T12:00:00Z".into()));
        assert_eq!(e.unattributed, 1, "alice's login could be either account");
    }

    /// The lines MariaDB 10.11 wrote when an account named with a line break and a forged record
    /// logged in (recorded from the test server): the second line reads like fx_super's login.
    /// The audit log is believed only while no account has a line break in its name.
    #[tokio::test]
    async fn an_audit_log_is_not_believed_while_a_name_can_forge_its_lines() {
        let forged = "20261203 22:31:05,vm,we,ird\n20261203 00:00:00,h,fx_super,localhost,1,0,CONNECT,,,0,127.0.0.1,6,0,CONNECT,,,0\n";
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), forged).unwrap();
        let target = Target {
            engine: Engine::Mariadb,
            login_log: Some(format!("file:{}", file.path().display())),
            ..dbadmin_ports::fixtures::target("m")
        };
        let mut collected = Collected {
            server_version: "10.11".into(),
            tls: dbadmin_contracts::TlsMode::VerifyFull,
            server_certificate_sha256: None,
            admin_definition_version: "v".into(),
            queries: vec![],
            principals_examined: 2,
            catalog_warnings: vec![],
            principals: vec![account("fx_super", "%")],
            login_evidence: None,
            name_could_forge_a_log_line: true,
        };
        let e =
            evidence(&target, &mut collected, 90, at("2026-12-04T00:00:00Z"), true, &dbadmin_ports::logs::NoCloudLogs)
                .await;
        assert!(e.missing.unwrap().contains("line break in its name"));
        assert_eq!(collected.principals[0].last_login, LastLogin::NotRecorded);
        // Why: a careful forger's lines fall into place, and the parser alone cannot tell them
        // from a login (a name `x,localhost,5,0,QUERY,db,'q',0⏎20261203 00:00:00,h,fx_super`).
        let careful = "20261203 22:31:05,vm,x,localhost,5,0,QUERY,db,'q',0\n\
                       20261203 00:00:00,h,fx_super,127.0.0.1,6,0,CONNECT,,,0\n";
        assert!(parse_mariadb_audit(careful, false).unwrap().logins.iter().any(|l| l.user == "fx_super"));
        assert!(parse_mariadb_audit(forged, false).unwrap().logins.iter().all(|l| l.user != "fx_super"));
    }
}
