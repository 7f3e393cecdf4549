"""Policy tests over terraform/ parsed with hcl2 (checkov's bc-python-hcl2; no terraform binary or provider needed).

They assert the security properties the deployment promises, and that the names in Terraform are
the ones the Lambda functions read (aws/src/config.rs) and the emulator deployment creates
(scripts/aws_local_deploy.py). Every IAM policy document is a template in terraform/policies/,
rendered by Terraform's templatefile() and by the emulator deployment with the same names: the
policy tests render the templates with sample values.
"""
import ast
import json
import pathlib
import re

import hcl2
import pytest

TF = pathlib.Path(__file__).resolve().parent.parent
ROOT = TF.parent
CENTRAL = TF / "modules" / "central"
TARGET = TF / "modules" / "target-account"
POLICIES = TF / "policies"
DEPLOY = ROOT / "scripts" / "aws_local_deploy.py"
PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")

# A realistic value for every placeholder (lists as Terraform passes them, jsonencode'd), so the
# rendered documents are the ones AWS would receive.
ACCOUNT = "123456789012"
SAMPLES = {
    "account": ACCOUNT,
    "account_root_arn": f"arn:aws:iam::{ACCOUNT}:root",
    "region": "eu-west-1",
    "partition": "aws",
    "bucket_arn": "arn:aws:s3:::db-admin-report-evidence",
    "table_arn": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/db-admin-report-runs",
    "key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/11111111-1111-1111-1111-111111111111",
    "signing_key_arn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/22222222-2222-2222-2222-222222222222",
    "log_group_arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/db-admin-report-collector",
    "queue_arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:db-admin-report-collect",
    "dlq_arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:db-admin-report-collect-dlq",
    "requests_queue_arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:db-admin-report-requests",
    "collect_queue_arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:db-admin-report-collect",
    "finalize_queue_arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:db-admin-report-finalize",
    "collect_topic_arn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:db-admin-report-collect",
    "queue_arns": [f"arn:aws:sqs:eu-west-1:{ACCOUNT}:db-admin-report-{q}" for q in ("requests", "collect", "finalize")],
    "dlq_arns": [f"arn:aws:sqs:eu-west-1:{ACCOUNT}:db-admin-report-{q}-dlq" for q in ("requests", "collect", "finalize")],
    "inventory_parameter_arn": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/db-admin-report/inventory",
    "inventory_parameter_kms_key_arns": [f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/33333333-3333-3333-3333-333333333333"],
    "target_role_arns": ["arn:aws:iam::111122223333:role/db-admin-report-collector"],
    "discovery_role_arns": ["arn:aws:iam::111122223333:role/db-admin-report-discovery"],
    "discovery_role_name": "db-admin-report-discovery",
    **{f"{f}_role_arn": f"arn:aws:iam::{ACCOUNT}:role/db-admin-report-{f}" for f in ("publisher", "collector", "reporter")},
    **{f"{f}_sessions": f"arn:aws:sts::{ACCOUNT}:assumed-role/db-admin-report-{f}/*" for f in ("publisher", "collector", "reporter")},
    "external_id": "an-external-id",
    "inventory_writer_arns": [f"arn:aws:iam::{ACCOUNT}:role/inventory-publisher"],
    "discoverer_arns": [f"arn:aws:iam::{ACCOUNT}:role/db-admin-report-publisher"],
    "secret_arns": ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:demo/mysql-AbCdEf"],
    "kms_key_arns": ["arn:aws:kms:eu-west-1:111122223333:key/44444444-4444-4444-4444-444444444444"],
    "tag_key": "db-admin-report",
    "tag_value": "collector",
}


def placeholders(name):
    return set(PLACEHOLDER.findall((POLICIES / name).read_text()))


def render(name, **overrides):
    """terraform/policies/<name> rendered with the sample values (as templatefile() would)."""
    values = {k: overrides.get(k, SAMPLES[k]) for k in placeholders(name)}
    text = PLACEHOLDER.sub(lambda m: values[m[1]] if isinstance(values[m[1]], str) else json.dumps(values[m[1]]),
                           (POLICIES / name).read_text())
    return json.loads(text)


def by_sid(document):
    return {s["Sid"]: s for s in document["Statement"] if "Sid" in s}


def listed(value):
    return value if isinstance(value, list) else [value]


def actions(document, effect="Allow"):
    return {a for s in document["Statement"] if s["Effect"] == effect for a in listed(s["Action"])}


def tf_sources():
    return sorted(TF.glob("**/*.tf"))


def templatefile_calls():
    """Every templatefile("${local.policies}/NAME", { key = … }) call of terraform/: (path, NAME, keys)."""
    calls = []
    start = re.compile(r'templatefile\("\$\{local\.policies\}/([\w.-]+)",\s*\{')
    for path in tf_sources():
        source = path.read_text()
        assert "templatefile(" not in start.sub("", source), f"{path}: a templatefile() not of terraform/policies/"
        for match in start.finditer(source):
            depth, quoted, keys, line = 1, False, set(), ""
            for ch in source[match.end():]:
                if ch == '"':
                    quoted = not quoted
                elif not quoted and ch in "{[(":
                    depth += 1
                elif not quoted and ch in "}])":
                    depth -= 1
                    if depth == 0:
                        break
                if ch == "\n":
                    if depth == 1 and (key := re.match(r"\s*(\w+)\s*=", line)):
                        keys.add(key.group(1))
                    line = ""
                else:
                    line += ch
            if depth == 0 and (key := re.match(r"\s*(\w+)\s*=", line)):
                keys.add(key.group(1))
            calls.append((path, match.group(1), keys))
    return calls


def deploy_renders():
    """Every render("NAME", key=…) call of scripts/aws_local_deploy.py: (NAME, keys)."""
    calls = []
    for node in ast.walk(ast.parse(DEPLOY.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "render":
            assert all(k.arg for k in node.keywords), "render() is called with named values only"
            calls.append((node.args[0].value, {k.arg for k in node.keywords}))
    return calls


def norm(value):
    """hcl2 wraps every attribute value (and a block written once) in a one-element list:
    unwrap that one level, then recurse; genuine lists keep their shape."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, list) and len(v) == 1:
                v = v[0]
            out[k] = norm(v)
        return out
    if isinstance(value, list):
        return [norm(v) for v in value]
    return value


def load(folder):
    """Every top-level block of a module: {"resource": {type: {name: body}}, "data": …, "locals": {…}, "variable": {…}}."""
    out = {"resource": {}, "data": {}, "locals": {}, "variable": {}, "output": {}}
    for path in sorted(folder.glob("*.tf")):
        with open(path) as f:
            doc = hcl2.load(f)
        doc = {k: [norm(b) for b in v] if isinstance(v, list) else v for k, v in doc.items()}
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        out[kind].setdefault(rtype, {})[name] = body
        for block in doc.get("locals", []):
            out["locals"].update(block)
        for kind in ("variable", "output"):
            for block in doc.get(kind, []):
                out[kind].update(block)
    return out


def one(value):
    """hcl2 gives nested blocks as lists of dicts."""
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else value


def as_list(value):
    """A one-element list in an object literal comes back unwrapped by `norm`."""
    return value if isinstance(value, list) else [value]


def text(value):
    return str(value).replace("${", "").replace("}", "")


@pytest.fixture(scope="module")
def central():
    return load(CENTRAL)


@pytest.fixture(scope="module")
def target():
    return load(TARGET)


def test_inventories_and_baselines_have_one_writer():
    """The inventory and the baseline are roots of trust: only inventory_writer_arns write them, in
    S3 (the bucket policy, administrators included) and in Parameter Store (an SCP: it has no
    resource policy)."""
    writers = SAMPLES["inventory_writer_arns"]
    bucket = by_sid(render("evidence-bucket.json"))["OnlyInventoryWritersWrite"]
    assert bucket["Effect"] == "Deny" and bucket["Principal"] == "*"
    assert set(listed(bucket["Action"])) == {
        "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ReplicateObject", "s3:ReplicateDelete"}
    assert bucket["Resource"] == SAMPLES["bucket_arn"] + "/inventory/*"
    assert bucket["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": writers}}
    scp = one(render("inventory-parameter-scp.json")["Statement"])
    assert scp["Effect"] == "Deny" and "ssm:PutParameter" in scp["Action"] and "ssm:DeleteParameter" in scp["Action"]
    assert scp["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": writers}}
    # No role the deployment creates may write them.
    for name in ("publisher", "collector", "reporter", "cli", "auditor", "function-common"):
        for st in render(f"{name}.json")["Statement"]:
            granted = listed(st["Action"])
            writes_s3 = any(a in ("s3:PutObject", "s3:*", "s3:DeleteObject") for a in granted)
            assert not (writes_s3 and any("/inventory/" in r for r in listed(st["Resource"]))), (name, st)
            assert not any(a.startswith("ssm:Put") or a.startswith("ssm:Delete") for a in granted), (name, st)


def test_bucket_is_locked_encrypted_private_and_tls_only(central):
    r = central["resource"]
    assert r["aws_s3_bucket"]["evidence"]["object_lock_enabled"] is True
    assert one(r["aws_s3_bucket_versioning"]["evidence"]["versioning_configuration"])["status"] == "Enabled"
    retention = one(one(one(r["aws_s3_bucket_object_lock_configuration"]["evidence"]["rule"])["default_retention"]))
    assert retention["mode"] == "COMPLIANCE" and "report_retention_days" in text(retention["days"])
    sse = one(one(r["aws_s3_bucket_server_side_encryption_configuration"]["evidence"]["rule"])["apply_server_side_encryption_by_default"])
    assert sse["sse_algorithm"] == "aws:kms" and "aws_kms_key.main" in text(sse["kms_master_key_id"])
    block = r["aws_s3_bucket_public_access_block"]["evidence"]
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    deny = by_sid(render("evidence-bucket.json"))["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [SAMPLES["bucket_arn"], SAMPLES["bucket_arn"] + "/*"]
    rule = one(r["aws_s3_bucket_lifecycle_configuration"]["evidence"]["rule"])
    assert one(rule["filter"])["prefix"] == "runs/", "only transient run data expires, never reports/"


def test_key_rotates_and_table_is_recoverable_encrypted_with_ttl(central):
    r = central["resource"]
    assert r["aws_kms_key"]["main"]["enable_key_rotation"] is True
    table = r["aws_dynamodb_table"]["runs"]
    assert one(table["point_in_time_recovery"])["enabled"] is True
    assert one(table["server_side_encryption"])["enabled"] is True
    assert one(table["ttl"])["enabled"] is True


def test_queues_have_dlqs_long_visibility_and_kms(central):
    r = central["resource"]
    queue = r["aws_sqs_queue"]["main"]
    assert "aws_sqs_queue.dlq" in text(queue["redrive_policy"]) and "max_receive_count" in text(queue["redrive_policy"])
    assert text(queue["visibility_timeout_seconds"]) == "local.visibility_timeout"
    visibility = re.fullmatch(r"var\.function_timeout_seconds \* (\d+)", text(central["locals"]["visibility_timeout"]))
    assert visibility and int(visibility.group(1)) >= 6, "visibility ≥ 6 × the function time-out"
    lease = re.fullmatch(r"var\.function_timeout_seconds \* (\d+)", text(central["locals"]["finalize_lease"]))
    assert lease and 1 < int(lease.group(1)) < int(visibility.group(1)), "function time-out < finalize lease < visibility"
    env = text(central["resource"]["aws_lambda_function"]["function"]) + text(central["locals"]["function_env"])
    assert "DBADMIN_FINALIZE_LEASE_SECS" in env and "local.finalize_lease" in env, "the reporter's lease comes from it"
    validation = text(central["variable"]["function_timeout_seconds"]["validation"])
    assert "900" in validation, "the time-out is bounded"
    for q in (queue, r["aws_sqs_queue"]["dlq"]):
        assert "aws_kms_key.main" in text(q["kms_master_key_id"])
    assert "aws_kms_key.main" in text(r["aws_sns_topic"]["collect"]["kms_master_key_id"])
    assert r["aws_sns_topic_subscription"]["collect"]["raw_message_delivery"] is True
    assert "dlq" in text(r["aws_cloudwatch_metric_alarm"]["dlq_depth"]["dimensions"])


def test_functions_are_arm64_with_partial_batch_responses_and_bounded_concurrency(central):
    r = central["resource"]
    fn = r["aws_lambda_function"]["function"]
    assert fn["runtime"] == "provided.al2023" and fn["architectures"] == ["arm64"] and fn["handler"] == "bootstrap"
    logs = r["aws_cloudwatch_log_group"]["function"]
    assert "log_retention_days" in text(logs["retention_in_days"]) and "aws_kms_key.main" in text(logs["kms_key_id"])
    esm = r["aws_lambda_event_source_mapping"]["function"]
    assert esm["function_response_types"] == ["ReportBatchItemFailures"]
    assert "maximum_concurrency" in one(esm["scaling_config"])



def function_policies():
    return {f: render(f"{f}.json") for f in ("publisher", "collector", "reporter")}


def test_least_privilege_per_function():
    policies = function_policies()
    granted = {f: actions(p) for f, p in policies.items()}
    # Only the collector (logins) and the publisher (discovery) may assume roles: the collector the
    # named target roles, the publisher the discovery roles (which read no secret).
    assert sorted(f for f in granted if "sts:AssumeRole" in granted[f]) == ["collector", "publisher"]
    assert by_sid(policies["collector"])["AssumeTargetRoles"]["Resource"] == SAMPLES["target_role_arns"]
    assert by_sid(policies["publisher"])["AssumeDiscoveryRoles"]["Resource"] == SAMPLES["discovery_role_arns"]
    # Only the reporter writes reports/, and it reads the previous report.
    for f, p in policies.items():
        for st in p["Statement"]:
            if "s3:PutObject" in listed(st["Action"]) and any("reports/" in r for r in listed(st["Resource"])):
                assert f == "reporter"
    assert by_sid(policies["reporter"])["ReadAndWriteReports"]["Action"] == ["s3:GetObject", "s3:PutObject"]
    # No wildcard actions; wildcard resources only for X-Ray, which has no resource-level permissions.
    for f, p in policies.items():
        for st in p["Statement"]:
            assert st["Effect"] == "Allow" and all("*" not in a for a in listed(st["Action"])), (f, st)
            assert "*" not in listed(st["Resource"]), (f, st)
    common = render("function-common.json")
    assert [st["Sid"] for st in common["Statement"] if st["Resource"] == "*"] == ["Tracing"]
    assert by_sid(common)["Tracing"]["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    assert by_sid(common)["DeadLetterOwnQueue"]["Resource"] == SAMPLES["dlq_arn"]


def test_list_bucket_is_scoped_to_the_prefixes_each_role_probes():
    """Without s3:ListBucket a GET of a missing key answers 403, not 404: every reader that asks
    whether an object exists may list exactly the prefixes it probes, nothing else."""
    probes = {
        "publisher.json": {"runs/*", "inventory/*"},
        "collector.json": {"runs/*"},
        "reporter.json": {"runs/*", "reports/*"},
        "cli.json": {"inventory/*", "runs/*", "reports/*"},
        "auditor.json": {"reports/*"},
    }
    for name, prefixes in probes.items():
        lists = [st for st in render(name)["Statement"] if "s3:ListBucket" in listed(st["Action"])]
        assert len(lists) == 1, name
        assert lists[0]["Resource"] == SAMPLES["bucket_arn"], name
        assert set(listed(lists[0]["Condition"]["StringLike"]["s3:prefix"])) == prefixes, name


def test_cli_policy_is_scoped_to_this_deployment(central):
    cli = render("cli.json")
    statements = cli["Statement"]
    # Only GetCallerIdentity (which has no resource) may name every resource.
    assert [st["Sid"] for st in statements if "*" in listed(st["Resource"])] == ["Identity"]
    assert all("*" not in a for a in actions(cli))
    # The CLI never writes evidence and never touches the run table's items.
    granted = actions(cli)
    assert {a for a in granted if a.startswith("s3:")} == {"s3:GetObject", "s3:ListBucket"}
    assert not {a for a in granted if a.startswith("dynamodb:") and a not in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan")}
    assert "sqs:DeleteMessage" in by_sid(cli)["DeadLetters"]["Action"]
    iam = (CENTRAL / "iam.tf").read_text()
    assert "dlq_arns                = jsonencode([for q in aws_sqs_queue.dlq : q.arn])" in iam, "this deployment's DLQs only"
    # Every documented command: key export, verify (kms:GetPublicKey), Parameter Store inventories,
    # discovery from the CLI (inventory discover, generate --local --discover).
    for action in ("kms:GetPublicKey", "ssm:GetParameter", "ssm:GetParametersByPath", "sqs:StartMessageMoveTask",
                   "sqs:ChangeMessageVisibility", "sts:AssumeRole", "dynamodb:Scan"):
        assert action in granted, action
    assert by_sid(cli)["DiscoverFromHere"]["Resource"] == SAMPLES["discovery_role_arns"]


def test_auditors_only_read_reports():
    auditor = render("auditor.json")
    granted = actions(auditor)
    assert not {a for a in granted if a.split(":")[1].startswith(("Put", "Delete", "Send", "Update", "Sign", "Start", "Assume"))}, granted
    assert by_sid(auditor)["ReadReports"]["Resource"] == SAMPLES["bucket_arn"] + "/reports/*"
    assert {"kms:GetPublicKey", "s3:GetObject", "dynamodb:GetItem"} <= granted


def test_target_roles_trust_one_central_role_each_with_external_id(target):
    collector = one(render("target-collector-trust.json")["Statement"])
    assert collector["Principal"] == {"AWS": SAMPLES["collector_role_arn"]}, "the publisher cannot read secrets"
    assert collector["Condition"] == {"StringEquals": {"sts:ExternalId": SAMPLES["external_id"]}}
    discovery = one(render("target-discovery-trust.json")["Statement"])
    assert discovery["Principal"] == {"AWS": SAMPLES["discoverer_arns"]}
    assert discovery["Condition"] == {"StringEquals": {"sts:ExternalId": SAMPLES["external_id"]}}
    main = (TARGET / "main.tf").read_text()
    assert "collector_role_arn = var.central_collector_role_arn" in main
    assert "compact(concat([var.central_publisher_role_arn], var.discovery_principal_arns))" in main
    granted = set()
    for name in ("target-named-secrets.json", "target-tagged-secrets.json", "target-secrets-kms.json"):
        granted |= actions(render(name))
    assert granted == {"secretsmanager:GetSecretValue", "kms:Decrypt"}, granted
    # The secrets are read by the collector role only; the discovery role lists RDS.
    assert 'role   = aws_iam_role.collector.id\n  policy = jsonencode({ Version = "2012-10-17", Statement = local.read_secrets })' in main
    assert 'role   = aws_iam_role.discovery[0].id\n  policy = templatefile("${local.policies}/target-discover.json", {})' in main


def test_names_match_the_code(central):
    config_rs = (ROOT / "aws" / "src" / "config.rs").read_text().split("#[cfg(test)]")[0]
    read_by_code = set(re.findall(r'"(DBADMIN_[A-Z_]+)"', config_rs))
    set_by_tf = set(re.findall(r"DBADMIN_[A-Z_]+", text(central["locals"]["common_env"]) + text(central["locals"]["function_env"])))
    assert set_by_tf <= read_by_code, f"Terraform sets variables no function reads: {set_by_tf - read_by_code}"
    required = set(re.findall(r'required\("(DBADMIN_[A-Z_]+)"\)', config_rs))
    assert required <= set(central["locals"]["common_env"]), "every required setting is set for every function"

    deploy = (ROOT / "scripts" / "aws_local_deploy.py").read_text()
    for suffix in ("-requests", "-collect", "-finalize"):
        assert f'f"{{PREFIX}}{suffix}"' in deploy, suffix
        assert f"${{var.name_prefix}}{suffix}" in text(central["locals"]["queues"]).replace("var.name_prefix", "${var.name_prefix}"), suffix
    assert 'f"{PREFIX}-runs"' in deploy and text(central["resource"]["aws_dynamodb_table"]["runs"]["name"]) == "var.name_prefix-runs"
    assert 'PREFIX = "db-admin-report"' in deploy and central["variable"]["name_prefix"]["default"] == "db-admin-report"
    for name in ("publisher", "collector", "reporter"):
        assert f'"{name}"' in deploy
        assert (ROOT / name / "src" / "main.rs").exists(), f"{name} has a Lambda entry point"


def test_every_alarm_notifies_the_alert_topic(central):
    r = central["resource"]
    alarms = r["aws_cloudwatch_metric_alarm"]
    assert alarms, "there are alarms"
    for name, alarm in alarms.items():
        assert "aws_sns_topic.alerts.arn" in text(alarm.get("alarm_actions")), f"alarm {name} has no action"
    assert "aws_kms_key.main" in text(r["aws_sns_topic"]["alerts"]["kms_master_key_id"])
    assert "var.alarm_emails" in text(r["aws_sns_topic_subscription"]["alert_email"]["for_each"])


def test_cli_can_reach_every_dead_letter_queue(central):
    assert by_sid(render("cli.json"))["DeadLetters"]["Resource"] == SAMPLES["dlq_arns"], "dlq list/redrive cover all three"
    config = text(central["output"]["cli_config"])
    for name in ("DBADMIN_FINALIZE_QUEUE_URL", "DBADMIN_FINALIZE_DLQ_URL", "DBADMIN_REQUESTS_DLQ_URL"):
        assert name in config


def test_manifests_are_signed_by_the_reporter_alone_and_evidence_has_one_writer_per_kind(central):
    key = central["resource"]["aws_kms_key"]["signing"]
    assert (key["key_usage"], key["customer_master_key_spec"]) == ("SIGN_VERIFY", "ECC_NIST_P256")
    signers = [f for f, p in function_policies().items() if "kms:Sign" in actions(p)]
    assert signers == ["reporter"], signers
    policy = render("signing-key.json")
    deny = [st for st in policy["Statement"] if st["Effect"] == "Deny"]
    assert len(deny) == 1 and deny[0]["Action"] == "kms:Sign", "the key itself refuses other signers"
    assert deny[0]["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [SAMPLES["reporter_role_arn"], SAMPLES["reporter_sessions"]]}}
    main = (CENTRAL / "main.tf").read_text()
    assert 'reporter_role_arn = aws_iam_role.function["reporter"].arn' in main
    env = text(central["locals"]["function_env"]["reporter"])
    assert "DBADMIN_SIGNING_KEY_ID" in env and "aws_kms_key.signing.arn" in env
    # The CLI reads the public key and never signs.
    cli = actions(render("cli.json"))
    assert "kms:GetPublicKey" in cli and "kms:Sign" not in cli
    assert {"signing_key_arn", "signing_public_key_pem"} <= set(central["output"])
    # The bucket policy names one writer for requests, populations, discoveries, results and reports.
    bucket = by_sid(render("evidence-bucket.json"))
    for writer, keys in [("Publisher", ["request.json", "population.json", "discovery.json", "retry-v*.json"]),
                         ("Collector", ["results/*"]), ("Reporter", ["reports/*"])]:
        st = bucket[f"Only{writer}Writes"]
        assert st["Effect"] == "Deny" and set(listed(st["Action"])) == {"s3:PutObject", "s3:ReplicateObject"}, st
        assert all(any(r.endswith(k) for r in listed(st["Resource"])) for k in keys), st
        assert st["Condition"]["ArnNotLike"]["aws:PrincipalArn"][0] == SAMPLES[f"{writer.lower()}_role_arn"]
    # The collector reads the population it connects by.
    assert by_sid(render("collector.json"))["ReadPopulation"]["Resource"].endswith("population.json")


def test_operations_alarms_cover_errors_throttles_duration_and_stuck_reports(central):
    alarms = central["resource"]["aws_cloudwatch_metric_alarm"]
    kinds = central["locals"]["function_alarm_kinds"]
    metrics = {text(a.get("metric_name")) for a in alarms.values()} | {text(k["metric"]) for k in kinds.values()}
    for metric in ("Errors", "Throttles", "Duration", "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible"):
        assert metric in metrics, metric
    assert "setproduct(local.functions" in text(central["locals"]["function_alarms"]), "every function, every kind"
    assert text(alarms["function"]["for_each"]) == "local.function_alarms"
    assert "0.8" in text(kinds["near-timeout"]["threshold"]), "duration alarms at 80 % of the time-out"
    assert "var.stuck_report_minutes" in text(alarms["report_stuck"]["threshold"])
    assert "DatabasesFailed" in text(alarms["databases_failed"]["metric_query"])
    # Alarms may publish to the encrypted topic: CloudWatch may use the key.
    assert "cloudwatch.amazonaws.com" in by_sid(render("kms-key.json"))["ServicesEncrypt"]["Principal"]["Service"]


def test_logs_are_kept_at_least_90_days_encrypted(central):
    var = central["variable"]["log_retention_days"]
    assert var["default"] == 90
    assert ">= 90" in text(var["validation"])
    group = central["resource"]["aws_cloudwatch_log_group"]["function"]
    assert "var.log_retention_days" in text(group["retention_in_days"]) and "aws_kms_key.main" in text(group["kms_key_id"])


def test_dashboard_shows_the_metrics_the_functions_emit(central):
    body = text(central["resource"]["aws_cloudwatch_dashboard"]["main"]["dashboard_body"])
    names = (ROOT / "aws/src/emf.rs").read_text().split("pub mod metric {")[1].split("}")[0]
    emitted = set(re.findall(r'pub const \w+: &str = "(\w+)";', names))
    assert {"DatabasesCollected", "DatabasesFailed", "JobsPublished", "ReportsFinalized", "DlqSends"} <= emitted, emitted
    missing = {m for m in emitted if m not in body}
    assert not missing, f"metrics the functions emit but the dashboard does not show: {missing}"


def test_the_schedule_is_off_by_default_and_sends_a_request_without_an_id(central):
    assert central["variable"]["schedule"]["default"] is None
    schedule = central["resource"]["aws_scheduler_schedule"]["report"]
    assert re.fullmatch(r"var\.schedule == (null|None) \? 0 : 1", text(schedule["count"])), schedule["count"]
    target = text(schedule["target"])
    assert 'aws_sqs_queue.main["requests"].arn' in target
    assert "report_id" in target and "requested_by" in target and "schedule" in target
    assert by_sid(render("scheduler.json"))["SendRequests"]["Action"] == "sqs:SendMessage"
    assert 'requests_queue_arn = aws_sqs_queue.main["requests"].arn' in (CENTRAL / "monitoring.tf").read_text()


def test_discovery_and_parameter_inventories_are_least_privilege(central, target):
    publisher = by_sid(render("publisher.json"))
    assert publisher["ReadInventoryParameters"]["Resource"] == [SAMPLES["inventory_parameter_arn"], SAMPLES["inventory_parameter_arn"] + "/*"]
    assert "ssm:PutParameter" not in actions(render("publisher.json"))
    iam = (CENTRAL / "iam.tf").read_text()
    assert 'var.discover_organization ? jsondecode(templatefile("${local.policies}/publisher-organization.json"' in iam
    assert "organizations:ListAccounts" in actions(render("publisher-organization.json"))
    env = text(central["locals"]["function_env"]["publisher"])
    assert "DBADMIN_TARGET_ROLE_NAME" in env and "var.discovery_role_name" in env and "DBADMIN_EXTERNAL_ID" in env
    assert "publisher_role_arn" in central["output"]
    # The discovery role lists RDS and nothing more.
    assert actions(render("target-discover.json")) == {"rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:ListTagsForResource"}

def test_no_policy_is_written_inline():
    """Every IAM policy document comes from terraform/policies/: no policy-document data source, no
    statement written in HCL, and every policy attribute is a rendered template."""
    for path in tf_sources():
        source = path.read_text()
        assert "aws_iam_policy_document" not in source, path
        for key in ("Effect", "Action", "NotAction", "Principal", "Resource", "Condition", "Sid"):
            assert not re.search(rf"\b{key}\s*=", source), f"{path}: a statement written inline ({key})"
        for attribute in re.finditer(r"^\s*(?:assume_role_)?policy\s*=\s*(.*)$", source, re.M):
            value = attribute.group(1)
            assert value.startswith(("templatefile(", "jsonencode({", "local.")), f"{path}: {attribute.group(0)}"
    for module in (CENTRAL, TARGET):
        assert re.search(r'policies\s+= "\$\{path.module\}/../../policies"', "".join(p.read_text() for p in module.glob("*.tf")))


def test_templates_are_plain_json_with_plain_placeholders():
    for path in sorted(POLICIES.glob("*.json")):
        source = path.read_text()
        assert "%{" not in source, f"{path.name}: template directives are not rendered by the emulator"
        assert source.count("${") == len(PLACEHOLDER.findall(source)), f"{path.name}: only ${{name}} placeholders"
        document = render(path.name)
        assert document["Version"] == "2012-10-17" and document["Statement"], path.name


def test_every_templatefile_call_passes_exactly_its_placeholders():
    calls = templatefile_calls()
    assert calls, "the modules render their policies"
    for path, name, keys in calls:
        assert (POLICIES / name).exists(), f"{path}: {name}"
        assert keys == placeholders(name), f"{path}: {name} takes {sorted(placeholders(name))}, given {sorted(keys)}"
    assert {name for _, name, _ in calls} == {p.name for p in POLICIES.glob("*.json")}, "every template is used"


def test_the_emulator_deployment_renders_every_policy_terraform_renders():
    deployed = deploy_renders()
    for name, keys in deployed:
        assert keys == placeholders(name), f"scripts/aws_local_deploy.py: {name} given {sorted(keys)}"
    missing = {name for _, name, _ in templatefile_calls()} - {name for name, _ in deployed}
    assert not missing, f"policies Terraform deploys that the emulator does not: {sorted(missing)}"
    source = DEPLOY.read_text()
    # Its renderer refuses what it cannot render, as templatefile() does.
    assert 'POLICIES = pathlib.Path(__file__).resolve().parent.parent / "terraform" / "policies"' in source
    assert "if wanted != set(values):" in source
    # The one statement it leaves out, and why: MiniStack serves plain HTTP (--without, which drops
    # what a test names, is the other use).
    assert re.findall(r"drop=(\{[^}]*\}|\w+)\)", source) == ['{"DenyInsecureTransport"}', "without"]


# parliament (PyPI) audits identity policies: a trust policy has no Resource, and a key policy's "*"
# is the key itself, so those are left out. Findings reviewed and accepted, with why.
NOT_IDENTITY_POLICIES = {
    "lambda-trust.json", "scheduler-trust.json", "target-collector-trust.json", "target-discovery-trust.json",
    "kms-key.json", "signing-key.json",
}
ACCEPTED_FINDINGS = {
    ("target-discover.json", "RESOURCE_STAR"): "rds:Describe* lists every database of the account: a resource list would defeat discovery",
    ("target-tagged-secrets.json", "RESOURCE_STAR"): "the secrets are chosen by their tag (the condition), not by ARN",
}


def test_parliament_finds_nothing_unreviewed_in_the_rendered_policies():
    from parliament import analyze_policy_string

    found = set()
    for path in sorted(POLICIES.glob("*.json")):
        if path.name in NOT_IDENTITY_POLICIES:
            continue
        for finding in analyze_policy_string(json.dumps(render(path.name)), ignore_private_auditors=True).findings:
            found.add((path.name, finding.issue))
            assert (path.name, finding.issue) in ACCEPTED_FINDINGS, (path.name, finding.issue, finding.detail)
    assert found == set(ACCEPTED_FINDINGS), "an accepted finding no longer occurs: drop it"
