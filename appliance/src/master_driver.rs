//! The master's driver: a thin loop around `mesolite_core::master::Master` that feeds it network
//! input, registry write completions and timers, drains its outputs and performs the I/O.
//! It holds no cluster logic of its own.

use crate::convert;
use crate::event_queue::{event_queue, EventReceiver, EventSender};
use crate::operator::rendered::{RenderCache, StateQuery};
use bytes::Bytes;
use mesolite_core::master::{
    ConnId, Leadership, Master, MasterOutput, OperatorCall, OperatorError, OperatorTicket, StreamId,
};
use mesolite_core::registry::WriteResult;
use mesolite_core::wire::{AgentToMaster, MasterToAgent};
use mesolite_platform::clock::Clock;
use mesolite_platform::net::{self, Outgoing};
use mesolite_platform::store::Store;
use smol::channel::{self, Receiver, Sender};
use smol::net::TcpStream;
use std::cell::{Cell, Ref, RefCell, RefMut};
use std::collections::HashMap;
use std::rc::Rc;

/// The master state machine, with a version that changes whenever the master may have changed.
///
/// Every input, timer and poll reaches the master through [`MasterCell::borrow_mut`], which
/// bumps the version, so a value computed under one version (a rendered GET_STATE) is current
/// exactly while the version is unchanged. The version counts mutable borrows, not real
/// changes: an allocation cycle that offers nothing still bumps it.
pub struct MasterCell {
    master: RefCell<Master>,
    version: Cell<u64>,
}

impl MasterCell {
    pub fn new(master: Master) -> Self {
        MasterCell {
            master: RefCell::new(master),
            version: Cell::new(0),
        }
    }

    /// The master, read-only.
    pub fn borrow(&self) -> Ref<'_, Master> {
        self.master.borrow()
    }

    /// The master, to feed it an input or poll it; bumps the version.
    pub fn borrow_mut(&self) -> RefMut<'_, Master> {
        self.version.set(self.version.get() + 1);
        self.master.borrow_mut()
    }

    /// The state version: equal versions mean the master has not been touched in between.
    pub fn version(&self) -> u64 {
        self.version.get()
    }
}

/// Shared state of the master process's tasks (all on one thread).
pub struct MasterDriver {
    pub master: MasterCell,
    pub clock: Clock,
    /// The state queries' answers as of the master's current version.
    renders: RenderCache,
    agent_conns: RefCell<HashMap<ConnId, Sender<Outgoing<MasterToAgent>>>>,
    streams: RefCell<HashMap<StreamId, EventSender>>,
    /// Operator event streams (operator SUBSCRIBE), by id.
    operator_streams: RefCell<HashMap<u64, EventSender>>,
    closed_operator_streams: Sender<u64>,
    /// Operator calls waiting for their registry write, by ticket.
    operator_waiters: RefCell<HashMap<OperatorTicket, Sender<Result<(), OperatorError>>>>,
    next_id: Cell<u64>,
    timer_wake: Sender<()>,
    store_wake: Sender<()>,
    closed_streams: Sender<StreamId>,
    fatal: Sender<String>,
}

/// The receivers the driver's tasks wait on.
pub struct MasterTasks {
    pub timer_wake: Receiver<()>,
    pub store_wake: Receiver<()>,
    pub closed_streams: Receiver<StreamId>,
    pub closed_operator_streams: Receiver<u64>,
    pub fatal: Receiver<String>,
}

impl MasterDriver {
    pub fn new(master: Master, clock: Clock) -> (Rc<MasterDriver>, MasterTasks) {
        let (timer_tx, timer_rx) = channel::bounded(1);
        let (store_tx, store_rx) = channel::bounded(1);
        let (fatal_tx, fatal_rx) = channel::bounded(1);
        let (closed_tx, closed_rx) = channel::unbounded();
        let (closed_op_tx, closed_op_rx) = channel::unbounded();
        let d = Rc::new(MasterDriver {
            master: MasterCell::new(master),
            clock,
            renders: RenderCache::default(),
            agent_conns: RefCell::new(HashMap::new()),
            streams: RefCell::new(HashMap::new()),
            operator_streams: RefCell::new(HashMap::new()),
            closed_operator_streams: closed_op_tx,
            operator_waiters: RefCell::new(HashMap::new()),
            next_id: Cell::new(1),
            timer_wake: timer_tx,
            store_wake: store_tx,
            closed_streams: closed_tx,
            fatal: fatal_tx,
        });
        (
            d,
            MasterTasks {
                timer_wake: timer_rx,
                store_wake: store_rx,
                closed_streams: closed_rx,
                closed_operator_streams: closed_op_rx,
                fatal: fatal_rx,
            },
        )
    }

    pub fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// The answer message of a state query for the master as it is now, rendered at most once
    /// per state version.
    pub fn rendered(&self, query: StateQuery) -> Bytes {
        let m = self.master.borrow();
        self.renders.get(query, self.master.version(), &m)
    }

    /// How many state query renderings were made (each a cache miss).
    pub fn renders(&self) -> u64 {
        self.renders.renders()
    }

    /// Single-master mode: this master leads from the start.
    pub fn become_leader(&self) {
        let (now, wall) = (self.clock.now(), self.clock.wall());
        self.master
            .borrow_mut()
            .handle_leadership(now, wall, Leadership::BecameLeader);
        self.drain();
    }

    /// Carries out the master's outputs, then wakes the registry writer (when it has work) and the timer.
    pub fn drain(&self) {
        loop {
            let out = self.master.borrow_mut().poll_output();
            let Some(out) = out else { break };
            match out {
                MasterOutput::ToAgent { conn, msg } => self.to_agent(conn, Outgoing::Send(msg)),
                MasterOutput::CloseAgent { conn } => self.to_agent(conn, Outgoing::Close),
                MasterOutput::ToFramework { stream, event } => {
                    let record = convert::scheduler_event_record(&self.master.borrow(), &event);
                    self.to_stream(stream, record);
                }
                MasterOutput::CloseStream { stream } => {
                    self.streams.borrow_mut().remove(&stream);
                }
                MasterOutput::Operator(event) => {
                    let record =
                        crate::operator::events::event_record(&self.master.borrow(), &event);
                    if let Some(record) = record {
                        self.to_operators(record);
                    }
                }
                MasterOutput::Log(line) => log(&line),
                MasterOutput::Fatal(reason) => {
                    let _ = self.fatal.try_send(reason);
                }
            }
        }
        loop {
            let done = self.master.borrow_mut().poll_operator_completion();
            let Some((ticket, result)) = done else { break };
            if let Some(tx) = self.operator_waiters.borrow_mut().remove(&ticket) {
                let _ = tx.try_send(result);
            }
        }
        if self.master.borrow().has_registry_work() {
            let _ = self.store_wake.try_send(());
        }
        let _ = self.timer_wake.try_send(());
    }

    /// Runs an operator call that changes the registry and waits until it is durable.
    pub async fn operator_call(&self, call: OperatorCall) -> Result<(), OperatorError> {
        let (now, wall) = (self.clock.now(), self.clock.wall());
        let ticket = self
            .master
            .borrow_mut()
            .handle_operator_call(now, wall, call)?;
        let (tx, rx) = channel::bounded(1);
        self.operator_waiters.borrow_mut().insert(ticket, tx);
        self.drain();
        rx.recv().await.unwrap_or(Err(OperatorError::Abandoned))
    }

    fn to_agent(&self, conn: ConnId, cmd: Outgoing<MasterToAgent>) {
        if let Some(tx) = self.agent_conns.borrow().get(&conn) {
            let _ = tx.try_send(cmd);
        }
    }

    fn to_stream(&self, stream: StreamId, record: Bytes) {
        let mut streams = self.streams.borrow_mut();
        let keep = streams
            .get(&stream)
            .is_some_and(|tx| tx.deliver(record, || format!("scheduler stream {}", stream.0)));
        if !keep {
            streams.remove(&stream);
        }
    }

    /// Registers a new scheduler stream; its events go to the returned receiver. When the
    /// response body is dropped (the connection closed), the guard reports the stream closed.
    pub fn open_stream(&self) -> (StreamId, EventReceiver, StreamGuard) {
        let id = StreamId(self.next_id());
        let (tx, rx) = event_queue();
        self.streams.borrow_mut().insert(id, tx);
        let guard = StreamGuard {
            id,
            closed: self.closed_streams.clone(),
        };
        (id, rx, guard)
    }
}

impl MasterDriver {
    /// Opens an operator event stream: its first record is SUBSCRIBED with the full state.
    pub fn open_operator_stream(&self) -> (EventReceiver, OperatorStreamGuard) {
        let id = self.next_id();
        let (tx, rx) = event_queue();
        let state = self.rendered(StateQuery::State);
        let first = crate::operator::events::subscribed_record_with(&self.master.borrow(), &state);
        let _ = tx.push(first);
        let was_empty = self.operator_streams.borrow().is_empty();
        self.operator_streams.borrow_mut().insert(id, tx);
        if was_empty {
            self.master
                .borrow_mut()
                .set_operator_subscribed(self.clock.now(), true);
        }
        let guard = OperatorStreamGuard {
            id,
            closed: self.closed_operator_streams.clone(),
        };
        (rx, guard)
    }

    fn to_operators(&self, record: Bytes) {
        let mut streams = self.operator_streams.borrow_mut();
        streams.retain(|id, tx| tx.deliver(record.clone(), || format!("operator stream {id}")));
    }

    fn operator_stream_closed(&self, id: u64) {
        let mut streams = self.operator_streams.borrow_mut();
        streams.remove(&id);
        if streams.is_empty() {
            drop(streams);
            self.master
                .borrow_mut()
                .set_operator_subscribed(self.clock.now(), false);
        }
    }
}

/// Reports an operator stream closed when dropped (with the response body).
pub struct OperatorStreamGuard {
    id: u64,
    closed: Sender<u64>,
}

impl Drop for OperatorStreamGuard {
    fn drop(&mut self) {
        let _ = self.closed.try_send(self.id);
    }
}

/// Forgets operator streams whose connections ended.
pub async fn closed_operator_streams_task(d: Rc<MasterDriver>, closed: Receiver<u64>) {
    while let Ok(id) = closed.recv().await {
        d.operator_stream_closed(id);
    }
}

/// Reports a scheduler stream closed when dropped (with the response body).
pub struct StreamGuard {
    id: StreamId,
    closed: Sender<StreamId>,
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let _ = self.closed.try_send(self.id);
    }
}

/// Tells the master about scheduler streams whose connections ended.
pub async fn closed_streams_task(d: Rc<MasterDriver>, closed: Receiver<StreamId>) {
    while let Ok(stream) = closed.recv().await {
        d.streams.borrow_mut().remove(&stream);
        let (now, wall) = (d.clock.now(), d.clock.wall());
        d.master
            .borrow_mut()
            .handle_stream_closed(now, wall, stream);
        d.drain();
    }
}

/// Logs one line to standard error with a UTC timestamp.
pub fn log(line: &str) {
    use std::io::Write;
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let _ = writeln!(std::io::stderr(), "{h:02}:{m:02}:{s:02} {line}");
}

/// Waits for timers at the master's `poll_timeout` and runs them.
pub async fn timer_task(d: Rc<MasterDriver>, wake: Receiver<()>) {
    let clock = d.clock;
    let deadline = || d.master.borrow().poll_timeout();
    let fire = || {
        let (now, wall) = (d.clock.now(), d.clock.wall());
        d.master.borrow_mut().handle_timeout(now, wall);
        d.drain();
    };
    mesolite_platform::clock::run_timer(clock, wake, deadline, fire).await;
}

/// Persists registry entries one batch at a time (append + fdatasync off the event loop), and
/// snapshots when the registrar asks.
pub async fn store_task(d: Rc<MasterDriver>, mut store: Store, wake: Receiver<()>) {
    loop {
        if wake.recv().await.is_err() {
            return;
        }
        loop {
            let (now, wall) = (d.clock.now(), d.clock.wall());
            let entry = d.master.borrow_mut().poll_registry_write(now, wall);
            let Some(entry) = entry else {
                d.drain();
                break;
            };
            let index = entry.index;
            let (s, result) = smol::unblock(move || {
                let r = store.append(&entry);
                (store, r)
            })
            .await;
            store = s;
            let result = match result {
                Ok(()) => WriteResult::Durable,
                Err(e) => {
                    log(&format!("registry write failed: {e}"));
                    WriteResult::Failed
                }
            };
            let (now, wall) = (d.clock.now(), d.clock.wall());
            d.master
                .borrow_mut()
                .handle_registry_written(now, wall, index, result);
            d.drain();
            let snapshot = d.master.borrow().poll_snapshot().cloned();
            if let Some(registry) = snapshot {
                let (s, result) = smol::unblock(move || {
                    let r = store.write_snapshot(&registry);
                    (store, r)
                })
                .await;
                store = s;
                match result {
                    Ok(()) => d.master.borrow_mut().handle_snapshot_written(),
                    Err(e) => {
                        let _ = d.fatal.try_send(format!("registry snapshot failed: {e}"));
                    }
                }
            }
        }
    }
}

/// Serves one agent connection speaking the internal protocol (preamble already consumed).
pub async fn serve_agent(d: Rc<MasterDriver>, stream: TcpStream) {
    serve_agent_speaking(d, stream, |msg: AgentToMaster| msg, Some).await
}

/// [`serve_agent`] for an agent speaking the previous protocol version: its messages are read
/// in that version's shape and upgraded, and what the master sends is downgraded to it.
pub async fn serve_previous_agent(d: Rc<MasterDriver>, stream: TcpStream) {
    use mesolite_core::wire::previous::{AgentToMasterV2, MasterToAgentV2};
    serve_agent_speaking(
        d,
        stream,
        AgentToMasterV2::upgrade,
        MasterToAgentV2::downgrade,
    )
    .await
}

async fn serve_agent_speaking<M: serde::de::DeserializeOwned, W: serde::Serialize>(
    d: Rc<MasterDriver>,
    stream: TcpStream,
    upgrade: impl Fn(M) -> AgentToMaster,
    downgrade: impl Fn(MasterToAgent) -> Option<W>,
) {
    let conn = ConnId(d.next_id());
    let (tx, rx) = channel::unbounded::<Outgoing<MasterToAgent>>();
    d.agent_conns.borrow_mut().insert(conn, tx);
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let on_message = |msg: M| {
        let (now, wall) = (d.clock.now(), d.clock.wall());
        d.master
            .borrow_mut()
            .handle_agent_message(now, wall, conn, upgrade(msg));
        d.drain();
    };
    if let Some(e) = net::pump_as(stream, rx, downgrade, on_message).await {
        log(&format!("closing agent connection from {peer}: {e}"));
    }
    d.agent_conns.borrow_mut().remove(&conn);
    d.master
        .borrow_mut()
        .handle_agent_disconnected(d.clock.now(), conn);
    d.drain();
}
