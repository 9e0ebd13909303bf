//! mesolite-core: every decision of the cluster manager, with no I/O, no clock and no randomness of its own.
//!
//! The state machines here (master, agent, registrar, allocator) take inputs with the time passed in,
//! change state, and hand back outputs that a driver carries out. See ARCHITECTURE.md.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod agent;
pub mod allocator;
pub mod attributes;
pub mod ids;
pub mod master;
pub mod registry;
pub mod resources;
pub mod rng;
pub mod sealed;
pub mod task_state;
pub mod time;
pub mod wire;
