//! Typed views of the AWS responses a bundle holds.
//!
//! Field names are the AWS API's own (camelCase for ECS and CloudWatch Logs, PascalCase for
//! ELBv2 in the AWS CLI's JSON shape). Every field is optional and unknown fields are ignored,
//! so a response from a newer API version still loads; a known field with the wrong type is
//! a validation error that names the call and the path.
//! Nested structures the engine passes through untouched stay `serde_json::Value`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::time::{EpochMillis, EpochSeconds};

// ---------------------------------------------------------------------------------------------
// ECS

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeTasksResponse {
    pub tasks: Vec<Task>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Failure {
    pub arn: Option<String>,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Task {
    pub task_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub task_definition_arn: Option<String>,
    pub container_instance_arn: Option<String>,
    pub group: Option<String>,
    pub started_by: Option<String>,
    pub launch_type: Option<String>,
    pub capacity_provider_name: Option<String>,
    pub platform_version: Option<String>,
    pub platform_family: Option<String>,
    pub availability_zone: Option<String>,
    pub connectivity: Option<String>,
    pub last_status: Option<String>,
    pub desired_status: Option<String>,
    pub health_status: Option<String>,
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub version: Option<i64>,
    pub created_at: Option<EpochSeconds>,
    pub connectivity_at: Option<EpochSeconds>,
    pub pull_started_at: Option<EpochSeconds>,
    pub pull_stopped_at: Option<EpochSeconds>,
    pub started_at: Option<EpochSeconds>,
    pub stopping_at: Option<EpochSeconds>,
    pub execution_stopped_at: Option<EpochSeconds>,
    pub stopped_at: Option<EpochSeconds>,
    pub containers: Vec<Container>,
    pub attachments: Vec<Value>,
    pub attributes: Vec<Attribute>,
    pub overrides: Option<Value>,
    pub ephemeral_storage: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    pub container_arn: Option<String>,
    pub task_arn: Option<String>,
    pub name: Option<String>,
    pub image: Option<String>,
    pub image_digest: Option<String>,
    pub runtime_id: Option<String>,
    pub last_status: Option<String>,
    pub exit_code: Option<i64>,
    pub reason: Option<String>,
    pub health_status: Option<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub memory_reservation: Option<String>,
    pub network_bindings: Vec<Value>,
    pub network_interfaces: Vec<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Attribute {
    pub name: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeServicesResponse {
    pub services: Vec<Service>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Service {
    pub service_arn: Option<String>,
    pub service_name: Option<String>,
    pub cluster_arn: Option<String>,
    pub status: Option<String>,
    pub desired_count: Option<i64>,
    pub running_count: Option<i64>,
    pub pending_count: Option<i64>,
    pub launch_type: Option<String>,
    pub task_definition: Option<String>,
    pub health_check_grace_period_seconds: Option<i64>,
    pub scheduling_strategy: Option<String>,
    pub deployment_configuration: Option<Value>,
    pub deployments: Vec<Deployment>,
    pub load_balancers: Vec<Value>,
    pub events: Vec<ServiceEvent>,
    pub network_configuration: Option<Value>,
    pub capacity_provider_strategy: Vec<Value>,
    pub created_at: Option<EpochSeconds>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Deployment {
    pub id: Option<String>,
    pub status: Option<String>,
    pub task_definition: Option<String>,
    pub desired_count: Option<i64>,
    pub pending_count: Option<i64>,
    pub running_count: Option<i64>,
    pub failed_tasks: Option<i64>,
    pub rollout_state: Option<String>,
    pub rollout_state_reason: Option<String>,
    pub launch_type: Option<String>,
    pub created_at: Option<EpochSeconds>,
    pub updated_at: Option<EpochSeconds>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceEvent {
    pub id: Option<String>,
    pub created_at: Option<EpochSeconds>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeTaskDefinitionResponse {
    pub task_definition: Option<TaskDefinition>,
    pub tags: Vec<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskDefinition {
    pub task_definition_arn: Option<String>,
    pub family: Option<String>,
    pub revision: Option<i64>,
    pub status: Option<String>,
    pub network_mode: Option<String>,
    pub requires_compatibilities: Vec<String>,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    pub runtime_platform: Option<Value>,
    pub container_definitions: Vec<ContainerDefinition>,
    pub volumes: Vec<Value>,
    pub registered_at: Option<EpochSeconds>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerDefinition {
    pub name: Option<String>,
    pub image: Option<String>,
    pub essential: Option<bool>,
    pub cpu: Option<i64>,
    pub memory: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub command: Option<Vec<String>>,
    pub entry_point: Option<Vec<String>>,
    pub working_directory: Option<String>,
    pub environment: Vec<KeyValue>,
    pub environment_files: Vec<Value>,
    pub secrets: Vec<Secret>,
    pub port_mappings: Vec<Value>,
    pub log_configuration: Option<LogConfiguration>,
    pub health_check: Option<Value>,
    pub depends_on: Vec<Value>,
    pub start_timeout: Option<i64>,
    pub stop_timeout: Option<i64>,
    pub repository_credentials: Option<Value>,
    pub user: Option<String>,
    pub mount_points: Vec<Value>,
    pub linux_parameters: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValue {
    pub name: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Secret {
    pub name: Option<String>,
    pub value_from: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogConfiguration {
    pub log_driver: Option<String>,
    pub options: BTreeMap<String, String>,
    pub secret_options: Vec<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListServicesResponse {
    pub service_arns: Vec<String>,
    pub next_token: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// ECS service deployments (2024-10): the deployment record, its revisions, task protection.

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListServiceDeploymentsResponse {
    pub service_deployments: Vec<ServiceDeploymentBrief>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceDeploymentBrief {
    pub service_deployment_arn: Option<String>,
    pub service_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub target_service_revision_arn: Option<String>,
    pub created_at: Option<EpochSeconds>,
    pub started_at: Option<EpochSeconds>,
    pub finished_at: Option<EpochSeconds>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeServiceDeploymentsResponse {
    pub service_deployments: Vec<ServiceDeployment>,
    pub failures: Vec<Failure>,
}

/// One service deployment: what was rolled out, how (`deploymentConfiguration.strategy`:
/// `ROLLING`, `BLUE_GREEN`, `LINEAR`, `CANARY`), how it ended (`status`, `statusReason`,
/// `rollback`) and what watched it (circuit breaker, alarms, lifecycle hooks). Enums are kept as
/// strings: AWS adds values.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceDeployment {
    pub service_deployment_arn: Option<String>,
    pub service_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub created_at: Option<EpochSeconds>,
    pub started_at: Option<EpochSeconds>,
    pub finished_at: Option<EpochSeconds>,
    pub stopped_at: Option<EpochSeconds>,
    pub updated_at: Option<EpochSeconds>,
    pub source_service_revisions: Vec<ServiceRevisionSummary>,
    pub target_service_revision: Option<ServiceRevisionSummary>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub lifecycle_stage: Option<String>,
    pub lifecycle_hook_details: Vec<LifecycleHookDetail>,
    pub deployment_configuration: Option<Value>,
    pub rollback: Option<DeploymentRollback>,
    pub deployment_circuit_breaker: Option<DeploymentCircuitBreakerState>,
    pub alarms: Option<DeploymentAlarmsState>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceRevisionSummary {
    pub arn: Option<String>,
    pub requested_task_count: Option<i64>,
    pub running_task_count: Option<i64>,
    pub pending_task_count: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LifecycleHookDetail {
    pub hook_id: Option<String>,
    pub target_type: Option<String>,
    pub target_arn: Option<String>,
    pub status: Option<String>,
    pub expires_at: Option<EpochSeconds>,
    pub timeout_action: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentRollback {
    pub reason: Option<String>,
    pub started_at: Option<EpochSeconds>,
    pub service_revision_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentCircuitBreakerState {
    pub status: Option<String>,
    pub failure_count: Option<i64>,
    pub threshold: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeploymentAlarmsState {
    pub status: Option<String>,
    pub alarm_names: Vec<String>,
    pub triggered_alarm_names: Vec<String>,
}

impl ServiceDeployment {
    /// The service's name, from `serviceArn`.
    pub fn service_name(&self) -> Option<&str> {
        self.service_arn.as_deref().and_then(service_arn_name)
    }

    /// `deploymentConfiguration.strategy`; a deployment without one is `ROLLING`, the default.
    pub fn strategy(&self) -> &str {
        self.deployment_configuration
            .as_ref()
            .and_then(|c| c.get("strategy"))
            .and_then(Value::as_str)
            .unwrap_or("ROLLING")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeServiceRevisionsResponse {
    pub service_revisions: Vec<ServiceRevision>,
    pub failures: Vec<Failure>,
}

/// A service revision: the task definition and the image digests ECS resolved for it
/// ("software version consistency"), with the rest kept as AWS returns it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceRevision {
    pub service_revision_arn: Option<String>,
    pub service_arn: Option<String>,
    pub cluster_arn: Option<String>,
    pub task_definition: Option<String>,
    pub launch_type: Option<String>,
    pub platform_version: Option<String>,
    pub container_images: Vec<ContainerImage>,
    pub load_balancers: Vec<Value>,
    pub service_connect_configuration: Option<Value>,
    pub volume_configurations: Vec<Value>,
    pub created_at: Option<EpochSeconds>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerImage {
    pub container_name: Option<String>,
    pub image_digest: Option<String>,
    pub image: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetTaskProtectionResponse {
    pub protected_tasks: Vec<ProtectedTask>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProtectedTask {
    pub task_arn: Option<String>,
    pub protection_enabled: Option<bool>,
    pub expiration_date: Option<EpochSeconds>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeClustersResponse {
    pub clusters: Vec<Cluster>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cluster {
    pub cluster_arn: Option<String>,
    pub cluster_name: Option<String>,
    /// Only with `include: ["SETTINGS"]`: `containerInsights` `enabled`, `enhanced` or
    /// `disabled`.
    pub settings: Vec<ClusterSetting>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterSetting {
    pub name: Option<String>,
    pub value: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs Insights

/// A query's results (the last poll). Every value is a string, as the API gives it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetQueryResultsResponse {
    pub results: Vec<Vec<ResultField>>,
    pub statistics: Option<QueryStatistics>,
    /// `Scheduled`, `Running`, `Complete`, `Failed`, `Cancelled`, `Timeout`, `Unknown`.
    pub status: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResultField {
    pub field: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryStatistics {
    pub records_matched: Option<f64>,
    pub records_scanned: Option<f64>,
    pub bytes_scanned: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// CloudTrail (PascalCase on the wire)

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LookupEventsResponse {
    pub events: Vec<TrailEvent>,
    pub next_token: Option<String>,
}

/// One management event. `CloudTrailEvent` is the whole record as a JSON string.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TrailEvent {
    pub event_id: Option<String>,
    pub event_name: Option<String>,
    pub event_time: Option<EpochSeconds>,
    pub event_source: Option<String>,
    pub username: Option<String>,
    pub cloud_trail_event: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// EventBridge: the events ECS sends (`ECS Task State Change`, `ECS Deployment State Change`,
// `ECS Service Action`), kept whole as `{"events": [...]}` (`events EcsEvents`, not an API call).

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsEventsResponse {
    pub events: Vec<EcsEvent>,
}

/// One EventBridge event, its envelope in EventBridge's own spelling.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EcsEvent {
    pub id: Option<String>,
    #[serde(rename = "detail-type")]
    pub detail_type: Option<String>,
    pub source: Option<String>,
    pub account: Option<String>,
    pub time: Option<EpochSeconds>,
    pub region: Option<String>,
    pub resources: Vec<String>,
    pub detail: EcsEventDetail,
}

/// The fields of a deployment or service-action event's `detail` the engine reads. Task
/// events keep their detail as a task (`DescribeTasks`), so only the keys used to pair them
/// are here.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EcsEventDetail {
    pub event_type: Option<String>,
    pub event_name: Option<String>,
    pub deployment_id: Option<String>,
    pub reason: Option<String>,
    pub cluster_arn: Option<String>,
    pub service_name: Option<String>,
    pub service: Option<String>,
    pub capacity_provider_arns: Vec<String>,
    pub created_at: Option<EpochSeconds>,
    pub updated_at: Option<EpochSeconds>,
    pub task_arn: Option<String>,
    pub last_status: Option<String>,
    pub group: Option<String>,
    pub version: Option<i64>,
}

impl EcsEvent {
    /// The service the event is about: `detail.serviceName` or `detail.service` (service
    /// actions), `detail.group` (`service:NAME`, task events), else the service ARN in
    /// `resources` (deployment events carry nothing else), old short form `service/NAME` too.
    pub fn service_name(&self) -> Option<&str> {
        let detail = &self.detail;
        detail
            .service_name
            .as_deref()
            .or(detail.service.as_deref())
            .or_else(|| detail.group.as_deref()?.strip_prefix("service:"))
            .or_else(|| self.resources.iter().find_map(|arn| service_arn_name(arn)))
            .filter(|name| !name.is_empty())
    }

    /// The cluster: from `detail.clusterArn`, else the task ARN or a new-format service ARN
    /// in `resources` (`crate::import::ArnParts`).
    pub fn cluster_name(&self) -> Option<String> {
        let detail = &self.detail;
        let from_cluster_arn = detail
            .cluster_arn
            .as_deref()
            .and_then(|arn| arn.rsplit_once(":cluster/"))
            .map(|(_, name)| name.to_owned())
            .filter(|name| !name.is_empty());
        from_cluster_arn.or_else(|| {
            detail
                .task_arn
                .iter()
                .chain(&self.resources)
                .find_map(|arn| crate::import::ArnParts::parse(arn)?.cluster)
        })
    }
}

/// The service's name in `arn:…:service/CLUSTER/NAME` and in the old `arn:…:service/NAME`.
fn service_arn_name(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":service/")?;
    rest.rsplit('/').next()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListTasksResponse {
    pub task_arns: Vec<String>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DescribeContainerInstancesResponse {
    pub container_instances: Vec<ContainerInstance>,
    pub failures: Vec<Failure>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerInstance {
    pub container_instance_arn: Option<String>,
    pub ec2_instance_id: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
    pub agent_connected: Option<bool>,
    pub running_tasks_count: Option<i64>,
    pub pending_tasks_count: Option<i64>,
    pub version_info: Option<Value>,
    pub remaining_resources: Vec<Value>,
    pub registered_resources: Vec<Value>,
    pub attributes: Vec<Attribute>,
    /// `healthStatus` (`--include CONTAINER_INSTANCE_HEALTH`): `overallStatus` (`OK`,
    /// `IMPAIRED`, …) and `details[]` per check (`CONTAINER_RUNTIME`, `DAEMON`, …).
    pub health_status: Option<Value>,
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetLogEventsResponse {
    pub events: Vec<LogEvent>,
    pub next_forward_token: Option<String>,
    pub next_backward_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FilterLogEventsResponse {
    pub events: Vec<LogEvent>,
    pub searched_log_streams: Vec<Value>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogEvent {
    pub log_stream_name: Option<String>,
    pub timestamp: Option<EpochMillis>,
    pub message: Option<String>,
    pub ingestion_time: Option<EpochMillis>,
    pub event_id: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// ELBv2, in the AWS CLI's JSON shape

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeTargetGroupsResponse {
    pub target_groups: Vec<TargetGroup>,
    pub next_marker: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetGroup {
    pub target_group_arn: Option<String>,
    pub target_group_name: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<i64>,
    pub vpc_id: Option<String>,
    pub target_type: Option<String>,
    pub health_check_enabled: Option<bool>,
    pub health_check_protocol: Option<String>,
    pub health_check_port: Option<String>,
    pub health_check_path: Option<String>,
    pub health_check_interval_seconds: Option<i64>,
    pub health_check_timeout_seconds: Option<i64>,
    pub healthy_threshold_count: Option<i64>,
    pub unhealthy_threshold_count: Option<i64>,
    pub matcher: Option<Value>,
    pub load_balancer_arns: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeTargetGroupAttributesResponse {
    pub attributes: Vec<TargetGroupAttribute>,
}

/// One target group attribute: `deregistration_delay.timeout_seconds` = `"300"`. Values are
/// strings, as AWS returns them.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetGroupAttribute {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeTargetHealthResponse {
    pub target_health_descriptions: Vec<TargetHealthDescription>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetHealthDescription {
    pub target: Option<Value>,
    pub health_check_port: Option<String>,
    pub target_health: Option<TargetHealth>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetHealth {
    pub state: Option<String>,
    pub reason: Option<String>,
    pub description: Option<String>,
}
