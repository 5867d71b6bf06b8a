//! The event-driven recorder: an AWS Lambda function fed by an SQS queue of EventBridge events
//! from ECS. See `handler` for what it does with each, `keys` for where it writes, and
//! docs/fleet.md for how it is deployed.

pub mod aws;
pub mod handler;
pub mod keys;
pub mod trigger;

pub use handler::{Backend, Handled, Outcome, Settings, handle_batch};
