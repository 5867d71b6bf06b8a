//! S3 as an input: `replay s3://…`, `bundle fetch` and `history` read what the event-driven
//! recorder stored, read-only (GetObject, ListObjectsV2), with the default credentials or
//! `--profile`, `--region` and `--endpoint-url`.

use std::time::Duration;

use anyhow::Context as _;

use recorder::live::store::{S3Url, Store};
use recorder::live::{AwsSettings, SdkConfig};

use crate::args::StoreArgs;

/// `s3://BUCKET/KEY` as given, or `None` for a local path.
pub(crate) fn s3_url(text: &str) -> anyhow::Result<Option<S3Url>> {
    if !text.starts_with("s3://") {
        return Ok(None);
    }
    S3Url::parse(text)
        .map(Some)
        .with_context(|| format!("{text}: not an S3 URL (s3://BUCKET/KEY)"))
}

/// The AWS configuration for S3, the way the AWS CLI finds it.
pub(crate) async fn sdk(args: &StoreArgs) -> anyhow::Result<SdkConfig> {
    let settings = AwsSettings {
        profile: args.profile.clone(),
        region: args.region.clone(),
        endpoint_url: args.endpoint_url.clone(),
        max_attempts: 5,
        attempt_timeout: Duration::from_secs(20),
        operation_timeout: Duration::from_mins(2),
    };
    Ok(recorder::live::load_sdk_config(&settings).await?)
}

/// The object's bytes, as stored.
pub(crate) fn get(args: &StoreArgs, url: &S3Url) -> anyhow::Result<Vec<u8>> {
    crate::commands::runtime()?.block_on(async {
        let sdk = sdk(args).await?;
        Ok(Store::reader(&sdk, &url.bucket).get(&url.key).await?)
    })
}
