//! Analyses of what was measured rather than what was said: the shape of a container's memory
//! over its life (`memory`), and log lines reduced to their pattern so that the same error
//! counts once however its numbers, ids and times differ (`pattern`).
//!
//! Plain functions over plain data: no Rhai, no evidence, no IO. The report reads them through
//! `report::insights`: an OOM-killed task's memory verdict from its Container Insights samples,
//! and a failing service's error patterns from a Logs Insights search of its log groups.

pub mod memory;
pub mod pattern;
