//! Login evidence (docs/report.md, "Last login"): a database's own connection log, read over a
//! window, gives each principal its last successful login. Parsing and attribution are pure and
//! tested on hostile lines; [`evidence`] reads the log the inventory names (`login_log`).
//!
//! Only formats that escape what they log are read: PostgreSQL's `jsonlog` (15+) and `csvlog`. In
//! the plain `stderr` format a role name holding a line break writes a line of its choosing, so a
//! login could be forged for anyone; such a log is refused, with that reason.

use dbadmin_contracts::{Engine, LastLogin, LoginEvidence, Principal, Target};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The window asked for when none is configured (days, ending at collection).
pub const DEFAULT_WINDOW_DAYS: u32 = 90;

/// What one log says: each successful login (role, time), and what it covers.
#[derive(Debug, Default, PartialEq)]
pub struct Parsed {
    pub logins: Vec<(String, OffsetDateTime)>,
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
            if record["message"].as_str().is_some_and(|m| m.starts_with(AUTHORIZED)) {
                match record["user"].as_str().filter(|u| !u.is_empty()) {
                    Some(user) => parsed.logins.push((user.to_owned(), at)),
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
                    Some(user) => parsed.logins.push((user.to_owned(), at)),
                    None => parsed.unattributed += 1,
                }
            }
        }
    } else {
        return Err("the log is in PostgreSQL's stderr format, where a role name holding a line break can forge a \
                    login line: set log_destination to jsonlog or csvlog"
            .into());
    }
    if parsed.first.is_none() {
        return Err("the log holds no record PostgreSQL wrote".into());
    }
    Ok(parsed)
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
    let mut last: BTreeMap<&str, OffsetDateTime> = BTreeMap::new();
    let mut logins = 0;
    for (user, at) in parsed.logins.iter().filter(|(_, at)| *at >= start) {
        logins += 1;
        let seen = last.entry(user.as_str()).or_insert(*at);
        *seen = (*seen).max(*at);
    }
    let first = parsed.first.unwrap_or(now);
    for p in principals.iter_mut() {
        p.last_login = match last.get(p.name.as_str()) {
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
        unattributed: parsed.unattributed,
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
        Engine::Mariadb => "login logs of MariaDB (the server_audit plugin) are not read yet".into(),
        Engine::Sqlserver => "SQL Server Audit is not read; only sessions open at collection are".into(),
    }
}

/// The login evidence of `target` for its `principals` (whose Last Login Date it sets), read as a
/// local run reads it: `file:PATH`, a log file or a folder of them. `local` is false in a Lambda,
/// which has no such files.
pub fn evidence(
    target: &Target,
    principals: &mut [Principal],
    window_days: u32,
    now: OffsetDateTime,
    local: bool,
) -> LoginEvidence {
    let Some(source) = target.login_log.as_deref() else {
        return LoginEvidence::missing("", window_days, no_log_named(target.engine));
    };
    let missing = |why: String| LoginEvidence::missing(source, window_days, why);
    if target.engine != Engine::Postgres {
        return missing(no_log_named(target.engine));
    }
    let Some(path) = source.strip_prefix("file:") else {
        return missing(format!("{source} is not a login log this collector reads"));
    };
    if !local {
        return missing("file: logs are read by local runs only".into());
    }
    let bytes = match read_log(std::path::Path::new(path)) {
        Ok(b) => b,
        Err(e) => return missing(format!("cannot read {path}: {e}")),
    };
    let sha256 = dbadmin_contracts::sha256_hex(&bytes);
    match parse_postgres(&String::from_utf8_lossy(&bytes)) {
        Ok(parsed) => attribute(principals, &parsed, source, sha256, window_days, now),
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
        let parsed = parse_postgres(&log).unwrap();
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
        let parsed = parse_postgres(log).unwrap();
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
        attribute(&mut ps, &parse_postgres(&log).unwrap(), "f", "x".into(), 90, at("2026-12-03T00:00:00Z"));
        assert_eq!(ps[0].last_login, LastLogin::NeverInWindow);
        let stderr = "2026-12-01 10:00:00.001 UTC [42] LOG:  connection authorized: user=alice database=postgres\n";
        assert!(parse_postgres(stderr).unwrap_err().contains("stderr format"));
    }
}
