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
];

/// Whether `id` is a failure-mode id.
pub fn is_failure_mode(id: &str) -> bool {
    FAILURE_MODES.iter().any(|(mode, _)| *mode == id)
}
