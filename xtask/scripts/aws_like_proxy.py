#!/usr/bin/env python3
"""A proxy that makes a local emulator behave like AWS seen from a laptop.

Between ecs-autopsy and moto on 127.0.0.1, it adds a round-trip delay to every request and
enforces per-API request quotas with token buckets, answering a request over quota the way AWS
does: HTTP 400 with a JSON `ThrottlingException` for ECS and CloudWatch Logs (JSON protocols),
an XML `Throttling` error for ELBv2 (query protocol). Used by `cargo xtask bench` (AWS-like
mode) and the live tests; only loopback addresses are ever targets.

usage: aws_like_proxy.py --upstream http://127.0.0.1:PORT [--delay-ms 40] [--quota API=RATE/BURST ...]
                         [--deny-assume-role ACCOUNT ...] [--no-service-deployments] [--no-cloudtrail]

`--no-service-deployments` answers ECS ListServiceDeployments itself, after the round trip and
the quota, with the empty list AWS gives for a service that has no service deployments: moto
implements none of the service-deployment APIs (it answers HTTP 500, which the SDK retries with
back-off), and a benchmark of collection timing should pay what AWS charges for the call, one
round trip, not moto's retries. The benchmark's report says so beside its figures.
`--no-cloudtrail` does the same for CloudTrail LookupEvents, which moto lacks too, with the empty
list AWS gives when no event matches.

Prints `{"endpoint": "http://127.0.0.1:PORT"}` on one line once listening, then serves until
stdin closes. `GET /__proxy/stats` answers `{"calls": {API: n}, "throttled": {API: n}}`.

Default quotas (per account and Region, as documented or as the issue measuring them states):
ECS describe/list calls 20/s with a burst of 50, CloudWatch Logs GetLogEvents 25/s and
FilterLogEvents 5/s (StartQuery, unpublished, as FilterLogEvents), CloudTrail LookupEvents 2/s,
ELBv2 describe calls 10/s.
"""
import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_QUOTAS = {
    "ecs": (20.0, 50.0),
    "GetLogEvents": (25.0, 25.0),
    "FilterLogEvents": (5.0, 5.0),
    "StartQuery": (5.0, 5.0),
    "logs": (25.0, 25.0),
    "LookupEvents": (2.0, 2.0),
    "elbv2": (10.0, 10.0),
}


class Bucket:
    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return True
            return False


def api_of(headers, body):
    """(service, operation) of an AWS request: the X-Amz-Target of JSON protocols, the Action
    of the query protocol."""
    target = headers.get("X-Amz-Target", "")
    if target:
        prefix, _, operation = target.rpartition(".")
        if "Logs_" in prefix:
            service = "logs"
        elif "CloudTrail_" in prefix:
            service = "cloudtrail"
        else:
            service = "ecs"
        return service, operation
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return "elbv2", (form.get("Action") or ["?"])[0]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--delay-ms", type=float, default=40.0)
    parser.add_argument("--quota", action="append", default=[], metavar="API=RATE/BURST")
    parser.add_argument("--deny-assume-role", action="append", default=[], metavar="ACCOUNT",
                        help="answer sts:AssumeRole into this account with AccessDenied, as a "
                             "role whose trust policy does not name the caller does")
    parser.add_argument("--no-service-deployments", action="store_true",
                        help="answer ecs:ListServiceDeployments with an empty list (moto lacks it)")
    parser.add_argument("--no-cloudtrail", action="store_true",
                        help="answer cloudtrail:LookupEvents with no events (moto lacks it)")
    args = parser.parse_args(argv)
    upstream = urllib.parse.urlparse(args.upstream)
    if upstream.hostname != "127.0.0.1":
        parser.error("the upstream must be on 127.0.0.1")

    quotas = dict(DEFAULT_QUOTAS)
    for item in args.quota:
        name, _, value = item.partition("=")
        rate, _, burst = value.partition("/")
        quotas[name] = (float(rate), float(burst or rate))
    buckets = {}
    buckets_lock = threading.Lock()
    stats = {"calls": {}, "throttled": {}}
    stats_lock = threading.Lock()

    def bucket(service, operation):
        key = operation if operation in quotas else service
        with buckets_lock:
            if (service, operation) not in buckets:
                rate, burst = quotas.get(key, quotas.get(service, (1e9, 1e9)))
                # One bucket per API: AWS throttles each action on its own.
                buckets[(service, operation)] = Bucket(rate, burst)
            return buckets[(service, operation)]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_GET(self):
            if self.path == "/__proxy/stats":
                with stats_lock:
                    body = json.dumps(stats).encode()
                self.respond(200, {"Content-Type": "application/json"}, body)
            else:
                self.forward(b"")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.forward(self.rfile.read(length))

        def respond(self, status, headers, body):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def forward(self, body):
            service, operation = api_of(self.headers, body)
            with stats_lock:
                stats["calls"][operation] = stats["calls"].get(operation, 0) + 1
            # The round trip: paid by every request, throttled or not.
            time.sleep(args.delay_ms / 1000.0)
            # STS's refusal, in the envelope and wording users have pasted from real accounts
            # (https://github.com/Netflix/security_monkey/issues/77).
            if operation == "AssumeRole":
                role = (urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("RoleArn") or [""])[0]
                if any(f":{account}:" in role for account in args.deny_assume_role):
                    request_id = str(uuid.uuid4())
                    error = ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                             "<Error><Type>Sender</Type><Code>AccessDenied</Code>"
                             "<Message>User: arn:aws:iam::123456789012:user/testing is not authorized to perform: "
                             f"sts:AssumeRole on resource: {role}</Message></Error>"
                             f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
                    self.respond(403, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, error)
                    return
            if not bucket(service, operation).take():
                with stats_lock:
                    stats["throttled"][operation] = stats["throttled"].get(operation, 0) + 1
                request_id = str(uuid.uuid4())
                if service == "elbv2":
                    error = ("<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">"
                             "<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                             f"<RequestId>{request_id}</RequestId></ErrorResponse>").encode()
                    self.respond(400, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, error)
                else:
                    error = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
                    self.respond(400, {"Content-Type": "application/x-amz-json-1.1",
                                       "x-amzn-ErrorType": "ThrottlingException",
                                       "x-amzn-RequestId": request_id}, error)
                return
            if args.no_service_deployments and service == "ecs" and operation == "ListServiceDeployments":
                self.respond(200, {"Content-Type": "application/x-amz-json-1.1",
                                   "x-amzn-RequestId": str(uuid.uuid4())},
                             json.dumps({"serviceDeployments": []}).encode())
                return
            if args.no_cloudtrail and operation == "LookupEvents":
                self.respond(200, {"Content-Type": "application/x-amz-json-1.1",
                                   "x-amzn-RequestId": str(uuid.uuid4())},
                             json.dumps({"Events": []}).encode())
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            keep = {k: v for k, v in response.getheaders()
                    if k.lower() not in ("content-length", "connection", "transfer-encoding")}
            conn.close()
            self.respond(response.status, keep, data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write(json.dumps({"endpoint": f"http://127.0.0.1:{server.server_address[1]}"}) + "\n")
    sys.stdout.flush()
    # Serve until whoever started the proxy closes its stdin (or goes away).
    sys.stdin.read()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
