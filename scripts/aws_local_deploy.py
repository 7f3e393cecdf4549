#!/usr/bin/env python3
"""Deploys db-admin-report onto a running MiniStack, from scratch (the emulator is reset first).

Creates the KMS key, the evidence bucket (versioned), the run table, the requests / collect /
finalize queues with their dead-letter queues, the collect topic with the collect queue subscribed
(raw delivery), the demo secrets and inventory, one IAM role, the three Lambda functions as
provided.al2023 zips holding our `bootstrap` binaries, and their SQS event source mappings with
ReportBatchItemFailures. Writes every name the tests and the CLI need to <state>/outputs.json.

Resource names match terraform/ (see the name tests there).
"""
import argparse
import io
import csv
import json
import os
import urllib.request
import zipfile

import boto3

PREFIX = "db-admin-report"
TARGET_ROLE = "db-admin-report-target"
REGION = "us-east-1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--binaries", required=True, help="folder holding publisher-lambda, collector-lambda, reporter-lambda")
    ap.add_argument("--state", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--secrets", required=True)
    ap.add_argument("--ports", required=True, help="mariadb,mysql,postgres ports to write into the inventory")
    ap.add_argument("--visibility-timeout", type=int, default=20)
    ap.add_argument("--max-receive-count", type=int, default=3)
    args = ap.parse_args()

    req = urllib.request.Request(f"{args.endpoint}/_ministack/reset", method="POST")
    urllib.request.urlopen(req, timeout=30).read()

    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    client = lambda name: session.client(name, endpoint_url=args.endpoint)
    kms, s3, ddb, sqs, sns = client("kms"), client("s3"), client("dynamodb"), client("sqs"), client("sns")
    sm, iam, lam = client("secretsmanager"), client("iam"), client("lambda")

    key_arn = kms.create_key(Description=f"{PREFIX} evidence")["KeyMetadata"]["Arn"]
    # The manifests' signing key: asymmetric, sign and verify only (as in terraform/).
    signing_key_arn = kms.create_key(
        Description=f"{PREFIX} manifest signing", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"
    )["KeyMetadata"]["Arn"]
    bucket = f"{PREFIX}-evidence"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    table = f"{PREFIX}-runs"
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def queue(name):
        dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(args.visibility_timeout),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": args.max_receive_count}),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url, arn, dlq_url

    requests_url, requests_arn, requests_dlq = queue(f"{PREFIX}-requests")
    collect_url, collect_arn, collect_dlq = queue(f"{PREFIX}-collect")
    finalize_url, finalize_arn, finalize_dlq = queue(f"{PREFIX}-finalize")
    topic_arn = sns.create_topic(Name=f"{PREFIX}-collect")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=collect_arn, Attributes={"RawMessageDelivery": "true"})

    # A secret lives in one region: each goes to the regions of the targets that use it (the
    # collector reads it in the target's region).
    regions = {}
    with open(args.inventory) as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            regions.setdefault(row["secret"], set()).add(row["region"])
    with open(args.secrets) as f:
        for name, value in json.load(f).items():
            for region in sorted(regions.get(name, {REGION})):
                sm_in = session.client("secretsmanager", endpoint_url=args.endpoint, region_name=region)
                sm_in.create_secret(Name=name, SecretString=json.dumps(value))

    mariadb, mysql, pg = args.ports.split(",")
    with open(args.inventory) as f:
        inventory = f.read().replace(",13306,", f",{mariadb},").replace(",13307,", f",{mysql},").replace(",15432,", f",{pg},")
    inventory_key = "inventory/demo.csv"
    s3.put_object(Bucket=bucket, Key=inventory_key, Body=inventory.encode())

    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName=f"{PREFIX}-lambda", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

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
            # The role discovery assumes in each account (the emulator lets any role be assumed; the
            # session sees that account's RDS resources).
            {
                "DBADMIN_COLLECT_TOPIC_ARN": topic_arn,
                "DBADMIN_FINALIZE_QUEUE_URL": finalize_url,
                "DBADMIN_DLQ_URL": requests_dlq,
                "DBADMIN_TARGET_ROLE_NAME": TARGET_ROLE,
            },
            requests_arn,
            1,
        ),
        "collector": (
            {
                "DBADMIN_FINALIZE_QUEUE_URL": finalize_url,
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
            Role=role_arn,
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
        "functions": names,
        "target_role_name": TARGET_ROLE,
    }
    os.makedirs(args.state, exist_ok=True)
    with open(os.path.join(args.state, "outputs.json"), "w") as f:
        json.dump(outputs, f, indent=2)
    print(json.dumps(outputs, indent=2))


if __name__ == "__main__":
    main()
