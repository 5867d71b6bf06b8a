#!/usr/bin/env python3
"""Generate the benchmark bundle: TASKS stopped tasks of mixed failure modes, deterministically.

usage: bench_bundle.py TASKS OUT.json

The tasks are copies of the stopped tasks of the fixtures `fixtures/mixed/two-services/compose.json`
names (22 failure modes over two services), taken round-robin until there are exactly TASKS of them;
`compose_bundle.py` does the copying (new task ids, times 7 minutes apart). Then, as in a busy service:

- every task that ran has 100 log lines: bland application lines (no rule matches them) are put
  in front of its fixture lines, a millisecond apart, so the lines a rule looks for stay at the end;
  tasks that never started have no log stream, as in AWS;
- every service has 100 events, the most ECS keeps: the newest 100 of the copies' events, padded
  with older `(service <s>) has reached a steady state.` events (catalogue E1, the commonest event).

The same TASKS always gives the same bytes.
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compose_bundle  # noqa: E402

ROOT = compose_bundle.ROOT
TEMPLATES = "fixtures/mixed/two-services/compose.json"
LOG_LINES = 100
EVENTS = 100
RECORDED_AT = "2026-11-24T12:00:00.000Z"


def stopped_count(fixture):
    calls = compose_bundle.load(fixture)["calls"]
    return sum(
        1
        for call in calls
        if call["operation"] == "DescribeTasks" and call.get("response")
        for task in call["response"]["tasks"]
        if task.get("lastStatus") == "STOPPED"
    )


def plan(parts, tasks):
    """Copies per part, round-robin, so that the stopped tasks add up to exactly TASKS."""
    sizes = [stopped_count(part["fixture"]) for part in parts]
    copies = [0] * len(parts)
    total = 0
    while total < tasks:
        progressed = False
        for index, size in enumerate(sizes):
            if 0 < size <= tasks - total:
                copies[index] += 1
                total += size
                progressed = True
        if not progressed:
            raise SystemExit(f"cannot make exactly {tasks} stopped tasks from the templates")
    return [dict(part, copies=n) for part, n in zip(parts, copies) if n]


def filler_line(n):
    """An application log line no rule looks for."""
    kind = n % 4
    if kind == 0:
        return f"GET /api/orders/{1000 + n} 200 {3 + n % 40}ms"
    if kind == 1:
        return f"INFO  jobs: processed batch {n} (32 items) in {90 + n % 60}ms"
    if kind == 2:
        return f"POST /api/carts/{n}/items 201 {5 + n % 25}ms"
    return f"DEBUG cache: hit ratio 0.{80 + n % 19} over the last 60s"


def pad_logs(bundle):
    """Brings every task that has log streams to LOG_LINES lines, padding its largest stream."""
    by_task = {}
    for call in bundle["calls"]:
        if call.get("response") and call["operation"] in ("GetLogEvents", "FilterLogEvents"):
            if call["operation"] != "GetLogEvents":
                raise SystemExit("the templates are expected to hold GetLogEvents calls only")
            task_id = call["request"]["logStreamName"].rsplit("/", 1)[-1]
            by_task.setdefault(task_id, []).append(call)
    for task_id, calls in by_task.items():
        have = sum(len(c["response"]["events"]) for c in calls)
        missing = LOG_LINES - have
        if missing <= 0:
            continue
        call = max(calls, key=lambda c: (len(c["response"]["events"]), c["request"]["logStreamName"]))
        events = call["response"]["events"]
        first = events[0]["timestamp"] if events else 0
        filler = [
            {"ingestionTime": first - missing + k + 1, "message": filler_line(k), "timestamp": first - missing + k}
            for k in range(missing)
        ]
        call["response"]["events"] = filler + events


def pad_events(bundle):
    """Gives every service with stopped tasks exactly EVENTS events, newest first."""
    described = next(c for c in bundle["calls"] if c["operation"] == "DescribeServices")
    listed = {c["request"]["serviceName"]: c["response"]["taskArns"] for c in bundle["calls"] if c["operation"] == "ListTasks"}
    kept = [s for s in described["response"]["services"] if listed.get(s["serviceName"])]
    for service in kept:
        events = service["events"][:EVENTS]
        oldest = compose_bundle.epoch(events[-1]["createdAt"]) if events else 1795000000.0
        name = service["serviceName"]
        for k in range(EVENTS - len(events)):
            # ECS reports a steady state about every six hours while nothing changes.
            event_id = hashlib.sha256(f"{name}/steady/{k}".encode()).hexdigest()
            events.append({
                "createdAt": oldest - (k + 1) * 6 * 3600,
                "id": f"{event_id[:8]}-{event_id[8:12]}-{event_id[12:16]}-{event_id[16:20]}-{event_id[20:32]}",
                "message": f"(service {name}) has reached a steady state.",
            })
        service["events"] = events
    described["response"]["services"] = kept
    described["request"]["services"] = [s["serviceName"] for s in kept]
    names = {s["serviceName"] for s in kept}
    bundle["calls"] = [
        c for c in bundle["calls"] if c["operation"] != "ListTasks" or c["request"]["serviceName"] in names
    ]
    bundle["manifest"]["selection"]["services"] = sorted(names)


def generate(tasks):
    with open(f"{ROOT}/{TEMPLATES}") as f:
        templates = json.load(f)
    spec = {
        "recorded_at": RECORDED_AT,
        "services": templates["services"],
        "parts": plan(templates["parts"], tasks),
    }
    bundle = compose_bundle.compose(spec)
    pad_logs(bundle)
    pad_events(bundle)
    return bundle


def main(tasks, out_path):
    compose_bundle.write(generate(int(tasks)), out_path)


if __name__ == "__main__":
    main(*sys.argv[1:])
