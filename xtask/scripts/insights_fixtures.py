#!/usr/bin/env python3
"""Builds the fixtures of the evidence beyond the stopped task (issue #21) from existing cases.

Each new case is an existing case's bundle with the calls `record` makes besides: DescribeClusters
(`include: ["SETTINGS"]`), the Logs Insights queries (StartQuery and the last GetQueryResults poll)
and CloudTrail's LookupEvents. The API shapes are the AWS documentation's (the AWS CLI's
`get-query-results` and `lookup-events` examples, the Container Insights performance log event
reference); the numbers, times, principals and log lines are reconstructed, not recorded, and each
case's description says so. Run it again after changing it:

    python3 xtask/scripts/insights_fixtures.py [OUT]

(OUT, default `fixtures/`, is where the cases are written; engine/cli/tests/insights.rs writes them
to a temporary folder and fails when they differ from the committed ones), then bless the
snapshots (CONTRIBUTING.md).
"""

import copy
import json
import pathlib
import uuid

import sys

ROOT = pathlib.Path(__file__).resolve().parents[2] / "fixtures"
OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT


def load(case):
    return json.loads((ROOT / case / "bundle.json").read_text())


def write(case, bundle, description, expect, ok=()):
    folder = OUT / case
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bundle.json").write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n")
    lines = [f"description = {json.dumps(description)}", f"expect = {json.dumps(list(expect))}"]
    lines.append(f"ok = {json.dumps(list(ok))}")
    lines.append("todo = []")
    (folder / "case.toml").write_text("\n".join(lines) + "\n")


def call(service, operation, request, response=None, error=None):
    out = {"service": service, "operation": operation, "request": request}
    if error is not None:
        out["error"] = error
    else:
        out["response"] = response
    return out


def query_id(seed):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ecs-autopsy-fixture/" + seed))


def minute(ms):
    """Logs Insights' `bin(1m)` value: `2026-11-24 09:05:00.000`."""
    import datetime

    t = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def describe_clusters(account, value):
    return call(
        "ecs",
        "DescribeClusters",
        {"clusters": ["prod"], "include": ["SETTINGS"]},
        {
            "clusters": [
                {
                    "clusterArn": f"arn:aws:ecs:eu-west-1:{account}:cluster/prod",
                    "clusterName": "prod",
                    "settings": [{"name": "containerInsights", "value": value}],
                    "status": "ACTIVE",
                }
            ],
            "failures": [],
        },
    )


def memory_query(task_id):
    # As recorder/src/live/insights.rs writes it.
    return (
        f'filter TaskId = "{task_id}" and (Type = "Container" or Type = "Task")\n'
        "| stats max(MemoryUtilized) as memory_used_mb, max(MemoryReserved) as memory_reserved_mb"
        " by bin(1m) as minute, Type, ContainerName\n"
        "| sort minute asc\n"
        "| limit 10000"
    )


PATTERN_QUERY = (
    "fields @timestamp, @logStream, @message\n"
    "| filter @message like /(?i)(err|fatal|panic|crit|traceback|fail|refused|timed? ?out|killed|"
    "out of memory|oom|segmentation fault|sigsegv|unhandled|uncaught|exception)/\n"
    "| sort @timestamp desc\n"
    "| limit 10000"
)


def insights_query(name, groups, start_ms, end_ms, query, rows, scanned_bytes, scanned_records):
    qid = query_id(name)
    start = call(
        "logs",
        "StartQuery",
        {
            "endTime": (end_ms + 999) // 1000,
            "limit": 10000,
            "logGroupNames": groups,
            "queryString": query,
            "startTime": start_ms // 1000,
        },
        {"queryId": qid},
    )
    results = call(
        "logs",
        "GetQueryResults",
        {"queryId": qid},
        {
            "results": [[{"field": k, "value": v} for k, v in row] for row in rows],
            "statistics": {
                "bytesScanned": float(scanned_bytes),
                "recordsMatched": float(len(rows)),
                "recordsScanned": float(scanned_records),
            },
            "status": "Complete",
        },
    )
    return start, results


def the_task(bundle):
    for c in bundle["calls"]:
        if c["operation"] == "DescribeTasks":
            return c["response"]["tasks"][0]
    raise SystemExit("no task")


def memory_case(name, series, setting="enabled"):
    bundle = load("oom-container-limit/exit-137")
    task = the_task(bundle)
    task_id = task["taskArn"].rsplit("/", 1)[1]
    created = int(task["createdAt"] * 1000)
    stopped = int(task["stoppedAt"] * 1000)
    first = (int(task["startedAt"] * 1000) // 60000 + 1) * 60000
    rows = []
    for i, used in enumerate(series):
        at = minute(first + i * 60000)
        rows.append([("minute", at), ("Type", "Container"), ("ContainerName", "reports"),
                     ("memory_used_mb", str(used)), ("memory_reserved_mb", "512")])
        rows.append([("minute", at), ("Type", "Task"),
                     ("memory_used_mb", str(used + 21)), ("memory_reserved_mb", "1024")])
    group = "/aws/ecs/containerinsights/prod/performance"
    start, results = insights_query(
        name, [group], created - 60000, stopped + 120000, memory_query(task_id), rows,
        412 * len(rows) * 9, len(rows) * 9,
    )
    bundle["calls"] += [describe_clusters("123456789012", setting), start, results]
    bundle["calls"] += deployment_lookups(bundle, with_callers=name == "memory-leak")
    return bundle


def trail_time(ms):
    import datetime

    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def trail_event(name, ms, request, response, user_agent):
    """A CloudTrail management event of the CI role `deploy` (session `ci`, the task
    definition's own `registeredBy`), in the shape of AWS's ECS CloudTrail examples."""
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEDEPLOY0001:ci",
            "arn": "arn:aws:sts::123456789012:assumed-role/deploy/ci",
            "accountId": "123456789012",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEDEPLOY0001",
                    "arn": "arn:aws:iam::123456789012:role/deploy",
                    "accountId": "123456789012",
                    "userName": "deploy",
                }
            },
        },
        "eventTime": trail_time(ms),
        "eventSource": "ecs.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": user_agent,
        "requestParameters": request,
        "responseElements": response,
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012",
    }
    return {
        "EventId": query_id(name + str(ms)),
        "EventName": name,
        "EventSource": "ecs.amazonaws.com",
        "EventTime": ms // 1000,
        "Username": "ci",
        "Resources": [],
        "CloudTrailEvent": json.dumps(record, separators=(",", ":")),
    }


def deployment_lookups(bundle, with_callers):
    """The lookups `record` makes for a service whose deployment has failed tasks: UpdateService
    around the deployment's creation and RegisterTaskDefinition around its revision's
    registration, two minutes either side (with the callers only when `with_callers`)."""
    service = next(c for c in bundle["calls"] if c["operation"] == "DescribeServices")
    deployment = service["response"]["services"][0]["deployments"][0]
    definition = next(c for c in bundle["calls"] if c["operation"] == "DescribeTaskDefinition")
    created = int(deployment["createdAt"] * 1000)
    registered = int(definition["response"]["taskDefinition"]["registeredAt"] * 1000)
    arn = deployment["taskDefinition"]
    # hashicorp/terraform#15770's user agent, verbatim.
    terraform = "aws-sdk-go/1.10.18 (go1.8; linux; amd64) APN/1.0 HashiCorp/1.0 Terraform/0.9.8"
    update = [trail_event("UpdateService", created, {"cluster": "prod", "service": "reports", "taskDefinition": arn},
                          {"service": {"serviceName": "reports", "taskDefinition": arn}}, terraform)]
    register = [trail_event(
        "RegisterTaskDefinition", registered,
        {"family": "reports", "containerDefinitions": [{"name": "reports", "memory": 512,
         "environment": [{"name": "EXPORT_BATCH_SIZE", "value": "50000"}]}]},
        {"taskDefinition": {"taskDefinitionArn": arn, "family": "reports", "revision": 9}}, terraform)]
    calls = []
    for name, at, events in (("RegisterTaskDefinition", registered, register), ("UpdateService", created, update)):
        calls.append(call(
            "cloudtrail",
            "LookupEvents",
            {
                "EndTime": (at + 120000) // 1000,
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                "MaxResults": 50,
                "StartTime": (at - 120000) // 1000,
            },
            {"Events": events if with_callers else []},
        ))
    calls.sort(key=lambda c: json.dumps(c["request"], separators=(",", ":"), sort_keys=True))
    return calls


def noise(i, size):
    return ((i * 37) % 7 - 3) * size


def build_memory_cases():
    leak = [150 + 9 * i + noise(i, 1) for i in range(40)]
    write(
        "oom-container-limit/memory-leak",
        memory_case("memory-leak", leak),
        "The reports container of oom-container-limit/exit-137 with its Container Insights memory "
        "(reconstructed one-minute samples, xtask/scripts/insights_fixtures.py): a steady climb from "
        "about 150 MB to the 512 MB limit over 40 minutes, the shape of a leak",
        ["oom-container-limit"],
        ["app-exited-zero", "app-missing-config"],
    )
    spike = [180 + noise(i, 1) for i in range(36)] + [260, 390, 470, 508]
    write(
        "oom-container-limit/memory-spike",
        memory_case("memory-spike", spike),
        "oom-container-limit/exit-137 with its Container Insights memory (reconstructed, "
        "xtask/scripts/insights_fixtures.py): flat at about 180 MB for 35 minutes, then to the "
        "512 MB limit within four minutes while it serves a quarterly export",
        ["oom-container-limit"],
        ["app-exited-zero", "app-missing-config"],
    )
    small = [478 + noise(i, 2) for i in range(40)]
    write(
        "oom-container-limit/memory-too-small",
        memory_case("memory-too-small", small),
        "oom-container-limit/exit-137 with its Container Insights memory (reconstructed, "
        "xtask/scripts/insights_fixtures.py): about 480 MB of its 512 MB from the first minute on, "
        "the limit too small for the workload",
        ["oom-container-limit"],
        ["app-exited-zero", "app-missing-config"],
    )
    # Container Insights off: the setting says so and the performance log group does not exist
    # (the error message as lumigo-io/lumigo-CLI#79 quotes it for a missing group).
    bundle = load("oom-container-limit/exit-137")
    task = the_task(bundle)
    task_id = task["taskArn"].rsplit("/", 1)[1]
    group = "/aws/ecs/containerinsights/prod/performance"
    bundle["calls"] += [
        describe_clusters("123456789012", "disabled"),
        call(
            "logs",
            "StartQuery",
            {
                "endTime": int(task["stoppedAt"]) + 120,
                "limit": 10000,
                "logGroupNames": [group],
                "queryString": memory_query(task_id),
                "startTime": int(task["createdAt"]) - 60,
            },
            error={
                "code": "ResourceNotFoundException",
                "message": f"Log group '{group}' does not exist for account ID '123456789012' "
                "(Service: AWSLogs; Status Code: 400; Error Code: ResourceNotFoundException; "
                "Request ID: 721a9480-2c08-4d2a-add7-08782caa7e73)",
            },
        ),
        *deployment_lookups(bundle, with_callers=False),
    ]
    write(
        "oom-container-limit/container-insights-off",
        bundle,
        "oom-container-limit/exit-137 recorded in a cluster with Container Insights off: the "
        "setting is disabled and the performance log group does not exist (the error as "
        "lumigo-io/lumigo-CLI#79 shows it; xtask/scripts/insights_fixtures.py), so the report says "
        "how to turn it on",
        ["oom-container-limit"],
        ["app-exited-zero", "app-missing-config"],
    )


def build_user_stop_case():
    bundle = load("graceful-stop/user-stop-pipeline-reason")
    task = the_task(bundle)
    arn = task["taskArn"]
    stopping = int(task["stoppingAt"] * 1000)
    stopped = int(task["stoppedAt"] * 1000)
    # The record's envelope is the shape of the AWS documentation's ECS CloudTrail examples
    # (logging-using-cloudtrail, ecs-fips-compliance); the principal is an OIDC session of
    # aws-actions/configure-aws-credentials (its default session name `GitHubActions`), the user
    # agent AWS CLI v2's (`command/ecs.stop-task`, as `command/ecs.put-account-setting` in AWS's
    # example). All reconstructed.
    import datetime

    at = datetime.datetime.fromtimestamp((stopping - 400) / 1000, tz=datetime.timezone.utc)
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEROLEID1234:GitHubActions",
            "arn": "arn:aws:sts::123456789012:assumed-role/release-pipeline/GitHubActions",
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLEKEYID1234",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEROLEID1234",
                    "arn": "arn:aws:iam::123456789012:role/release-pipeline",
                    "accountId": "123456789012",
                    "userName": "release-pipeline",
                },
                "attributes": {"creationDate": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "mfaAuthenticated": "false"},
            },
        },
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "ecs.amazonaws.com",
        "eventName": "StopTask",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.24",
        "userAgent": "aws-cli/2.9.8 Python/3.9.11 Linux/5.15.0-1041-azure exe/x86_64.ubuntu.22 prompt/off command/ecs.stop-task",
        "requestParameters": {
            "cluster": "prod",
            "task": arn,
            "reason": task["stoppedReason"],
        },
        "responseElements": {"task": {"taskArn": arn, "lastStatus": "RUNNING", "desiredStatus": "STOPPED"}},
        "requestID": "0d2f3c6e-8a61-4c55-9b1e-EXAMPLE",
        "eventID": "4b8f7c2a-51e3-4f7e-bd0a-EXAMPLE",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    }
    # Another StopTask in the window, of another task: the report must not take it.
    other = copy.deepcopy(record)
    other["requestParameters"]["task"] = "0f1e2d3c4b5a49687766554433221100"
    other["requestParameters"].pop("reason")
    other["userAgent"] = "AWS Internal"
    other["userIdentity"]["arn"] = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Operator_0123456789abcdef/jane@example.com"
    other["eventTime"] = datetime.datetime.fromtimestamp((stopping - 240000) / 1000, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = [
        {
            "EventId": record["eventID"],
            "EventName": "StopTask",
            "ReadOnly": "false",
            "AccessKeyId": "ASIAEXAMPLEKEYID1234",
            "EventTime": (stopping - 400) / 1000,
            "EventSource": "ecs.amazonaws.com",
            "Username": "GitHubActions",
            "Resources": [],
            "CloudTrailEvent": json.dumps(record, separators=(",", ":")),
        },
        {
            "EventId": "9a0b1c2d-3e4f-4a5b-8c6d-EXAMPLE",
            "EventName": "StopTask",
            "ReadOnly": "false",
            "EventTime": (stopping - 240000) / 1000,
            "EventSource": "ecs.amazonaws.com",
            "Username": "jane@example.com",
            "Resources": [],
            "CloudTrailEvent": json.dumps(other, separators=(",", ":")),
        },
    ]
    bundle["calls"].append(describe_clusters("123456789012", "enabled"))
    bundle["calls"].append(
        call(
            "cloudtrail",
            "LookupEvents",
            {
                "EndTime": (stopped + 300000) // 1000,
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "StopTask"}],
                "MaxResults": 50,
                "StartTime": (stopping - 600000) // 1000,
            },
            {"Events": events},
        )
    )
    write(
        "graceful-stop/user-stop-who",
        bundle,
        "graceful-stop/user-stop-pipeline-reason with CloudTrail's StopTask record of it "
        "(reconstructed in the shape of AWS's ECS CloudTrail examples by "
        "xtask/scripts/insights_fixtures.py): a GitHub Actions session of the release-pipeline role "
        "stopped it with the AWS CLI; another task's StopTask in the same minutes is not it",
        ["graceful-stop"],
        ["infrastructure-maintenance", "sidecar-exit-on-shutdown"],
    )


def build_pattern_case():
    bundle = load("app-dependency-unreachable/python-postgres-timeout")
    tasks_call = next(c for c in bundle["calls"] if c["operation"] == "DescribeTasks")
    logs_call = next(c for c in bundle["calls"] if c["operation"] == "GetLogEvents")
    base = tasks_call["response"]["tasks"][0]
    base_id = base["taskArn"].rsplit("/", 1)[1]
    # Three stops of the same service, two and a half hours apart.
    ids = [base_id, "5d0c7e2f9b8a4c61a3e4d5f6a7b8c9d0", "8e1f2a3b4c5d4e6f8a9b0c1d2e3f4a5b"]
    shift = [0, 9000, 18000]
    tasks = []
    streams = []
    for task_id, seconds in zip(ids, shift):
        task = copy.deepcopy(base)
        task["taskArn"] = base["taskArn"].replace(base_id, task_id)
        for key in ("createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt",
                    "executionStoppedAt", "stoppedAt", "connectivityAt"):
            if isinstance(task.get(key), (int, float)):
                task[key] = task[key] + seconds
        for container in task.get("containers", []):
            container["taskArn"] = task["taskArn"]
            if "runtimeId" in container:
                container["runtimeId"] = task_id + "-" + container["runtimeId"].split("-", 1)[-1]
        tasks.append(task)
        stream = copy.deepcopy(logs_call)
        stream["request"]["logStreamName"] = f"ecs/orders-sync/{task_id}"
        for event in stream["response"]["events"]:
            event["timestamp"] += seconds * 1000
            event["ingestionTime"] += seconds * 1000
        streams.append(stream)
    tasks_call["request"]["tasks"] = [t["taskArn"] for t in tasks]
    tasks_call["response"]["tasks"] = tasks
    for c in bundle["calls"]:
        if c["operation"] == "ListTasks":
            c["response"]["taskArns"] = [t["taskArn"] for t in tasks]
    index = bundle["calls"].index(logs_call)
    bundle["calls"][index:index + 1] = streams

    timeout = ('psycopg2.OperationalError: connection to server at '
               '"orders-db.cluster-c9xk2lq8mzp1.eu-west-1.rds.amazonaws.com" (10.0.21.118), port 5432 '
               'failed: Connection timed out')
    closed = "psycopg2.OperationalError: server closed the connection unexpectedly"
    retry = "2026-11-24 {t},{ms:03d} ERROR orders_sync.worker batch {n} failed, retrying in 30s"
    rows = []
    import datetime

    def row(ms, stream, message):
        rows.append([("@timestamp", minute(ms)), ("@logStream", stream), ("@message", message)])

    running = ["ecs/orders-sync/1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", "ecs/orders-sync/7f6e5d4c3b2a41098f7e6d5c4b3a2f1e"]
    for task, stream in zip(tasks, streams):
        stop = int(task["stoppedAt"] * 1000)
        name = stream["request"]["logStreamName"]
        row(stop - 1300, name, "Traceback (most recent call last):")
        row(stop - 1301, name, timeout)
        # The running tasks hit the same timeout around each stop, and retry.
        for k, other in enumerate(running):
            at = stop - 90000 + k * 30000
            row(at, other, timeout)
            t = datetime.datetime.fromtimestamp(at / 1000, tz=datetime.timezone.utc)
            row(at + 5, other, retry.format(t=t.strftime("%H:%M:%S"), ms=at % 1000, n=8800 + k + stop % 97))
    for k in range(4):
        at = int(tasks[1]["stoppedAt"] * 1000) + 1800000 + k * 600000
        row(at, running[k % 2], closed)
    rows.sort(key=lambda r: r[0][1], reverse=True)
    first_stop = int(tasks[0]["stoppedAt"] * 1000)
    last_stop = int(tasks[-1]["stoppedAt"] * 1000)
    start, results = insights_query(
        "intermittent", ["/ecs/orders-sync"], first_stop - 3600000, last_stop + 60000,
        PATTERN_QUERY, rows, 48_213_774, 151_202,
    )
    bundle["calls"] += [describe_clusters("123456789012", "enabled"), start, results]
    bundle["calls"] += deployment_lookups(bundle, with_callers=False)
    bundle["manifest"]["recorded_at"] = "2026-11-24T10:00:00.000Z"
    write(
        "app-dependency-unreachable/intermittent-error-patterns",
        bundle,
        "app-dependency-unreachable/python-postgres-timeout three times in five hours, with a Logs "
        "Insights search of /ecs/orders-sync for error-like lines (reconstructed by "
        "xtask/scripts/insights_fixtures.py from the case's own psycopg2 lines): the running tasks "
        "time out on the same database around each stop, the pattern behind the intermittent failure",
        ["app-dependency-unreachable"],
        ["app-startup-crash", "dependency-start-timeout"],
    )


if __name__ == "__main__":
    build_memory_cases()
    build_user_stop_case()
    build_pattern_case()
