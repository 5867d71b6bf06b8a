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
- `copies` > 1 repeats a part's tasks with new task ids, 7 minutes apart (ids are derived from the
  original id and the copy number, so they are stable).
- Task definitions, target groups and log calls are carried over; a task-definition family used by
  two fixtures is renamed `<family>-<part index>` in the later one.
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


def compose(spec):
    """The composed bundle for SPEC (a dict), as a JSON-ready dict."""
    calls_by_key = {}  # dedupe identical calls (task definitions, target groups)
    order = []
    services = {}
    tasks = []
    family_content = {}
    shift_step = 7 * 60

    # A task-definition family used by two fixtures is renamed in the later one, so that revisions
    # of unrelated fixtures never look like one family's history.
    renames = {}
    seen = {}
    for index, part in enumerate(spec["parts"]):
        for call in load(part["fixture"])["calls"]:
            if call["operation"] != "DescribeTaskDefinition" or not call.get("response"):
                continue
            td = call["response"]["taskDefinition"]
            if seen.setdefault(td["family"], part["fixture"]) != part["fixture"]:
                renames.setdefault(part["fixture"], {})[td["family"]] = f'{td["family"]}-{index}'

    def family_mapping(fixture):
        mapping = {}
        for old, new in renames.get(fixture, {}).items():
            mapping[f"task-definition/{old}:"] = f"task-definition/{new}:"
            mapping[f'"family": "{old}"'] = f'"family": "{new}"'
            mapping[f'"taskDefinition": "{old}:'] = f'"taskDefinition": "{new}:'
        return mapping

    for name, conf in spec["services"].items():
        primary = replace_all(load(conf["primary"]), family_mapping(conf["primary"]))
        described = next(c for c in primary["calls"] if c["operation"] == "DescribeServices")
        service = copy.deepcopy(described["response"]["services"][0])
        old_name = service["serviceName"]
        service = replace_all(service, {f"(service {old_name})": f"(service {name})",
                                        f"service/prod/{old_name}": f"service/prod/{name}"})
        service["serviceName"] = name
        service["events"] = []
        services[name] = service

    for part in spec["parts"]:
        bundle = replace_all(load(part["fixture"]), family_mapping(part["fixture"]))
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
            shift = n * shift_step

            def shifted(value):
                value = replace_all(value, mapping)
                if shift:
                    def walk(v, key=None):
                        if isinstance(v, dict):
                            return {k: walk(x, k) for k, x in v.items()}
                        if isinstance(v, list):
                            return [walk(x) for x in v]
                        if isinstance(v, (float, str)) and key and key.endswith("At"):
                            moved = epoch(v) + shift
                            if isinstance(v, float):
                                return moved
                            return datetime.datetime.fromtimestamp(moved, datetime.timezone.utc).isoformat()
                        if isinstance(v, int) and key == "timestamp":
                            return v + shift * 1000
                        return v
                    value = walk(value)
                return value

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
    return {
        "manifest": {
            "account": "123456789012", "cluster": "prod", "format": "ecs-autopsy-bundle", "format_version": 1,
            "recorded_at": spec["recorded_at"], "redaction": {"counts": {}, "enabled": True},
            "region": "eu-west-1", "selection": {"services": sorted(services), "tasks": []},
            "source": "recorded", "tool_version": "0.1.0",
        },
        "calls": head + [calls_by_key[k] for k in order],
    }


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
