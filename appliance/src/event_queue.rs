//! The queue between a state machine's driver and one subscriber's streaming response: unbounded
//! in memory layout (nothing is preallocated per subscriber), bounded by the events and bytes it
//! holds, so that a slow subscriber is cut off instead of growing the process without limit.

use hyper::body::Bytes;
use smol::channel::{Receiver, Sender, TrySendError};
use smol::stream::Stream;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Most events a subscriber may have queued before it counts as too slow and is cut off.
pub const MAX_QUEUED_EVENTS: usize = 10_000;
/// Most bytes a subscriber may have queued before it counts as too slow and is cut off.
pub const MAX_QUEUED_BYTES: usize = 16 << 20;

/// Why an event could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueError {
    /// The subscriber already has [`MAX_QUEUED_EVENTS`] events queued.
    TooManyEvents,
    /// The subscriber already has [`MAX_QUEUED_BYTES`] queued, or this event would pass it.
    TooManyBytes,
    /// The subscriber is gone.
    Closed,
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyEvents => write!(f, "{MAX_QUEUED_EVENTS} events queued"),
            Self::TooManyBytes => write!(f, "{} MiB queued", MAX_QUEUED_BYTES >> 20),
            Self::Closed => f.write_str("the subscriber is gone"),
        }
    }
}

/// Opens a queue with the default limits.
pub fn event_queue() -> (EventSender, EventReceiver) {
    with_limits(MAX_QUEUED_EVENTS, MAX_QUEUED_BYTES)
}

fn with_limits(max_events: usize, max_bytes: usize) -> (EventSender, EventReceiver) {
    let (tx, rx) = smol::channel::unbounded();
    let bytes = Arc::new(AtomicUsize::new(0));
    (
        EventSender {
            tx,
            bytes: bytes.clone(),
            max_events,
            max_bytes,
        },
        EventReceiver {
            rx: Box::pin(rx),
            bytes,
        },
    )
}

/// The driver's end of a subscriber's queue.
#[derive(Debug)]
pub struct EventSender {
    tx: Sender<Bytes>,
    bytes: Arc<AtomicUsize>,
    max_events: usize,
    max_bytes: usize,
}

impl EventSender {
    /// Queues one record, or says why the subscriber must be cut off.
    pub fn push(&self, record: Bytes) -> Result<(), QueueError> {
        if self.tx.is_closed() {
            return Err(QueueError::Closed);
        }
        if self.tx.len() >= self.max_events {
            return Err(QueueError::TooManyEvents);
        }
        let queued = self.bytes.load(Ordering::Relaxed);
        if queued.saturating_add(record.len()) > self.max_bytes && queued > 0 {
            // One record larger than the limit still goes through an empty queue: the first
            // record of an operator stream holds the whole state.
            return Err(QueueError::TooManyBytes);
        }
        let len = record.len();
        match self.tx.try_send(record) {
            Ok(()) => {
                self.bytes.fetch_add(len, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(QueueError::TooManyEvents),
            Err(TrySendError::Closed(_)) => Err(QueueError::Closed),
        }
    }

    /// [`EventSender::push`] for a driver holding many subscribers: false when this one must be
    /// dropped (dropping the sender ends its response; the subscriber reconnects). A subscriber
    /// cut off for being slow gets a log line naming it (`who`).
    pub fn deliver(&self, record: Bytes, who: impl FnOnce() -> String) -> bool {
        match self.push(record) {
            Ok(()) => true,
            Err(QueueError::Closed) => false,
            Err(e) => {
                crate::master_driver::log(&format!(
                    "{} has {e}; disconnecting the slow subscriber",
                    who()
                ));
                false
            }
        }
    }
}

/// The subscriber's end: a stream of records, in order.
#[derive(Debug)]
pub struct EventReceiver {
    rx: Pin<Box<Receiver<Bytes>>>,
    bytes: Arc<AtomicUsize>,
}

impl Stream for EventReceiver {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let next = self.rx.as_mut().poll_next(cx);
        if let Poll::Ready(Some(record)) = &next {
            self.bytes.fetch_sub(record.len(), Ordering::Relaxed);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smol::stream::StreamExt;

    #[test]
    fn records_come_out_in_order_and_free_their_bytes() {
        let (tx, mut rx) = with_limits(3, 10);
        tx.push(Bytes::from_static(b"abcd")).expect("first");
        tx.push(Bytes::from_static(b"efgh")).expect("second");
        assert_eq!(
            tx.push(Bytes::from_static(b"ijk")),
            Err(QueueError::TooManyBytes)
        );
        let first = smol::block_on(rx.next()).expect("a record");
        assert_eq!(&first[..], b"abcd");
        tx.push(Bytes::from_static(b"ijk")).expect("room again");
        assert_eq!(&smol::block_on(rx.next()).expect("second")[..], b"efgh");
        assert_eq!(&smol::block_on(rx.next()).expect("third")[..], b"ijk");
    }

    #[test]
    fn the_event_count_limit_holds_and_a_closed_subscriber_is_reported() {
        let (tx, rx) = with_limits(2, 1 << 20);
        tx.push(Bytes::from_static(b"a")).expect("1");
        tx.push(Bytes::from_static(b"b")).expect("2");
        assert_eq!(
            tx.push(Bytes::from_static(b"c")),
            Err(QueueError::TooManyEvents)
        );
        drop(rx);
        assert_eq!(tx.push(Bytes::from_static(b"d")), Err(QueueError::Closed));
    }

    #[test]
    fn one_record_larger_than_the_limit_passes_an_empty_queue() {
        let (tx, _rx) = with_limits(10, 4);
        tx.push(Bytes::from_static(b"a whole state"))
            .expect("first");
        assert_eq!(
            tx.push(Bytes::from_static(b"x")),
            Err(QueueError::TooManyBytes)
        );
    }

    #[test]
    fn deliver_keeps_a_subscriber_until_it_is_gone_or_too_slow() {
        let (tx, rx) = with_limits(1, 1 << 20);
        let mut named = false;
        assert!(tx.deliver(Bytes::from_static(b"a"), || unreachable!("not cut off")));
        assert!(!tx.deliver(Bytes::from_static(b"b"), || {
            named = true;
            "stream 7".to_string()
        }));
        assert!(named, "a slow subscriber is named in the log line");
        drop(rx);
        assert!(!tx.deliver(Bytes::from_static(b"c"), || unreachable!("closed is quiet")));
    }
}
