//! The failure-mode taxonomy: every id a built-in rule may have, and its group.
//!
//! Mirrors `reference/failure-modes.md`, the taxonomy the rules must cover. Ids never change
//! meaning and are never reused.

/// Where in a task's life a failure mode strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Application,
    ImagePull,
    TaskStartup,
    HealthCheck,
    Sidecar,
    Placement,
    Deployment,
    Benign,
}

/// `(id, group)` for every failure mode.
pub const FAILURE_MODES: &[(&str, Group)] = &[
    ("app-exited-zero", Group::Application),
    ("app-missing-config", Group::Application),
    ("app-dependency-unreachable", Group::Application),
    ("app-startup-crash", Group::Application),
    ("app-heap-exhausted", Group::Application),
    ("oom-container-limit", Group::Application),
    ("segfault", Group::Application),
    ("exec-format-arch-mismatch", Group::Application),
    ("entrypoint-not-found", Group::Application),
    ("image-not-found", Group::ImagePull),
    ("image-digest-deleted", Group::ImagePull),
    ("image-pull-auth-denied", Group::ImagePull),
    ("image-pull-rate-limited", Group::ImagePull),
    ("host-disk-full", Group::ImagePull),
    ("fargate-ephemeral-storage-full", Group::ImagePull),
    ("task-network-egress-blocked", Group::TaskStartup),
    ("execution-role-access-denied", Group::TaskStartup),
    ("referenced-resource-not-found", Group::TaskStartup),
    ("iam-role-assume-failed", Group::TaskStartup),
    ("infrastructure-role-misconfigured", Group::TaskStartup),
    ("log-config-error", Group::TaskStartup),
    ("volume-mount-failed", Group::TaskStartup),
    ("ebs-volume-attach-failed", Group::TaskStartup),
    ("dependency-start-timeout", Group::TaskStartup),
    ("transient-platform-error", Group::TaskStartup),
    ("elb-health-check-failed", Group::HealthCheck),
    ("health-check-grace-too-short", Group::HealthCheck),
    ("container-health-check-failed", Group::HealthCheck),
    ("target-group-missing", Group::HealthCheck),
    ("essential-sidecar-exited", Group::Sidecar),
    ("sidecar-exit-on-shutdown", Group::Sidecar),
    ("service-connect-proxy-failure", Group::Sidecar),
    ("placement-port-conflict", Group::Placement),
    ("placement-insufficient-resources", Group::Placement),
    ("placement-no-container-instances", Group::Placement),
    ("subnet-ip-exhaustion", Group::Placement),
    ("capacity-or-quota-limit", Group::Placement),
    ("deployment-circuit-breaker", Group::Deployment),
    ("deployment-config-deadlock", Group::Deployment),
    ("deployment-hook-failed", Group::Deployment),
    ("deployment-alarm-rollback", Group::Deployment),
    ("deployment-never-converges", Group::Deployment),
    ("task-protection-blocks-scale-in", Group::Deployment),
    ("graceful-stop", Group::Benign),
    ("spot-interruption", Group::Benign),
    ("infrastructure-maintenance", Group::Benign),
    ("instance-auto-repair", Group::Benign),
    ("task-completed", Group::Benign),
];

impl Group {
    /// The group's heading in the taxonomy document.
    pub fn title(self) -> &'static str {
        match self {
            Group::Application => "Application",
            Group::ImagePull => "Image pull",
            Group::TaskStartup => "Task start-up",
            Group::HealthCheck => "Health checks",
            Group::Sidecar => "Sidecars",
            Group::Placement => "Placement and capacity",
            Group::Deployment => "Deployments",
            Group::Benign => "Benign (expected platform behaviour)",
        }
    }
}

/// What the rule of failure mode `id` reads to decide, when the taxonomy says it.
pub fn reads(id: &str) -> Option<&'static str> {
    READS
        .iter()
        .find(|(mode, _)| *mode == id)
        .map(|(_, what)| *what)
}

/// Whether `id` is a failure-mode id.
pub fn is_failure_mode(id: &str) -> bool {
    FAILURE_MODES.iter().any(|(mode, _)| *mode == id)
}

/// The group of a failure-mode id.
pub fn group_of(id: &str) -> Option<Group> {
    FAILURE_MODES
        .iter()
        .find(|(mode, _)| *mode == id)
        .map(|(_, group)| *group)
}

/// Which failure mode is the root cause when several fit one task: the earliest in this list.
///
/// It encodes the taxonomy's precedence: an OOM kill wins over any exit code; the first
/// essential container to fail (a sidecar) wins over the app it took down; a specific runtime
/// or configuration error wins over the health check that noticed it; start-up failures come
/// before the consequences they cause.
pub const PRECEDENCE: &[&str] = &[
    "oom-container-limit",
    "service-connect-proxy-failure",
    "essential-sidecar-exited",
    "exec-format-arch-mismatch",
    "entrypoint-not-found",
    "app-heap-exhausted",
    "segfault",
    "app-missing-config",
    "app-dependency-unreachable",
    "app-startup-crash",
    "app-exited-zero",
    "iam-role-assume-failed",
    "infrastructure-role-misconfigured",
    "execution-role-access-denied",
    "referenced-resource-not-found",
    "log-config-error",
    "ebs-volume-attach-failed",
    "volume-mount-failed",
    "image-digest-deleted",
    "image-not-found",
    "image-pull-auth-denied",
    "image-pull-rate-limited",
    "fargate-ephemeral-storage-full",
    "host-disk-full",
    "transient-platform-error",
    "task-network-egress-blocked",
    "dependency-start-timeout",
    "container-health-check-failed",
    "target-group-missing",
    "health-check-grace-too-short",
    "elb-health-check-failed",
    "sidecar-exit-on-shutdown",
    "placement-port-conflict",
    "placement-insufficient-resources",
    "placement-no-container-instances",
    "subnet-ip-exhaustion",
    "capacity-or-quota-limit",
    "deployment-config-deadlock",
    "task-protection-blocks-scale-in",
    "deployment-hook-failed",
    "deployment-alarm-rollback",
    "deployment-circuit-breaker",
    "deployment-never-converges",
    "graceful-stop",
    "spot-interruption",
    "instance-auto-repair",
    "infrastructure-maintenance",
    "task-completed",
];

/// The position of `id` in [`PRECEDENCE`]; ids outside the taxonomy (team rules with their own
/// ids) come after every built-in failure mode.
pub fn precedence(id: &str) -> usize {
    PRECEDENCE
        .iter()
        .position(|mode| *mode == id)
        .unwrap_or(PRECEDENCE.len())
}

/// How a per-service summary splits stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopKind {
    Application,
    Oom,
    HealthCheck,
    StartupInfrastructure,
    Benign,
    Other,
}

/// The summary bucket of a root-cause failure mode (`Other` for ids outside the taxonomy).
pub fn stop_kind(id: &str) -> StopKind {
    if id == "oom-container-limit" {
        return StopKind::Oom;
    }
    match group_of(id) {
        Some(Group::Application | Group::Sidecar) => StopKind::Application,
        Some(Group::HealthCheck) => StopKind::HealthCheck,
        Some(Group::ImagePull | Group::TaskStartup | Group::Placement | Group::Deployment) => {
            StopKind::StartupInfrastructure
        }
        Some(Group::Benign) => StopKind::Benign,
        None => StopKind::Other,
    }
}

/// What each failure mode's rule reads to decide, for the "closest rules" of an undiagnosed
/// task: the evidence it would have needed.
const READS: &[(&str, &str)] = &[
    (
        "app-startup-crash",
        "an exception or fatal error in the container's last log lines",
    ),
    (
        "app-missing-config",
        "a log line naming a missing or empty setting",
    ),
    (
        "app-dependency-unreachable",
        "a log line saying a host did not resolve, refused or timed out",
    ),
    (
        "app-heap-exhausted",
        "a runtime's out-of-heap line in the container's logs",
    ),
    (
        "oom-container-limit",
        "the container reason `OutOfMemoryError`",
    ),
    (
        "elb-health-check-failed",
        "a stop reason or service event naming failed ELB health checks",
    ),
    (
        "container-health-check-failed",
        "a stop reason naming the container health check",
    ),
    (
        "health-check-grace-too-short",
        "health-check kills while the app was still starting",
    ),
    (
        "graceful-stop",
        "a stop ECS, a deployment or a user initiated",
    ),
    (
        "sidecar-exit-on-shutdown",
        "a sidecar that exited while the task was stopping",
    ),
    (
        "essential-sidecar-exited",
        "an essential sidecar that exited first",
    ),
    (
        "segfault",
        "a crash signal (139, 134) and the lines before it",
    ),
    (
        "entrypoint-not-found",
        "an exec or `not found` error for the container's command",
    ),
    (
        "exec-format-arch-mismatch",
        "`exec format error` or an image without the task's platform",
    ),
    (
        "app-exited-zero",
        "a service task whose essential container exited 0",
    ),
    (
        "task-completed",
        "a standalone task whose essential containers all exited 0",
    ),
    (
        "image-not-found",
        "a pull error saying the image, tag or digest does not exist",
    ),
    (
        "image-pull-auth-denied",
        "a pull error the registry refused",
    ),
    (
        "image-pull-rate-limited",
        "a pull error the registry throttled",
    ),
    (
        "task-network-egress-blocked",
        "a start-up error that timed out reaching an AWS endpoint",
    ),
    (
        "referenced-resource-not-found",
        "a start-up error naming a missing secret, parameter or log group",
    ),
    (
        "execution-role-access-denied",
        "a start-up error the execution role was refused",
    ),
    ("log-config-error", "a start-up error of the log driver"),
    ("volume-mount-failed", "a start-up error mounting a volume"),
    (
        "transient-platform-error",
        "a platform error ECS says to retry",
    ),
    ("host-disk-full", "`no space left on device` on the host"),
    (
        "fargate-ephemeral-storage-full",
        "`no space left on device` in a Fargate task's storage",
    ),
    (
        "image-digest-deleted",
        "a pull of the `tag@sha256:` digest a deployment pinned, not found",
    ),
    (
        "ebs-volume-attach-failed",
        "a failed `AmazonElasticBlockStorage` attachment",
    ),
    (
        "service-connect-proxy-failure",
        "the ECS-managed `ecs-service-connect-…` container failing",
    ),
    (
        "instance-auto-repair",
        "stop code `InfrastructureHealth` or an `IMPAIRED` container instance",
    ),
    (
        "deployment-hook-failed",
        "a lifecycle hook `FAILED` or `TIMED_OUT` in the deployment record",
    ),
    (
        "deployment-alarm-rollback",
        "an alarm that failed the deployment (record or service event)",
    ),
    (
        "deployment-never-converges",
        "a long deployment with failing tasks and nothing to stop it",
    ),
    (
        "task-protection-blocks-scale-in",
        "a scale-in blocked by protected tasks",
    ),
    (
        "target-group-missing",
        "a target group or target ECS cannot find",
    ),
    (
        "infrastructure-role-misconfigured",
        "ECS unable to use its service-linked or infrastructure role",
    ),
    ("spot-interruption", "stop code `SpotInterruption`"),
    (
        "infrastructure-maintenance",
        "stop code `TerminationNotice` or a maintenance event",
    ),
];

/// The failure modes whose rules read stops like this one, with what each reads, most likely
/// first: for an undiagnosed task, the rules that came closest. From the stop code, the stop
/// reason's error name and the containers' exit codes; at most five.
pub fn closest(
    stop_code: Option<&str>,
    stopped_reason: Option<&str>,
    exit_codes: &[i64],
) -> Vec<(&'static str, &'static str)> {
    let reason = stopped_reason.unwrap_or_default();
    let mut ids: Vec<&str> = Vec::new();
    match stop_code.unwrap_or_default() {
        "SpotInterruption" => ids.push("spot-interruption"),
        "TerminationNotice" => ids.push("infrastructure-maintenance"),
        "InfrastructureHealth" => ids.push("instance-auto-repair"),
        "UserInitiated" | "ServiceSchedulerInitiated" => ids.push("graceful-stop"),
        _ => {}
    }
    if reason.contains("CannotPull") {
        ids.extend([
            "image-not-found",
            "image-digest-deleted",
            "image-pull-auth-denied",
            "image-pull-rate-limited",
            "task-network-egress-blocked",
        ]);
    }
    if reason.contains("ResourceInitializationError") || reason.contains("ResourceNotFound") {
        ids.extend([
            "referenced-resource-not-found",
            "execution-role-access-denied",
            "task-network-egress-blocked",
            "log-config-error",
            "volume-mount-failed",
        ]);
    }
    if [
        "CannotStartContainerError",
        "CannotCreateContainerError",
        "DockerStateError",
    ]
    .iter()
    .any(|name| reason.contains(name))
    {
        ids.extend([
            "entrypoint-not-found",
            "exec-format-arch-mismatch",
            "host-disk-full",
        ]);
    }
    // A container that exited 0 beside one that failed says nothing about the failure.
    let failed = exit_codes.iter().any(|&code| code != 0);
    for &code in exit_codes {
        match code {
            0 if failed => {}
            0 => ids.extend(["app-exited-zero", "task-completed"]),
            126 | 127 => ids.extend(["entrypoint-not-found", "exec-format-arch-mismatch"]),
            134 | 139 => ids.extend(["segfault", "app-heap-exhausted"]),
            137 => ids.extend([
                "oom-container-limit",
                "elb-health-check-failed",
                "container-health-check-failed",
                "essential-sidecar-exited",
            ]),
            143 => ids.extend([
                "elb-health-check-failed",
                "graceful-stop",
                "sidecar-exit-on-shutdown",
            ]),
            _ => ids.extend([
                "app-startup-crash",
                "app-missing-config",
                "app-dependency-unreachable",
            ]),
        }
    }
    if ids.is_empty() && stop_code == Some("TaskFailedToStart") {
        ids.push("transient-platform-error");
    }
    let mut seen = Vec::new();
    for id in ids {
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    seen.into_iter()
        .filter_map(|id| READS.iter().find(|(read, _)| *read == id).copied())
        .take(5)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_mode_closest_names_says_what_it_reads() {
        for (id, _) in READS {
            assert!(is_failure_mode(id), "{id}");
        }
        let crash = closest(Some("EssentialContainerExited"), None, &[1]);
        assert_eq!(crash[0].0, "app-startup-crash");
        let pull = closest(
            Some("TaskFailedToStart"),
            Some("CannotPullContainerError: something new"),
            &[],
        );
        assert_eq!(pull[0].0, "image-not-found");
        assert!(closest(None, None, &[]).is_empty());
        let mixed = closest(Some("EssentialContainerExited"), None, &[1, 0]);
        assert!(
            mixed.iter().all(|(id, _)| *id != "task-completed"),
            "{mixed:?}"
        );
    }

    #[test]
    fn precedence_lists_every_failure_mode_once() {
        let mut listed: Vec<&str> = PRECEDENCE.to_vec();
        listed.sort_unstable();
        let mut modes: Vec<&str> = FAILURE_MODES.iter().map(|(id, _)| *id).collect();
        modes.sort_unstable();
        assert_eq!(listed, modes);
    }

    #[test]
    fn oom_wins_and_team_rules_come_last() {
        assert!(precedence("oom-container-limit") < precedence("app-exited-zero"));
        assert!(precedence("essential-sidecar-exited") < precedence("app-dependency-unreachable"));
        assert!(precedence("app-missing-config") < precedence("elb-health-check-failed"));
        assert_eq!(precedence("acme-db-migrations"), PRECEDENCE.len());
    }
}
