#!/usr/bin/env python3
"""Plays the parts of AWS around the event-driven recorder's tests, against the moto server
the harness started (scenario `hub`), with boto3:

    hub_tool.py ENDPOINT receive QUEUE_URL   # the event source mapping: every message, as a Lambda SQS event
    hub_tool.py ENDPOINT send QUEUE_URL FILE # each line of FILE (a message body), in batches of 10
    hub_tool.py ENDPOINT sink QUEUE_URL      # every SNS notification delivered to the queue: [{subject, message}]
    hub_tool.py ENDPOINT keys BUCKET         # every object key in the bucket, sorted

`receive` and `sink` delete what they read. Output is one JSON document on stdout. Only
loopback endpoints are accepted.
"""

from __future__ import annotations

import json
import sys

import boto3
from botocore.config import Config

REGION = "us-east-1"


def client(endpoint: str, service: str):
    if not endpoint.startswith("http://127.0.0.1:"):
        raise SystemExit(f"hub_tool: only loopback endpoints, not {endpoint}")
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client(service, endpoint_url=endpoint, config=Config(retries={"max_attempts": 2}))


def drain(sqs, queue_url: str) -> list[dict]:
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                  AttributeNames=["All"], WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return messages
        messages.extend(got)
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])


def main(argv: list[str]) -> int:
    endpoint, command, *args = argv
    if command == "receive":
        sqs = client(endpoint, "sqs")
        arn = sqs.get_queue_attributes(QueueUrl=args[0], AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        records = [{
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": REGION,
        } for m in drain(sqs, args[0])]
        json.dump({"Records": records}, sys.stdout)
    elif command == "send":
        sqs = client(endpoint, "sqs")
        with open(args[1], encoding="utf-8") as f:
            bodies = [line.rstrip("\n") for line in f if line.strip()]
        for start in range(0, len(bodies), 10):
            result = sqs.send_message_batch(QueueUrl=args[0], Entries=[
                {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start:start + 10])])
            if result.get("Failed"):
                raise SystemExit(f"hub_tool: send failed: {result['Failed']}")
        json.dump({"sent": len(bodies)}, sys.stdout)
    elif command == "sink":
        sqs = client(endpoint, "sqs")
        notes = []
        for m in drain(sqs, args[0]):
            envelope = json.loads(m["Body"])
            notes.append({"subject": envelope.get("Subject"), "message": envelope.get("Message")})
        json.dump(notes, sys.stdout)
    elif command == "keys":
        s3 = client(endpoint, "s3")
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=args[0]):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        json.dump(sorted(keys), sys.stdout)
    else:
        raise SystemExit(f"hub_tool: unknown command {command!r}")
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
