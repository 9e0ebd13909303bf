//! The executor's HTTP/1.1 client for `POST /api/v1/executor`: one streaming `SUBSCRIBE`
//! connection carrying RecordIO events, and one keep-alive connection for the other calls.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST};
use hyper::{Request, Response, StatusCode};
use smol_hyper::rt::FuturesIo;

use super::wire::{Event, RecordIoDecoder, RecordIoError};

/// The executor API path on the agent.
const EXECUTOR_API: &str = "/api/v1/executor";
/// How long connecting and getting the response head of a call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why talking to the agent failed.
#[derive(Debug)]
pub(crate) enum HttpError {
    Connect(std::io::Error),
    Http(hyper::Error),
    /// Building the request failed; only a malformed agent address could cause it.
    Request(hyper::http::Error),
    /// The agent answered with an unexpected status.
    Status(StatusCode, String),
    RecordIo(RecordIoError),
    Json(serde_json::Error),
    TimedOut,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "cannot connect to the agent: {e}"),
            Self::Http(e) => write!(f, "HTTP error talking to the agent: {e}"),
            Self::Request(e) => write!(f, "cannot build a request to the agent: {e}"),
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

async fn within<T>(fut: impl Future<Output = Result<T, HttpError>>) -> Result<T, HttpError> {
    smol::future::or(fut, async {
        smol::Timer::after(CALL_TIMEOUT).await;
        Err(HttpError::TimedOut)
    })
    .await
}

/// An open HTTP/1.1 connection; the connection driver task stops when this is dropped.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    _driver: smol::Task<()>,
}

/// The executor's task runner: everything runs on the executor's one thread, so an HTTP
/// exchange needs no wake-up across threads (and no thread is started for it).
pub(crate) type Runner = smol::LocalExecutor<'static>;

async fn connect(runner: &Runner, agent: SocketAddr) -> Result<Connection, HttpError> {
    let stream = smol::net::TcpStream::connect(agent)
        .await
        .map_err(HttpError::Connect)?;
    stream.set_nodelay(true).map_err(HttpError::Connect)?;
    let (sender, conn) = http1::handshake(FuturesIo::new(stream))
        .await
        .map_err(HttpError::Http)?;
    let driver = runner.spawn(async move {
        // The connection ends when the agent closes it or the `Connection` is dropped; either way
        // the caller learns it from its response or body.
        let _ = conn.await;
    });
    Ok(Connection {
        sender,
        _driver: driver,
    })
}

async fn post(
    conn: &mut Connection,
    agent: SocketAddr,
    body: Vec<u8>,
) -> Result<Response<Incoming>, HttpError> {
    let request = Request::post(EXECUTOR_API)
        .header(HOST, agent.to_string())
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(HttpError::Request)?;
    conn.sender
        .send_request(request)
        .await
        .map_err(HttpError::Http)
}

/// Reads at most 1 KiB of an error response body for the error message.
async fn error_text(response: Response<Incoming>) -> String {
    let body = smol::future::or(async { response.into_body().collect().await.ok() }, async {
        smol::Timer::after(Duration::from_secs(1)).await;
        None
    })
    .await;
    let bytes = body.map(|b| b.to_bytes()).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]);
    text.trim().to_owned()
}

/// The keep-alive connection non-streaming calls (`UPDATE`, `MESSAGE`) go over: opened on the
/// first call, reused while the agent keeps it open, opened again after it closed or failed.
pub(crate) struct CallConnection<'r> {
    runner: &'r Runner,
    agent: SocketAddr,
    conn: Option<Connection>,
}

impl<'r> CallConnection<'r> {
    pub(crate) fn new(runner: &'r Runner, agent: SocketAddr) -> Self {
        Self {
            runner,
            agent,
            conn: None,
        }
    }

    /// Sends one call and expects `202 Accepted`. A failed call drops the connection, so the
    /// next one starts on a fresh connection. A kept connection that turns out to be closed (the
    /// agent may close idle connections at any time) is replaced once and the call sent again;
    /// the agent ignores an update it already has (same uuid).
    pub(crate) async fn send(&mut self, body: Vec<u8>) -> Result<(), HttpError> {
        let agent = self.agent;
        if let Some(mut conn) = self.conn.take().filter(|c| !c.sender.is_closed()) {
            match call_on(&mut conn, agent, body.clone()).await {
                Ok(()) => {
                    self.conn = Some(conn);
                    return Ok(());
                }
                Err(HttpError::Http(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut conn = within(connect(self.runner, agent)).await?;
        call_on(&mut conn, agent, body).await?;
        self.conn = Some(conn);
        Ok(())
    }
}

/// Sends one call on `conn` and expects `202 Accepted` with its (empty) body.
async fn call_on(conn: &mut Connection, agent: SocketAddr, body: Vec<u8>) -> Result<(), HttpError> {
    within(async {
        conn.sender.ready().await.map_err(HttpError::Http)?;
        let response = post(conn, agent, body).await?;
        if response.status() != StatusCode::ACCEPTED {
            let status = response.status();
            return Err(HttpError::Status(status, error_text(response).await));
        }
        response
            .into_body()
            .collect()
            .await
            .map_err(HttpError::Http)?;
        Ok(())
    })
    .await
}

/// The event stream of a subscription.
pub(crate) struct EventStream {
    body: Incoming,
    decoder: RecordIoDecoder,
    _conn: Connection,
}

/// Sends `SUBSCRIBE` and returns the event stream once the agent answered `200 OK`.
pub(crate) async fn subscribe(
    runner: &Runner,
    agent: SocketAddr,
    body: Vec<u8>,
) -> Result<EventStream, HttpError> {
    within(async {
        let mut conn = connect(runner, agent).await?;
        let response = post(&mut conn, agent, body).await?;
        if response.status() != StatusCode::OK {
            let status = response.status();
            return Err(HttpError::Status(status, error_text(response).await));
        }
        Ok(EventStream {
            body: response.into_body(),
            decoder: RecordIoDecoder::default(),
            _conn: conn,
        })
    })
    .await
}

impl EventStream {
    /// The next event; `Ok(None)` when the agent ended the stream.
    ///
    /// Cancel-safe: bytes already received stay in the decoder.
    pub async fn next_event(&mut self) -> Result<Option<Event>, HttpError> {
        loop {
            if let Some(record) = self.decoder.next_record().map_err(HttpError::RecordIo)? {
                return serde_json::from_slice(&record)
                    .map(Some)
                    .map_err(HttpError::Json);
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(HttpError::Http(e)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.decoder.push(&data);
                    }
                }
            }
        }
    }
}
