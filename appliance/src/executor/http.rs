//! The executor's blocking HTTP/1.1 client for `POST /api/v1/executor`: one streaming
//! `SUBSCRIBE` connection carrying RecordIO events (read when the driver's `poll` says so), and
//! one keep-alive connection for the other calls. Plain std sockets, no runtime and no threads.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use super::http1::{self, BodyFraming, ChunkedDecoder, FramingError, ResponseHead};
use super::wire::{Event, RecordIoDecoder, RecordIoError};

/// The executor API path on the agent.
const EXECUTOR_API: &str = "/api/v1/executor";
/// How long connecting, sending a call and getting its response may each take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long reading the body of an error response may take.
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(1);
/// How much of an error response body goes into the error message.
const ERROR_BODY_LIMIT: usize = 1024;
/// How much one `read` asks for.
const READ_SIZE: usize = 16 * 1024;

/// Why talking to the agent failed.
#[derive(Debug)]
pub(crate) enum HttpError {
    Connect(io::Error),
    Io(io::Error),
    /// The agent closed the connection before a complete response.
    Closed,
    Framing(FramingError),
    /// The agent answered with an unexpected status.
    Status(u16, String),
    RecordIo(RecordIoError),
    Json(serde_json::Error),
    TimedOut,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "cannot connect to the agent: {e}"),
            Self::Io(e) => write!(f, "I/O error talking to the agent: {e}"),
            Self::Closed => f.write_str("the agent closed the connection"),
            Self::Framing(e) => write!(f, "bad HTTP response from the agent: {e}"),
            Self::Status(status, body) if body.is_empty() => {
                write!(f, "the agent answered {status}")
            }
            Self::Status(status, body) => write!(f, "the agent answered {status}: {body}"),
            Self::RecordIo(e) => write!(f, "bad event stream from the agent: {e}"),
            Self::Json(e) => write!(f, "bad event JSON from the agent: {e}"),
            Self::TimedOut => write!(f, "the agent did not answer within {CALL_TIMEOUT:?}"),
        }
    }
}

impl HttpError {
    fn from_io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Self::TimedOut,
            _ => Self::Io(e),
        }
    }

    /// Whether a kept-alive connection was found closed by the agent, so the call may be retried
    /// on a fresh one.
    fn is_stale_connection(&self) -> bool {
        match self {
            Self::Closed => true,
            Self::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }
}

/// An open connection and the bytes received on it but not yet consumed.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(agent: SocketAddr) -> Result<Self, HttpError> {
        let stream =
            TcpStream::connect_timeout(&agent, CALL_TIMEOUT).map_err(HttpError::Connect)?;
        // Calls are small single writes; Nagle would only delay them.
        stream.set_nodelay(true).map_err(HttpError::Connect)?;
        stream
            .set_read_timeout(Some(CALL_TIMEOUT))
            .map_err(HttpError::Connect)?;
        stream
            .set_write_timeout(Some(CALL_TIMEOUT))
            .map_err(HttpError::Connect)?;
        Ok(Self {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends `POST /api/v1/executor` with a JSON body, head and body in one write.
    fn post(&mut self, agent: SocketAddr, body: &[u8]) -> Result<(), HttpError> {
        let mut request = format!(
            "POST {EXECUTOR_API} HTTP/1.1\r\nHost: {agent}\r\nContent-Type: application/json\r\n\
             Accept: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.stream.write_all(&request).map_err(HttpError::from_io)
    }

    /// Reads once more into the buffer; `Ok(0)` at the end of the stream.
    fn fill(&mut self) -> Result<usize, HttpError> {
        let start = self.buf.len();
        self.buf.resize(start + READ_SIZE, 0);
        let result = loop {
            match self.stream.read(&mut self.buf[start..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buf.truncate(start + *result.as_ref().unwrap_or(&0));
        result.map_err(HttpError::from_io)
    }

    /// Reads the next response head.
    fn read_head(&mut self) -> Result<ResponseHead, HttpError> {
        loop {
            if let Some(end) = http1::head_end(&self.buf) {
                let head = http1::parse_head(&self.buf[..end]).map_err(HttpError::Framing)?;
                self.buf.drain(..end);
                return Ok(head);
            }
            if self.buf.len() > http1::MAX_HEAD {
                return Err(HttpError::Framing(FramingError::HeadTooLong));
            }
            if self.fill()? == 0 {
                return Err(HttpError::Closed);
            }
        }
    }

    /// Reads a whole response body, keeping at most `limit` bytes of it.
    fn read_body(&mut self, framing: BodyFraming, limit: usize) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        let mut keep = |data: &[u8]| {
            let room = limit.saturating_sub(body.len());
            body.extend_from_slice(&data[..data.len().min(room)]);
        };
        match framing {
            BodyFraming::Length(mut left) => loop {
                let take = usize::try_from(left).map_or(self.buf.len(), |l| l.min(self.buf.len()));
                keep(&self.buf[..take]);
                self.buf.drain(..take);
                left -= take as u64;
                if left == 0 {
                    break;
                }
                if self.fill()? == 0 {
                    return Err(HttpError::Closed);
                }
            },
            BodyFraming::Chunked => {
                let mut decoder = ChunkedDecoder::default();
                loop {
                    let used = decoder
                        .decode(&self.buf, &mut keep)
                        .map_err(HttpError::Framing)?;
                    self.buf.drain(..used);
                    if decoder.is_done() {
                        break;
                    }
                    if self.fill()? == 0 {
                        return Err(HttpError::Closed);
                    }
                }
            }
            BodyFraming::UntilClose => loop {
                keep(&self.buf);
                self.buf.clear();
                if self.fill()? == 0 {
                    break;
                }
            },
        }
        Ok(body)
    }

    /// The error for an unexpected status, with the start of the response body as its text.
    fn status_error(&mut self, head: &ResponseHead) -> HttpError {
        let _ = self.stream.set_read_timeout(Some(ERROR_BODY_TIMEOUT));
        let body = self
            .read_body(head.framing, ERROR_BODY_LIMIT)
            .unwrap_or_default();
        HttpError::Status(
            head.status,
            String::from_utf8_lossy(&body).trim().to_owned(),
        )
    }
}

/// The keep-alive connection non-streaming calls (`UPDATE`, `MESSAGE`) go over: opened on the
/// first call, reused while the agent keeps it open, opened again after it closed or failed.
pub(crate) struct CallConnection {
    agent: SocketAddr,
    conn: Option<Conn>,
}

impl CallConnection {
    pub(crate) fn new(agent: SocketAddr) -> Self {
        Self { agent, conn: None }
    }

    /// Sends one call and expects `202 Accepted`. A failed call drops the connection, so the
    /// next one starts on a fresh connection. A kept connection that turns out to be closed (the
    /// agent may close idle connections at any time) is replaced once and the call sent again;
    /// the agent ignores an update it already has (same uuid).
    pub(crate) fn send(&mut self, body: &[u8]) -> Result<(), HttpError> {
        if let Some(mut conn) = self.conn.take() {
            match call_on(&mut conn, self.agent, body) {
                Ok(keep) => {
                    self.conn = keep.then_some(conn);
                    return Ok(());
                }
                Err(e) if e.is_stale_connection() => {}
                Err(e) => return Err(e),
            }
        }
        let mut conn = Conn::open(self.agent)?;
        let keep = call_on(&mut conn, self.agent, body)?;
        self.conn = keep.then_some(conn);
        Ok(())
    }
}

/// Sends one call on `conn` and expects `202 Accepted` with its body; returns whether the
/// connection may be reused.
fn call_on(conn: &mut Conn, agent: SocketAddr, body: &[u8]) -> Result<bool, HttpError> {
    // Bytes the agent sent outside any exchange mean the connection is out of step.
    if !conn.buf.is_empty() {
        return Err(HttpError::Closed);
    }
    conn.post(agent, body)?;
    let head = conn.read_head()?;
    if head.status != 202 {
        return Err(conn.status_error(&head));
    }
    conn.read_body(head.framing, 0)?;
    Ok(head.keep_alive)
}

/// How far the subscription's response body has been read.
#[derive(Debug)]
enum BodyState {
    Chunked(ChunkedDecoder),
    Length(u64),
    UntilClose,
}

/// The event stream of a subscription.
pub(crate) struct EventStream {
    conn: Conn,
    body: BodyState,
    records: RecordIoDecoder,
    ended: bool,
}

/// Sends `SUBSCRIBE` and returns the event stream once the agent answered `200 OK`.
pub(crate) fn subscribe(agent: SocketAddr, body: &[u8]) -> Result<EventStream, HttpError> {
    let mut conn = Conn::open(agent)?;
    conn.post(agent, body)?;
    let head = conn.read_head()?;
    if head.status != 200 {
        return Err(conn.status_error(&head));
    }
    let body = match head.framing {
        BodyFraming::Chunked => BodyState::Chunked(ChunkedDecoder::default()),
        BodyFraming::Length(n) => BodyState::Length(n),
        BodyFraming::UntilClose => BodyState::UntilClose,
    };
    let mut stream = EventStream {
        conn,
        body,
        records: RecordIoDecoder::default(),
        ended: false,
    };
    // Events may have arrived with the head.
    stream.decode_buffered()?;
    Ok(stream)
}

impl EventStream {
    /// The socket, for `poll`: readable when [`EventStream::receive`] will not block.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.conn.stream.as_fd()
    }

    /// Whether the agent ended the stream (after the events already received).
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Reads what the agent sent since the last call, with one `read`.
    pub fn receive(&mut self) -> Result<(), HttpError> {
        if self.conn.fill()? == 0 {
            self.ended = true;
        }
        self.decode_buffered()
    }

    /// The next event already received, if any; reads nothing.
    pub fn next_event(&mut self) -> Result<Option<Event>, HttpError> {
        match self.records.next_record().map_err(HttpError::RecordIo)? {
            Some(record) => serde_json::from_slice(&record)
                .map(Some)
                .map_err(HttpError::Json),
            None => Ok(None),
        }
    }

    /// Moves the received body bytes into the RecordIO decoder.
    fn decode_buffered(&mut self) -> Result<(), HttpError> {
        let buf = &mut self.conn.buf;
        let records = &mut self.records;
        match &mut self.body {
            BodyState::Chunked(decoder) => {
                let used = decoder
                    .decode(buf, |data| records.push(data))
                    .map_err(HttpError::Framing)?;
                if decoder.is_done() {
                    self.ended = true;
                }
                buf.drain(..used);
            }
            BodyState::Length(left) => {
                let take = usize::try_from(*left).map_or(buf.len(), |l| l.min(buf.len()));
                records.push(&buf[..take]);
                buf.drain(..take);
                *left -= take as u64;
                if *left == 0 {
                    self.ended = true;
                }
            }
            BodyState::UntilClose => {
                records.push(buf);
                buf.clear();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// Reads one request (head and `Content-Length` body); `None` when the client closed.
    fn read_request(reader: &mut BufReader<TcpStream>) -> Option<String> {
        let mut line = String::new();
        let mut length = 0;
        loop {
            line.clear();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().ok()?;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        String::from_utf8(body).ok()
    }

    /// A server on loopback that gives each accepted connection to `serve` with its number, and
    /// reports every request body it read.
    fn server(
        serve: impl Fn(usize, &mut BufReader<TcpStream>, &mut TcpStream, &mpsc::Sender<String>)
            + Send
            + 'static,
    ) -> (SocketAddr, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for (n, conn) in listener.incoming().flatten().enumerate() {
                let mut writer = conn.try_clone().expect("clone");
                let mut reader = BufReader::new(conn);
                serve(n, &mut reader, &mut writer, &tx);
            }
        });
        (addr, rx)
    }

    #[test]
    fn calls_reuse_the_connection_and_survive_the_agent_closing_it() {
        let (addr, bodies) = server(|n, reader, writer, tx| {
            // The first connection answers two calls, then the agent closes it while idle.
            let calls = if n == 0 { 2 } else { usize::MAX };
            for _ in 0..calls {
                let Some(body) = read_request(reader) else {
                    return;
                };
                tx.send(format!("{n}:{body}")).expect("report");
                let answer = if body == "close" {
                    "HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
                } else {
                    "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok"
                };
                writer.write_all(answer.as_bytes()).expect("answer");
            }
        });
        let mut calls = CallConnection::new(addr);
        for body in ["a", "b", "c", "close", "d"] {
            calls.send(body.as_bytes()).expect("sent");
        }
        let seen: Vec<String> = bodies.try_iter().collect();
        // `c` found the first connection closed and went again on a fresh one; after the
        // `Connection: close` answer, `d` opened a third.
        assert_eq!(seen, ["0:a", "0:b", "1:c", "1:close", "2:d"]);
    }

    #[test]
    fn an_unexpected_status_is_an_error_with_the_body_text() {
        let (addr, _) = server(|_, reader, writer, _| {
            if read_request(reader).is_some() {
                let body = "Executor is not subscribed";
                let answer = format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                writer.write_all(answer.as_bytes()).expect("answer");
            }
        });
        let err = CallConnection::new(addr)
            .send(b"{}")
            .expect_err("400 is an error");
        assert_eq!(
            err.to_string(),
            "the agent answered 400: Executor is not subscribed"
        );
        let err = subscribe(addr, b"{}").err().expect("400 is an error");
        assert!(matches!(err, HttpError::Status(400, _)), "{err}");
    }

    #[test]
    fn the_event_stream_decodes_events_split_anywhere_and_reports_its_end() {
        let events = [r#"{"type":"SUBSCRIBED"}"#, r#"{"type":"HEARTBEAT"}"#];
        let (addr, _) = server(move |_, reader, writer, _| {
            if read_request(reader).is_none() {
                return;
            }
            let mut wire = b"HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: chunked\r\n\r\n".to_vec();
            for event in events {
                let record = format!("{}\n{event}", event.len());
                wire.extend_from_slice(format!("{:x}\r\n{record}\r\n", record.len()).as_bytes());
            }
            wire.extend_from_slice(b"0\r\n\r\n");
            // Byte by byte, so that every boundary falls somewhere in the middle of a read.
            writer.set_nodelay(true).expect("nodelay");
            for byte in wire {
                writer.write_all(&[byte]).expect("write");
                writer.flush().expect("flush");
            }
        });
        let mut stream = subscribe(addr, b"{}").expect("subscribed");
        let mut kinds = Vec::new();
        // As the driver does: events already received first, then the end, then read more.
        loop {
            while let Some(event) = stream.next_event().expect("event") {
                kinds.push(event.kind);
            }
            if stream.ended() {
                break;
            }
            stream.receive().expect("receive");
        }
        assert_eq!(kinds, ["SUBSCRIBED", "HEARTBEAT"]);
    }

    #[test]
    fn an_absent_agent_is_a_connect_error() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let err = CallConnection::new(addr).send(b"{}").expect_err("refused");
        assert!(matches!(err, HttpError::Connect(_)), "{err}");
    }
}
