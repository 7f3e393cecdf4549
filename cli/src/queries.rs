//! `queries show`: every query text of this build with its SHA-256 and, given a manifest, whether
//! each query the report ran is this build's text.

use crate::outcome::{BuiltQuery, Queries, RanQuery};
use anyhow::Context;
use dbadmin_collector::engine::is_template;
use dbadmin_contracts::manifest::Manifest;
use dbadmin_contracts::Engine;
use std::path::Path;

/// This build's queries (of `engine`, or all) and, with `manifest`, the report's against them.
pub fn show(engine: Option<Engine>, manifest: Option<&Path>) -> anyhow::Result<Queries> {
    let prefix = engine.map(|e| match e {
        Engine::Mysql | Engine::Mariadb => "mysql/",
        Engine::Postgres => "postgres/",
        Engine::Sqlserver => "sqlserver/",
    });
    let of_engine = |name: &str| prefix.is_none_or(|p| name.starts_with(p));
    let built: Vec<BuiltQuery> = dbadmin_collector::engine::queries()
        .into_iter()
        .filter(|(name, _)| of_engine(name))
        .map(|(name, text)| BuiltQuery {
            name,
            sha256: dbadmin_contracts::sha256_hex(text.as_bytes()),
            template: is_template(text),
            text,
        })
        .collect();
    let ran = match manifest {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let m: Manifest = dbadmin_contracts::decode(&bytes)
                .with_context(|| format!("reading {} as a manifest", path.display()))?;
            Some(m.queries)
        }
        None => None,
    };
    // A template's text is built on the server: its checksum cannot be this build's, and
    // `reperform` checks the text the server gives.
    let checked = ran.map(|queries| {
        queries
            .into_iter()
            .filter(|q| of_engine(&q.name))
            .map(|q| {
                let same_name = built.iter().find(|b| b.name == q.name);
                let template = same_name.is_some_and(|b| b.template);
                let this_build = same_name.is_some_and(|b| b.sha256 == q.sha256 || b.template);
                RanQuery { name: q.name, sha256: q.sha256, this_build, template }
            })
            .collect()
    });
    Ok(Queries { queries: built, manifest: checked })
}
