#!/usr/bin/env python3
"""Regenerates load-tests/README.md's tables from load-tests/results/ (load-tests/run.sh tables).

Each table sits between `<!-- generated:NAME -->` and `<!-- end:NAME -->`; everything else in the
README is prose and stays as written. A results file that is missing leaves its table as it is.
"""

import json
import math
import pathlib
import re

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"

# AWS list prices, us-east-1, as published on the services' pricing pages (read 2026-12; check them
# before quoting a figure). Lambda on arm64, which terraform/build-lambdas.sh builds for.
PRICE = {
    "lambda_gb_second": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "s3_put": 0.005 / 1000,
    "s3_get": 0.0004 / 1000,
    "dynamodb_wru": 0.625 / 1e6,
    "dynamodb_rru": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "sns_publish": 0.50 / 1e6,
    "kms_request": 0.03 / 10000,
    "kms_asymmetric": 0.15 / 10000,
    "secrets_call": 0.05 / 10000,
}
COLLECTOR_GB, REPORTER_GB, BATCH, MAX_CONCURRENCY = 0.25, 1.0, 10, 20


def load(name):
    path = RESULTS / name
    if not path.exists():
        return None
    text = path.read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def ms(v):
    if v is None:
        return "–"
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def local_table(data):
    rows = [
        "| RTT | N | ours | floor | engine only | sequential | ours / floor | ours vs sequential | round trips per target: ours / floor / engine / sequential | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in data["points"]:
        seq = p["sequential_ms"] or p["sequential_extrapolated_ms"]
        seq_text = ms(seq) + ("" if p["sequential_ms"] else " (extrapolated)") if seq else "–"
        t = p["round_trips"]
        trips = f"{t['ours']:.1f} / {t['floor']:.1f} / {t['engine_only']:.1f} / " + (
            f"{t['sequential']:.1f}" if t.get("sequential") is not None else "–"
        )
        rows.append(
            f"| {p['rtt_ms']} ms | {p['n']} | {ms(p['ours']['wall_ms'])} | {ms(p['floor_ms'])} | {ms(p['engine_only_ms'])} "
            f"| {seq_text} | **{p['ours_vs_floor']:.2f}** | **{p['ours_vs_sequential']:.0f}×** | {trips} "
            f"| {p['ours']['peak_rss_kib'] // 1024} MiB |"
        )
    return "\n".join(rows)


def memory_table(data):
    rows = ["| N | rows | ours | peak RSS |", "|---|---|---|---|"]
    for p in data["points"]:
        rows.append(f"| {p['n']} | {p['ours']['rows']} | {ms(p['ours']['wall_ms'])} | **{p['ours']['peak_rss_kib'] // 1024} MiB** |")
    return "\n".join(rows)


def render_table(runs, html):
    rows = [
        "| rows | render (CSV + JSON + HTML + counts) | of which report.html | peak RSS | CSV | JSON | report.html | Chromium opens it |",
        "|---|---|---|---|---|---|---|---|",
    ]
    r = runs[0]
    span = lambda k: f"{min(x[k] for x in runs)}–{max(x[k] for x in runs)} ms"
    load_ms = f"{min(h['chromium_load_ms'] for h in html) / 1000:.1f}–{max(h['chromium_load_ms'] for h in html) / 1000:.1f} s" if html else "–"
    rows.append(
        f"| {r['rows']} | {span('render_ms')} | {span('html_ms')} | {max(x['peak_rss_mib'] for x in runs)} MiB "
        f"| {r['csv_bytes'] / 1e6:.1f} MB | {r['json_bytes'] / 1e6:.1f} MB | {r['html_bytes'] / 1e6:.1f} MB | {load_ms} |"
    )
    return "\n".join(rows)


def calls_table(data):
    out = []
    for r in data:
        out.append(f"N = {r['n']} ({r['published']} jobs published):\n")
        out.append("| phase | service | operation | calls | per database | billed |")
        out.append("|---|---|---|---|---|---|")
        for phase in ("publish", "collect", "finalize"):
            for c in r[phase]:
                out.append(
                    f"| {phase} | {c['service']} | {c['operation']} | {c['calls']} | {c['per_database']:.3f} | {'yes' if c['billed'] else 'no'} |"
                )
        out.append(f"\n**Billed calls per database while collecting: {r['billed_calls_per_database_in_collect']:.2f}.**\n")
    return "\n".join(out).rstrip()


def unit_price(service, operation):
    """Dollars per call, and the units behind it."""
    s = service.lower()
    if s == "s3":
        return PRICE["s3_put"] if operation in ("PutObject", "CopyObject", "ListObjectsV2") else PRICE["s3_get"]
    if s == "dynamodb":
        if operation == "TransactWriteItems":
            return 4 * PRICE["dynamodb_wru"]  # two items, transactional writes cost double
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return PRICE["dynamodb_wru"]
        return PRICE["dynamodb_rru"]
    if s == "sqs":
        return PRICE["sqs_request"]
    if s == "sns":
        return PRICE["sns_publish"] * BATCH if operation == "PublishBatch" else PRICE["sns_publish"]
    if s == "kms":
        return PRICE["kms_asymmetric"] if operation in ("Sign", "GetPublicKey") else PRICE["kms_request"]
    if s == "secrets manager":
        return PRICE["secrets_call"]
    return 0.0


def cost_table(calls, aws):
    """Dollars per report for 100, 1000 and 10 000 databases, from the counted calls (the largest N
    measured, scaled per database) and the measured function durations."""
    r = max(calls, key=lambda x: x["n"])
    n0 = r["n"]
    per_db = sum(c["calls"] * unit_price(c["service"], c["operation"]) for ph in ("publish", "collect", "finalize") for c in r[ph]) / n0
    # The event source mapping's own calls: a receive and a batch delete per batch of 10 (polling
    # of empty queues aside).
    per_db += 2 * PRICE["sqs_request"] / BATCH
    big = max(aws, key=lambda x: x["n"]) if aws else None
    job_ms = (big["job_total_ms_median"] if big else 300)
    finalize_ms_per_db = (big["finalize_handler_ms"] / big["n"]) if big and big.get("finalize_handler_ms") else 3
    # A batch of 10 jobs runs at once: an invocation lasts about one job, shared by 10 databases.
    gb_s_per_db = COLLECTOR_GB * job_ms / 1000 / BATCH + REPORTER_GB * finalize_ms_per_db / 1000
    per_db_lambda = gb_s_per_db * PRICE["lambda_gb_second"] + PRICE["lambda_request"] / BATCH
    rows = [
        "| databases | API calls (S3, DynamoDB, SQS, SNS, KMS, Secrets Manager) | Lambda (GB-s and requests) | total per report |",
        "|---|---|---|---|",
    ]
    for n in (100, 1000, 10000):
        api, lam = per_db * n, per_db_lambda * n
        rows.append(f"| {n} | ${api:.4f} | ${lam:.4f} | **${api + lam:.4f}** |")
    notes = (
        f"\nFrom `results/calls.json` (N = {n0}, scaled per database) and `results/aws.json` "
        f"(job median {job_ms} ms, reporter {finalize_ms_per_db:.1f} ms per database); collector {int(COLLECTOR_GB * 1024)} MB, "
        f"reporter {int(REPORTER_GB * 1024)} MB, batches of {BATCH}."
    )
    return "\n".join(rows) + notes


def time_table(local, aws):
    """Expected end-to-end time on AWS: waves of MAX_CONCURRENCY invocations of BATCH jobs, each
    lasting about one job at 20 ms RTT (local-bench), plus the reporter's reads."""
    job_ms = None
    if local:
        at20 = [p for p in local["points"] if p["rtt_ms"] == 20]
        if at20:
            job_ms = max(at20, key=lambda p: p["n"])["ours"]["timings"]["job_ms_p95"]
    job_ms = job_ms or 300
    finalize_per_db = 3.0
    if aws:
        big = max(aws, key=lambda x: x["n"])
        if big.get("finalize_handler_ms"):
            finalize_per_db = big["finalize_handler_ms"] / big["n"]
    rows = ["| databases | collection (waves × one job) | report | expected end to end |", "|---|---|---|---|"]
    for n in (1000, 10000):
        waves = math.ceil(n / (MAX_CONCURRENCY * BATCH))
        collect = waves * job_ms / 1000
        report = n * finalize_per_db / 1000
        rows.append(f"| {n} | {waves} × {job_ms} ms = {collect:.1f} s | {report:.1f} s | **{collect + report + 5:.0f} s** (5 s for publishing and queue latency) |")
    return "\n".join(rows)


def aws_table(data):
    rows = [
        "| N | end to end | request → last result | publisher | reporter | databases/s | db_ms median | overhead median | overhead p95 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data:
        rows.append(
            f"| {r['n']} | {ms(r['end_to_end_ms'])} | {ms(r['request_to_last_result_ms'])} | {ms(r.get('publish_handler_ms'))} "
            f"| {ms(r.get('finalize_handler_ms'))} | {r['databases_per_second']:.0f} | {r['db_ms_median']} ms "
            f"| **{r['overhead_ms_median']} ms** | {r['overhead_ms_p95']} ms |"
        )
    return "\n".join(rows)


def replace(text, name, table):
    pattern = re.compile(rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- end:{name} -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README has no generated:{name} block")
    return pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


def main():
    text = README.read_text()
    local, memory = load("local.json"), load("local-memory.json")
    render, html = load("render.jsonl"), load("render-html.jsonl")
    calls, aws = load("calls.json"), load("aws.json")
    if local:
        text = replace(text, "local", local_table(local))
    if memory:
        text = replace(text, "memory", memory_table(memory))
    if render:
        text = replace(text, "render", render_table(render, html or []))
    if calls:
        text = replace(text, "calls", calls_table(calls))
        text = replace(text, "cost", cost_table(calls, aws))
    if aws:
        text = replace(text, "aws", aws_table(aws))
    text = replace(text, "time", time_table(local, aws))
    README.write_text(text)
    print(f"rewrote the generated tables of {README}")


if __name__ == "__main__":
    main()
