//! Rendering and aggregation at 10 000 databases × 20 admins (200 000 rows, 10 % error rows).
//! `cargo bench -p dbadmin-reporter`; peak memory is measured by `load-tests`' render-bench.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dbadmin_reporter::{render, synthetic};
use std::hint::black_box;

fn rendering(c: &mut Criterion) {
    let (population, results) = synthetic::estate(10_000, 20);
    let rows = render::rows(&population, &results, "2026-11-22T10:00:00Z");
    let mut g = c.benchmark_group("10k_targets_x_20_admins");
    g.sample_size(10);
    g.throughput(Throughput::Elements(rows.len() as u64));
    g.bench_function("aggregate_rows", |b| b.iter(|| render::rows(black_box(&population), black_box(&results), "t")));
    g.bench_function("status_counts", |b| {
        b.iter(|| render::status_counts(black_box(&population), black_box(&results)))
    });
    g.bench_function("to_csv", |b| b.iter(|| render::to_csv(black_box(&rows))));
    g.bench_function("to_json", |b| b.iter(|| render::to_json("BENCH", 1, "t", black_box(&rows))));
    g.finish();
}

criterion_group!(benches, rendering);
criterion_main!(benches);
