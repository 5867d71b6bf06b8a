//! ELBv2 speaks XML on the wire; bundles hold its responses in the AWS CLI's JSON shape.

use aws_sdk_elasticloadbalancingv2::operation::describe_target_group_attributes::DescribeTargetGroupAttributesOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput;
use aws_sdk_elasticloadbalancingv2::operation::describe_target_health::DescribeTargetHealthOutput;
use serde_json::{Map, Value};

fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value.into());
    }
}

/// `aws elbv2 describe-target-groups` output.
pub(super) fn target_groups_json(output: &DescribeTargetGroupsOutput) -> Value {
    let groups: Vec<Value> = output
        .target_groups()
        .iter()
        .map(|group| {
            let mut map = Map::new();
            put(&mut map, "TargetGroupArn", group.target_group_arn());
            put(&mut map, "TargetGroupName", group.target_group_name());
            put(
                &mut map,
                "Protocol",
                group
                    .protocol()
                    .map(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::as_str),
            );
            put(&mut map, "Port", group.port());
            put(&mut map, "VpcId", group.vpc_id());
            put(
                &mut map,
                "HealthCheckProtocol",
                group
                    .health_check_protocol()
                    .map(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::as_str),
            );
            put(&mut map, "HealthCheckPort", group.health_check_port());
            put(&mut map, "HealthCheckEnabled", group.health_check_enabled());
            put(
                &mut map,
                "HealthCheckIntervalSeconds",
                group.health_check_interval_seconds(),
            );
            put(
                &mut map,
                "HealthCheckTimeoutSeconds",
                group.health_check_timeout_seconds(),
            );
            put(
                &mut map,
                "HealthyThresholdCount",
                group.healthy_threshold_count(),
            );
            put(
                &mut map,
                "UnhealthyThresholdCount",
                group.unhealthy_threshold_count(),
            );
            put(&mut map, "HealthCheckPath", group.health_check_path());
            if let Some(matcher) = group.matcher() {
                let mut m = Map::new();
                put(&mut m, "HttpCode", matcher.http_code());
                put(&mut m, "GrpcCode", matcher.grpc_code());
                map.insert("Matcher".to_owned(), Value::Object(m));
            }
            map.insert(
                "LoadBalancerArns".to_owned(),
                group
                    .load_balancer_arns()
                    .iter()
                    .map(|a| Value::from(a.as_str()))
                    .collect(),
            );
            put(
                &mut map,
                "TargetType",
                group
                    .target_type()
                    .map(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::as_str),
            );
            put(&mut map, "ProtocolVersion", group.protocol_version());
            put(
                &mut map,
                "IpAddressType",
                group.ip_address_type().map(
                    aws_sdk_elasticloadbalancingv2::types::TargetGroupIpAddressTypeEnum::as_str,
                ),
            );
            Value::Object(map)
        })
        .collect();
    let mut out = Map::new();
    out.insert("TargetGroups".to_owned(), Value::Array(groups));
    put(&mut out, "NextMarker", output.next_marker());
    Value::Object(out)
}

/// `aws elbv2 describe-target-health` output.
pub(super) fn target_health_json(output: &DescribeTargetHealthOutput) -> Value {
    let descriptions: Vec<Value> = output
        .target_health_descriptions()
        .iter()
        .map(|description| {
            let mut map = Map::new();
            if let Some(target) = description.target() {
                let mut t = Map::new();
                put(&mut t, "Id", target.id());
                put(&mut t, "Port", target.port());
                put(&mut t, "AvailabilityZone", target.availability_zone());
                map.insert("Target".to_owned(), Value::Object(t));
            }
            put(&mut map, "HealthCheckPort", description.health_check_port());
            if let Some(health) = description.target_health() {
                let mut h = Map::new();
                put(
                    &mut h,
                    "State",
                    health
                        .state()
                        .map(aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum::as_str),
                );
                put(
                    &mut h,
                    "Reason",
                    health
                        .reason()
                        .map(aws_sdk_elasticloadbalancingv2::types::TargetHealthReasonEnum::as_str),
                );
                put(&mut h, "Description", health.description());
                map.insert("TargetHealth".to_owned(), Value::Object(h));
            }
            Value::Object(map)
        })
        .collect();
    let mut out = Map::new();
    out.insert(
        "TargetHealthDescriptions".to_owned(),
        Value::Array(descriptions),
    );
    Value::Object(out)
}

/// `aws elbv2 describe-target-group-attributes` output.
pub(super) fn target_group_attributes_json(output: &DescribeTargetGroupAttributesOutput) -> Value {
    let attributes: Vec<Value> = output
        .attributes()
        .iter()
        .map(|attribute| {
            let mut map = Map::new();
            put(&mut map, "Key", attribute.key());
            put(&mut map, "Value", attribute.value());
            Value::Object(map)
        })
        .collect();
    serde_json::json!({ "Attributes": attributes })
}
