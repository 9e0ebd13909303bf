//! Signal notification for smol drivers: SIGTERM, SIGINT and SIGCHLD delivered as an async stream.
//!
//! rustix cannot install signal handlers (only its unstable `runtime` feature can, and it needs a
//! hand-written restorer), so this wraps `async-signal`: its handler, registered through
//! `signal-hook-registry`, only writes one byte to a non-blocking self-pipe (async-signal-safe), and the
//! read end is polled by async-io, the reactor smol runs on. Several [`Signals`] may coexist; each gets
//! every delivered signal it registered for. Signals that arrive while the pipe is full are coalesced,
//! which is harmless for these three: each one means "look again" (SIGCHLD: reap children).
//!
//! While a [`Signals`] for SIGTERM or SIGINT exists, those signals no longer terminate the process:
//! the driver decides what to do.

use std::fmt;
use std::io;

use async_signal::Signal;
use smol::stream::StreamExt;

/// A signal a driver can wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignalKind {
    /// SIGTERM: a polite request to stop (systemd, `kill`, the agent shutting an executor down).
    Term,
    /// SIGINT: Ctrl-C on a terminal.
    Int,
    /// SIGCHLD: a child process changed state; reap it.
    Chld,
    /// SIGUSR1: the agent shuts down for good (kills its tasks and unregisters), as in Mesos.
    Usr1,
}

impl SignalKind {
    fn to_async_signal(self) -> Signal {
        match self {
            Self::Term => Signal::Term,
            Self::Int => Signal::Int,
            Self::Chld => Signal::Child,
            Self::Usr1 => Signal::Usr1,
        }
    }

    fn from_async_signal(signal: Signal) -> Option<Self> {
        match signal {
            Signal::Term => Some(Self::Term),
            Signal::Int => Some(Self::Int),
            Signal::Child => Some(Self::Chld),
            Signal::Usr1 => Some(Self::Usr1),
            _ => None,
        }
    }

    /// The conventional name, such as `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Term => "SIGTERM",
            Self::Int => "SIGINT",
            Self::Chld => "SIGCHLD",
            Self::Usr1 => "SIGUSR1",
        }
    }
}

/// Why registering for, or waiting on, signals failed.
#[derive(Debug)]
pub enum SignalError {
    /// Creating the self-pipe or installing the handler failed.
    Register(io::Error),
    /// Reading the self-pipe failed.
    Read(io::Error),
    /// The notification stream ended, which async-signal documents as impossible.
    Closed,
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Register(e) => write!(f, "cannot install signal handlers: {e}"),
            Self::Read(e) => write!(f, "cannot read signal notifications: {e}"),
            Self::Closed => f.write_str("the signal notification stream ended"),
        }
    }
}

impl std::error::Error for SignalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Register(e) | Self::Read(e) => Some(e),
            Self::Closed => None,
        }
    }
}

/// A registration for a set of signals; dropping it unregisters them.
#[derive(Debug)]
pub struct Signals {
    inner: async_signal::Signals,
}

impl Signals {
    /// Installs handlers for `kinds` and starts collecting them.
    pub fn new(kinds: &[SignalKind]) -> Result<Self, SignalError> {
        let inner = async_signal::Signals::new(kinds.iter().map(|k| k.to_async_signal()))
            .map_err(SignalError::Register)?;
        Ok(Self { inner })
    }

    /// Waits for the next registered signal. Cancel-safe: dropping the future loses no signal.
    pub async fn next(&mut self) -> Result<SignalKind, SignalError> {
        loop {
            match self.inner.next().await {
                Some(Ok(signal)) => {
                    if let Some(kind) = SignalKind::from_async_signal(signal) {
                        return Ok(kind);
                    }
                }
                Some(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Some(Err(e)) => return Err(SignalError::Read(e)),
                None => return Err(SignalError::Closed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::process::{getpid, kill_process, Signal as RawSignal};
    use std::time::Duration;

    /// Waits for the next signal, failing after 10 seconds.
    fn next_within(signals: &mut Signals) -> SignalKind {
        smol::block_on(async {
            smol::future::or(async { Some(signals.next().await) }, async {
                smol::Timer::after(Duration::from_secs(10)).await;
                None
            })
            .await
        })
        .expect("a signal within 10 s")
        .expect("signal read")
    }

    #[test]
    fn sigchld_arrives_when_a_child_exits() {
        let mut signals = Signals::new(&[SignalKind::Chld]).expect("register");
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "exit 0"])
            .spawn()
            .expect("spawn");
        assert_eq!(next_within(&mut signals), SignalKind::Chld);
        assert!(child.wait().expect("wait").success());
    }

    #[test]
    fn sigterm_and_sigint_are_caught_and_reported_in_order_of_kind() {
        let mut signals = Signals::new(&[SignalKind::Term, SignalKind::Int]).expect("register");
        // Without the handler this would terminate the test process.
        kill_process(getpid(), RawSignal::TERM).expect("raise SIGTERM");
        assert_eq!(next_within(&mut signals), SignalKind::Term);
        kill_process(getpid(), RawSignal::INT).expect("raise SIGINT");
        assert_eq!(next_within(&mut signals), SignalKind::Int);
        assert_eq!(SignalKind::Term.name(), "SIGTERM");
    }
}
