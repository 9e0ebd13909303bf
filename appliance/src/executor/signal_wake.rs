//! SIGTERM and SIGINT for the executor's `poll` loop: the platform's [`Signals`] (an async
//! stream) polled by hand with a waker that writes to a socket the loop polls.
//!
//! The platform only offers signals as an async stream read through async-io, whose reactor then
//! runs on its own thread, blocked in `epoll_wait` until a signal comes. That thread is the
//! price of catching signals without `unsafe` here; a blocking self-pipe API in the platform
//! would remove it. Child exits do not come through here: the driver polls a pidfd per task.

use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use mesolite_platform::signals::{SignalError, SignalKind, Signals};

/// Wakes the driver by making the read end of a socket pair readable.
struct SocketWaker(UnixStream);

impl Wake for SocketWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // A full socket buffer already means "readable"; nothing is lost by dropping the byte.
        let _ = (&self.0).write(&[1]);
    }
}

/// The executor's caught signals, readable through [`SignalWake::fd`].
pub(crate) struct SignalWake {
    signals: Signals,
    readable: UnixStream,
    waker: Waker,
}

impl SignalWake {
    /// Catches `kinds` from now on.
    pub fn new(kinds: &[SignalKind]) -> Result<Self, SignalError> {
        let signals = Signals::new(kinds)?;
        let (readable, writable) = UnixStream::pair().map_err(SignalError::Register)?;
        readable
            .set_nonblocking(true)
            .map_err(SignalError::Register)?;
        writable
            .set_nonblocking(true)
            .map_err(SignalError::Register)?;
        let waker = Waker::from(Arc::new(SocketWaker(writable)));
        let mut wake = Self {
            signals,
            readable,
            waker,
        };
        // Registers the waker, so that the first signal makes `fd` readable.
        wake.take()?;
        Ok(wake)
    }

    /// Readable once a signal may have arrived; then call [`SignalWake::take`].
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.readable.as_fd()
    }

    /// The signals caught since the last call.
    pub fn take(&mut self) -> Result<Vec<SignalKind>, SignalError> {
        let mut scratch = [0u8; 64];
        loop {
            match (&self.readable).read(&mut scratch) {
                Ok(n) if n == scratch.len() => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => break,
            }
        }
        let mut cx = Context::from_waker(&self.waker);
        let mut caught = Vec::new();
        loop {
            let next = pin!(self.signals.next());
            match next.poll(&mut cx) {
                Poll::Ready(Ok(kind)) => caught.push(kind),
                Poll::Ready(Err(e)) => return Err(e),
                Poll::Pending => return Ok(caught),
            }
        }
    }
}
