//! Start-up network failures: a task that could not reach an AWS endpoint it needs before its
//! containers run (ECR, Secrets Manager, SSM Parameter Store, CloudWatch Logs, S3).
//!
//! Three eras write them: the agent and Fargate before 2024 (`service call has been retried 3
//! time(s): RequestError: send request failed caused by: … dial tcp …: i/o timeout`), the
//! 2024 sentences (`There is a connection issue between the task and Amazon ECR. Check your
//! task network configuration.`), and the AWS SDK v2 tails of 2025–2026 (`operation error ECR:
//! GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error
//! StatusCode: 0, RequestID: , request send failed`). Failures that other modes own (EFS,
//! disk, throttling, permissions, missing resources, platform provisioning) are not network
//! failures even when a timeout word appears in them.

use std::sync::LazyLock;

use regex::Regex;

/// Words of a network failure on the way to an endpoint at start-up, old and new AWS wording.
/// Early words only: the reasons are capped at 255 characters.
static NETWORK_FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)i/o timeout|context deadline exceeded|context canceled|request canceled|RequestError: send request failed|request send failed|exceeded maximum number of attempts|StatusCode: 0,|Client\.Timeout exceeded|TLS handshake timeout|dial tcp|no such host|connection (?:refused|reset|timed out)|connection issue between\s+the task and|check your (?:task )?network (?:configuration|connection)|ContainerRuntimeTimeoutError|DockerTimeoutError|pull command failed: : signal: killed",
    )
    .expect("built-in pattern is valid")
});

/// Failures that other failure modes own even when a timeout word appears in them: volumes
/// (EFS), disk, registry throttling, permissions and missing resources.
static NOT_NETWORK_FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)EFS utils|mount\.nfs|CannotCreateVolumeError|no space left on device|toomanyrequests|too many requests|pull rate limit|ThrottlingException|AccessDenied|not authorized to perform|ResourceNotFoundException|can't find the specified|does not exist|network interface provisioning|EphemeralStorage provisioning",
    )
    .expect("built-in pattern is valid")
});

/// Whether a stop or container reason reads as a start-up network failure that no other failure
/// mode owns.
pub fn is_network_failure(text: &str) -> bool {
    NETWORK_FAILURE.is_match(text) && !NOT_NETWORK_FAILURE.is_match(text)
}

/// A short name for the network error in `text`, the most telling one first.
pub fn network_cause(text: &str) -> &'static str {
    static CAUSES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            (r"(?i)i/o timeout", "i/o timeout"),
            (
                r"(?i)context deadline exceeded",
                "context deadline exceeded",
            ),
            (
                r"(?i)no such host",
                "no such host: the name did not resolve",
            ),
            (r"(?i)connection refused", "connection refused"),
            (r"(?i)connection reset", "connection reset"),
            (r"(?i)connection timed out", "connection timed out"),
            (
                r"(?i)request canceled while waiting for connection",
                "request canceled while waiting for connection",
            ),
            (
                r"(?i)RequestError: send request failed",
                "RequestError: send request failed",
            ),
            (
                r"(?i)connection issue between the task and",
                "connection issue",
            ),
            (
                r"(?i)check your network connection",
                "no network connection",
            ),
            (
                r"(?i)ContainerRuntimeTimeoutError|DockerTimeoutError",
                "timed out waiting for the container runtime",
            ),
            (
                r"(?i)Client\.Timeout exceeded",
                "the HTTP client timed out waiting for the endpoint",
            ),
            (
                r"(?i)exceeded maximum number of attempts|StatusCode: 0,|request send failed",
                "the request never got an answer (SDK retries exhausted)",
            ),
            (r"(?i)context canceled|request canceled", "request canceled"),
            (r"(?i)signal: killed", "the pull command was killed"),
        ]
        .into_iter()
        .map(|(pattern, name)| {
            (
                Regex::new(pattern).expect("built-in pattern is valid"),
                name,
            )
        })
        .collect()
    });
    CAUSES
        .iter()
        .find(|(pattern, _)| pattern.is_match(text))
        .map_or("a network error", |(_, name)| *name)
}

/// The endpoint a network error names (Secrets Manager, SSM, CloudWatch Logs, ECR), if it
/// names one.
pub fn network_target_named(text: &str) -> Option<&'static str> {
    static TARGETS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        [
            (
                r"(?i)secrets manager|\basm\b|secretsmanager",
                "AWS Secrets Manager",
            ),
            (
                r"(?i)\bssm\b|systems manager|parameter store",
                "AWS Systems Manager Parameter Store",
            ),
            (
                r"(?i)logging driver|cloudwatch|\blogs\.[a-z0-9-]+\.amazonaws",
                "Amazon CloudWatch Logs",
            ),
            (
                r"(?i)ecr registry auth|amazon ecr|\.ecr\.[a-z0-9-]+\.amazonaws",
                "Amazon ECR",
            ),
        ]
        .into_iter()
        .map(|(pattern, name)| {
            (
                Regex::new(pattern).expect("built-in pattern is valid"),
                name,
            )
        })
        .collect()
    });
    TARGETS
        .iter()
        .find(|(pattern, _)| pattern.is_match(text))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real start-up failures and near misses, verbatim from their sources.
    const CASES: &[(&str, bool, &str)] = &[
        (
            "CannotPullECRContainerError: RequestError: send request failed caused by: Post https://api.ecr.ap-southeast-2.amazonaws.com/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)",
            true,
            "https://github.com/cdk-cosmos/cosmos/issues/92",
        ),
        (
            "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch",
            false,
            "https://github.com/aws-samples/dataops-platform-airflow-dbt/issues/12 (a network failure, cut off before the error; refusals are retried 5 times too, so the text does not say which)",
        ),
        (
            "ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon CloudWatch log group defined in the task definition. There is a connection issue between the task and Amazon CloudWatch. Check your network configuration. : signal: killed",
            true,
            "https://github.com/civiform/civiform/issues/7648",
        ),
        (
            "ResourceInitializationError: unable to pull secrets or registry auth: The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR. Check your task network configuration. operation error ECR: GetAuthorizationToken, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://api.ecr.us-east-1.amazonaws.com/\": dial tcp 10.0.0.1:443: i/o timeout.",
            true,
            "/work/shared/reference/ecs-messages-2024-2026.md §2b (SDK v2 tail)",
        ),
        (
            "Timeout waiting for network interface provisioning to complete",
            false,
            "https://github.com/buildkite/ecs-run-task/issues/25",
        ),
        (
            "Resourceinitializationerror: failed to invoke EFS utils commands to set up EFS volumes: stderr: Failed to resolve \"fs-0c3e5a7b9d1f24680.efs.us-east-1.amazonaws.com\" - check that your file system ID is correct, and ensure that the VPC has an EFS mount target fo",
            false,
            "https://github.com/rileydakota/valheim-ecs-fargate-cdk/issues/28",
        ),
        (
            "CannotPullECRContainerError: ThrottlingException: Rate exceeded\n        status code: 400, request id: 75567eb3-6abb-11e6-9d4c-cb4ccd1cee97",
            false,
            "https://github.com/aws/amazon-ecs-agent/issues/498",
        ),
    ];

    #[test]
    fn start_up_network_failures_of_every_era() {
        for (text, network, source) in CASES {
            assert_eq!(is_network_failure(text), *network, "{text}\n  ({source})");
        }
        assert_eq!(
            network_cause(CASES[0].0),
            "request canceled while waiting for connection"
        );
        assert_eq!(network_cause(CASES[2].0), "connection issue");
        assert_eq!(
            network_target_named(CASES[2].0),
            Some("Amazon CloudWatch Logs")
        );
        assert_eq!(network_target_named(CASES[3].0), Some("Amazon ECR"));
    }
}
