//! Evidence beyond the stopped task, as the bundle holds it: the clusters' Container Insights
//! setting (DescribeClusters), Logs Insights queries (StartQuery and the last GetQueryResults
//! poll of each) and CloudTrail records (LookupEvents, each `CloudTrailEvent` read).

use recorder::bundle::{CallError, Operation, Response};
use recorder::model;
use serde_json::Value;

use super::{Loc, Located};

/// One Logs Insights query: what it asked (StartQuery's request) and what came back.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The StartQuery call.
    pub call: usize,
    pub log_groups: Vec<String>,
    /// Epoch seconds, as the request gave them.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub query_string: String,
    pub query_id: Option<String>,
    /// StartQuery's failure, when it failed.
    pub error: Option<CallError>,
    /// The last GetQueryResults poll: its call, and its response (or its failure).
    pub results_call: Option<usize>,
    pub results: Option<model::GetQueryResultsResponse>,
    pub results_error: Option<CallError>,
    /// Whether the collector gave up on it (StopQuery).
    pub stopped: bool,
}

impl Query {
    /// Whether it read Container Insights' performance events.
    pub fn is_performance(&self) -> bool {
        self.log_groups.iter().any(|g| is_performance_group(g))
    }

    /// Whether the bundle holds its results without the query (an imported
    /// `get-query-results` output).
    pub fn is_imported(&self) -> bool {
        self.query_string.is_empty() && self.log_groups.is_empty()
    }

    /// Whether it is the memory of task `task_id`: a performance query naming the task, or
    /// imported results with rows of that `TaskId`.
    pub fn is_memory_of(&self, task_id: &str) -> bool {
        (self.is_performance() && self.query_string.contains(task_id))
            || (self.is_imported()
                && self
                    .rows()
                    .iter()
                    .any(|row| field(row, "TaskId") == Some(task_id)))
    }

    /// `Complete`, `Running`, … or `None` without results.
    pub fn status(&self) -> Option<&str> {
        self.results.as_ref().and_then(|r| r.status.as_deref())
    }

    /// The rows, each as `(field, value)` pairs.
    pub fn rows(&self) -> &[Vec<model::ResultField>] {
        self.results.as_ref().map_or(&[], |r| r.results.as_slice())
    }

    pub fn bytes_scanned(&self) -> Option<f64> {
        self.results
            .as_ref()
            .and_then(|r| r.statistics.as_ref())
            .and_then(|s| s.bytes_scanned)
    }

    /// The bundle path of row `row`, or of the results.
    pub fn row_path(&self, row: Option<usize>) -> Option<String> {
        let call = self.results_call?;
        Some(match row {
            Some(row) => format!("calls[{call}].response.results[{row}]"),
            None => format!("calls[{call}].response.results"),
        })
    }
}

/// `/aws/ecs/containerinsights/<cluster>/performance`.
pub fn is_performance_group(group: &str) -> bool {
    group.starts_with("/aws/ecs/containerinsights/") && group.ends_with("/performance")
}

/// The value of `field` in a row.
pub fn field<'a>(row: &'a [model::ResultField], name: &str) -> Option<&'a str> {
    row.iter()
        .find(|f| f.field.as_deref() == Some(name))
        .and_then(|f| f.value.as_deref())
}

/// A CloudTrail lookup the bundle holds: the event name asked for and the window (epoch
/// seconds).
#[derive(Debug, Clone)]
pub struct TrailLookup {
    pub call: usize,
    pub event_name: Option<String>,
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub error: Option<CallError>,
}

/// One CloudTrail record, read from its `CloudTrailEvent` string.
#[derive(Debug, Clone, Default)]
pub struct TrailRecord {
    pub event_name: String,
    /// Epoch milliseconds.
    pub at: Option<i64>,
    pub identity_type: Option<String>,
    pub principal: Option<String>,
    /// The role a session was issued from (`sessionContext.sessionIssuer.arn`).
    pub issuer: Option<String>,
    pub invoked_by: Option<String>,
    pub source: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    /// `requestParameters` and `responseElements`, as recorded.
    pub request: Value,
    pub response: Value,
}

impl TrailRecord {
    fn parse(event: &model::TrailEvent) -> Option<TrailRecord> {
        let record: Value = serde_json::from_str(event.cloud_trail_event.as_deref()?).ok()?;
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let identity = &record["userIdentity"];
        Some(TrailRecord {
            event_name: text(&record["eventName"])
                .or_else(|| event.event_name.clone())
                .unwrap_or_default(),
            at: event.event_time.map(|t| t.0.millis).or_else(|| {
                record["eventTime"]
                    .as_str()
                    .and_then(recorder::time::Timestamp::parse_iso)
                    .map(|t| t.millis)
            }),
            identity_type: text(&identity["type"]),
            principal: text(&identity["arn"]).or_else(|| event.username.clone()),
            issuer: text(&identity["sessionContext"]["sessionIssuer"]["arn"]),
            invoked_by: text(&identity["invokedBy"]),
            source: text(&record["sourceIPAddress"]),
            user_agent: text(&record["userAgent"]),
            error_code: text(&record["errorCode"]),
            request: record["requestParameters"].clone(),
            response: record["responseElements"].clone(),
        })
    }

    /// A string request parameter.
    pub fn request_str(&self, name: &str) -> Option<&str> {
        self.request.get(name).and_then(Value::as_str)
    }

    /// The tool behind the call, from its user agent and who invoked it: `AWS Console`, `AWS
    /// CLI (ecs.stop-task)`, `Terraform`, `CloudFormation`, an SDK, a GitHub Action, or ECS.
    pub fn tool(&self) -> Option<String> {
        let agent = self.user_agent.as_deref().unwrap_or_default();
        let invoked = self.invoked_by.as_deref().unwrap_or_default();
        let has = |needle: &str| agent.contains(needle);
        let tool = if invoked.contains("cloudformation") || has("cloudformation.amazonaws.com") {
            "CloudFormation".to_owned()
        } else if has("Terraform/") || has("terraform-provider-aws") {
            "Terraform".to_owned()
        } else if has("amazon-ecs-deploy-task-definition-for-github-actions") {
            "GitHub Actions (amazon-ecs-deploy-task-definition)".to_owned()
        } else if has("aws-copilot") {
            "AWS Copilot".to_owned()
        } else if let Some(rest) = agent.strip_prefix("aws-cli/") {
            let command = rest
                .split_whitespace()
                .find_map(|part| part.strip_prefix("command/"));
            match command {
                Some(command) => format!("AWS CLI ({command})"),
                None => "AWS CLI".to_owned(),
            }
        } else if agent == "console.amazonaws.com"
            || agent == "signin.amazonaws.com"
            || agent == "AWS Internal"
            || agent.starts_with("Mozilla/")
        {
            "AWS Console".to_owned()
        } else if invoked == "ecs.amazonaws.com" || agent == "ecs.amazonaws.com" {
            "Amazon ECS".to_owned()
        } else if has("Boto3/") || has("Botocore/") {
            "an AWS SDK (Python)".to_owned()
        } else if has("aws-sdk-go") {
            "an AWS SDK (Go)".to_owned()
        } else if has("aws-sdk-java") {
            "an AWS SDK (Java)".to_owned()
        } else if has("aws-sdk-js") || has("aws-sdk-nodejs") {
            "an AWS SDK (JavaScript)".to_owned()
        } else if !invoked.is_empty() {
            invoked.to_owned()
        } else {
            return None;
        };
        Some(tool)
    }
}

/// What the bundle holds beyond the stopped tasks.
#[derive(Debug, Clone, Default)]
pub struct Insights {
    pub clusters: Vec<Located<model::Cluster>>,
    /// DescribeClusters calls that failed.
    pub cluster_errors: Vec<CallError>,
    pub queries: Vec<Query>,
    pub trail_lookups: Vec<TrailLookup>,
    pub trail_events: Vec<Located<TrailRecord>>,
    /// Where CloudTrail events are whose `CloudTrailEvent` is not a readable record (missing,
    /// not JSON): each could have been the call a report looks for.
    pub unreadable_trail_events: Vec<String>,
}

impl Insights {
    /// Whether the recording asked for any of it (an older bundle, an import or `--no-queries`
    /// did not).
    pub fn was_collected(&self) -> bool {
        !self.clusters.is_empty()
            || !self.cluster_errors.is_empty()
            || !self.queries.is_empty()
            || !self.trail_lookups.is_empty()
    }

    /// The cluster's `containerInsights` setting (`enabled`, `enhanced`, `disabled`), with
    /// where it is.
    pub fn container_insights(&self, cluster: &str) -> Option<(&str, String)> {
        let name = cluster.rsplit('/').next().unwrap_or(cluster);
        self.clusters.iter().find_map(|located| {
            let c = &located.value;
            let matches = c.cluster_name.as_deref() == Some(name)
                || c.cluster_arn.as_deref() == Some(cluster)
                || self.clusters.len() == 1;
            if !matches {
                return None;
            }
            c.settings
                .iter()
                .enumerate()
                .find(|(_, s)| s.name.as_deref() == Some("containerInsights"))
                .and_then(|(i, s)| {
                    Some((
                        s.value.as_deref()?,
                        format!("{}.settings[{i}].value", located.loc.path()),
                    ))
                })
        })
    }

    /// Adds one call. `request` is the call's request; `text` its response's text.
    pub(super) fn add(
        &mut self,
        call: usize,
        operation: Operation,
        request: &Value,
        text: Option<&str>,
        parsed: &Response,
        error: Option<&CallError>,
    ) {
        match operation {
            Operation::DescribeClusters => match (parsed, error) {
                (Response::DescribeClusters(response), None) => {
                    for (index, cluster) in response.clusters.iter().enumerate() {
                        self.clusters.push(Located {
                            loc: Loc {
                                call,
                                collection: "clusters",
                                index: Some(index),
                            },
                            value: cluster.clone(),
                        });
                    }
                }
                (_, Some(error)) => self.cluster_errors.push(error.clone()),
                _ => {}
            },
            Operation::StartQuery => {
                let groups = match (request.get("logGroupNames"), request.get("logGroupName")) {
                    (Some(Value::Array(names)), _) => names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect(),
                    (_, Some(Value::String(name))) => vec![name.clone()],
                    _ => Vec::new(),
                };
                let query_id = text
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .and_then(|v| v.get("queryId").and_then(Value::as_str).map(str::to_owned));
                self.queries.push(Query {
                    call,
                    log_groups: groups,
                    start: request.get("startTime").and_then(Value::as_i64),
                    end: request.get("endTime").and_then(Value::as_i64),
                    query_string: request
                        .get("queryString")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    query_id,
                    error: error.cloned(),
                    ..Query::default()
                });
            }
            Operation::GetQueryResults | Operation::StopQuery => {
                let id = request.get("queryId").and_then(Value::as_str);
                let known = id.and_then(|id| {
                    self.queries
                        .iter()
                        .rposition(|q| q.query_id.as_deref() == Some(id))
                });
                let index = match (known, operation) {
                    (Some(index), _) => index,
                    // An imported `aws logs get-query-results` output: the query it answered is
                    // not in the bundle; its rows say what it was about (`TaskId`, `@logStream`).
                    (None, Operation::GetQueryResults) => {
                        self.queries.push(Query {
                            call,
                            query_id: id.map(str::to_owned),
                            ..Query::default()
                        });
                        self.queries.len() - 1
                    }
                    (None, _) => return,
                };
                let query = &mut self.queries[index];
                if operation == Operation::StopQuery {
                    query.stopped = true;
                } else {
                    query.results_call = Some(call);
                    query.results_error = error.cloned();
                    query.results = match parsed {
                        Response::GetQueryResults(results) => Some(results.clone()),
                        _ => None,
                    };
                }
            }
            Operation::LookupEvents => {
                let attribute = request
                    .get("LookupAttributes")
                    .and_then(|a| a.get(0))
                    .filter(|a| a.get("AttributeKey").and_then(Value::as_str) == Some("EventName"));
                self.trail_lookups.push(TrailLookup {
                    call,
                    event_name: attribute
                        .and_then(|a| a.get("AttributeValue"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    start: request.get("StartTime").and_then(Value::as_f64),
                    end: request.get("EndTime").and_then(Value::as_f64),
                    error: error.cloned(),
                });
                if let Response::LookupEvents(response) = parsed {
                    for (index, event) in response.events.iter().enumerate() {
                        let loc = Loc {
                            call,
                            collection: "Events",
                            index: Some(index),
                        };
                        match TrailRecord::parse(event) {
                            Some(record) => self.trail_events.push(Located { loc, value: record }),
                            None => self.unreadable_trail_events.push(loc.path()),
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(agent: &str, invoked_by: Option<&str>) -> TrailRecord {
        TrailRecord {
            user_agent: Some(agent.to_owned()),
            invoked_by: invoked_by.map(str::to_owned),
            ..TrailRecord::default()
        }
    }

    /// User agents as CloudTrail recorded them, from the sources in the comments.
    #[test]
    fn the_tool_behind_a_call() {
        let cases = [
            // The ECS developer guide's CreateCluster record.
            ("console.amazonaws.com", None, Some("AWS Console")),
            // wazuh/wazuh#17648; cloudandthings/terraform-aws-clickops-notifier#24.
            ("AWS Internal", None, Some("AWS Console")),
            // The ECS developer guide's FIPS page.
            (
                "aws-cli/2.9.8 Python/3.9.11 Windows/10 exe/AMD64 prompt/off command/ecs.put-account-setting",
                None,
                Some("AWS CLI (ecs.put-account-setting)"),
            ),
            // crossplane-contrib/provider-jet-aws#180.
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.0.5 (+https://www.terraform.io) terraform-provider-aws/3.56.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.40.29 (go1.16; linux; amd64) crossplane-provider-jet-aws/v0.4.0-30.g2f6b907c.dirty",
                None,
                Some("Terraform"),
            ),
            // hashicorp/terraform#15770: the older order.
            (
                "aws-sdk-go/1.10.18 (go1.8; linux; amd64) APN/1.0 HashiCorp/1.0 Terraform/0.9.8",
                None,
                Some("Terraform"),
            ),
            // panther-labs/panther-analysis (a CloudFormation stack's call).
            (
                "cloudformation.amazonaws.com",
                Some("cloudformation.amazonaws.com"),
                Some("CloudFormation"),
            ),
            // The ECS best-practices guide: the service scheduler's own calls.
            ("ecs.amazonaws.com", None, Some("Amazon ECS")),
            (
                "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux",
                None,
                Some("an AWS SDK (Python)"),
            ),
            ("curl/8.0", None, None),
        ];
        for (agent, invoked_by, expect) in cases {
            assert_eq!(
                record(agent, invoked_by).tool().as_deref(),
                expect,
                "{agent}"
            );
        }
    }
}
