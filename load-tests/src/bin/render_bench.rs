//! `render-bench`: the reporter's work for 200 000 rows (10 000 databases × 20 admins), timed and
//! with its peak memory, as one process sees it (`VmHWM`). The Criterion benchmarks in
//! `reporter/benches` time each step; this adds the memory figure and the end-to-end wall time.
//! Like the reporter, it writes the CSV and JSON to staging files hashed as they are written.

use dbadmin_reporter::html::{Html, PageFacts};
use dbadmin_reporter::{render, review, synthetic};
use std::time::Instant;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn main() {
    let targets: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let principals: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(20);
    // As the reporter does: results arrive one target at a time in report order and are dropped
    // once rendered; only the two output buffers grow.
    let population = synthetic::population(targets);
    let index: std::collections::HashMap<&str, usize> =
        population.targets.iter().enumerate().map(|(i, t)| (t.id.as_str(), i)).collect();
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let staging = tempfile::tempdir().expect("a staging folder");
    let stage = || dbadmin_reporter::staged::Staged::create(staging.path()).expect("a staging file");
    let mut renderer = render::Renderer::to(stage(), stage(), "BENCH", 1, "2026-11-22T10:00:00Z").expect("write");
    let mut page = Html::new("BENCH", 1, "2026-11-22T10:00:00Z");
    let mut html_time = std::time::Duration::ZERO;
    let mut counts = std::collections::BTreeMap::new();
    for t in render::target_order(&population) {
        let result = synthetic::result(t, index[t.id.as_str()], principals);
        let signals = review::signals(Some(&result));
        let rows = render::target_rows_with(t, Some(&result), "2026-11-22T10:00:00Z", None, &signals);
        renderer.write(&rows).expect("write");
        let html_started = Instant::now();
        page.target(&rows, &signals);
        html_time += html_started.elapsed();
        render::count_status(&mut counts, Some(&result));
    }
    let render::Rendered { csv, json, rows } = renderer.finish_with(None).expect("write");
    let (csv, json) = (csv.finish().expect("staged"), json.finish().expect("staged"));
    let html_started = Instant::now();
    let html = page.finish(&PageFacts { signer: "bench", ..PageFacts::default() });
    html_time += html_started.elapsed();
    // For run.sh, which times a headless browser loading it.
    if let Ok(path) = std::env::var("RENDER_BENCH_HTML") {
        std::fs::write(&path, &html).expect("write report.html");
    }
    let sha = (csv.sha256.clone(), json.sha256.clone());
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:");
    println!(
        "{}",
        serde_json::json!({
            "targets": targets,
            "rows": rows,
            "render_ms": elapsed.as_millis() as u64,
            "csv_bytes": csv.size,
            "json_bytes": json.size,
            "html_bytes": html.len(),
            "html_ms": html_time.as_millis() as u64,
            "rss_before_render_mib": before / 1024,
            "peak_rss_mib": peak / 1024,
            "status_counts": counts,
            "csv_sha256_prefix": &sha.0[..12],
        })
    );
}
