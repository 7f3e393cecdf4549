//! The configuration file. Precedence: command-line flags, then `DBADMIN_…` environment
//! variables, then this file. The file is TOML whose keys are the environment variables' names,
//! so Terraform's `cli_config` output converts to it line for line:
//!
//! ```toml
//! DBADMIN_REQUESTS_QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/db-admin-report-requests"
//! DBADMIN_BUCKET = "db-admin-report-evidence-123456789012"
//! AWS_PROFILE = "audit"
//! ```
//!
//! It is read before the command line is parsed: every key not already set in the environment is
//! set from the file, and clap's own `env` fallback then gives flags > environment > file.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

/// Keys a configuration file may hold besides `DBADMIN_*`.
const AWS_KEYS: [&str; 3] = ["AWS_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL"];

/// The file named by `--config`/`DBADMIN_CONFIG`, else `$XDG_CONFIG_HOME/db-admin-report/config.toml`
/// (or `~/.config/…`) when it exists. The flag and variable must name an existing file.
pub fn locate(args: &[String]) -> anyhow::Result<Option<PathBuf>> {
    let explicit = args
        .windows(2)
        .find(|w| w[0] == "--config")
        .map(|w| w[1].clone())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--config=").map(str::to_owned)))
        .or_else(|| std::env::var("DBADMIN_CONFIG").ok().filter(|v| !v.is_empty()));
    if let Some(path) = explicit {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("configuration file {} does not exist", path.display());
        }
        return Ok(Some(path));
    }
    Ok(config_dir().map(|d| d.join("config.toml")).filter(|p| p.is_file()))
}

/// `$XDG_CONFIG_HOME/db-admin-report`, else `~/.config/db-admin-report`.
pub fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    base.map(|b| b.join("db-admin-report"))
}

/// The key a local run signs with: `explicit`, else `signing-key.pem` in [`config_dir`].
pub fn signing_key_path(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    explicit
        .or_else(|| config_dir().map(|d| d.join("signing-key.pem")))
        .ok_or_else(|| anyhow::anyhow!("no place for the local signing key: set HOME, or pass --signing-key"))
}

/// The file's settings, checked: only known key shapes, string values.
pub fn read(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
    let mut settings = Vec::new();
    for (key, value) in table {
        if !(key.starts_with("DBADMIN_") || AWS_KEYS.contains(&key.as_str())) || key == "DBADMIN_CONFIG" {
            bail!(
                "{}: unknown setting '{key}' (keys are DBADMIN_* variable names, or {})",
                path.display(),
                AWS_KEYS.join(", ")
            );
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => bail!(
                "{}: setting '{key}' must be a string, number or boolean, not {}",
                path.display(),
                other.type_str()
            ),
        };
        settings.push((key, value));
    }
    Ok(settings)
}

/// Sets every file setting that the environment does not already set. Call before any thread starts.
pub fn apply(settings: &[(String, String)]) {
    for (key, value) in settings {
        if std::env::var_os(key).is_none() {
            std::env::set_var(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "DBADMIN_BUCKET = \"b\"\nDBADMIN_CONCURRENCY = 4\nAWS_PROFILE = \"audit\"\n").unwrap();
        let mut got = read(&path).unwrap();
        got.sort();
        assert_eq!(
            got,
            [
                ("AWS_PROFILE".into(), "audit".into()),
                ("DBADMIN_BUCKET".into(), "b".into()),
                ("DBADMIN_CONCURRENCY".into(), "4".into())
            ]
        );
        std::fs::write(&path, "bucket = \"b\"\n").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("unknown setting 'bucket'"));
        std::fs::write(&path, "DBADMIN_BUCKET = [1]\n").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("must be a string"));
        let args: Vec<String> = ["x", "--config", "/nonexistent/file"].iter().map(|s| s.to_string()).collect();
        assert!(locate(&args).is_err());
    }
}
