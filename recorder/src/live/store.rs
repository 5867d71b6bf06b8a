//! Amazon S3, where the event-driven recorder keeps its bundles (`replay s3://…`,
//! `bundle fetch`, `history`), and Amazon SNS, where it publishes its reports.
//!
//! Reading goes through a client that carries the read-only guard, like every collector
//! client. Writing (the Lambda's `PutObject` with `If-None-Match: *`, and `Publish`) has its own
//! constructor, `Store::writer`, which only the Lambda uses.

use aws_config::SdkConfig;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::live::ReadOnlyGuard;

/// `s3://bucket/key`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// The key, or a prefix (may be empty).
    pub key: String,
}

impl S3Url {
    /// `s3://bucket/key/…` → bucket and key; `None` for anything else, or an empty bucket.
    pub fn parse(text: &str) -> Option<S3Url> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Url {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// An S3 or SNS call that failed, on one line: the call, the object, the AWS error code and
/// message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{call} {target}: {code}: {message}")]
pub struct StoreError {
    pub call: &'static str,
    pub target: String,
    pub code: String,
    pub message: String,
}

impl StoreError {
    fn new<E>(
        call: &'static str,
        target: impl Into<String>,
        err: &SdkError<E, HttpResponse>,
    ) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let error = super::call_error(err);
        StoreError {
            call,
            target: target.into(),
            code: error.code,
            message: crate::bundle::one_line(&error.message),
        }
    }
}

/// What a conditional write found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The object did not exist and now does.
    Created,
    /// An object was already at the key (412 `PreconditionFailed`): a duplicate delivery.
    Exists,
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub key: String,
    pub size: i64,
}

/// A bucket, through one S3 client.
#[derive(Debug, Clone)]
pub struct Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

fn s3_config(sdk: &SdkConfig) -> aws_sdk_s3::config::Builder {
    // An endpoint override (moto on 127.0.0.1, a VPC endpoint) cannot take the bucket as a
    // host name.
    aws_sdk_s3::config::Builder::from(sdk).force_path_style(sdk.endpoint_url().is_some())
}

impl Store {
    /// A read-only store: GetObject and ListObjectsV2, with the read-only guard.
    pub fn reader(sdk: &SdkConfig, bucket: &str) -> Store {
        Store {
            client: aws_sdk_s3::Client::from_conf(
                s3_config(sdk).interceptor(ReadOnlyGuard).build(),
            ),
            bucket: bucket.to_owned(),
        }
    }

    /// A store that may also write: only the event-driven recorder (the Lambda) makes one.
    pub fn writer(sdk: &SdkConfig, bucket: &str) -> Store {
        Store {
            client: aws_sdk_s3::Client::from_conf(s3_config(sdk).build()),
            bucket: bucket.to_owned(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The object's bytes, as stored (a `.json.gz` stays compressed).
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| StoreError::new("s3 GetObject", self.url(key), &err))?;
        let bytes = output.body.collect().await.map_err(|err| StoreError {
            call: "s3 GetObject",
            target: self.url(key),
            code: "ResponseError".to_owned(),
            message: crate::bundle::one_line(&err.to_string()),
        })?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// Every object under `prefix`, in key order (all pages).
    pub async fn list(&self, prefix: &str) -> Result<Vec<Object>, StoreError> {
        let mut objects = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|err| StoreError::new("s3 ListObjectsV2", self.url(prefix), &err))?;
            objects.extend(output.contents().iter().filter_map(|object| {
                Some(Object {
                    key: object.key()?.to_owned(),
                    size: object.size().unwrap_or(0),
                })
            }));
            match output.next_continuation_token() {
                Some(next) if output.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// Whether an object is at `key` (HeadObject; a 404 is `false`).
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err)
                if err.as_service_error().is_some_and(
                    aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found,
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(StoreError::new("s3 HeadObject", self.url(key), &err)),
        }
    }

    /// Writes `body` at `key` only if nothing is there (`If-None-Match: *`), so that a second
    /// delivery of the same event writes nothing.
    pub async fn put_if_absent(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        content_encoding: Option<&str>,
    ) -> Result<Put, StoreError> {
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .content_type(content_type)
            .set_content_encoding(content_encoding.map(str::to_owned))
            .body(body.into())
            .send()
            .await;
        match result {
            Ok(_) => Ok(Put::Created),
            // 412: the object exists. 409 `ConditionalRequestConflict`: a write of the same
            // key is in flight; the other one wins, which is the same outcome.
            Err(err)
                if matches!(
                    err.code(),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) =>
            {
                Ok(Put::Exists)
            }
            Err(SdkError::ServiceError(service))
                if matches!(service.raw().status().as_u16(), 409 | 412) =>
            {
                Ok(Put::Exists)
            }
            Err(err) => Err(StoreError::new("s3 PutObject", self.url(key), &err)),
        }
    }
}

/// An SNS topic to publish reports to.
#[cfg(feature = "fleet")]
#[derive(Debug, Clone)]
pub struct Topic {
    client: aws_sdk_sns::Client,
    arn: String,
}

/// SNS's limits: a subject of at most 100 characters, a message of at most 256 KiB.
pub const MAX_SUBJECT_CHARS: usize = 100;
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

#[cfg(feature = "fleet")]
impl Topic {
    pub fn new(sdk: &SdkConfig, arn: &str) -> Topic {
        Topic {
            client: aws_sdk_sns::Client::new(sdk),
            arn: arn.to_owned(),
        }
    }

    /// Publishes one message, its subject and body cut to SNS's limits (`fit_subject`,
    /// `fit_message`).
    pub async fn publish(&self, subject: &str, message: &str) -> Result<(), StoreError> {
        self.client
            .publish()
            .topic_arn(&self.arn)
            .subject(fit_subject(subject))
            .message(fit_message(message))
            .send()
            .await
            .map_err(|err| StoreError::new("sns Publish", self.arn.clone(), &err))?;
        Ok(())
    }
}

/// A subject SNS accepts: one line of printable ASCII (no line breaks or control characters),
/// at most 100 characters, ending in `...` when cut.
pub fn fit_subject(subject: &str) -> String {
    let clean: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.len() <= MAX_SUBJECT_CHARS {
        return clean;
    }
    let mut cut: String = clean.chars().take(MAX_SUBJECT_CHARS - 3).collect();
    cut.push_str("...");
    cut
}

/// A message within 256 KiB, cut at a character boundary with a last line that says so.
pub fn fit_message(message: &str) -> String {
    const NOTE: &str = "\n[cut to SNS's 256 KiB limit: the whole report is in the bundle]\n";
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_owned();
    }
    let mut end = MAX_MESSAGE_BYTES - NOTE.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{NOTE}", &message[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_split_into_bucket_and_key() {
        assert_eq!(
            S3Url::parse("s3://hub/bundles/1/a.json.gz"),
            Some(S3Url {
                bucket: "hub".into(),
                key: "bundles/1/a.json.gz".into()
            })
        );
        assert_eq!(S3Url::parse("s3://hub").map(|u| u.key), Some(String::new()));
        assert_eq!(S3Url::parse("s3:///key"), None);
        assert_eq!(S3Url::parse("/tmp/x"), None);
    }

    #[test]
    fn subjects_and_messages_fit_sns_limits() {
        let long = "ecs-autopsy: ".to_owned() + &"x".repeat(200) + "\nsecond line";
        let subject = fit_subject(&long);
        assert_eq!(subject.chars().count(), MAX_SUBJECT_CHARS);
        assert!(subject.ends_with("..."));
        assert_eq!(fit_subject("a\tb\nc"), "a b c");
        let body = "é".repeat(MAX_MESSAGE_BYTES);
        let fitted = fit_message(&body);
        assert!(fitted.len() <= MAX_MESSAGE_BYTES, "{}", fitted.len());
        assert!(fitted.ends_with("bundle]\n"));
        assert_eq!(fit_message("short"), "short");
    }
}
