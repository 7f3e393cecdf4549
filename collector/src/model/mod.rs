//! The admin definition (docs/admin-definition.md) as pure functions over catalog rows.
//!
//! Drivers fetch rows into plain structs; these modules decide who is admin,
//! why, and through which grant path. Nothing here does I/O, so every rule is
//! unit-tested on row sets and integration-tested on real servers.

pub mod graph;
pub mod mysql;
pub mod postgres;
pub mod postgres_stock;
pub mod sqlserver;

use dbadmin_contracts::{Finding, Level, Principal};

/// A privilege a principal holds itself, before role expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Direct {
    pub level: Level,
    pub privilege: String,
    pub scope: String,
    pub reason: String,
    /// The privilege *is* membership of a role (PostgreSQL's predefined and cloud admin roles):
    /// its path ends at the role, not at a privilege name after it.
    pub membership: bool,
    /// A grant that would work only after an admin changes a security setting first
    /// (docs/admin-definition.md): not a finding, but a note on the principal that names it and why.
    pub dormant: bool,
}

impl Direct {
    pub fn admin(privilege: impl Into<String>, scope: impl Into<String>, reason: impl Into<String>) -> Self {
        Direct {
            level: Level::Admin,
            privilege: privilege.into(),
            scope: scope.into(),
            reason: reason.into(),
            membership: false,
            dormant: false,
        }
    }

    pub fn elevated(privilege: impl Into<String>, scope: impl Into<String>, reason: impl Into<String>) -> Self {
        Direct {
            level: Level::Elevated,
            privilege: privilege.into(),
            scope: scope.into(),
            reason: reason.into(),
            membership: false,
            dormant: false,
        }
    }

    /// A grant that does not work on the server as configured: `reason` says why.
    pub fn dormant(privilege: impl Into<String>, scope: impl Into<String>, reason: impl Into<String>) -> Self {
        Direct { dormant: true, ..Direct::elevated(privilege, scope, reason) }
    }

    /// Marks the privilege as membership of the role that holds it.
    pub fn as_membership(mut self) -> Self {
        self.membership = true;
        self
    }

    /// This privilege as reached by `principal` through `roles` (empty when held directly).
    pub fn reached(&self, principal: &str, roles: &[String], role_note: Option<&str>) -> Finding {
        let mut path = Vec::with_capacity(roles.len() + 2);
        path.push(principal.to_owned());
        path.extend(roles.iter().cloned());
        if !self.membership {
            path.push(self.privilege.clone());
        }
        let reason = match (roles.last(), role_note) {
            (None, _) => self.reason.clone(),
            (Some(_), None) if self.membership && roles.len() == 1 => self.reason.clone(),
            (Some(role), None) => format!("{} (through role {role})", self.reason),
            (Some(role), Some(note)) => format!("{} (through role {role}; {note})", self.reason),
        };
        Finding {
            level: self.level,
            privilege: self.privilege.clone(),
            scope: self.scope.clone(),
            reason,
            path,
            via_role: roles.last().cloned(),
            to_everyone: false,
        }
    }
}

/// What a principal holds, split: working grants are findings, dormant ones are notes.
#[derive(Debug, Default)]
pub struct Held {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

impl Held {
    /// Adds `direct` as reached by `principal` through `roles`.
    pub fn add(
        &mut self,
        direct: &Direct,
        principal: &str,
        roles: &[String],
        role_note: Option<&str>,
        to_everyone: bool,
    ) {
        let finding = Finding { to_everyone, ..direct.reached(principal, roles, role_note) };
        if direct.dormant {
            let note = format!("dormant: {} ({}): {}", finding.privilege, finding.path.join(" → "), finding.reason);
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        } else {
            self.findings.push(finding);
        }
    }
}

/// The highest level among findings, or `None` when there are none.
pub fn level_of(findings: &[Finding]) -> Option<Level> {
    findings.iter().map(|f| f.level).min()
}

/// Sorts a principal's findings (admin first) and drops exact repeats.
pub fn tidy(mut principals: Vec<Principal>) -> Vec<Principal> {
    for p in &mut principals {
        p.findings.sort();
        p.findings.dedup();
    }
    principals.sort_by(|a, b| (&a.name, &a.host).cmp(&(&b.name, &b.host)));
    principals
}
