//! A small HTTP/1.1 client (hyper on smol) for `mesolite run` and `mesolite ctl`: JSON requests,
//! whole-body answers and RecordIO event streams.

use crate::v1::recordio::RecordIoDecoder;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, StatusCode};
use smol::net::TcpStream;
use std::fmt;
use std::time::Duration;

/// How long connecting and a non-streaming request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(75);

/// Why a request failed.
#[derive(Debug)]
pub enum ClientError {
    Connect(String, std::io::Error),
    Http(String),
    Timeout,
    Stream(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Connect(addr, e) => write!(f, "cannot connect to {addr}: {e}"),
            ClientError::Http(e) => write!(f, "HTTP error: {e}"),
            ClientError::Timeout => write!(f, "no answer within {} s", REQUEST_TIMEOUT.as_secs()),
            ClientError::Stream(e) => write!(f, "bad event stream: {e}"),
        }
    }
}

/// An answer whose body has not been read yet.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Incoming,
}

async fn with_timeout<T>(
    fut: impl std::future::Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    smol::future::or(fut, async {
        smol::Timer::after(REQUEST_TIMEOUT).await;
        Err(ClientError::Timeout)
    })
    .await
}

/// Sends one request on a new connection.
pub async fn request(
    addr: &str,
    method: Method,
    path: &str,
    body: Option<String>,
    headers: &[(&str, String)],
) -> Result<Answer, ClientError> {
    with_timeout(async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| ClientError::Connect(addr.to_string(), e))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(smol_hyper::rt::FuturesIo::new(stream))
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?;
        smol::spawn(async move {
            let _ = conn.await;
        })
        .detach();
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, addr);
        if body.is_some() {
            req = req
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .header(hyper::header::ACCEPT, "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Http(e.to_string()))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| ClientError::Http(e.to_string()))?;
        let (parts, body) = resp.into_parts();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    })
    .await
}

/// Reads a whole answer body.
pub async fn read_all(body: Incoming) -> Result<Bytes, ClientError> {
    with_timeout(async {
        body.collect()
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| ClientError::Http(e.to_string()))
    })
    .await
}

/// POSTs JSON and reads the whole answer.
pub async fn post_json(
    addr: &str,
    path: &str,
    body: String,
    headers: &[(&str, String)],
) -> Result<(StatusCode, Bytes), ClientError> {
    let answer = request(addr, Method::POST, path, Some(body), headers).await?;
    let status = answer.status;
    Ok((status, read_all(answer.body).await?))
}

/// GETs a path and reads the whole answer.
pub async fn get(addr: &str, path: &str) -> Result<(StatusCode, Bytes), ClientError> {
    let answer = request(addr, Method::GET, path, None, &[]).await?;
    let status = answer.status;
    Ok((status, read_all(answer.body).await?))
}

/// Records of a RecordIO event stream, buffered across chunks.
pub struct EventStream {
    body: Incoming,
    decoder: RecordIoDecoder,
}

impl EventStream {
    pub fn new(body: Incoming) -> Self {
        EventStream {
            body,
            decoder: RecordIoDecoder::new(16 * 1024 * 1024),
        }
    }

    /// The next record; `Ok(None)` when the stream ended.
    pub async fn next(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        loop {
            if let Some(rec) = self
                .decoder
                .next_record()
                .map_err(|e| ClientError::Stream(e.to_string()))?
            {
                return Ok(Some(rec));
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(ClientError::Http(e.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.decoder.feed(&data);
                    }
                }
            }
        }
    }
}
