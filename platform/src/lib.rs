//! mesolite-platform: every syscall mesolite makes (sockets, framing, files and fsync, processes, clock).
pub mod checkpoint;
pub mod clock;
mod durable;
pub mod host;
pub mod limits;
pub mod net;
pub mod process;
pub mod signals;
pub mod store;
