//! Image pull failures: which failure mode a pull error belongs to, whatever its era.
//!
//! The same failure is written differently by the Docker daemon (`Error response from daemon:
//! manifest for nginx:1 not found`), by containerd on Fargate and newer agents (`pull image
//! manifest has been retried 5 time(s): failed to resolve ref …: not found`), by the ECS agent's
//! 2024 sentences (`The task can’t pull the image. Check whether the image exists.`, with a
//! typographic apostrophe) and by the registries themselves (ECR answers `403 Forbidden` for a
//! tag that does not exist). The classifier reads the wording family, then uses what the
//! reference and the task say (official image, registry account, credentials) where the words
//! alone are ambiguous.

use std::sync::LazyLock;

use regex::Regex;

use crate::classify::image::ImageRef;

/// How a failed image pull reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFailure {
    /// The repository, tag or digest does not exist, or the reference is not an image name.
    NotFound,
    /// The digest ECS pinned for the deployment (`repo:tag@sha256:…`, "software version
    /// consistency") no longer exists, whatever the tag points at now.
    DigestDeleted,
    /// The registry refused the puller's credentials or permissions.
    AuthDenied,
    /// No network path to the registry.
    Network,
    RateLimited,
    DiskFull,
    /// The image has no variant for the task's CPU architecture or OS.
    PlatformMismatch,
    /// A pull error this classification cannot place.
    Unknown,
}

impl PullFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            PullFailure::NotFound => "image-not-found",
            PullFailure::DigestDeleted => "image-digest-deleted",
            PullFailure::AuthDenied => "image-pull-auth-denied",
            PullFailure::Network => "network",
            PullFailure::RateLimited => "rate-limited",
            PullFailure::DiskFull => "disk-full",
            PullFailure::PlatformMismatch => "platform-mismatch",
            PullFailure::Unknown => "unknown",
        }
    }
}

/// What is known besides the error text.
#[derive(Debug, Clone, Copy, Default)]
pub struct PullContext<'a> {
    /// The account of the task (from its ARN), to tell a same-account ECR pull from a
    /// cross-account one.
    pub task_account: Option<&'a str>,
    /// Whether the container definition gives `repositoryCredentials`.
    pub has_credentials: bool,
    /// Whether the image reference the author wrote holds a digest (`repo@sha256:…` or
    /// `repo:tag@sha256:…` in the task definition): then a digest in the error is theirs, not
    /// one ECS pinned for the deployment.
    pub digest_in_definition: bool,
}

/// A classified pull error: the failure and, in a few words, what gave it away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullClass {
    pub failure: PullFailure,
    pub why: &'static str,
}

fn pattern(text: &str) -> Regex {
    Regex::new(text).expect("built-in pattern is valid")
}

/// Sentence forms of the ECS agent (≥ 1.84.0) and of Fargate (2024+), which name the failure
/// themselves: they win over the raw error they wrap.
static SENTENCES: LazyLock<[(PullFailure, Regex, &'static str); 4]> = LazyLock::new(|| {
    [
        (
            PullFailure::NotFound,
            pattern(r"(?i)can[’']t pull the image\. Check whether the image exists"),
            "ECS says to check whether the image exists",
        ),
        (
            PullFailure::AuthDenied,
            pattern(r"(?i)can[’']t pull the image\. Check that the role has the permissions"),
            "ECS says the role may not pull the image",
        ),
        (
            PullFailure::Network,
            pattern(r"(?i)can[’']t pull the image\. Check your network configuration"),
            "ECS says to check the network configuration",
        ),
        (
            PullFailure::Network,
            pattern(
                r"(?i)(?:cannot|can[’']t) pull \S+ from the (?:registry|Amazon ECR repository)|connection issue between\s+the task and (?:the registry|Amazon ECR)",
            ),
            "ECS says there is a connection issue between the task and the registry",
        ),
    ]
});

static PLATFORM: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)descriptor matching platform|failed to find a descriptor for platform|no matching manifest for|does not match the specified platform|image operating system .* cannot be used on this platform|no match for (?:current )?platform",
    )
});

static INVALID_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)invalid reference format|failed to normalize image reference|repository name must be lowercase|could not parse reference|invalid reference:",
    )
});

static RATE_LIMITED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)toomanyrequests|too many requests|pull rate limit|\b429\b|ThrottlingException|Rate exceeded",
    )
});

static DISK_FULL: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)no space left on device|Thin Pool has \d+ free data blocks|not enough space on the disk",
    )
});

static NETWORK: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)i/o timeout|context deadline exceeded|context canceled|request canceled|Client\.Timeout exceeded|dial tcp|no such host|connection (?:refused|reset|timed out)|TLS handshake timeout|StatusCode: 0,|Could not reach any registry endpoint|error pulling image configuration: Get https://prod-[a-z0-9-]+-starport-layer-bucket\.s3",
    )
});

static NOT_FOUND: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)manifest unknown|name unknown|manifest for \S+ not found|: not found\b|repository \S+ not found|API error \(404\)|Tag \S+ not found in repository|\bimage \S+ not found|\b404 Not Found|not found: manifest|Status Code: 404\b|Response: 'not found'",
    )
});

/// Registries answer "pull access denied, repository does not exist or may require
/// authorization" both for a name that does not exist and for a private repository without
/// credentials.
static AMBIGUOUS_DENIED: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)pull access denied|repository does not exist or may require"));

static FORBIDDEN: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i)\b403\b|Forbidden"));

static AUTH_DENIED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\b40[13]\b|Forbidden|unauthorized|authentication required|no basic auth credentials|AccessDenied|not authorized to perform|requested access to the resource is denied|failed to authorize|failed to fetch anonymous token|failed to fetch oauth token",
    )
});

/// An HTTP status Docker Hub returned, with the status itself cut off: stop reasons are capped
/// at 255 characters, and the manifest URL of a digest fills them.
static CUT_STATUS: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)unexpected status code https://registry-1\.docker\.io/\S*(?:\.\.\.|…)\s*$")
});

/// Classifies an image pull error of `image`.
pub fn classify(text: &str, image: &ImageRef, context: PullContext<'_>) -> PullClass {
    let class = |failure, why| PullClass { failure, why };
    if let Some((failure, _, why)) = SENTENCES.iter().find(|(_, p, _)| p.is_match(text)) {
        return class(*failure, why);
    }
    if PLATFORM.is_match(text) {
        return class(
            PullFailure::PlatformMismatch,
            "the image has no variant for the task's platform",
        );
    }
    if INVALID_REFERENCE.is_match(text) {
        return class(
            PullFailure::NotFound,
            "the reference is not a valid image name",
        );
    }
    if RATE_LIMITED.is_match(text) {
        return class(PullFailure::RateLimited, "the registry throttled the pull");
    }
    if DISK_FULL.is_match(text) {
        return class(PullFailure::DiskFull, "the disk filled up during the pull");
    }
    if NETWORK.is_match(text) {
        return class(PullFailure::Network, "the registry could not be reached");
    }
    if NOT_FOUND.is_match(text) {
        if !context.digest_in_definition && pinned_by_ecs(text) {
            return class(
                PullFailure::DigestDeleted,
                "the digest the deployment pinned no longer exists",
            );
        }
        if image.digest.is_some() || text.contains("@sha256:") {
            return class(
                PullFailure::NotFound,
                "the digest in the image reference does not exist",
            );
        }
        return class(PullFailure::NotFound, "the registry says it does not exist");
    }
    if AMBIGUOUS_DENIED.is_match(text) {
        return if image.is_official() {
            class(
                PullFailure::NotFound,
                "official Docker Hub images are public, so a denied pull means no such image",
            )
        } else if image.is_docker_hub() && !context.has_credentials && image.names_itself() {
            class(
                PullFailure::NotFound,
                "no such Docker Hub repository: its namespace repeats the image name",
            )
        } else {
            class(
                PullFailure::AuthDenied,
                "the registry refused the pull (a private repository, or one that does not exist)",
            )
        };
    }
    if FORBIDDEN.is_match(text) && image.is_ecr() {
        let same_account = context
            .task_account
            .is_some_and(|account| image.ecr_account() == Some(account));
        let pinned = image.digest.is_some() || text.contains("@sha256:");
        if same_account && !pinned {
            return class(
                PullFailure::NotFound,
                "ECR answers 403 for a tag that does not exist in the task's own account",
            );
        }
        return class(
            PullFailure::AuthDenied,
            if pinned {
                "ECR refused the pinned digest (a repository policy, or a deleted digest)"
            } else {
                "ECR refused the pull from another account"
            },
        );
    }
    if AUTH_DENIED.is_match(text) {
        return class(
            PullFailure::AuthDenied,
            "the registry refused the credentials",
        );
    }
    if CUT_STATUS.is_match(text) && !context.has_credentials {
        return class(
            PullFailure::RateLimited,
            "an anonymous Docker Hub pull got an error status (cut off), most often the pull rate limit",
        );
    }
    class(PullFailure::Unknown, "an unrecognised pull error")
}

/// Whether the pull asked for `repo:tag@sha256:…`: a tag and the digest ECS resolved it to
/// when the deployment started (software version consistency). A reference with a digest
/// and no tag was pinned by its author, not by ECS (and so is one whose task definition
/// already holds the digest: `PullContext::digest_in_definition`).
fn pinned_by_ecs(text: &str) -> bool {
    static TAG_AT_DIGEST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[:/][^\s:/@]+:[^\s:/@]+@sha256:[0-9a-fA-F]{8,}").expect("valid")
    });
    TAG_AT_DIGEST.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        text: &'static str,
        image: &'static str,
        account: Option<&'static str>,
        credentials: bool,
        expect: PullFailure,
        source: &'static str,
    }

    const fn case(
        text: &'static str,
        image: &'static str,
        expect: PullFailure,
        source: &'static str,
    ) -> Case {
        Case {
            text,
            image,
            account: None,
            credentials: false,
            expect,
            source,
        }
    }

    /// Real pull errors, verbatim from their sources (account ids replaced).
    const CASES: &[Case] = &[
        case(
            "CannotPullContainerError: Error response from daemon: manifest for nginx:0f6b3cdf5e24f0da3dd932acd84fd90e9786a522 not found",
            "nginx:0f6b3cdf5e24f0da3dd932acd84fd90e9786a522",
            PullFailure::NotFound,
            "https://github.com/CircleCI-Public/circleci-demo-aws-ecs-ecr/issues/4",
        ),
        case(
            "CannotPullContainerError: API error (404): manifest for 123456789012.dkr.ecr.eu-west-1.amazonaws.com/baker-repos-1lvq9scec8c5o:latest not found",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/baker-repos-1lvq9scec8c5o:latest",
            PullFailure::NotFound,
            "https://github.com/awslabs/ecs-refarch-continuous-deployment/issues/33",
        ),
        case(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/example-service:image-tag@sha256:411ecdd5eedf958fa9e5b2364e4a392dfbcb96d2536ed14724f46dcfe9257f59: not found",
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/example-service:image-tag",
            PullFailure::DigestDeleted,
            "https://github.com/aws/containers-roadmap/issues/2687",
        ),
        case(
            "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref docker.io/library/prefect-flows-dev:2026-01-21-4a31626b: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
            "prefect-flows-dev:2026-01-21-4a31626b",
            PullFailure::NotFound,
            "https://github.com/PrefectHQ/prefect/issues/20333",
        ),
        case(
            "CannotPullContainerError: Error response from daemon: pull access denied for elasticsearch/elasticsearch, repository does not exist or may require 'docker login'",
            "elasticsearch/elasticsearch:7.6.0",
            PullFailure::NotFound,
            "https://github.com/aws/amazon-ecs-agent/issues/2343",
        ),
        case(
            "InternalError: failed to normalize image reference \"Dockerfile\"",
            "Dockerfile",
            PullFailure::NotFound,
            "https://github.com/aws/copilot-cli/issues/2584",
        ),
        case(
            "CannotPullContainerError: pull image manifest has been retried 7 time(s): image Manifest does not contain descriptor matching platform 'linux/amd64'",
            "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/app:latest",
            PullFailure::PlatformMismatch,
            "https://zenn.dev/teba_eleven/articles/e54f67b897ebea",
        ),
        case(
            "CannotPullContainerError failed to find a descriptor for platform 0xc0004d52c0 0xc0004d5320",
            "hashicorp/consul-ecs:0.2.0",
            PullFailure::PlatformMismatch,
            "https://github.com/hashicorp/consul-ecs/issues/64",
        ),
        case(
            "CannotPullContainerError: inspect image has been retried 1 time(s): failed to resolve ref \"rrr-docker-nonprod-virtual.us.artifactory.r1.rrr.com/rrr-backend-service/aws2o:20220128.2\": failed to authorize: failed to fetch anonymous token.",
            "rrr-docker-nonprod-virtual.us.artifactory.r1.rrr.com/rrr-backend-service/aws2o:20220128.2",
            PullFailure::AuthDenied,
            "https://github.com/aws/containers-roadmap/issues/1658",
        ),
        case(
            "CannotPullECRContainerError: ThrottlingException: Rate exceeded\n        status code: 400, request id: 75567eb3-6abb-11e6-9d4c-cb4ccd1cee97",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/run:latest",
            PullFailure::RateLimited,
            "https://github.com/aws/amazon-ecs-agent/issues/498",
        ),
        case(
            "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/prefecthq/prefect/manifests/sha256:69998e9cf3744779b98d816351e6ac837dc0eea4f450e0ad4180b6aefe995d33: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authentic",
            "prefecthq/prefect:2-python3.11",
            PullFailure::RateLimited,
            "https://github.com/PrefectHQ/prefect/issues/12003",
        ),
        case(
            "CannotPullContainerError: inspect image has been retried 5 time(s): httpReaderSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/amazon/aws-xray-daemon/manifests/sha256:5bf715bbe434ebf892b66bba54ce04db47b2914f23a949410d8029fbbf...",
            "amazon/aws-xray-daemon",
            PullFailure::RateLimited,
            "https://github.com/Pocket/recommendation-api/pull/387",
        ),
        case(
            "CannotPullECRContainerError: RequestError: send request failed caused by: Post https://api.ecr.ap-southeast-2.amazonaws.com/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)",
            "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/app:1",
            PullFailure::Network,
            "https://github.com/cdk-cosmos/cosmos/issues/92",
        ),
        case(
            "CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob501781855: no space left on device",
            "nginx",
            PullFailure::DiskFull,
            "https://github.com/aws/amazon-ecs-agent/issues/463",
        ),
        case(
            "CannotPullContainerError: failed to register layer: devmapper: Thin Pool has 4446 free data blocks which is less than minimum required 4454 free data blocks. Create more free space in thin pool or use dm.min_free_space option to change behavior",
            "nginx",
            PullFailure::DiskFull,
            "https://github.com/hackoregon/civic-devops/issues/132",
        ),
        // The 2024 sentences of the ECS agent (agent/api/errormessages/error_messages.go),
        // with their typographic apostrophe.
        case(
            "CannotPullContainerError: The task can’t pull the image. Check whether the image exists. Error response from daemon: pull access denied for acme/api, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
            "acme/api:1",
            PullFailure::NotFound,
            "/work/shared/reference/ecs-messages-2024-2026.md §2a (aws/amazon-ecs-agent PR #4181)",
        ),
        case(
            "CannotPullContainerError: The task can’t pull the image. Check your network configuration. Error response from daemon: Get \"https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1",
            PullFailure::Network,
            "/work/shared/reference/ecs-messages-2024-2026.md §2a (aws/amazon-ecs-agent PR #4181)",
        ),
        case(
            "CannotPullContainerError: The task cannot pull 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1 from the registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1. There is a connection issue between the task and the registry. Check your task network configuration. : failed to copy: httpReadSeeker: failed open: failed to do request: Get",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1",
            PullFailure::Network,
            "/work/shared/reference/ecs-messages-2024-2026.md §2b",
        ),
    ];

    #[test]
    fn real_pull_errors_are_classified_by_their_wording_family() {
        for case in CASES {
            let context = PullContext {
                task_account: case.account,
                has_credentials: case.credentials,
                digest_in_definition: false,
            };
            let class = classify(case.text, &ImageRef::parse(case.image), context);
            assert_eq!(
                class.failure, case.expect,
                "{}\n  ({})",
                case.text, case.source
            );
        }
    }

    /// ECR answers 403 Forbidden both for a missing tag and for a pull it refuses; the task's
    /// account and a pinned digest tell which is more likely.
    #[test]
    fn an_ecr_403_depends_on_the_account_and_the_digest() {
        let missing_tag = "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-us-east-1:nonexistent-tag-that-does-not-exist: unexpected status from HEAD request to https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/cdk-hnb659fds-container-assets-123456789012-us-east-1/manifests/nonexistent-tag-that-does-not-exist: 403 Forbidden";
        let image = ImageRef::parse(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-hnb659fds-container-assets-123456789012-us-east-1:nonexistent-tag-that-does-not-exist",
        );
        // https://github.com/aws/aws-cdk-cli/pull/1505: the task runs in the registry's account.
        let same = PullContext {
            task_account: Some("123456789012"),
            has_credentials: false,
            digest_in_definition: false,
        };
        assert_eq!(
            classify(missing_tag, &image, same).failure,
            PullFailure::NotFound
        );
        let other = PullContext {
            task_account: Some("210987654321"),
            has_credentials: false,
            digest_in_definition: false,
        };
        assert_eq!(
            classify(missing_tag, &image, other).failure,
            PullFailure::AuthDenied
        );
        // https://github.com/aws-samples/bedrock-access-gateway/issues/114: a repository in
        // another account that stopped allowing the pull.
        let cross = "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 366590864501.dkr.ecr.us-west-2.amazonaws.com/bedrock-proxy-api-ecs:latest@sha256:5de487da52320ad9978f3a7a4f6700910342956c7dcb3b6f955222b4cccbd600: unexpected status from HEAD request to https://366590864501.dkr.ecr.us-west-2.amazonaws.com/v2/bedrock-proxy-api-ecs/blobs/sha256:5de487da52320ad9978f3a7a4f";
        let image = ImageRef::parse(
            "366590864501.dkr.ecr.us-west-2.amazonaws.com/bedrock-proxy-api-ecs:latest",
        );
        assert_eq!(
            classify(&format!("{cross}: 403 Forbidden"), &image, same).failure,
            PullFailure::AuthDenied
        );
    }

    /// A `tag@sha256:` reference that is not found is the digest ECS pinned for the
    /// deployment, unless the task definition wrote the digest itself.
    #[test]
    fn a_missing_pinned_digest_is_ecs_s_pin_unless_the_author_wrote_it() {
        // https://github.com/aws/containers-roadmap/issues/2687 (registry host filled in).
        let text = "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/example-service:image-tag@sha256:4f1cbb1e8a4d7a0a5c1ce71a3a5c8c40ef5bd0e1a8a7e3cd9a0c2c8d5e6f7a8b: not found";
        let image = ImageRef::parse(
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/example-service:image-tag",
        );
        assert_eq!(
            classify(text, &image, PullContext::default()).failure,
            PullFailure::DigestDeleted
        );
        let written = PullContext {
            digest_in_definition: true,
            ..PullContext::default()
        };
        assert_eq!(
            classify(text, &image, written).failure,
            PullFailure::NotFound
        );
        let digest_only = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/nginx@sha256:4f1cbb1e8a4d7a0a5c1ce71a3a5c8c40ef5bd0e1a8a7e3cd9a0c2c8d5e6f7a8b: not found";
        assert_eq!(
            classify(digest_only, &image, PullContext::default()).failure,
            PullFailure::NotFound
        );
    }

    #[test]
    fn a_denied_docker_hub_pull_with_credentials_is_an_access_problem() {
        let text = "CannotPullContainerError: Error response from daemon: pull access denied for acme/billing-worker, repository does not exist or may require 'docker login'";
        let image = ImageRef::parse("acme/billing-worker:1.4.2");
        assert_eq!(
            classify(text, &image, PullContext::default()).failure,
            PullFailure::AuthDenied
        );
        let with_credentials = PullContext {
            task_account: None,
            has_credentials: true,
            digest_in_definition: false,
        };
        let same_name = ImageRef::parse("elasticsearch/elasticsearch:7.6.0");
        assert_eq!(
            classify(text, &same_name, with_credentials).failure,
            PullFailure::AuthDenied
        );
        assert_eq!(
            classify(
                "CannotPullContainerError: API error",
                &image,
                PullContext::default()
            )
            .failure,
            PullFailure::Unknown
        );
    }

    #[track_caller]
    fn check_pull(text: &str, image: &str, expect: PullFailure) {
        assert_eq!(
            classify(text, &ImageRef::parse(image), PullContext::default()).failure,
            expect,
            "{text}"
        );
    }

    #[test]
    fn the_wordings_of_the_built_in_fixtures() {
        let denied = r#"CannotPullContainerError: inspect image has been retried 5 time(s): failed to resolve ref "docker.io/library/ngnix:1.27": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"#;
        check_pull(denied, "ngnix:1.27", PullFailure::NotFound);
        check_pull(denied, "acme/billing-worker:1.4.2", PullFailure::AuthDenied);
        check_pull(
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v2.3.1: not found",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v2.3.1",
            PullFailure::NotFound,
        );
        check_pull(
            "CannotPullContainerError: API error (404): repository r not found",
            "r",
            PullFailure::NotFound,
        );
        check_pull(
            "CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReaderSeeker: failed open: unexpected status code https://x/v2/p/manifests/sha256:1: 403 Forbidden",
            "x/p",
            PullFailure::AuthDenied,
        );
        check_pull(
            r#"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "a/b:1": failed to do request: Head "https://a/v2/b/manifests/1": dial tcp 10.0.3.17:443: i/o timeout"#,
            "a/b:1",
            PullFailure::Network,
        );
        check_pull(
            "ERROR: toomanyrequests: Too Many Requests.",
            "nginx",
            PullFailure::RateLimited,
        );
        check_pull(
            "CannotPullContainerError: write /var/lib/docker/tmp/GetImageBlob123: no space left on device",
            "nginx",
            PullFailure::DiskFull,
        );
        check_pull(
            "CannotPullContainerError: API error",
            "nginx",
            PullFailure::Unknown,
        );
    }
}
