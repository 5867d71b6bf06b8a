#!/bin/sh
# The manual baseline of the live-collection benchmark (issue #6).
#
# This script is what an on-call engineer does without ecs-autopsy: the debugging checklist of
# the seed article "ECS Task Stopped: How to Read Exit Codes and CloudWatch Logs to Find the Root
# Cause", run as AWS CLI commands for every stopped task of one service:
#
#   1. aws ecs list-tasks --desired-status STOPPED         the service's stopped tasks
#   2. aws ecs describe-tasks                              stop code, stopped reason, exit codes and
#                                                          container reasons (100 ARNs a call, the API maximum)
#   3. aws ecs describe-task-definition                    once per distinct task definition: image,
#                                                          memory, environment, logConfiguration
#   4. aws logs get-log-events                             once per container of each task that started,
#                                                          stream PREFIX/CONTAINER/TASK_ID (awslogs convention)
#   5. aws ecs describe-services                           service events, grace period, load balancers
#   6. aws elbv2 describe-target-groups                    health-check settings of the service's target groups
#
# Tasks that never started (no startedAt) have no log stream, so step 4 skips them, as the
# article does ("If no exit code, check for image pull errors or secrets access failures").
# Each step uses the article's --query style so that one call gives both what the engineer reads
# and what the next step needs; there is no jq, only aws and POSIX tools.
#
# Usage: bench/cli-checklist.sh CLUSTER SERVICE
#   AWS_ENDPOINT_URL    send every call there (e.g. the moto harness); passed as --endpoint-url
#                       too, for CLIs older than 1.29 that do not read it
#   AWS_DEFAULT_REGION  the Region, as for any AWS CLI call
#   LOG_LINES           log events per stream (default 100, as `ecs-autopsy diagnose --log-lines`)
# All responses go to stdout. The script stops with the CLI's exit status at the first failed
# call and, in any case, ends by printing `cli-checklist: N aws calls` on stderr.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 CLUSTER SERVICE" >&2
    exit 2
fi
cluster=$1
service=$2
log_lines=${LOG_LINES:-100}
tab=$(printf '\t')

calls=0
work=$(mktemp -d)
trap 'status=$?; rm -rf "$work"; echo "cli-checklist: $calls aws calls" >&2; exit $status' EXIT
trap 'exit 130' INT TERM

# Every AWS CLI invocation goes through here, in this shell (never in $(...)) so it is counted.
aws_call() {
    calls=$((calls + 1))
    if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
        aws --endpoint-url "$AWS_ENDPOINT_URL" "$@" </dev/null
    else
        aws "$@" </dev/null
    fi
}

echo "== 1. stopped tasks of service $service"
aws_call ecs list-tasks --cluster "$cluster" --service-name "$service" --desired-status STOPPED \
    --query 'taskArns' --output text >"$work/list"
tr "$tab" '\n' <"$work/list" | grep -v -e '^$' -e '^None$' >"$work/arns" || true
cat "$work/arns"

echo "== 2. stop code, stopped reason and exit codes"
echo "# taskArn  taskDefinitionArn  stopCode  startedAt  stoppedAt  healthStatus  exitCodes  stoppedReason  containerReasons"
: >"$work/tasks"
split -l 100 "$work/arns" "$work/batch."
for batch in "$work"/batch.*; do
    [ -e "$batch" ] || continue
    # shellcheck disable=SC2046 # one argument per ARN
    aws_call ecs describe-tasks --cluster "$cluster" --tasks $(cat "$batch") --output text \
        --query 'tasks[].[taskArn, taskDefinitionArn, stopCode, startedAt || `"-"`, stoppedAt, healthStatus, join(`" "`, containers[].join(`"="`, [name, to_string(exitCode)])), stoppedReason, join(`" | "`, containers[].reason)]' \
        >>"$work/tasks"
done
cat "$work/tasks"

echo "== 3. task definitions"
echo "# taskDefinitionArn  container  image  memory  logDriver  awslogs-group  awslogs-stream-prefix  environment"
: >"$work/definitions"
cut -f2 "$work/tasks" | sort -u >"$work/definition-arns"
while IFS= read -r definition; do
    aws_call ecs describe-task-definition --task-definition "$definition" --output text \
        --query 'taskDefinition.containerDefinitions[].[name, image, to_string(memory), logConfiguration.logDriver, logConfiguration.options."awslogs-group", logConfiguration.options."awslogs-stream-prefix", join(`","`, environment[].name || `[]`)]' \
        >"$work/definition"
    awk -v arn="$definition" '{ print arn "\t" $0 }' "$work/definition" >>"$work/definitions"
done <"$work/definition-arns"
cat "$work/definitions"

echo "== 4. logs of each task that started (last $log_lines events per container)"
# awslogs stream names: PREFIX/CONTAINER/TASK_ID, for each awslogs container of the task's definition.
awk -F "$tab" '
    NR == FNR {
        if ($5 == "awslogs" && $6 != "None" && $7 != "None") {
            n = ++count[$1]; group[$1, n] = $6; prefix[$1, n] = $7 "/" $2 "/"
        }
        next
    }
    $4 != "-" {
        id = $1; sub(/.*\//, "", id)
        for (n = 1; n <= count[$2]; n++) print group[$2, n] "\t" prefix[$2, n] id
    }' "$work/definitions" "$work/tasks" >"$work/streams"
while IFS="$tab" read -r group stream; do
    echo "-- $group $stream"
    aws_call logs get-log-events --log-group-name "$group" --log-stream-name "$stream" \
        --limit "$log_lines" --no-start-from-head --query 'events[].[timestamp, message]' --output text
done <"$work/streams"

echo "== 5. service events, grace period and load balancers"
aws_call ecs describe-services --cluster "$cluster" --services "$service" --output json >"$work/service"
cat "$work/service"

echo "== 6. target-group health checks"
grep -o '"targetGroupArn": "[^"]*"' "$work/service" | cut -d '"' -f 4 | sort -u >"$work/target-groups" || true
if [ -s "$work/target-groups" ]; then
    # shellcheck disable=SC2046 # one argument per ARN
    aws_call elbv2 describe-target-groups --target-group-arns $(cat "$work/target-groups") --output json \
        --query 'TargetGroups[].{TargetGroupArn: TargetGroupArn, HealthCheckPath: HealthCheckPath, HealthCheckPort: HealthCheckPort, HealthCheckIntervalSeconds: HealthCheckIntervalSeconds, HealthyThresholdCount: HealthyThresholdCount, UnhealthyThresholdCount: UnhealthyThresholdCount, HealthCheckTimeoutSeconds: HealthCheckTimeoutSeconds, Matcher: Matcher}'
fi
