//! The fixture bundle: one file holding every AWS API response that a diagnosis needs.
//!
//! This crate owns the bundle format (`bundle`), the typed view of the AWS responses that
//! validation and the engine share (`model`), and the import of AWS CLI outputs (`import`).
//! It is the only crate that will ever talk to AWS; the engine only reads bundles.

pub mod bundle;
pub mod events;
pub mod import;
#[cfg(feature = "live")]
pub mod live;
pub mod model;
pub mod redact;
pub mod selection;
pub mod time;

pub use bundle::{Bundle, Call, CallError, LoadError, Manifest, Operation, Source};
