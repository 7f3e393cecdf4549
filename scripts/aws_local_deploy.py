#!/usr/bin/env python3
"""Deploys db-admin-report onto a running MiniStack, from scratch (the emulator is reset first).

Creates what terraform/ declares, with the same names and the same IAM policy documents (the
templates in terraform/policies/, rendered with the same placeholder names): the KMS key and the
signing key with their key policies, the evidence bucket (versioned, SSE-KMS, its bucket policy),
the run table, the requests / collect / finalize queues with their dead-letter queues, the collect
topic with the collect queue subscribed (raw delivery, the queue's policy), one role per Lambda
function with its own policy, the scheduler's role, and in every target account the collector role
(the demo secrets, read by name) and the read-only discovery role, each assumed with the ExternalId.
The functions are provided.al2023 zips holding our `bootstrap` binaries, each running as its role,
with their SQS event source mappings (ReportBatchItemFailures). An operator user holds the CLI
policy and an auditor user the read-only one. Every name and both users' access keys go to
<state>/outputs.json.

MiniStack enforces these policies when started with AUTH=true (scripts/aws-local.sh does).

`--without FUNCTION:SID` leaves one statement out of a function's role policy (a test watches the
deployment fail without it). `--add-target-account ACCOUNT` only creates the target roles in one
more account of a running deployment (tests that make an account, e.g. through Organizations).
"""
import argparse
import csv
import io
import json
import os
import pathlib
import re
import urllib.request
import zipfile

import boto3

PREFIX = "db-admin-report"
TARGET_ROLE = "db-admin-report-collector"
DISCOVERY_ROLE = "db-admin-report-discovery"
# Terraform's inventory_parameter_path default.
INVENTORY_PARAMETER_PATH = "/db-admin-report/inventory"
EXTERNAL_ID = "db-admin-report-emulator"
REGION = "us-east-1"
# MiniStack's default account: a root key ("test") acts in it.
ACCOUNT = "000000000000"
# The accounts of load-tests/src/lib.rs's synthetic inventories, besides the demo inventory's.
LOAD_TEST_ACCOUNTS = ["100000000000", "100000000001", "100000000002"]
FUNCTIONS = ["publisher", "collector", "reporter"]
# The demo secrets carry the tag of terraform/examples/two-accounts (secret_tag) and are also named
# (secret_arns): MiniStack does not evaluate secretsmanager:ResourceTag, so the names let them be read.
SECRET_TAG = ("db-admin-report", "collector")

POLICIES = pathlib.Path(__file__).resolve().parent.parent / "terraform" / "policies"
PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


def render(name, **values):
    """terraform/policies/<name> as Terraform's templatefile() renders it: every `${key}` replaced by
    its value (a list as JSON, as Terraform passes jsonencode(list)). A placeholder without a value,
    a value without a placeholder, or anything left to interpolate is an error."""
    text = (POLICIES / name).read_text()
    wanted = set(PLACEHOLDER.findall(text))
    if wanted != set(values):
        raise SystemExit(f"{name}: placeholders {sorted(wanted)}, values given {sorted(values)}")
    out = PLACEHOLDER.sub(lambda m: values[m[1]] if isinstance(values[m[1]], str) else json.dumps(values[m[1]]), text)
    if "${" in out or "%{" in out:
        raise SystemExit(f"{name}: left unrendered: {out}")
    return json.loads(out)


# AWS authorizes a batch operation as its single action (PublishBatch needs sns:Publish); MiniStack
# asks for an action named after the operation. Wherever a statement grants the single action, the
# emulator's copy also names the batch one: the same permission under MiniStack's name.
BATCH_ACTIONS = {
    "sns:Publish": "sns:PublishBatch",
    "sqs:SendMessage": "sqs:SendMessageBatch",
    "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
}


# MiniStack authorizes these against "*" (it reads no resource from GetParametersByPath's Path or
# StartMessageMoveTask's SourceArn), so no statement scoped to a path or queue allows them there:
# the emulator's copy grants them unscoped, in a statement of their own. Their scoping is checked
# statically only.
UNSCOPED_ACTIONS = {"ssm:GetParametersByPath", "sqs:StartMessageMoveTask"}


def policy(*documents, drop=()):
    """One document of the statements of `documents` (as Terraform concatenates them), without the
    statements whose Sid is in `drop`, as MiniStack can evaluate them (BATCH_ACTIONS, UNSCOPED_ACTIONS)."""
    statements = []
    for statement in (s for d in documents for s in d["Statement"] if s.get("Sid") not in drop):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        unscoped = [a for a in actions if a in UNSCOPED_ACTIONS]
        scoped = [a for a in actions if a not in UNSCOPED_ACTIONS]
        batch = [BATCH_ACTIONS[a] for a in scoped if a in BATCH_ACTIONS]
        if scoped:
            statements.append({**statement, "Action": scoped + batch})
        if unscoped:
            statements.append({"Sid": statement["Sid"] + "Unscoped", "Effect": "Allow", "Action": unscoped, "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def role_arn(account, name):
    return f"arn:aws:iam::{account}:role/{name}"


def session_arns(name):
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/*"


def root(account=ACCOUNT):
    """A session acting as `account`'s root (MiniStack takes a 12-digit access key as the account)."""
    key = "test" if account == ACCOUNT else account
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key="test", region_name=REGION)


def put_role(iam, name, trust, policies):
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    for policy_name, document in policies.items():
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=document)
    return iam.get_role(RoleName=name)["Role"]["Arn"]


def target_account(endpoint, account, secret_arns, secrets_key_arn, discoverers):
    """The target-account module in `account`: the collector role, which reads `secret_arns` and the
    secrets tagged SECRET_TAG (encrypted with `secrets_key_arn`), and the discovery role, trusted by
    `discoverers`."""
    iam = root(account).client("iam", endpoint_url=endpoint)
    # Besides the demo secrets, any secret named db-admin-report/… (tests make their own).
    named = secret_arns + [f"arn:aws:secretsmanager:*:{account}:secret:{PREFIX}/*"]
    read = [
        render("target-named-secrets.json", secret_arns=named),
        render("target-tagged-secrets.json", tag_key=SECRET_TAG[0], tag_value=SECRET_TAG[1]),
        render("target-secrets-kms.json", kms_key_arns=[secrets_key_arn]),
        render("target-login-logs.json", partition="aws", account=account),
    ]
    put_role(
        iam,
        TARGET_ROLE,
        render(
            "target-collector-trust.json",
            collector_role_arn=role_arn(ACCOUNT, f"{PREFIX}-collector"),
            external_id=EXTERNAL_ID,
        ),
        {"read-database-logins": policy(*read)},
    )
    put_role(
        iam,
        DISCOVERY_ROLE,
        render("target-discovery-trust.json", discoverer_arns=discoverers, external_id=EXTERNAL_ID),
        {"discover-databases": policy(render("target-discover.json"))},
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--add-target-account", metavar="ACCOUNT", help="only create the target roles in ACCOUNT")
    ap.add_argument("--binaries", help="folder holding publisher-lambda, collector-lambda, reporter-lambda")
    ap.add_argument("--ca-file")
    ap.add_argument("--inventory")
    ap.add_argument("--secrets")
    ap.add_argument("--ports", help="mariadb,mysql,postgres ports to write into the inventory")
    ap.add_argument("--visibility-timeout", type=int, default=20)
    ap.add_argument("--max-receive-count", type=int, default=3)
    ap.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="FUNCTION:SID",
        help="deploy FUNCTION's role without its statement SID (tests that watch a missing permission fail)",
    )
    args = ap.parse_args()
    if args.add_target_account:
        with open(os.path.join(args.state, "outputs.json")) as f:
            outputs = json.load(f)
        account = args.add_target_account
        key = root(account).client("kms", endpoint_url=args.endpoint).create_key(Description="secrets")
        target_account(args.endpoint, account, [], key["KeyMetadata"]["Arn"], outputs["discoverer_arns"])
        return
    missing = [a for a in ("binaries", "ca_file", "inventory", "secrets", "ports") if getattr(args, a) is None]
    if missing:
        ap.error("a deployment needs " + ", ".join("--" + a.replace("_", "-") for a in missing))
    deploy(args)


def deploy(args):
    req = urllib.request.Request(f"{args.endpoint}/_ministack/reset", method="POST")
    urllib.request.urlopen(req, timeout=30).read()

    session = root()
    client = lambda name: session.client(name, endpoint_url=args.endpoint)
    kms, s3, ddb, sqs, sns = client("kms"), client("s3"), client("dynamodb"), client("sqs"), client("sns")
    iam, lam = client("iam"), client("lambda")
    roles = {f: role_arn(ACCOUNT, f"{PREFIX}-{f}") for f in FUNCTIONS}
    account_root_arn = f"arn:aws:iam::{ACCOUNT}:root"

    key_arn = kms.create_key(
        Description=f"{PREFIX} evidence, queues and logs",
        Policy=json.dumps(render("kms-key.json", account_root_arn=account_root_arn, region=REGION)),
    )["KeyMetadata"]["Arn"]
    signing_key_arn = kms.create_key(
        Description=f"{PREFIX} manifest signatures",
        KeySpec="ECC_NIST_P256",
        KeyUsage="SIGN_VERIFY",
        Policy=json.dumps(
            render(
                "signing-key.json",
                account_root_arn=account_root_arn,
                reporter_role_arn=roles["reporter"],
                reporter_sessions=session_arns(f"{PREFIX}-reporter"),
            )
        ),
    )["KeyMetadata"]["Arn"]
    bucket = f"{PREFIX}-evidence"
    bucket_arn = f"arn:aws:s3:::{bucket}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    # Whoever publishes inventories and baselines: a user of its own, the one writer the bucket
    # policy (and, on AWS, the SCP for Parameter Store) lets write them.
    writer_name = f"{PREFIX}-inventory-writer"
    writer_arn = iam.create_user(UserName=writer_name)["User"]["Arn"]
    inventory_parameter_arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{INVENTORY_PARAMETER_PATH}"
    inventory_parameter_scp = render(
        "inventory-parameter-scp.json", inventory_parameter_arn=inventory_parameter_arn, inventory_writer_arns=[writer_arn]
    )
    iam.put_user_policy(
        UserName=writer_name,
        PolicyName=writer_name,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": f"{bucket_arn}/inventory/*"},
                    {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": key_arn},
                    {
                        "Effect": "Allow",
                        "Action": ["ssm:PutParameter", "ssm:GetParameter"],
                        "Resource": [inventory_parameter_arn, f"{inventory_parameter_arn}/*"],
                    },
                ],
            }
        ),
    )
    writer_key = iam.create_access_key(UserName=writer_name)["AccessKey"]
    bucket_policy = render(
        "evidence-bucket.json",
        inventory_writer_arns=[writer_arn],
        bucket_arn=bucket_arn,
        publisher_role_arn=roles["publisher"],
        publisher_sessions=session_arns(f"{PREFIX}-publisher"),
        collector_role_arn=roles["collector"],
        collector_sessions=session_arns(f"{PREFIX}-collector"),
        reporter_role_arn=roles["reporter"],
        reporter_sessions=session_arns(f"{PREFIX}-reporter"),
    )
    # MiniStack serves plain HTTP: the TLS-only statement would refuse every request.
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(bucket_policy, drop={"DenyInsecureTransport"}))
    table = f"{PREFIX}-runs"
    table_arn = ddb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]

    def arn_of(url):
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def queue(name):
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq", Attributes={"KmsMasterKeyId": key_arn})["QueueUrl"]
        url = sqs.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(args.visibility_timeout),
                "KmsMasterKeyId": key_arn,
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn_of(dlq_url), "maxReceiveCount": args.max_receive_count}),
            },
        )["QueueUrl"]
        return url, arn_of(url), dlq_url, arn_of(dlq_url)

    requests_url, requests_arn, requests_dlq, requests_dlq_arn = queue(f"{PREFIX}-requests")
    collect_url, collect_arn, collect_dlq, collect_dlq_arn = queue(f"{PREFIX}-collect")
    finalize_url, finalize_arn, finalize_dlq, finalize_dlq_arn = queue(f"{PREFIX}-finalize")
    topic_arn = sns.create_topic(Name=f"{PREFIX}-collect", Attributes={"KmsMasterKeyId": key_arn})["TopicArn"]
    sqs.set_queue_attributes(
        QueueUrl=collect_url,
        Attributes={
            "Policy": policy(render("collect-queue.json", collect_queue_arn=collect_arn, collect_topic_arn=topic_arn))
        },
    )
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=collect_arn, Attributes={"RawMessageDelivery": "true"})

    mariadb, mysql, pg = args.ports.split(",")
    with open(args.inventory) as f:
        inventory = f.read().replace(",13306,", f",{mariadb},").replace(",13307,", f",{mysql},").replace(",15432,", f",{pg},")
    inventory_key = "inventory/demo.csv"
    writer_s3 = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        region_name=REGION,
        aws_access_key_id=writer_key["AccessKeyId"],
        aws_secret_access_key=writer_key["SecretAccessKey"],
    )
    writer_s3.put_object(Bucket=bucket, Key=inventory_key, Body=inventory.encode())

    # The people: an operator with the CLI policy, an auditor with the read-only one.
    users = {}
    for user in ("operator", "auditor"):
        name = f"{PREFIX}-{user}"
        users[user] = iam.create_user(UserName=name)["User"]["Arn"]
    discovery_roles = lambda accounts: [role_arn(a, DISCOVERY_ROLE) for a in accounts]
    # Whoever lists a target account's databases: the publisher, and the operator from the CLI
    # (`inventory discover`, `generate --local --discover`), as terraform's discovery_principal_arns.
    discoverers = [roles["publisher"], users["operator"]]

    # A secret lives in one account and region: each goes to every target account, in the regions
    # of the targets that use it (the collector reads it in the target's account and region).
    with open(args.inventory) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    regions = {}
    for row in rows:
        regions.setdefault(row["secret"], set()).add(row["region"])
    accounts = sorted({row["account_id"] for row in rows} | set(LOAD_TEST_ACCOUNTS))
    with open(args.secrets) as f:
        secrets = json.load(f)
    for account in accounts:
        secrets_key = root(account).client("kms", endpoint_url=args.endpoint).create_key(Description="secrets")
        secrets_key_arn = secrets_key["KeyMetadata"]["Arn"]
        arns = []
        for name, value in secrets.items():
            for region in sorted(regions.get(name, {REGION})):
                sm = root(account).client("secretsmanager", endpoint_url=args.endpoint, region_name=region)
                arns.append(
                    sm.create_secret(
                        Name=name,
                        SecretString=json.dumps(value),
                        KmsKeyId=secrets_key_arn,
                        Tags=[{"Key": SECRET_TAG[0], "Value": SECRET_TAG[1]}],
                    )["ARN"]
                )
        target_account(args.endpoint, account, arns, secrets_key_arn, discoverers)

    cli_policy = render(
        "cli.json",
        queue_arns=[requests_arn, collect_arn, finalize_arn],
        dlq_arns=[requests_dlq_arn, collect_dlq_arn, finalize_dlq_arn],
        table_arn=table_arn,
        bucket_arn=bucket_arn,
        inventory_parameter_arn=inventory_parameter_arn,
        key_arn=key_arn,
        signing_key_arn=signing_key_arn,
        discovery_role_arns=discovery_roles(accounts),
    )
    # SecureString inventories: read through SSM with the deployment's key (MiniStack checks no KMS
    # permission for SSM; the statement is deployed as Terraform deploys it).
    inventory_parameter_kms = render("inventory-parameter-kms.json", inventory_parameter_kms_key_arns=[key_arn])
    # The emulator discovers through an organization: the publisher and operators may list its accounts.
    organization_discovery = render("publisher-organization.json", partition="aws", discovery_role_name=DISCOVERY_ROLE)
    auditor_policy = render(
        "auditor.json", table_arn=table_arn, bucket_arn=bucket_arn, key_arn=key_arn, signing_key_arn=signing_key_arn
    )
    keys = {}
    for user, document in (("operator", policy(cli_policy, organization_discovery, inventory_parameter_kms)), ("auditor", policy(auditor_policy))):
        name = f"{PREFIX}-{user}"
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=document)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        keys[user] = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"], "arn": users[user]}

    # The functions' roles, as terraform/modules/central/iam.tf builds them (the emulator's
    # deployment discovers through an organization, so the publisher may list its accounts).
    function_statements = {
        "publisher": [
            render(
                "publisher.json",
                bucket_arn=bucket_arn,
                table_arn=table_arn,
                collect_topic_arn=topic_arn,
                finalize_queue_arn=finalize_arn,
                discovery_role_arns=discovery_roles(accounts),
                inventory_parameter_arn=inventory_parameter_arn,
            ),
            organization_discovery,
            inventory_parameter_kms,
        ],
        "collector": [
            render(
                "collector.json",
                bucket_arn=bucket_arn,
                table_arn=table_arn,
                finalize_queue_arn=finalize_arn,
                target_role_arns=[role_arn(a, TARGET_ROLE) for a in accounts],
            )
        ],
        "reporter": [render("reporter.json", bucket_arn=bucket_arn, table_arn=table_arn, signing_key_arn=signing_key_arn)],
    }
    sources = {"publisher": (requests_arn, requests_dlq_arn), "collector": (collect_arn, collect_dlq_arn), "reporter": (finalize_arn, finalize_dlq_arn)}
    for f in FUNCTIONS:
        name = f"{PREFIX}-{f}"
        common = render(
            "function-common.json",
            log_group_arn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{name}",
            key_arn=key_arn,
            queue_arn=sources[f][0],
            dlq_arn=sources[f][1],
        )
        without = {sid for function, sid in (w.split(":", 1) for w in args.without) if function == f}
        unknown = without - {st.get("Sid") for d in (common, *function_statements[f]) for st in d["Statement"]}
        if unknown:
            raise SystemExit(f"--without {f}: no statement {sorted(unknown)}")
        put_role(iam, name, render("lambda-trust.json"), {name: policy(common, *function_statements[f], drop=without)})
    scheduler_role = put_role(
        iam,
        f"{PREFIX}-scheduler",
        render("scheduler-trust.json", account=ACCOUNT),
        {"send-report-requests": policy(render("scheduler.json", requests_queue_arn=requests_arn, key_arn=key_arn))},
    )

    common_env = {
        "DBADMIN_BUCKET": bucket,
        "DBADMIN_TABLE": table,
        "DBADMIN_KMS_KEY_ID": key_arn,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_ENDPOINT_URL": args.endpoint,
        "DBADMIN_MAX_RECEIVE_COUNT": str(args.max_receive_count),
    }
    functions = {
        "publisher": (
            {
                "DBADMIN_COLLECT_TOPIC_ARN": topic_arn,
                "DBADMIN_FINALIZE_QUEUE_URL": finalize_url,
                "DBADMIN_DLQ_URL": requests_dlq,
                "DBADMIN_TARGET_ROLE_NAME": DISCOVERY_ROLE,
                "DBADMIN_EXTERNAL_ID": EXTERNAL_ID,
            },
            requests_arn,
            1,
        ),
        "collector": (
            {
                "DBADMIN_FINALIZE_QUEUE_URL": finalize_url,
                "DBADMIN_TARGET_ROLE_NAME": TARGET_ROLE,
                "DBADMIN_EXTERNAL_ID": EXTERNAL_ID,
                "DBADMIN_TLS_CA_FILE": "ca.pem",
                "DBADMIN_CONNECT_TIMEOUT_SECS": "3",
                "DBADMIN_DLQ_URL": collect_dlq,
            },
            collect_arn,
            10,
        ),
        # The emulator's visibility time-out is short (20 s) so redrive tests run fast: the reporter's
        # claim must expire before a redelivered finalize message comes back.
        "reporter": (
            {
                "DBADMIN_DLQ_URL": finalize_dlq,
                "DBADMIN_FINALIZE_LEASE_SECS": str(max(1, args.visibility_timeout // 2)),
                "DBADMIN_SIGNING_KEY_ID": signing_key_arn,
            },
            finalize_arn,
            1,
        ),
    }
    with open(args.ca_file, "rb") as f:
        ca = f.read()
    names = {}
    for short, (env, source_arn, batch) in functions.items():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            with open(os.path.join(args.binaries, f"{short}-lambda"), "rb") as b:
                z.writestr(info, b.read())
            if short == "collector":
                z.writestr("ca.pem", ca)
        name = f"{PREFIX}-{short}"
        lam.create_function(
            FunctionName=name,
            Runtime="provided.al2023",
            Handler="bootstrap",
            Role=roles[short],
            Code={"ZipFile": buf.getvalue()},
            Timeout=60,
            MemorySize=256,
            Environment={"Variables": {**common_env, **env}},
        )
        lam.create_event_source_mapping(
            EventSourceArn=source_arn,
            FunctionName=name,
            BatchSize=batch,
            FunctionResponseTypes=["ReportBatchItemFailures"],
        )
        names[short] = name

    outputs = {
        "endpoint": args.endpoint,
        "region": REGION,
        "account": ACCOUNT,
        "bucket": bucket,
        "table": table,
        "kms_key_arn": key_arn,
        "signing_key_arn": signing_key_arn,
        "requests_queue_url": requests_url,
        "requests_dlq_url": requests_dlq,
        "collect_topic_arn": topic_arn,
        "collect_queue_url": collect_url,
        "collect_dlq_url": collect_dlq,
        "finalize_queue_url": finalize_url,
        "finalize_dlq_url": finalize_dlq,
        "inventory_uri": f"s3://{bucket}/{inventory_key}",
        "inventory_parameter_path": INVENTORY_PARAMETER_PATH,
        "functions": names,
        "roles": roles,
        "scheduler_role_arn": scheduler_role,
        "target_role_name": TARGET_ROLE,
        "discovery_role_name": DISCOVERY_ROLE,
        "discoverer_arns": discoverers,
        "external_id": EXTERNAL_ID,
        "operator": keys["operator"],
        "auditor": keys["auditor"],
        "inventory_writer": {
            "access_key_id": writer_key["AccessKeyId"],
            "secret_access_key": writer_key["SecretAccessKey"],
            "arn": writer_arn,
        },
        # Parameter Store has no resource policy: on AWS this SCP is attached by the organization.
        "inventory_parameter_scp": inventory_parameter_scp,
    }
    os.makedirs(args.state, exist_ok=True)
    with open(os.path.join(args.state, "outputs.json"), "w") as f:
        json.dump(outputs, f, indent=2)
    print(json.dumps(outputs, indent=2))


if __name__ == "__main__":
    main()
