//! Test-only interruption points. `DBADMIN_FAULT=<name>` makes the process exit at the named point,
//! as a killed terminal or a lost laptop lid would, so tests can show that nothing is lost there.

/// Exits the process with code 70 when `DBADMIN_FAULT` names this point. Only in builds with the
/// `testing` feature (the tests'); elsewhere it does nothing.
#[cfg(feature = "testing")]
pub fn point(name: &str) {
    if std::env::var("DBADMIN_FAULT").as_deref() == Ok(name) {
        eprintln!("error: interrupted at '{name}' (DBADMIN_FAULT is set)");
        std::process::exit(70);
    }
}

#[cfg(not(feature = "testing"))]
#[inline(always)]
pub fn point(_name: &str) {}
