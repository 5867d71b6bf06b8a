//! Container image references, taken apart as Docker and containerd resolve them.

/// The parts of a container image reference, as Docker and containerd resolve it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io` when the reference names no registry.
    pub registry: String,
    /// The repository path; Docker Hub official images get their implicit `library/`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(reference: &str) -> ImageRef {
        let reference = reference.trim().trim_matches('"');
        let (name, digest) = match reference.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_owned())),
            None => (reference, None),
        };
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name[last_slash..].rfind(':') {
            Some(colon) => (
                &name[..last_slash + colon],
                Some(name[last_slash + colon + 1..].to_owned()),
            ),
            None => (name, None),
        };
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_owned(), rest.to_owned())
            }
            _ => ("docker.io".to_owned(), name.to_owned()),
        };
        let registry = if registry == "index.docker.io" || registry == "registry-1.docker.io" {
            "docker.io".to_owned()
        } else {
            registry
        };
        let repository = if registry == "docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        ImageRef {
            registry,
            repository,
            tag,
            digest,
        }
    }

    pub fn is_docker_hub(&self) -> bool {
        self.registry == "docker.io"
    }

    /// A Docker Hub official image (`nginx`, `library/nginx`): these are all public.
    pub fn is_official(&self) -> bool {
        self.is_docker_hub() && self.repository.starts_with("library/")
    }

    /// A Docker Hub repository whose namespace repeats its name (`elasticsearch/elasticsearch`,
    /// `nginx/nginx`): names people write for an image that lives elsewhere (an official image,
    /// or another registry's path), which Docker Hub does not have.
    pub fn names_itself(&self) -> bool {
        self.is_docker_hub()
            && self
                .repository
                .split_once('/')
                .is_some_and(|(namespace, name)| namespace == name)
    }

    /// The account of a private Amazon ECR registry.
    pub fn ecr_account(&self) -> Option<&str> {
        self.is_ecr()
            .then(|| self.registry.split('.').next())
            .flatten()
    }

    /// A private Amazon ECR registry (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`).
    pub fn is_ecr(&self) -> bool {
        let parts: Vec<&str> = self.registry.split('.').collect();
        parts.len() >= 6
            && parts[0].len() == 12
            && parts[0].chars().all(|c| c.is_ascii_digit())
            && parts[1] == "dkr"
            && parts[2] == "ecr"
            && parts[4] == "amazonaws"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_image(reference: &str, expect: (&str, &str, Option<&str>, Option<&str>)) {
        let image = ImageRef::parse(reference);
        let actual = (
            image.registry.as_str(),
            image.repository.as_str(),
            image.tag.as_deref(),
            image.digest.as_deref(),
        );
        assert_eq!(actual, expect);
    }

    #[test]
    fn image_references() {
        check_image("nginx", ("docker.io", "library/nginx", None, None));
        check_image(
            "ngnix:1.27",
            ("docker.io", "library/ngnix", Some("1.27"), None),
        );
        check_image(
            "docker.io/library/ngnix:1.27",
            ("docker.io", "library/ngnix", Some("1.27"), None),
        );
        check_image(
            "acme/billing-worker:1.4.2",
            ("docker.io", "acme/billing-worker", Some("1.4.2"), None),
        );
        check_image(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api@sha256:abc",
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                "team/api",
                None,
                Some("sha256:abc"),
            ),
        );
        check_image(
            "localhost:5000/api:dev",
            ("localhost:5000", "api", Some("dev"), None),
        );
        assert!(ImageRef::parse("nginx:1.27").is_official());
        assert!(!ImageRef::parse("acme/api").is_official());
        assert!(ImageRef::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1").is_ecr());
        assert!(!ImageRef::parse("public.ecr.aws/nginx/nginx:1").is_ecr());
        assert_eq!(
            ImageRef::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:1").ecr_account(),
            Some("123456789012")
        );
        assert!(ImageRef::parse("elasticsearch/elasticsearch:7").names_itself());
        assert!(!ImageRef::parse("acme/api").names_itself());
        assert!(!ImageRef::parse("quay.io/x/x").names_itself());
    }
}
