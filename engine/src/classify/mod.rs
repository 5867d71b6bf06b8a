//! Classifiers over wording families: what a piece of text says happened, whichever era of
//! ECS, container runtime, language runtime or driver wrote it.
//!
//! Rules used to match the catalogue's exact sentences, and real incidents are written in other
//! words: the Docker daemon's, containerd's, the ECS agent's before and after its 2024 rewrite,
//! the AWS SDK v2's error tails, Go's, Java's, Node's… Each classifier here reads one family of
//! failures in all the wordings found in public incidents, and its tests are tables of those
//! real strings with their sources. The rules call them through natives (`task.pull_failure()`,
//! `task.network_failure()`, `line.dependency_failure()`, `exit_meaning(code)`), so a new
//! wording is one table row, not one more rule.
//!
//! Plain functions over text: no Rhai, no evidence.

pub mod dependency;
pub mod exit;
pub mod image;
pub mod network;
pub mod pull;
