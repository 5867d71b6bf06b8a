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
    ("image-pull-auth-denied", Group::ImagePull),
    ("image-pull-rate-limited", Group::ImagePull),
    ("host-disk-full", Group::ImagePull),
    ("task-network-egress-blocked", Group::TaskStartup),
    ("execution-role-access-denied", Group::TaskStartup),
    ("referenced-resource-not-found", Group::TaskStartup),
    ("iam-role-assume-failed", Group::TaskStartup),
    ("log-config-error", Group::TaskStartup),
    ("volume-mount-failed", Group::TaskStartup),
    ("dependency-start-timeout", Group::TaskStartup),
    ("transient-platform-error", Group::TaskStartup),
    ("elb-health-check-failed", Group::HealthCheck),
    ("health-check-grace-too-short", Group::HealthCheck),
    ("container-health-check-failed", Group::HealthCheck),
    ("essential-sidecar-exited", Group::Sidecar),
    ("sidecar-exit-on-shutdown", Group::Sidecar),
    ("placement-port-conflict", Group::Placement),
    ("placement-insufficient-resources", Group::Placement),
    ("placement-no-container-instances", Group::Placement),
    ("subnet-ip-exhaustion", Group::Placement),
    ("capacity-or-quota-limit", Group::Placement),
    ("deployment-circuit-breaker", Group::Deployment),
    ("deployment-config-deadlock", Group::Deployment),
    ("graceful-stop", Group::Benign),
    ("spot-interruption", Group::Benign),
    ("infrastructure-maintenance", Group::Benign),
    ("task-completed", Group::Benign),
];

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
    "execution-role-access-denied",
    "referenced-resource-not-found",
    "log-config-error",
    "volume-mount-failed",
    "image-not-found",
    "image-pull-auth-denied",
    "image-pull-rate-limited",
    "host-disk-full",
    "transient-platform-error",
    "task-network-egress-blocked",
    "dependency-start-timeout",
    "container-health-check-failed",
    "health-check-grace-too-short",
    "elb-health-check-failed",
    "sidecar-exit-on-shutdown",
    "placement-port-conflict",
    "placement-insufficient-resources",
    "placement-no-container-instances",
    "subnet-ip-exhaustion",
    "capacity-or-quota-limit",
    "deployment-config-deadlock",
    "deployment-circuit-breaker",
    "graceful-stop",
    "spot-interruption",
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

#[cfg(test)]
mod tests {
    use super::*;

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
