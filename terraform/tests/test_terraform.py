"""Policy tests over terraform/ parsed with python-hcl2 (no terraform binary or provider needed).

They assert the security properties the deployment promises, and that the names in Terraform are
the ones the Lambda functions read (aws/src/config.rs) and the emulator deployment creates
(scripts/aws_local_deploy.py).
"""
import pathlib
import re

import hcl2
import pytest

TF = pathlib.Path(__file__).resolve().parent.parent
ROOT = TF.parent
CENTRAL = TF / "modules" / "central"
TARGET = TF / "modules" / "target-account"


def norm(value):
    """python-hcl2 wraps every attribute value (and a block written once) in a one-element list:
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
    """python-hcl2 gives nested blocks as lists of dicts."""
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
    policy = central["data"]["aws_iam_policy_document"]["evidence_bucket"]
    deny = one(policy["statement"])
    cond = one(deny["condition"])
    assert deny["effect"] == "Deny" and cond["variable"] == "aws:SecureTransport" and cond["values"] == ["false"]
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


def statements(central, function):
    common = central["locals"]["common_statements"]
    specific = central["locals"]["function_statements"]
    return list(specific[function]) + ["<common>"], common


def test_least_privilege_per_function(central):
    specific = central["locals"]["function_statements"]
    actions = {f: {a for s in specific[f] for a in as_list(s["actions"])} for f in specific}
    # Only the collector (logins) and the publisher (discovery) may assume roles, and only the
    # named target roles.
    assert sorted(f for f in actions if "sts:AssumeRole" in actions[f]) == ["collector", "publisher"]
    assume = [s for f in ("collector", "publisher") for s in specific[f] if "sts:AssumeRole" in as_list(s["actions"])]
    assert all(text(s["resources"]) == "local.target_role_arns" for s in assume)
    # Only the reporter writes reports/.
    for f, stmts in specific.items():
        for s in stmts:
            if "s3:PutObject" in as_list(s["actions"]) and any("reports/" in text(r) for r in as_list(s["resources"])):
                assert f == "reporter"
    # No wildcard actions; wildcard resources only for X-Ray, which has no resource-level permissions.
    for f, stmts in specific.items():
        for s in stmts:
            assert all("*" not in a for a in as_list(s["actions"])), (f, s)
            assert "*" not in as_list(s["resources"]), (f, s)
    common = text(central["locals"]["common_statements"])
    # The only wildcard resource among the shared statements is X-Ray's.
    assert re.findall(r"'resources': \['\*'\]", common) == ["'resources': ['*']"], common
    assert re.search(r"'xray:PutTraceSegments', 'xray:PutTelemetryRecords'\], 'resources': \['\*'\]", common), common


def test_cli_policy_is_scoped_to_this_deployment(central):
    statements = central["data"]["aws_iam_policy_document"]["cli"]["statement"]
    by_sid = {s["sid"]: s for s in statements}
    # Only GetCallerIdentity (which has no resource) may name every resource.
    assert [s["sid"] for s in statements if "*" in as_list(s["resources"])] == ["Identity"]
    assert all("*" not in a for s in statements for a in as_list(s["actions"]))
    # The CLI never writes evidence and never touches the run table's items.
    actions = {a for s in statements for a in as_list(s["actions"])}
    assert not {a for a in actions if a.startswith("s3:") and a != "s3:GetObject"}
    assert not {a for a in actions if a.startswith("dynamodb:") and a not in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan")}
    assert "sqs:DeleteMessage" in as_list(by_sid["DeadLetters"]["actions"])
    assert text(by_sid["DeadLetters"]["resources"]) == "[for q in aws_sqs_queue.dlq : q.arn]", "this deployment's DLQs only"


def test_target_role_trusts_only_the_central_collector_and_publisher_with_external_id(target):
    trust = one(target["data"]["aws_iam_policy_document"]["trust"]["statement"])
    assert text(one(trust["principals"])["identifiers"]) == "compact(['var.central_collector_role_arn', 'var.central_publisher_role_arn'])"
    cond = one(trust["condition"])
    assert cond["variable"] == "sts:ExternalId" and text(cond["values"]) == "['var.external_id']"
    body = text(target["data"]["aws_iam_policy_document"]["read_secrets"])
    granted = set(re.findall(r"'actions': \[?'([a-z]+:[A-Za-z*]+)'", body))
    assert "secretsmanager:GetSecretValue" in granted
    assert granted <= {"secretsmanager:GetSecretValue", "kms:Decrypt"}, granted


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
    cli = text(central["data"]["aws_iam_policy_document"]["cli"])
    assert "aws_sqs_queue.dlq : q.arn" in cli, "dlq list/redrive cover all three dead-letter queues"
    config = text(central["output"]["cli_config"])
    for name in ("DBADMIN_FINALIZE_QUEUE_URL", "DBADMIN_FINALIZE_DLQ_URL", "DBADMIN_REQUESTS_DLQ_URL"):
        assert name in config


def test_manifests_are_signed_by_the_reporter_alone_and_evidence_has_one_writer_per_kind(central):
    key = central["resource"]["aws_kms_key"]["signing"]
    assert (key["key_usage"], key["customer_master_key_spec"]) == ("SIGN_VERIFY", "ECC_NIST_P256")
    specific = central["locals"]["function_statements"]
    signers = [f for f, stmts in specific.items() for s in stmts if "kms:Sign" in as_list(s["actions"])]
    assert signers == ["reporter"], signers
    policy = as_list(central["data"]["aws_iam_policy_document"]["signing_key"]["statement"])
    deny = [s for s in policy if s.get("effect") == "Deny"]
    assert len(deny) == 1 and as_list(deny[0]["actions"]) == ["kms:Sign"], "the key itself refuses other signers"
    assert "function[\"reporter\"]" in text(deny[0]["condition"]), deny
    env = text(central["locals"]["function_env"]["reporter"])
    assert "DBADMIN_SIGNING_KEY_ID" in env and "aws_kms_key.signing.arn" in env
    # The CLI reads the public key and never signs.
    cli = central["data"]["aws_iam_policy_document"]["cli"]["statement"]
    cli_actions = {a for s in cli for a in as_list(s["actions"])}
    assert "kms:GetPublicKey" in cli_actions and "kms:Sign" not in cli_actions
    assert {"signing_key_arn", "signing_public_key_pem"} <= set(central["output"])
    # The bucket policy names one writer for populations, results and reports.
    bucket = text(central["data"]["aws_iam_policy_document"]["evidence_bucket"])
    for writer, prefix in [("publisher", "population.json"), ("collector", "results/*"), ("reporter", "reports/*")]:
        assert writer in bucket and prefix in bucket, (writer, bucket)
    # The collector reads the population it connects by.
    collector = text(specific["collector"])
    assert "population.json" in collector


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
    assert "cloudwatch.amazonaws.com" in text(central["data"]["aws_iam_policy_document"]["kms"])


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
    policy = text(central["resource"]["aws_iam_role_policy"]["scheduler"]["policy"])
    assert "sqs:SendMessage" in policy and 'aws_sqs_queue.main["requests"].arn' in policy


def test_discovery_and_parameter_inventories_are_least_privilege(central, target):
    publisher = text(central["locals"]["function_statements"]["publisher"])
    assert "AssumeTargetRolesToDiscover" in publisher and "local.target_role_arns" in publisher
    assert "ssm:GetParametersByPath" in publisher and "var.inventory_parameter_path" in publisher
    assert "ssm:PutParameter" not in publisher
    optional = text(central["locals"]["optional_statements"]["publisher"])
    assert "var.discover_organization ?" in optional and "organizations:ListAccounts" in optional
    env = text(central["locals"]["function_env"]["publisher"])
    assert "DBADMIN_TARGET_ROLE_NAME" in env and "DBADMIN_EXTERNAL_ID" in env
    assert "publisher_role_arn" in central["output"]
    # The target role lets the publisher (with the ExternalId) list RDS and nothing more.
    trust = text(target["data"]["aws_iam_policy_document"]["trust"])
    assert "var.central_publisher_role_arn" in trust and "sts:ExternalId" in trust
    discover = target["data"]["aws_iam_policy_document"]["discover"]["statement"]
    actions = set(as_list(one(discover)["actions"]))
    assert actions == {"rds:DescribeDBInstances", "rds:DescribeDBClusters", "rds:ListTagsForResource"}, actions
