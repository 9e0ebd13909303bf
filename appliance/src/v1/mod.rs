//! The Mesos v1 HTTP API messages as JSON (scheduler, operator, executor), their RecordIO framing
//! and mesolite's ASCII-only JSON writer.
//!
//! Types mirror the `mesos.v1` protos field for field, named after the proto field (snake_case);
//! a proto field `type` is the Rust field `kind`. [`wire`] states the mapping rules every type
//! follows. Parse with [`from_json`], write with [`to_ascii_json`].

pub mod agent;
pub mod ascii_json;
pub mod base64;
pub mod cluster;
pub mod common;
pub mod executor;
pub mod maintenance;
pub mod master_event;
pub mod operator;
pub mod quota;
pub mod recordio;
pub mod resources;
pub mod scheduler;
pub mod task;
pub mod wire;

#[cfg(test)]
mod tests;

pub use ascii_json::{to_ascii_json, try_to_ascii_json};
pub use cluster::*;
pub use common::*;
pub use resources::{resources_from_v1, resources_to_v1, ResourcesFromV1Error};
pub use task::*;
pub use wire::{from_json, Bytes, Empty, ParseError, RawMessage, WireEnum};
