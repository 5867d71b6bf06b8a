#!/usr/bin/env python3
"""Compose one bundle from several fixture bundles, as if their stopped tasks belonged to a few services.

Used to build fixtures/mixed/*/bundle.json (see that case's README line in case.toml). Deterministic:
the same spec gives the same bundle byte for byte.

usage: compose_bundle.py SPEC.json OUT.json

SPEC: {"recorded_at": "...", "services": {"web": {"primary": "fixtures/a/b"}, ...},
       "parts": [{"fixture": "fixtures/a/b", "service": "web", "copies": 1}, ...]}

- Every stopped task of a part's bundle is moved to the part's service (task `group`, service events).
- The service's own settings (load balancers, grace period, deployments, deployment configuration)
  come from its `primary` fixture; the events of every part are merged, newest first.
- Each service has one task-definition family, named after it: a part's revisions are renumbered
  after the previous part's, in part order and the primary fixture's last (the service's current
  deployment runs the newest revisions), so the revisions of one part keep their order and gaps.
- Every part is moved in time so that its last stop falls within the hour before `recorded_at`,
  the parts 150 s apart in their order (a part with no stopped task: its latest time). Every
  timestamp of the part moves with it: task lifecycle, service events and deployments, log
  events, task-definition registration.
- `copies` > 1 repeats a part's tasks with new task ids, 7 minutes apart (ids are derived from the
  original id and the copy number, so they are stable).
- Account ids are pseudonymised as `record`'s redaction does (`000000000001`, … in sorted order),
  since the manifest says redaction is on.
"""
import copy
import datetime
import hashlib
import json
import re
import sys

ROOT = sys.path[0] + "/../.."


def load(fixture):
    with open(f"{ROOT}/{fixture}/bundle.json") as f:
        return json.load(f)


def epoch(value):
    """ECS timestamps are epoch seconds on the wire, ISO-8601 strings in AWS CLI v2 output."""
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return value or 0


def new_id(task_id, n):
    return hashlib.sha256(f"{task_id}/{n}".encode()).hexdigest()[:32]


def replace_all(value, mapping):
    text = json.dumps(value)
    for old, new in mapping.items():
        text = text.replace(old, new)
    return json.loads(text)


def iso(seconds):
    """ECS's ISO-8601 form, as the AWS CLI v2 prints it."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat()


def shift_times(value, seconds):
    """VALUE with every timestamp moved by SECONDS: `*At` fields (epoch seconds or ISO-8601) and
    log events' `timestamp` and `ingestionTime` (epoch milliseconds)."""
    def walk(v, key=None):
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if key and key.endswith("At") and isinstance(v, (int, float, str)) and not isinstance(v, bool):
            moved = epoch(v) + seconds
            if isinstance(v, str):
                return iso(moved)
            return float(moved) if isinstance(v, float) else int(moved)
        if key in ("timestamp", "ingestionTime") and isinstance(v, int) and not isinstance(v, bool):
            return v + int(seconds * 1000)
        return v
    return walk(value) if seconds else value


def latest_time(bundle):
    """The last stop of a fixture's tasks, else the latest time it holds at all."""
    stops, times = [], []
    def walk(v, key=None):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif key and key.endswith("At") and isinstance(v, (int, float, str)) and not isinstance(v, bool):
            times.append(epoch(v))
            if key == "stoppedAt":
                stops.append(epoch(v))
    for call in bundle["calls"]:
        if call["operation"] != "DescribeTaskDefinition":
            walk(call.get("response"))
    return max(stops or times)


def family_renumbering(spec):
    """Per fixture, a regex mapping of each of its task-definition revisions to the service's
    family: `{fixture: [(family, revision, new_family, new_revision)]}`."""
    numbering = {}
    next_revision = {}
    # A service's primary fixture (its current deployment) gets the newest revisions.
    primaries = {conf["primary"] for conf in spec["services"].values()}
    parts = [p for p in spec["parts"] if p["fixture"] not in primaries]
    parts += [p for p in spec["parts"] if p["fixture"] in primaries]
    # A primary no part uses (a small benchmark bundle) still describes its service.
    used = {p["fixture"] for p in spec["parts"]}
    parts += [{"fixture": conf["primary"], "service": name}
              for name, conf in spec["services"].items() if conf["primary"] not in used]
    for part in parts:
        fixture, service = part["fixture"], part["service"]
        if fixture in numbering:
            continue
        revisions = set()
        for call in load(fixture)["calls"]:
            if call["operation"] == "DescribeTaskDefinition" and call.get("response"):
                td = call["response"]["taskDefinition"]
                revisions.add((td["family"], td["revision"]))
        base = next_revision.get(service, 0)
        numbering[fixture] = [(family, rev, service, base + rev) for family, rev in sorted(revisions)]
        next_revision[service] = base + max((rev for _, rev in revisions), default=0)
    return numbering


def renumbered(value, renames):
    """VALUE with its task-definition families and revisions renamed (`RENAMES` from
    `family_renumbering`): ARNs, `family:revision` references, and the task definitions' own
    `family` and `revision`."""
    text = json.dumps(value)
    for family, rev, new_family, new_rev in renames:
        for prefix in ("task-definition/", '"taskDefinition": "', '"taskDefinition": "'):
            text = re.sub(re.escape(f"{prefix}{family}:{rev}") + r"(?![0-9])",
                          f"{prefix}{new_family}:{new_rev}", text)
    value = json.loads(text)
    names = {family: new_family for family, _, new_family, _ in renames}
    revisions = {(family, rev): new_rev for family, rev, _, new_rev in renames}
    for call in value.get("calls", []):
        if call["operation"] == "DescribeTaskDefinition" and call.get("response"):
            td = call["response"]["taskDefinition"]
            old = (td["family"], td["revision"])
            td["family"] = names.get(old[0], old[0])
            td["revision"] = revisions.get(old, old[1])
    return value


def pseudonymise_accounts(bundle):
    """Replaces every account id as `record`'s redaction does: sorted, `000000000001` onwards."""
    text = json.dumps(bundle)
    accounts = sorted(set(re.findall(r"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:([0-9]{12}):", text))
                      | set(re.findall(r"([0-9]{12})\.dkr\.ecr\.", text))
                      | {bundle["manifest"]["account"]})
    for index, account in enumerate(accounts):
        text = text.replace(account, f"{index + 1:012}")
    bundle = json.loads(text)
    bundle["manifest"]["redaction"]["counts"] = {"account-id": len(accounts)}
    return bundle


def compose(spec):
    """The composed bundle for SPEC (a dict), as a JSON-ready dict."""
    calls_by_key = {}  # dedupe identical calls (task definitions, target groups)
    order = []
    services = {}
    tasks = []
    family_content = {}
    shift_step = 7 * 60
    recorded = epoch(spec["recorded_at"])
    numbering = family_renumbering(spec)

    # Where each part's last stop goes: within the hour before the recording, 150 s apart.
    shifts = {}
    for index, part in enumerate(spec["parts"]):
        target = recorded - 56 * 60 + index * 150
        shifts.setdefault(part["fixture"], target - latest_time(load(part["fixture"])))
    for conf in spec["services"].values():
        shifts.setdefault(conf["primary"], recorded - 56 * 60 - latest_time(load(conf["primary"])))

    def prepared(fixture):
        return shift_times(renumbered(load(fixture), numbering[fixture]), shifts[fixture])

    for name, conf in spec["services"].items():
        primary = prepared(conf["primary"])
        described = next(c for c in primary["calls"] if c["operation"] == "DescribeServices")
        service = copy.deepcopy(described["response"]["services"][0])
        old_name = service["serviceName"]
        service = replace_all(service, {f"(service {old_name})": f"(service {name})",
                                        f"service/prod/{old_name}": f"service/prod/{name}"})
        service["serviceName"] = name
        service["events"] = []
        services[name] = service

    for part in spec["parts"]:
        bundle = prepared(part["fixture"])
        copies = part.get("copies", 1)
        target = part["service"]
        described = [c for c in bundle["calls"] if c["operation"] == "DescribeServices" and c.get("response")]
        old_names = [s["serviceName"] for c in described for s in c["response"]["services"]]
        for n in range(copies):
            mapping = {}
            part_tasks = []
            for call in bundle["calls"]:
                if call["operation"] == "DescribeTasks" and call.get("response"):
                    part_tasks.extend(call["response"]["tasks"])
            if n > 0:
                for task in part_tasks:
                    tid = task["taskArn"].rsplit("/", 1)[1]
                    mapping[tid] = new_id(tid, n)
            for old in old_names:
                mapping[f"(service {old})"] = f"(service {target})"
                mapping[f"service:{old}"] = f"service:{target}"

            def shifted(value):
                return shift_times(replace_all(value, mapping), n * shift_step)

            for call in bundle["calls"]:
                op = call["operation"]
                if op in ("DescribeServices", "ListTasks"):
                    if op == "DescribeServices" and call.get("response"):
                        for s in call["response"]["services"]:
                            services[target]["events"].extend(shifted(s.get("events", [])))
                    continue
                if op == "DescribeTasks":
                    if call.get("response"):
                        tasks.extend(shifted(call["response"]["tasks"]))
                    continue
                if op == "DescribeTaskDefinition":
                    td = call["response"]["taskDefinition"]
                    key = f'{td["family"]}:{td["revision"]}'
                    content = json.dumps(td, sort_keys=True)
                    if family_content.setdefault(key, content) != content:
                        raise SystemExit(f"{part['fixture']}: task definition {key} clashes; rename it in the fixture")
                if op in ("GetLogEvents", "FilterLogEvents"):
                    call = shifted(call)
                text = json.dumps(call, sort_keys=True)
                if text not in calls_by_key:
                    calls_by_key[text] = call
                    order.append(text)

    for service in services.values():
        service["events"].sort(key=lambda e: (-epoch(e["createdAt"]), e["id"]))
    tasks.sort(key=lambda t: (epoch(t.get("stoppedAt")), t["taskArn"]))
    head = [{"service": "ecs", "operation": "DescribeServices",
             "request": {"cluster": "prod", "services": sorted(services)},
             "response": {"failures": [], "services": [services[n] for n in sorted(services)]}}]
    for name in sorted(services):
        arns = [t["taskArn"] for t in tasks if t.get("group") == f"service:{name}"]
        head.append({"service": "ecs", "operation": "ListTasks",
                     "request": {"cluster": "prod", "desiredStatus": "STOPPED", "serviceName": name},
                     "response": {"taskArns": arns}})
    head.append({"service": "ecs", "operation": "DescribeTasks",
                 "request": {"cluster": "prod", "tasks": [t["taskArn"] for t in tasks]},
                 "response": {"failures": [], "tasks": tasks}})
    return pseudonymise_accounts({
        "manifest": {
            "account": "123456789012", "cluster": "prod", "format": "ecs-autopsy-bundle", "format_version": 1,
            "recorded_at": spec["recorded_at"], "redaction": {"counts": {}, "enabled": True},
            "region": "eu-west-1", "selection": {"services": sorted(services), "tasks": []},
            "source": "recorded", "tool_version": "0.1.0",
        },
        "calls": head + [calls_by_key[k] for k in order],
    })


def write(bundle, out_path):
    """Writes BUNDLE the way every fixture bundle is written: sorted keys, two-space indent."""
    with open(out_path, "w") as f:
        json.dump(bundle, f, indent=2, sort_keys=True)
        f.write("\n")


def main(spec_path, out_path):
    with open(spec_path) as f:
        write(compose(json.load(f)), out_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
