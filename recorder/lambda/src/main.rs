//! The Lambda entry point (`bootstrap` on `provided.al2023`): reads its settings from the
//! environment, loads the built-in rules once, and handles SQS batches until the runtime
//! stops it. Each batch's outcomes are logged as one JSON line.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

use ecs_autopsy_lambda::aws::Aws;
use ecs_autopsy_lambda::{Settings, handle_batch};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = Settings::from_env(|name| std::env::var(name).ok())?;
    let sdk = aws_config_from_env().await;
    let backend = Aws::new(sdk, &settings);
    let rules = engine::rule::RuleSet::builtin(engine::runtime::Limits::default());
    for error in &rules.errors {
        tracing::error!(%error, "a built-in rule did not load");
    }
    let (settings, backend, rules) = (&settings, &backend, &rules);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let handled = handle_batch(settings, backend, rules, event.payload).await;
        let summary = serde_json::to_string(&handled).unwrap_or_default();
        tracing::info!(target: "ecs_autopsy", batch = %summary);
        Ok::<SqsBatchResponse, Error>(handled.response)
    }))
    .await
}

/// The function's own configuration: its role's credentials and Region from the Lambda
/// environment, as the SDK's default chain reads them (`AWS_REGION`, `AWS_ENDPOINT_URL`).
async fn aws_config_from_env() -> recorder::live::SdkConfig {
    let settings = recorder::live::AwsSettings {
        profile: None,
        region: None,
        endpoint_url: None,
        max_attempts: 5,
        attempt_timeout: std::time::Duration::from_secs(20),
        operation_timeout: std::time::Duration::from_mins(1),
    };
    match recorder::live::load_sdk_config(&settings).await {
        Ok(sdk) => sdk,
        Err(err) => {
            tracing::error!(%err, "cannot load the AWS configuration");
            std::process::exit(1)
        }
    }
}
