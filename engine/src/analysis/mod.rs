//! Analyses of what was measured rather than what was said: the shape of a container's memory
//! over its life (`memory`), and log lines reduced to their pattern so that the same error
//! counts once however its numbers, ids and times differ (`pattern`).
//!
//! Plain functions over plain data: no Rhai, no evidence, no IO. They are the building blocks of
//! issue #21 (memory over time for OOM kills from Container Insights, error patterns across a
//! service's log streams); the collection and the report use them once those land.

pub mod memory;
pub mod pattern;
