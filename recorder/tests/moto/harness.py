#!/usr/bin/env python3
"""Stage a stopped-ECS-task failure scenario in an in-process moto server.

Usage:
    python harness.py SCENARIO     # stage SCENARIO, print one JSON line, serve until stdin EOF
    python harness.py fleet --tasks N   # the benchmark fleet: one service, N stopped tasks (default 200)
    python harness.py --list       # print the scenario names, one per line

The harness starts moto (5.2.5, see requirements.txt) on 127.0.0.1 with a free
port, creates the cluster / task definitions / service / tasks / log streams /
target group through the real AWS APIs with boto3, and then writes the failure
state that moto's API cannot express (stop codes, exit codes, container reasons,
lifecycle timestamps, service events, ...) directly onto moto's backend model
objects. moto serialises responses from those objects by API field name (the
camelCase name first, then its snake_case form), so seeded attributes appear in
DescribeTasks / DescribeServices exactly where AWS puts them. Every seeded
value is read back through boto3 before the endpoint is announced.

stdout carries exactly one line:
    {"endpoint": ..., "region": ..., "cluster": ..., "service": ...,
     "task_arns": [...], "secrets": [...]}
Everything else (moto and werkzeug chatter, progress) goes to stderr. The
server is stopped when stdin reaches EOF (or on SIGTERM/SIGINT); exit status is
0 then, and non-zero with a message on stderr if staging failed.

All AWS-authored message texts below come from the project's reference
catalogue; do not add new AWS wording here.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import secrets as rnd
import signal
import string
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

ACCOUNT = "123456789012"  # moto's default account id
REGION = "us-east-1"
CLUSTER = "prod"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"

log = logging.getLogger("harness")

# --------------------------------------------------------------------------
# AWS message texts (exact, from the reference catalogue)
# --------------------------------------------------------------------------
ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
PULL_DENIED = (
    'CannotPullContainerError: inspect image has been retried 5 time(s): failed to resolve ref '
    '"docker.io/acme/billing-worker:1.4.2": pull access denied, repository does not exist or may '
    "require authorization: server message: insufficient_scope: authorization failed"
)
# The target-health description shown by ELBv2 for a 503 health check.
HEALTH_CHECK_503 = "Health checks failed with these codes: [503]"


def elb_health_stop_reason(tg_arn: str) -> str:
    return f"Task failed ELB health checks in (target-group {tg_arn})"


def event_unhealthy(service: str, task_id: str, port: int, tg_arn: str) -> str:
    return (
        f"(service {service}) (task {task_id}) (port {port}) is unhealthy in "
        f"(target-group {tg_arn}) due to (reason {HEALTH_CHECK_503})"
    )


def event_started(service: str, task_id: str) -> str:
    return f"(service {service}) has started 1 tasks: (task {task_id})."


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
class StagingError(Exception):
    pass


ABSENT = object()  # expectation: the key must not be present at all
SERVICE_EVENTS_KEPT = 100  # DescribeServices shows the newest 100 service events
DESCRIBE_TASKS_MAX = 100  # the most task ARNs one DescribeTasks call takes (moto takes any number)


def ms(dt: datetime) -> int:
    return int(round(dt.timestamp() * 1000))


def task_id_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def anchor(minutes_ago: float) -> datetime:
    """A UTC instant in the recent past. CloudWatch Logs (moto too) rejects
    events older than 14 days, so scenario times are relative to now."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return now - timedelta(minutes=minutes_ago)


@dataclass
class Timeline:
    """ECS task lifecycle timestamps (DescribeTasks field names in snake_case)."""

    created_at: datetime
    pull_started_at: datetime
    pull_stopped_at: datetime
    started_at: datetime | None  # None: the task never started
    stopping_at: datetime
    execution_stopped_at: datetime
    stopped_at: datetime

    @classmethod
    def ran(cls, created: datetime, run: timedelta, pull: timedelta = timedelta(seconds=6.213)) -> "Timeline":
        pull_started = created + timedelta(seconds=2.104)
        pull_stopped = pull_started + pull
        started = pull_stopped + timedelta(seconds=1.377)
        stopping = started + run
        exec_stopped = stopping + timedelta(seconds=0.912)
        return cls(created, pull_started, pull_stopped, started, stopping, exec_stopped,
                   exec_stopped + timedelta(seconds=12.486))

    @classmethod
    def never_started(cls, created: datetime, pull: timedelta) -> "Timeline":
        pull_started = created + timedelta(seconds=2.104)
        pull_stopped = pull_started + pull
        stopping = pull_stopped + timedelta(seconds=0.641)
        exec_stopped = stopping + timedelta(seconds=0.318)
        return cls(created, pull_started, pull_stopped, None, stopping, exec_stopped,
                   exec_stopped + timedelta(seconds=11.902))

    def fields(self) -> dict[str, datetime]:
        """snake_case model attribute -> value, for the fields that are set."""
        return {k: v for k, v in vars(self).items() if v is not None}

    def api_fields(self) -> dict[str, Any]:
        """camelCase API field -> value; startedAt is ABSENT if the task never started."""
        def camel(k: str) -> str:
            head, *rest = k.split("_")
            return head + "".join(p.title() for p in rest)
        return {camel(k): ABSENT if v is None else v for k, v in vars(self).items()}


@dataclass
class StoppedTask:
    task_definition: str  # "family:revision"
    container: str
    stop_code: str
    stopped_reason: str
    exit_code: int | None  # None: the container never ran -> no exitCode key
    container_reason: str | None  # None: no reason key
    times: Timeline
    logs: list[tuple[timedelta, str]] = field(default_factory=list)  # offset from startedAt


@dataclass
class Staged:
    service: str
    task_arns: list[str]
    secrets: list[str] = field(default_factory=list)
    # The event-driven recorder's hub (scenario `hub`): bucket, topic, queues.
    hub: dict[str, Any] | None = None


def container_def(name: str, image: str, service: str, memory: int, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": name,
        "image": image,
        "essential": True,
        # moto quirk (notes §1.1): run_task needs container-level memory; the
        # task-level memory alone makes it fail with a 500 (TypeError NoneType).
        "memory": memory,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"/ecs/{service}",
                "awslogs-region": REGION,
                "awslogs-stream-prefix": "ecs",
            },
        },
    }
    d.update(extra)
    return d


# --------------------------------------------------------------------------
# Staging against the running moto server
# --------------------------------------------------------------------------
class Stage:
    def __init__(self, endpoint: str, account: str = ACCOUNT):
        import boto3
        from botocore.config import Config
        from moto.ecs.models import ecs_backends
        from moto.elbv2.models import elbv2_backends

        self.endpoint = endpoint
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        cfg = Config(retries={"max_attempts": 1})
        if account != ACCOUNT:
            # moto keeps each account's resources apart; credentials from assuming a role in
            # another account reach that account's backends.
            creds = session.client("sts", endpoint_url=endpoint, config=cfg).assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/staging", RoleSessionName="harness",
            )["Credentials"]
            session = boto3.session.Session(
                aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"], region_name=REGION,
            )
        self.ecs = session.client("ecs", endpoint_url=endpoint, config=cfg)
        self.logs = session.client("logs", endpoint_url=endpoint, config=cfg)
        self.ec2 = session.client("ec2", endpoint_url=endpoint, config=cfg)
        self.elbv2 = session.client("elbv2", endpoint_url=endpoint, config=cfg)
        self.ecs_model = ecs_backends[account][REGION]
        self.elbv2_model = elbv2_backends[account][REGION]
        self.task_checks: dict[str, dict[str, Any]] = {}  # task arn -> path -> expected
        self.log_checks: list[tuple[str, str, list[str]]] = []  # group, stream, messages
        self.service_checks: dict[str, Any] = {}
        self.taskdef_checks: list[str] = []
        self.target_health_checks: list[tuple[str, dict[str, tuple[str, str, str]]]] = []
        self.service = ""
        self.task_arns: list[str] = []

    # -- network / cluster ---------------------------------------------------
    def network(self) -> None:
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        # moto quirk (notes §1.1): without DNS hostnames run_task fails with a
        # 500 ('NetworkInterface' object has no attribute 'private_dns_name').
        self.ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        self.subnets = [
            self.ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
            for cidr, az in (("10.0.1.0/24", "us-east-1a"), ("10.0.2.0/24", "us-east-1b"))
        ]
        self.sg = self.ec2.create_security_group(
            GroupName="ecs-tasks", Description="ECS tasks", VpcId=vpc
        )["GroupId"]
        self.vpc = vpc
        self.ecs.create_cluster(clusterName=CLUSTER)

    def awsvpc(self) -> dict[str, Any]:
        # moto quirk (notes §1.1): securityGroups is mandatory for create_service
        # (500 KeyError otherwise), so always pass it.
        return {"awsvpcConfiguration": {
            "subnets": self.subnets, "securityGroups": [self.sg], "assignPublicIp": "DISABLED"}}

    # -- task definitions ----------------------------------------------------
    def register(self, family: str, revisions: list[list[dict[str, Any]]], cpu: str, memory: str) -> None:
        """Register revisions 1..N of a family (N = len(revisions))."""
        for rev, containers in enumerate(revisions, start=1):
            td = self.ecs.register_task_definition(
                family=family,
                containerDefinitions=containers,
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu=cpu,
                memory=memory,
                executionRoleArn=EXECUTION_ROLE,
            )["taskDefinition"]
            if td["revision"] != rev:
                raise StagingError(f"{family}: expected revision {rev}, moto assigned {td['revision']}")
            self.taskdef_checks.append(f"{family}:{rev}")

    # -- service ---------------------------------------------------------------
    def create_service(self, name: str, task_definition: str, **extra: Any) -> None:
        self.ecs.create_service(
            cluster=CLUSTER,
            serviceName=name,
            taskDefinition=task_definition,
            desiredCount=1,
            launchType="FARGATE",
            platformVersion="LATEST",
            networkConfiguration=self.awsvpc(),
            **extra,
        )
        self.service = name
        self.logs.create_log_group(logGroupName=f"/ecs/{name}")

    def _service_model(self) -> Any:
        return self.ecs_model.services[f"{CLUSTER}:{self.service}"]

    def deployment_id(self) -> str:
        return self._service_model().deployments[0]["id"]

    # -- tasks -------------------------------------------------------------------
    def stopped_task(self, spec: StoppedTask) -> str:
        svc = self.service
        task = self.ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=spec.task_definition,
            launchType="FARGATE",
            platformVersion="1.4.0",
            networkConfiguration=self.awsvpc(),
            # What ECS sets for service-managed tasks: group "service:NAME" and
            # startedBy = the deployment id.
            group=f"service:{svc}",
            startedBy=self.deployment_id(),
        )["tasks"][0]
        model = self.ecs_model.tasks[CLUSTER].pop(task["taskArn"])
        # moto quirk: task ids are dashed UUIDs; ECS uses 32 hex digits. Re-key
        # the task under a realistic id (the ARN is derived from model.id).
        model.id = uuid.uuid4().hex
        arn = model.task_arn
        self.ecs_model.tasks[CLUSTER][arn] = model

        # The stop itself goes through the API (sets lastStatus/desiredStatus
        # STOPPED and stoppedReason); moto cannot set anything else about it.
        stopped = self.ecs.stop_task(cluster=CLUSTER, task=arn, reason=spec.stopped_reason)["task"]
        if stopped["taskArn"] != arn:
            raise StagingError(f"stop_task returned {stopped['taskArn']}, expected {arn}")

        td = self.ecs_model.describe_task_definition(spec.task_definition)
        # ---- seed the task (snake_case attribute -> camelCase API field) ----
        model.stop_code = spec.stop_code
        for name, value in spec.times.fields().items():
            setattr(model, name, value)
        model.cpu, model.memory = td.cpu, td.memory  # moto omits task-level cpu/memory
        model.availability_zone = "us-east-1a"
        model.platform_family = "Linux"
        model.health_status = "UNKNOWN"
        for att in model.attachments:
            att["status"] = "DELETED"  # the task ENI is gone once the task stopped

        # ---- seed the (single) container ----
        # moto quirk (notes §1.1): only the first container definition becomes
        # a container; every scenario here has exactly one.
        c = model.containers[0]
        if c.name != spec.container:
            raise StagingError(f"moto container is {c.name!r}, expected {spec.container!r}")
        c.last_status = "STOPPED"
        c.health_status = "UNKNOWN"
        # moto quirk: containers[].taskArn holds the task-definition ARN and the
        # container ARN is built from it; point both at the task.
        c.task_arn = arn
        c.container_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/{model.id}/{uuid.uuid4()}"
        # moto quirk: Container.exitCode is always 0. The serialiser looks up
        # "exitCode" before "exit_code" and drops None values, so None removes
        # the key entirely (a container that never ran has no exitCode).
        c.exitCode = spec.exit_code
        c.reason = spec.container_reason
        ip = self.task_ip(model)
        eni = next(a for a in model.attachments if a["type"] == "ElasticNetworkInterface")
        c.network_interfaces = [{"attachmentId": eni["id"], "privateIpv4Address": ip}]

        # ---- logs ----
        if spec.logs:
            if spec.times.started_at is None:
                raise StagingError("logs given for a task that never started")
            stream = f"ecs/{spec.container}/{model.id}"
            events = [(spec.times.started_at + off, msg) for off, msg in spec.logs]
            for t, _ in events:
                if not spec.times.started_at <= t <= spec.times.stopping_at:
                    raise StagingError(f"log line at {t} outside the run window of {arn}")
            self.put_logs(f"/ecs/{svc}", stream, events)

        # ---- what must come back through the API ----
        expect: dict[str, Any] = {
            "taskArn": arn,
            "group": f"service:{svc}",
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "launchType": "FARGATE",
            "stopCode": spec.stop_code,
            "stoppedReason": spec.stopped_reason,
            "taskDefinitionArn": td.arn,
            "cpu": td.cpu,
            "memory": td.memory,
            "containers.0.name": spec.container,
            "containers.0.lastStatus": "STOPPED",
            "containers.0.taskArn": arn,
            "containers.0.exitCode": ABSENT if spec.exit_code is None else spec.exit_code,
            "containers.0.reason": ABSENT if spec.container_reason is None else spec.container_reason,
        }
        expect.update(spec.times.api_fields())
        self.task_checks[arn] = expect
        self.task_arns.append(arn)
        return arn

    @staticmethod
    def task_ip(model: Any) -> str:
        for att in model.attachments:
            for d in att["details"]:
                if d["name"] == "privateIPv4Address":
                    return d["value"]
        raise StagingError("task has no ENI address")

    def put_logs(self, group: str, stream: str, events: list[tuple[datetime, str]]) -> None:
        self.logs.create_log_stream(logGroupName=group, logStreamName=stream)
        stamps = [ms(t) for t, _ in events]
        if stamps != sorted(stamps):
            raise StagingError(f"{stream}: log timestamps not ascending")
        resp = self.logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": ms(t), "message": m} for t, m in events],
        )
        if resp.get("rejectedLogEventsInfo"):
            raise StagingError(f"{stream}: events rejected: {resp['rejectedLogEventsInfo']}")
        self.log_checks.append((group, stream, [m for _, m in events]))

    # -- load balancer -------------------------------------------------------------
    def load_balancer(self, name: str, port: int) -> str:
        """An internet-facing ALB forwarding to an `ip` target group that checks /health every
        10 s (2 failures: unhealthy); returns the target group's ARN."""
        tg_arn = self.elbv2.create_target_group(
            Name=f"{name}-tg", Protocol="HTTP", Port=port, VpcId=self.vpc, TargetType="ip",
            HealthCheckProtocol="HTTP", HealthCheckPath="/health",
            HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5,
            UnhealthyThresholdCount=2, HealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        lb_arn = self.elbv2.create_load_balancer(
            Name=f"{name}-alb", Subnets=self.subnets, SecurityGroups=[self.sg],
            Scheme="internet-facing", Type="application",
        )["LoadBalancers"][0]["LoadBalancerArn"]
        self.elbv2.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
        return tg_arn

    # -- service seeding ---------------------------------------------------------
    def seed_service(self, events: list[tuple[datetime, str]], created_at: datetime,
                     grace_period: int | None = None) -> None:
        svc = self._service_model()
        # moto quirk (notes §1.1): describe_services always returns events: [].
        ev = [{"id": str(uuid.uuid4()), "createdAt": t, "message": m}
              for t, m in sorted(events, key=lambda e: e[0], reverse=True)]  # newest first
        ev = ev[:SERVICE_EVENTS_KEPT]
        svc.events = ev
        svc.created_at = created_at  # moto has no service createdAt at all
        dep = svc.deployments[0]
        dep["createdAt"] = created_at  # moto stamps the wall clock of create_service
        dep["failedTasks"] = len(self.task_arns)
        dep["updatedAt"] = max((t for t, _ in events), default=created_at)
        svc.running_count, svc.pending_count = 0, 1
        checks: dict[str, Any] = {"events": ev, "createdAt": created_at, "runningCount": 0}
        if grace_period is not None:
            # moto quirk (notes §1.1): create_service drops
            # healthCheckGracePeriodSeconds; it is only served if set here.
            svc.health_check_grace_period_seconds = grace_period
            checks["healthCheckGracePeriodSeconds"] = grace_period
        self.service_checks = checks

    # -- ELBv2 -------------------------------------------------------------------
    def seed_target_health(self, tg_arn: str, port: int,
                           states: dict[str, tuple[str, str, str]]) -> None:
        """Register targets and make describe_target_health report them as given.

        moto quirk: FakeTargetGroup.health_for() answers "healthy" for every
        registered target and keeps no per-target health state that could be
        seeded. We therefore override health_for on this one target-group object
        (not on the class) so the seeded targets report the given state,
        reason and description; any other target keeps moto's behaviour.
        """
        from moto.elbv2.models import FakeHealthStatus

        self.elbv2.register_targets(
            TargetGroupArn=tg_arn, Targets=[{"Id": ip, "Port": port} for ip in states]
        )
        tg = self.elbv2_model.target_groups[tg_arn]
        moto_health_for = tg.health_for

        def health_for(target: dict[str, Any], ec2_backend: Any) -> Any:
            seeded = states.get(target["Id"])
            registered = tg.targets.get(target["Id"])
            if seeded is None or registered is None:
                return moto_health_for(target, ec2_backend)
            state, reason, description = seeded
            return FakeHealthStatus(target["Id"], registered["Port"], tg.health_check_port,
                                    state, reason, description)

        tg.health_for = health_for
        self.target_health_checks.append((tg_arn, states))

    # -- verification ------------------------------------------------------------
    def verify(self) -> None:
        problems: list[str] = []

        def check(what: str, doc: Any, path: str, want: Any) -> None:
            cur = doc
            for part in path.split("."):
                if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
                    cur = cur[int(part)]
                elif isinstance(cur, dict) and part in cur:
                    cur = cur[part]
                else:
                    cur = ABSENT
                    break
            if want is ABSENT:
                if cur is not ABSENT:
                    problems.append(f"{what}: {path} should be absent, got {cur!r}")
            elif cur is ABSENT:
                problems.append(f"{what}: {path} missing (want {want!r})")
            elif isinstance(want, datetime):
                if not isinstance(cur, datetime) or abs(cur.timestamp() - want.timestamp()) > 0.002:
                    problems.append(f"{what}: {path} = {cur!r}, want {want.isoformat()}")
            elif cur != want:
                problems.append(f"{what}: {path} = {cur!r}, want {want!r}")

        # ListTasks, queried the way the tool does. moto quirk: list_tasks
        # ignores serviceName entirely (it returns every task of the cluster),
        # so we keep exactly this service's stopped tasks in the cluster.
        listed = self.ecs.list_tasks(cluster=CLUSTER, serviceName=self.service,
                                     desiredStatus="STOPPED")["taskArns"]
        if sorted(listed) != sorted(self.task_arns):
            problems.append(f"list_tasks(STOPPED) = {listed}, want {self.task_arns}")
        running = self.ecs.list_tasks(cluster=CLUSTER, serviceName=self.service,
                                      desiredStatus="RUNNING")["taskArns"]
        if running:
            problems.append(f"list_tasks(RUNNING) should be empty, got {running}")

        tasks = [t for at in range(0, len(self.task_arns), DESCRIBE_TASKS_MAX)
                 for t in self.ecs.describe_tasks(
                     cluster=CLUSTER, tasks=self.task_arns[at:at + DESCRIBE_TASKS_MAX])["tasks"]]
        by_arn = {t["taskArn"]: t for t in tasks}
        for arn, expect in self.task_checks.items():
            t = by_arn.get(arn)
            if t is None:
                problems.append(f"describe_tasks did not return {arn}")
                continue
            for path, want in expect.items():
                check(task_id_of(arn), t, path, want)

        # A stage that holds no service (the hub account of scenario `hub`) has none to check.
        svcs = self.ecs.describe_services(cluster=CLUSTER, services=[self.service])["services"] if self.service else [{}]
        if len(svcs) != 1:
            problems.append(f"describe_services returned {len(svcs)} services")
        else:
            s = svcs[0]
            for path, want in self.service_checks.items():
                if path == "events":
                    got = [(e["id"], e["message"], e["createdAt"].timestamp()) for e in s.get("events", [])]
                    exp = [(e["id"], e["message"], e["createdAt"].timestamp()) for e in want]
                    if got != exp:
                        problems.append(f"service events differ:\n  got  {got}\n  want {exp}")
                else:
                    check("service", s, path, want)

        for family_rev in self.taskdef_checks:
            td = self.ecs.describe_task_definition(taskDefinition=family_rev)["taskDefinition"]
            for cd in td["containerDefinitions"]:
                if "memory" not in cd:
                    problems.append(f"{family_rev}: container {cd['name']} has no memory")
                if cd.get("logConfiguration", {}).get("logDriver") != "awslogs":
                    problems.append(f"{family_rev}: container {cd['name']} is not on awslogs")

        for group, stream, messages in self.log_checks:
            got = self.logs.get_log_events(logGroupName=group, logStreamName=stream,
                                           startFromHead=True)["events"]
            if [e["message"] for e in got] != messages:
                problems.append(f"{stream}: log events differ: {[e['message'] for e in got]}")

        for tg_arn, states in self.target_health_checks:
            desc = self.elbv2.describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
            got = {d["Target"]["Id"]: (d["TargetHealth"].get("State"), d["TargetHealth"].get("Reason"),
                                       d["TargetHealth"].get("Description")) for d in desc}
            if got != states:
                problems.append(f"target health differs: {got} != {states}")

        if problems:
            raise StagingError("verification failed:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------
def scenario_oom(st: Stage) -> Staged:
    svc = "api"
    st.register("api", [[container_def("api", f"{ECR}/api:3.1.0", svc, 512,
                                       portMappings=[{"containerPort": 8080, "protocol": "tcp"}])]],
                cpu="256", memory="512")
    st.create_service(svc, "api:1")
    t = Timeline.ran(anchor(75), run=timedelta(minutes=40))
    arn = st.stopped_task(StoppedTask(
        task_definition="api:1", container="api",
        stop_code="EssentialContainerExited", stopped_reason=ESSENTIAL_CONTAINER_EXITED,
        exit_code=137, container_reason=OOM_REASON, times=t,
        logs=[
            (timedelta(seconds=1.2), "Listening on 0.0.0.0:8080"),
            (timedelta(minutes=3, seconds=14.5), "GET /reports/42 200 38ms"),
            (timedelta(minutes=11, seconds=2.1), "GET /reports/export 200 8123ms"),
            (timedelta(minutes=23, seconds=40.8), "GET /reports/export 200 9876ms"),
            (timedelta(minutes=35, seconds=7.3), "GET /reports/export 200 11204ms"),
            (timedelta(minutes=39, seconds=31.0), "GET /reports/export?from=2019-01-01 started"),
        ],
    ))
    st.seed_service([(t.created_at, event_started(svc, task_id_of(arn)))],
                    created_at=t.created_at - timedelta(days=3, hours=2))
    return Staged(svc, [arn])


def scenario_exit_zero(st: Stage) -> Staged:
    svc = "web"
    web = container_def("web", f"{ECR}/web:1.4.0", svc, 512,
                        command=["sh", "-c", "node server.js &"],
                        portMappings=[{"containerPort": 3000, "protocol": "tcp"}])
    # Revisions 1 and 2 only exist so that the service can run revision 3;
    # they are identical, so a revision diff shows no spurious change.
    st.register("web", [[web]] * 3, cpu="256", memory="512")
    st.create_service(svc, "web:3")
    t = Timeline.ran(anchor(42), run=timedelta(seconds=3))
    arn = st.stopped_task(StoppedTask(
        task_definition="web:3", container="web",
        stop_code="EssentialContainerExited", stopped_reason=ESSENTIAL_CONTAINER_EXITED,
        exit_code=0, container_reason=None, times=t,
        logs=[(timedelta(seconds=0.412), "> web@1.4.0 start"),
              (timedelta(seconds=0.415), "> node server.js")],
    ))
    st.seed_service([(t.created_at, event_started(svc, task_id_of(arn)))],
                    created_at=t.created_at - timedelta(days=12))
    return Staged(svc, [arn])


def _billing(st: Stage, rev1_env: list[dict[str, str]], rev2_env: list[dict[str, str]],
             extra_logs: list[tuple[timedelta, str]]) -> Staged:
    svc = "billing"
    image = f"{ECR}/billing:2.7.0"
    st.register("billing", [
        [container_def("billing", image, svc, 512, environment=rev1_env)],
        [container_def("billing", image, svc, 512, environment=rev2_env)],
    ], cpu="256", memory="512")
    st.create_service(svc, "billing:2")
    t = Timeline.ran(anchor(33), run=timedelta(seconds=1))
    arn = st.stopped_task(StoppedTask(
        task_definition="billing:2", container="billing",
        stop_code="EssentialContainerExited", stopped_reason=ESSENTIAL_CONTAINER_EXITED,
        exit_code=1, container_reason=None, times=t,
        logs=extra_logs + [
            (timedelta(seconds=0.731), "Error: Missing required environment variable DATABASE_URL"),
            (timedelta(seconds=0.732), "    at requireEnv (/app/dist/config.js:14:11)"),
        ],
    ))
    st.seed_service([(t.created_at, event_started(svc, task_id_of(arn)))],
                    created_at=t.created_at - timedelta(days=40))
    return Staged(svc, [arn])


def scenario_missing_env(st: Stage) -> Staged:
    return _billing(
        st,
        rev1_env=[{"name": "DATABASE_URL", "value": "postgres://billing@db.internal:5432/billing"},
                  {"name": "LOG_LEVEL", "value": "info"}],
        rev2_env=[{"name": "LOG_LEVEL", "value": "info"}],
        extra_logs=[],
    )


def _rand(alphabet: str, n: int) -> str:
    return "".join(rnd.choice(alphabet) for _ in range(n))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def scenario_secrets(st: Stage) -> Staged:
    alnum = string.ascii_letters + string.digits
    password = _rand(alnum, 20)
    stripe_key = "sk_live_" + _rand(alnum, 24)
    access_key_id = "AKIA" + _rand(string.ascii_uppercase + "234567", 16)
    bearer = _rand(alnum, 40)
    now = int(datetime.now(timezone.utc).timestamp())
    jwt = ".".join([
        _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode()),
        _b64url(json.dumps({"sub": "billing", "iss": "https://auth.internal", "iat": now,
                            "exp": now + 3600}, separators=(",", ":")).encode()),
        _b64url(rnd.token_bytes(32)),
    ])
    staged = _billing(
        st,
        rev1_env=[{"name": "DATABASE_URL",
                   "value": f"postgres://billing:{password}@db.internal:5432/billing"},
                  {"name": "LOG_LEVEL", "value": "info"},
                  {"name": "STRIPE_API_KEY", "value": stripe_key}],
        rev2_env=[{"name": "LOG_LEVEL", "value": "info"},
                  {"name": "STRIPE_API_KEY", "value": stripe_key}],
        extra_logs=[
            (timedelta(seconds=0.118), f"aws: using static credentials from environment (accessKeyId={access_key_id})"),
            (timedelta(seconds=0.240), f"http: GET https://ledger.internal/v1/health Authorization: Bearer {bearer}"),
            (timedelta(seconds=0.305), f"auth: cached service session token {jwt}"),
        ],
    )
    # StopTask's reason is free text typed by a person (catalogue B7), so it can carry a
    # secret too: a second task, stopped by hand, with a password in its stop reason.
    admin_password = _rand(alnum, 18)
    t = Timeline.ran(anchor(50), run=timedelta(minutes=10))
    manual = st.stopped_task(StoppedTask(
        task_definition="billing:2", container="billing",
        stop_code="UserInitiated",
        stopped_reason=f"incident 4711: stopped while rotating postgres://admin:{admin_password}@db.internal:5432/billing",
        exit_code=143, container_reason=None, times=t, logs=[],
    ))
    staged.task_arns.append(manual)
    staged.secrets = [password, access_key_id, bearer, jwt, stripe_key, admin_password]
    return staged


def scenario_pull_denied(st: Stage) -> Staged:
    svc = "worker"
    st.register("worker", [[container_def("worker", "acme/billing-worker:1.4.2", svc, 512)]],
                cpu="256", memory="512")
    st.create_service(svc, "worker:1")
    t = Timeline.never_started(anchor(18), pull=timedelta(seconds=30))
    arn = st.stopped_task(StoppedTask(
        task_definition="worker:1", container="worker",
        stop_code="TaskFailedToStart", stopped_reason=PULL_DENIED,
        exit_code=None, container_reason=PULL_DENIED, times=t,
    ))
    st.seed_service([(t.created_at, event_started(svc, task_id_of(arn)))],
                    created_at=t.created_at - timedelta(hours=5))
    return Staged(svc, [arn])


def scenario_health_check_loop(st: Stage) -> Staged:
    svc, port = "web", 8080
    tg_arn = st.load_balancer("web", port)

    web = container_def("web", f"{ECR}/web:5.0.2", svc, 1024,
                        portMappings=[{"containerPort": port, "protocol": "tcp"}])
    # Revisions 1-4 only exist so that the service can run revision 5 (identical).
    st.register("web", [[web]] * 5, cpu="512", memory="1024")
    st.create_service(svc, "web:5", loadBalancers=[
        {"targetGroupArn": tg_arn, "containerName": "web", "containerPort": port}])

    # Spring Boot needs ~75 s to start; the ALB marks the target unhealthy after
    # 2 x 10 s of 503s and ECS kills the task at ~35 s, before "Started Application".
    logs = [
        (timedelta(seconds=1.503), "Starting Application using Java 21"),
        (timedelta(seconds=1.611), 'No active profile set, falling back to 1 default profile: "default"'),
        (timedelta(seconds=19.874), "Tomcat initialized with port 8080 (http)"),
        (timedelta(seconds=21.302), "Initializing Spring embedded WebApplicationContext"),
        (timedelta(seconds=31.947), "HikariPool-1 - Starting..."),
    ]
    events: list[tuple[datetime, str]] = []
    created = anchor(26)
    for i in range(3):
        run = timedelta(seconds=35 + (0.217, 0.508, 0.093)[i])
        t = Timeline.ran(created, run=run)
        arn = st.stopped_task(StoppedTask(
            task_definition="web:5", container="web",
            stop_code="ServiceSchedulerInitiated", stopped_reason=elb_health_stop_reason(tg_arn),
            exit_code=143, container_reason=None, times=t, logs=logs,
        ))
        tid = task_id_of(arn)
        events.append((t.created_at, event_started(svc, tid)))
        events.append((t.stopping_at - timedelta(seconds=0.6), event_unhealthy(svc, tid, port, tg_arn)))
        created = t.stopping_at + timedelta(seconds=4.8)  # the scheduler's replacement

    st.seed_service(events, created_at=anchor(26 + 60 * 24 * 6), grace_period=0)
    models = [st.ecs_model.tasks[CLUSTER][a] for a in st.task_arns]
    st.seed_target_health(tg_arn, port, {
        st.task_ip(m): ("unhealthy", "Target.ResponseCodeMismatch", HEALTH_CHECK_503) for m in models
    })
    st.service_checks["loadBalancers"] = [
        {"targetGroupArn": tg_arn, "containerName": "web", "containerPort": port}]
    return Staged(svc, list(st.task_arns))


# --------------------------------------------------------------------------
# The fleet: one service with many stopped tasks (the live-collection benchmark, issue #6)
# --------------------------------------------------------------------------
FLEET_TASKS = 200
# The failure modes of the scenarios above, in the order the fleet's tasks cycle through them.
FLEET_MODES = ("oom", "exit-zero", "missing-env", "pull-denied", "health-check-loop")
# The task-definition revision each mode runs. checkout:1 is the good configuration (it only
# fails on load: OOM, or a slow cold start), checkout:2 backgrounds the server, checkout:3
# drops DATABASE_URL, checkout:4 names an image the registry refuses (the one in PULL_DENIED).
FLEET_REVISION = {"oom": 1, "health-check-loop": 1, "exit-zero": 2, "missing-env": 3, "pull-denied": 4}
NODE_START = "checkout 2.3.0 starting (node v20.11.1, NODE_ENV=production)"
# Settings the app reads from a file baked into the image (not the task definition's environment).
NODE_SETTINGS = [f"config: {key} = {value} (/app/config/production.json)" for key, value in (
    ("redis", "cache.internal:6379"), ("paymentsApi", "https://payments.internal/v2"),
    ("catalogueApi", "https://catalogue.internal"), ("taxRegion", "eu-central"), ("currency", "EUR"),
    ("statsd", "statsd.internal:8125"), ("httpPort", "8080"))]


def _spread(first: timedelta, last: timedelta, messages: list[str]) -> list[tuple[timedelta, str]]:
    """Log lines evenly spaced from `first` to `last` (offsets from startedAt)."""
    step = (last - first) / max(len(messages) - 1, 1)
    return [(first + step * n, m) for n, m in enumerate(messages)]


def _fleet_logs(mode: str, cycle: int, run: timedelta) -> list[tuple[timedelta, str]]:
    """About 20 lines of application output for one fleet task, inside its run window.

    These are the app's own lines, not AWS wording. They carry the signals the scenarios
    above carry (the missing variable, no ready line before an ELB kill, a ready line before
    an OOM kill) and nothing that points at another failure mode.
    """
    boot = [NODE_START, "config: LOG_LEVEL=info",
            "db: pool ready (db.internal:5432/checkout, 10 connections)"]
    if mode == "oom":
        requests = []
        for n in range(15):
            cart = 7000 + cycle * 31 + n
            if n % 3 == 2:
                requests.append(f"GET /orders/export 200 {2100 + 450 * n + 37 * cycle}ms")
            elif n % 3 == 1:
                requests.append(f"POST /checkout/{cart} 201 {41 + n}ms")
            else:
                requests.append(f"GET /cart/{cart} 200 {12 + n % 5}ms")
        requests.append("GET /orders/export?from=2019-01-01 started")
        return (_spread(timedelta(seconds=0.9), timedelta(seconds=1.6),
                        boot + ["cache: catalogue loaded from snapshot (48000 items)",
                                "Listening on 0.0.0.0:8080"])
                + _spread(timedelta(seconds=4), run - timedelta(seconds=3), requests))
    if mode == "exit-zero":
        # checkout:2 runs `sh -c "node server.js &"`: node logs until the shell's exit ends the task.
        return _spread(timedelta(seconds=0.35), run - timedelta(seconds=0.2), boot + NODE_SETTINGS
                       + [f"cache: catalogue warm-up {n * 6000}/48000 items" for n in range(1, 9)]
                       + ["http: routes registered (42)", "metrics: reporting every 10s"])
    if mode == "missing-env":
        stack = [
            "Error: Missing required environment variable DATABASE_URL",
            "    at requireEnv (/app/dist/config.js:14:11)",
            "    at loadConfig (/app/dist/config.js:31:18)",
            "    at Object.<anonymous> (/app/dist/server.js:9:16)",
            "    at Module._compile (node:internal/modules/cjs/loader:1376:14)",
            "    at Module._extensions..js (node:internal/modules/cjs/loader:1435:10)",
            "    at Module.load (node:internal/modules/cjs/loader:1207:32)",
            "    at Module._load (node:internal/modules/cjs/loader:1023:12)",
            "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:135:12)",
            "    at node:internal/main/run_main_module:28:49",
            "Node.js v20.11.1",
        ]
        return (_spread(timedelta(seconds=0.102), timedelta(seconds=0.6), boot[:2] + NODE_SETTINGS)
                + _spread(timedelta(seconds=0.731), timedelta(seconds=0.741), stack))
    if mode == "health-check-loop":
        # The cold start: no cache snapshot, so the app warms up from the database and answers
        # 503 until it is done, which takes longer than the ELB lets it live (no ready line).
        return (_spread(timedelta(seconds=0.9), timedelta(seconds=1.6), boot + [
            "cache: no catalogue snapshot, warming up from the database",
            "health: /health answers 503 until the catalogue cache is warm"])
            + _spread(timedelta(seconds=3), run - timedelta(seconds=1.5),
                      [f"cache: catalogue warm-up {n * 1200 + 7 * cycle}/48000 items" for n in range(1, 16)]))
    raise StagingError(f"no logs for fleet mode {mode}")


def scenario_fleet(st: Stage, n_tasks: int = FLEET_TASKS, n_services: int = 1) -> Staged:
    """`n_tasks` stopped tasks cycling through FLEET_MODES, all stopped within the last hour
    (ECS lists stopped tasks for about an hour): a crash-looping service `checkout` as the
    live-collection benchmark sees it, or with `n_services` > 1 that many such services
    (`checkout-01`, …), each with its own family, target group and share of the tasks."""
    if n_services == 1:
        return _fleet_service(st, "checkout", n_tasks)
    staged = [_fleet_service(st, f"checkout-{i + 1:02}", n_tasks // n_services + (i < n_tasks % n_services))
              for i in range(n_services)]
    return Staged(staged[0].service, [arn for one in staged for arn in one.task_arns])


def _fleet_service(st: Stage, svc: str, n_tasks: int) -> Staged:
    port = 8080
    tg_arn = st.load_balancer(svc, port)

    image = f"{ECR}/checkout:2.3.0"
    env = [{"name": "DATABASE_URL", "value": "postgres://checkout@db.internal:5432/checkout"},
           {"name": "LOG_LEVEL", "value": "info"}]
    ports = [{"containerPort": port, "protocol": "tcp"}]
    st.register(svc, [
        [container_def("checkout", image, svc, 1024, environment=env, portMappings=ports)],
        [container_def("checkout", image, svc, 1024, environment=env, portMappings=ports,
                       command=["sh", "-c", "node server.js &"])],
        [container_def("checkout", image, svc, 1024, environment=env[1:], portMappings=ports)],
        [container_def("checkout", "acme/billing-worker:1.4.2", svc, 1024, environment=env,
                       portMappings=ports)],
    ], cpu="512", memory="1024")
    st.create_service(svc, f"{svc}:4", loadBalancers=[
        {"targetGroupArn": tg_arn, "containerName": "checkout", "containerPort": port}])

    first_created = anchor(58)
    cadence = timedelta(minutes=50) / n_tasks  # the scheduler's replacements, overlapping
    events: list[tuple[datetime, str]] = []
    unhealthy: list[str] = []
    arns: list[str] = []
    for n in range(max(n_tasks, 0)):
        mode, cycle = FLEET_MODES[n % len(FLEET_MODES)], n // len(FLEET_MODES)
        created = first_created + cadence * n
        exit_code: int | None = None
        container_reason: str | None = None
        stop_code, stopped_reason = "EssentialContainerExited", ESSENTIAL_CONTAINER_EXITED
        if mode == "oom":
            t = Timeline.ran(created, run=timedelta(minutes=2, seconds=11.3 * (cycle % 9)))
            exit_code, container_reason = 137, OOM_REASON
        elif mode == "exit-zero":
            t = Timeline.ran(created, run=timedelta(seconds=3 + 0.25 * (cycle % 4)))
            exit_code = 0
        elif mode == "missing-env":
            t = Timeline.ran(created, run=timedelta(seconds=1 + 0.1 * (cycle % 3)))
            exit_code = 1
        elif mode == "pull-denied":
            t = Timeline.never_started(created, pull=timedelta(seconds=30 + 2.5 * (cycle % 5)))
            stop_code, stopped_reason, container_reason = "TaskFailedToStart", PULL_DENIED, PULL_DENIED
        else:
            t = Timeline.ran(created, run=timedelta(seconds=35 + (0.217, 0.508, 0.093)[cycle % 3]))
            stop_code, stopped_reason = "ServiceSchedulerInitiated", elb_health_stop_reason(tg_arn)
            exit_code = 143
        logs = [] if t.started_at is None else _fleet_logs(mode, cycle, t.stopping_at - t.started_at)
        arn = st.stopped_task(StoppedTask(
            task_definition=f"{svc}:{FLEET_REVISION[mode]}", container="checkout",
            stop_code=stop_code, stopped_reason=stopped_reason,
            exit_code=exit_code, container_reason=container_reason, times=t, logs=logs,
        ))
        arns.append(arn)
        tid = task_id_of(arn)
        events.append((t.created_at, event_started(svc, tid)))
        if mode == "health-check-loop":
            events.append((t.stopping_at - timedelta(seconds=0.6), event_unhealthy(svc, tid, port, tg_arn)))
            unhealthy.append(arn)

    st.seed_service(events, created_at=first_created - timedelta(days=9), grace_period=0)
    ips = [st.task_ip(st.ecs_model.tasks[CLUSTER][a]) for a in unhealthy]
    if len(set(ips)) != len(ips):
        # moto draws task IPs at random from 10.0.0.0/8; a collision would merge two targets.
        raise StagingError("two health-check tasks got the same IP; run the harness again")
    if ips:
        st.seed_target_health(tg_arn, port, {
            ip: ("unhealthy", "Target.ResponseCodeMismatch", HEALTH_CHECK_503) for ip in ips})
    st.service_checks["loadBalancers"] = [
        {"targetGroupArn": tg_arn, "containerName": "checkout", "containerPort": port}]
    return Staged(svc, [a for a in st.task_arns if a in set(arns)])


def scenario_cluster(st: Stage) -> Staged:
    """A cluster for the whole-cluster diagnosis: `api` OOM-killed, `web` exiting 0, `billing`
    missing an environment variable, and three healthy services with no stopped task."""
    staged = [scenario_oom(st), scenario_exit_zero(st), scenario_missing_env(st)]
    for name in ("idle-1", "idle-2", "idle-3"):
        st.register(name, [[container_def(name, f"{ECR}/{name}:1.0.0", name, 256)]],
                    cpu="256", memory="512")
        st.create_service(name, f"{name}:1")
        model = st._service_model()
        # Steady: its one task runs and its deployment completed (moto never completes one).
        model.running_count, model.pending_count = 1, 0
        model.deployments[0]["rolloutState"] = "COMPLETED"
        model.deployments[0]["runningCount"] = 1
    # The checks of the last seeded service do not apply to the idle one created after it.
    st.service_checks = {}
    return Staged("api", [arn for s in staged for arn in s.task_arns])


# The second account of the multi-account scenario.
OTHER_ACCOUNT = "222222222222"


def scenario_accounts(st: Stage) -> Staged:
    """Two accounts with a cluster `prod` each: `api` OOM-killed in moto's default account,
    `web` exiting 0 in 222222222222 (staged with credentials from assuming a role there)."""
    here = scenario_oom(st)
    other = Stage(st.endpoint, account=OTHER_ACCOUNT)
    other.network()
    there = scenario_exit_zero(other)
    other.verify()
    return Staged(here.service, here.task_arns + there.task_arns)


def _iso(value: Any) -> Any:
    """boto3's datetimes back to the ISO strings an EventBridge event carries."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


# The spoke stack's stopped-task rule (recorder/lambda/cloudformation/spoke.yaml, pattern a).
STOPPED_TASK_PATTERN = {
    "source": ["aws.ecs"],
    "detail-type": ["ECS Task State Change"],
    "detail": {
        "lastStatus": ["STOPPED"],
        "stoppedReason": [{"anything-but": {"prefix": "Scaling activity initiated by (deployment ecs-svc/"}}],
    },
}


def scenario_hub(st: Stage) -> Staged:
    """The event-driven recorder's world: in spoke account 222222222222 the cluster `prod` of the
    `cluster` scenario (api OOM-killed, web exiting 0, billing missing a variable, three idle
    services); in the hub (moto's default account) the bucket, the SNS topic with an SQS queue
    subscribed as the report sink, and the hub queue that an EventBridge rule with the spoke
    template's stopped-task pattern feeds. Each stopped task's `ECS Task State Change` event
    (its DescribeTasks description with ISO timestamps, as ECS sends it) is put on the bus, so
    the hub queue holds them when the scenario is announced. (In AWS the rule lives in the
    spoke account and targets the hub queue across accounts; moto's bus runs it in the hub.)"""
    import boto3
    from botocore.config import Config

    spoke = Stage(st.endpoint, account=OTHER_ACCOUNT)
    spoke.network()
    staged = scenario_cluster(spoke)
    spoke.verify()

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    cfg = Config(retries={"max_attempts": 1})
    s3 = session.client("s3", endpoint_url=st.endpoint, config=cfg)
    sns = session.client("sns", endpoint_url=st.endpoint, config=cfg)
    sqs = session.client("sqs", endpoint_url=st.endpoint, config=cfg)
    events = session.client("events", endpoint_url=st.endpoint, config=cfg)

    bucket = "ecs-autopsy-hub"
    s3.create_bucket(Bucket=bucket)
    queue_url = sqs.create_queue(QueueName="ecs-autopsy-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sink_url = sqs.create_queue(QueueName="report-sink")["QueueUrl"]
    sink_arn = sqs.get_queue_attributes(QueueUrl=sink_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="ecs-autopsy-reports")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=sink_arn)
    events.put_rule(Name="ecs-autopsy-stopped-tasks", EventPattern=json.dumps(STOPPED_TASK_PATTERN))
    events.put_targets(Rule="ecs-autopsy-stopped-tasks", Targets=[{"Id": "hub-queue", "Arn": queue_arn}])

    described = spoke.ecs.describe_tasks(cluster=CLUSTER, tasks=staged.task_arns)["tasks"]
    entries = [{
        "Source": "aws.ecs",
        "DetailType": "ECS Task State Change",
        "Resources": [task["taskArn"]],
        "Detail": json.dumps(_iso(task)),
    } for task in described]
    for start in range(0, len(entries), 10):
        result = events.put_events(Entries=entries[start:start + 10])
        if result.get("FailedEntryCount"):
            raise StagingError(f"put_events failed: {result}")
    return Staged(staged.service, staged.task_arns, hub={
        "account": OTHER_ACCOUNT,
        "bucket": bucket,
        "topic_arn": topic,
        "queue_url": queue_url,
        "sink_url": sink_url,
    })


SCENARIOS: dict[str, Callable[..., Staged]] = {
    "oom": scenario_oom,
    "exit-zero": scenario_exit_zero,
    "missing-env": scenario_missing_env,
    "pull-denied": scenario_pull_denied,
    "health-check-loop": scenario_health_check_loop,
    "secrets": scenario_secrets,
    "fleet": scenario_fleet,
    "cluster": scenario_cluster,
    "accounts": scenario_accounts,
    "hub": scenario_hub,
}


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def set_manual_task_transitions(endpoint: str) -> None:
    # moto quirk (notes §1): by default every DescribeTasks moves a RUNNING task
    # one state forward; "manual" with a huge count keeps states where we put them.
    body = json.dumps({"model_name": "ecs::task",
                       "transition": {"progression": "manual", "times": 1_000_000}}).encode()
    req = urllib.request.Request(f"{endpoint}/moto-api/state-manager/set-transition",
                                 data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status // 100 != 2:
            raise StagingError(f"set-transition answered HTTP {resp.status}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", help="scenario to stage")
    parser.add_argument("--list", action="store_true", help="print the scenario names and exit")
    parser.add_argument("--tasks", type=int, metavar="N",
                        help=f"fleet only: how many stopped tasks to stage (default {FLEET_TASKS})")
    parser.add_argument("--services", type=int, metavar="N",
                        help="fleet only: spread the tasks over N services (default 1)")
    args = parser.parse_args(argv)

    out = sys.stdout
    if args.list:
        out.write("".join(f"{name}\n" for name in SCENARIOS))
        out.flush()
        return 0
    if args.scenario not in SCENARIOS:
        parser.error(f"unknown or missing scenario {args.scenario!r}; one of: {', '.join(SCENARIOS)}")
    options: dict[str, Any] = {}
    if args.tasks is not None:
        if args.scenario != "fleet":
            parser.error("--tasks only applies to the fleet scenario")
        if args.tasks < 1:
            parser.error("--tasks must be at least 1")
        options["n_tasks"] = args.tasks
    if args.services is not None:
        if args.scenario != "fleet":
            parser.error("--services only applies to the fleet scenario")
        if args.services < 1:
            parser.error("--services must be at least 1")
        options["n_services"] = args.services

    # Nothing but the result line may reach stdout: route every stray print
    # (moto, werkzeug, libraries) to stderr while staging.
    sys.stdout = sys.stderr
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="harness: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from moto.server import ThreadedMotoServer

    # verbose=False: ThreadedMotoServer.start() otherwise prints a banner to stdout.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001
        sys.stderr.write(f"harness: cannot start moto on 127.0.0.1: {type(exc).__name__}: {exc}\n")
        return 1
    try:
        host, port = server.get_host_and_port()
        if host != "127.0.0.1":
            raise StagingError(f"moto bound to {host}, expected 127.0.0.1")
        endpoint = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        set_manual_task_transitions(endpoint)
        st = Stage(endpoint)
        st.network()
        staged = SCENARIOS[args.scenario](st, **options)
        staging_seconds = time.monotonic() - started
        st.verify()
        log.info("staged %s: %d stopped task(s) at %s in %.1f s (verified in %.1f s)", args.scenario,
                 len(staged.task_arns), endpoint, staging_seconds,
                 time.monotonic() - started - staging_seconds)
    except Exception as exc:  # noqa: BLE001 - any staging failure is fatal
        server.stop()
        detail = exc if isinstance(exc, StagingError) else f"{type(exc).__name__}: {exc}"
        sys.stderr.write(f"harness: staging {args.scenario} failed: {detail}\n")
        sys.stderr.flush()
        return 1

    result = {
        "endpoint": endpoint,
        "region": REGION,
        "cluster": CLUSTER,
        "service": staged.service,
        "task_arns": staged.task_arns,
        "secrets": staged.secrets,
    }
    if staged.hub is not None:
        result["hub"] = staged.hub
    out.write(json.dumps(result) + "\n")
    out.flush()

    # Serve until the caller closes our stdin (or terminates us).
    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except SystemExit:
        pass
    finally:
        server.stop()
        log.info("moto stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
