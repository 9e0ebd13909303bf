//! mesolite-platform: every syscall mesolite makes (sockets, framing, files and fsync, processes, clock).
pub mod process;
pub mod signals;
pub mod store;
pub mod host;
pub mod clock;
pub mod net;
