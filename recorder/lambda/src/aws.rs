//! The handler's side effects on AWS: S3 for bundles, kept events and markers; SNS for
//! reports; STS to read the event's account through its `ecs-autopsy-reader` role; and the
//! same collector as `ecs-autopsy record`.

use recorder::Bundle;
use recorder::live::store::{Put, Store, Topic};
use recorder::live::{Options, SdkConfig};

use crate::handler::{Backend, Settings};
use crate::trigger::{Kind, Trigger};

/// Stopped tasks recorded beside the one that triggered (the service's most recent), for
/// context: a crash loop shows as a repeat rather than as one stop.
pub const CONTEXT_TASKS: usize = 10;

/// The function's AWS clients.
pub struct Aws {
    sdk: SdkConfig,
    store: Store,
    topic: Option<Topic>,
    role_template: Option<String>,
}

impl Aws {
    pub fn new(sdk: SdkConfig, settings: &Settings) -> Aws {
        Aws {
            store: Store::writer(&sdk, &settings.bucket),
            topic: settings
                .topic_arn
                .as_deref()
                .map(|arn| Topic::new(&sdk, arn)),
            role_template: settings.reader_role_arn_template.clone(),
            sdk,
        }
    }

    /// The configuration to read the event's account and Region with: the reader role in
    /// that account (hub and spokes), else the function's own (single-account mode).
    async fn reader(&self, trigger: &Trigger) -> Result<SdkConfig, String> {
        let regional = self
            .sdk
            .to_builder()
            .region(recorder::live::Region::new(trigger.region.clone()))
            .build();
        match &self.role_template {
            Some(template) => {
                let role = template.replace("{account}", &trigger.account);
                recorder::live::assume_role(&regional, &role)
                    .await
                    .map_err(|err| err.to_string())
            }
            None => Ok(regional),
        }
    }
}

/// What is recorded for a trigger: the task and its service's recent stops, or the service.
pub fn options(trigger: &Trigger) -> Options {
    Options {
        cluster: trigger.cluster.clone().unwrap_or_default(),
        services: trigger.service.iter().cloned().collect(),
        tasks: match &trigger.kind {
            Kind::Task { arn, .. } => vec![arn.clone()],
            Kind::Service { .. } => Vec::new(),
        },
        services_matching: None,
        stopped_after: None,
        max_stopped_tasks: CONTEXT_TASKS,
        // As `ecs-autopsy record` does by default.
        log_lines: 100,
        concurrency: 8,
        rates: std::collections::BTreeMap::new(),
        batch_logs: true,
        // Container Insights flushes a few minutes late: the memory of the last minutes before
        // a kill may be missing when the stop is recorded at once (docs/fleet.md).
        queries: true,
    }
}

impl Backend for Aws {
    async fn exists(&self, key: &str) -> Result<bool, String> {
        self.store.exists(key).await.map_err(|err| err.to_string())
    }

    async fn put_if_absent(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<Put, String> {
        self.store
            .put_if_absent(key, body, content_type, None)
            .await
            .map_err(|err| err.to_string())
    }

    async fn record(&self, trigger: &Trigger) -> Result<Bundle, String> {
        let sdk = self.reader(trigger).await?;
        let recorded_at =
            recorder::time::Timestamp::from_millis(jiff::Timestamp::now().as_millisecond())
                .to_string();
        Ok(recorder::live::collect(&sdk, &options(trigger), recorded_at, None).await)
    }

    async fn publish(&self, subject: &str, message: &str) -> Result<(), String> {
        match &self.topic {
            Some(topic) => topic
                .publish(subject, message)
                .await
                .map_err(|err| err.to_string()),
            None => Ok(()),
        }
    }
}
