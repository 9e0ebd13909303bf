//! HTTP plumbing shared by every mode: serving a connection with hyper on smol, bodies,
//! one-line errors, JSON answers and RecordIO event streams.

mod encoding;

pub use encoding::{accepts_gzip, Compressible, SharedGzip, GZIP_MINIMUM_BODY_LENGTH};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use smol::net::TcpStream;
use smol::stream::StreamExt;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Every response body: a full body or a stream of chunks.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// A request handler shared by the connections of one server.
pub type Handler = Rc<dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<Body>>>>>;

/// Default largest request body accepted (a LAUNCH of many tasks fits easily).
pub const DEFAULT_MAX_REQUEST_BODY: usize = 4 * 1024 * 1024;

/// The request body limit in force; the process sets it once from its flags.
static MAX_REQUEST_BODY: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_REQUEST_BODY);

/// Sets the largest request body accepted from now on (a `--max-request-body` flag).
pub fn set_max_request_body(bytes: usize) {
    MAX_REQUEST_BODY.store(bytes, Ordering::Relaxed);
}

/// The largest request body accepted.
pub fn max_request_body() -> usize {
    MAX_REQUEST_BODY.load(Ordering::Relaxed)
}

/// Serves HTTP/1.1 on one accepted connection until it closes.
pub async fn serve(stream: TcpStream, handler: Handler) {
    let _ = stream.set_nodelay(true);
    let io = smol_hyper::rt::FuturesIo::new(stream);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        async move {
            // The content coding is chosen here, for every answer (see `encoding`).
            let gzip = accepts_gzip(req.headers());
            let resp = handler(req).await;
            Ok::<_, Infallible>(encoding::encode(resp, gzip).await)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(smol_hyper::rt::SmolTimer::new())
        .keep_alive(true)
        // Queue body chunks instead of copying them into one write buffer: a shared 15 MB
        // GET_STATE rendering goes out to each client without a per-client copy.
        .writev(true)
        .serve_connection(io, service);
    let _ = conn.await;
}

/// A complete response with a content type.
pub fn full(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut resp = Response::new(Full::new(body.into()).boxed_unsync());
    *resp.status_mut() = status;
    if !content_type.is_empty() {
        resp.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    resp
}

/// A JSON answer (already ASCII-only, compact), gzip-compressed when large and the request
/// accepts it.
pub fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = full(status, "application/json", body);
    resp.extensions_mut().insert(Compressible::single());
    resp
}

/// An error with a one-line reason as plain text (as Mesos answers).
pub fn error(status: StatusCode, reason: impl AsRef<str>) -> Response<Body> {
    let mut line = reason.as_ref().replace('\n', " ");
    line.push('\n');
    full(status, "text/plain; charset=utf-8", line)
}

/// An empty answer such as `202 Accepted`.
pub fn empty(status: StatusCode) -> Response<Body> {
    full(status, "", Bytes::new())
}

/// A chunked event stream: each item is sent as one HTTP chunk (one RecordIO record).
/// The stream ends when the item stream ends (every sender of its channel is dropped).
pub fn stream(
    items: impl smol::stream::Stream<Item = Bytes> + Send + 'static,
    stream_id: Option<&str>,
) -> Response<Body> {
    let frames = items.map(|chunk| Ok::<_, Infallible>(Frame::data(chunk)));
    let mut resp = Response::new(StreamBody::new(frames).boxed_unsync());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(id) = stream_id.and_then(|id| HeaderValue::from_str(id).ok()) {
        resp.headers_mut().insert("Mesos-Stream-Id", id);
    }
    resp
}

// The error side of these two is the response to send; handlers return it as is, so its size
// is not worth a box.
/// Reads a whole request body up to [`max_request_body`], or answers with the error response.
#[allow(clippy::result_large_err)]
pub async fn read_body(
    req: Request<Incoming>,
) -> Result<(hyper::http::request::Parts, Bytes), Response<Body>> {
    let (parts, body) = req.into_parts();
    let limit = max_request_body();
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(collected) => Ok((parts, collected.to_bytes())),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body is larger than {limit} bytes"),
                ))
            } else {
                Err(error(
                    StatusCode::BAD_REQUEST,
                    format!("could not read the request body: {e}"),
                ))
            }
        }
    }
}

/// Checks the v1 API request conventions: POST only, JSON content type. Returns the error
/// response to send when they are not met.
#[allow(clippy::result_large_err)]
pub fn check_v1_request(parts: &hyper::http::request::Parts) -> Result<(), Response<Body>> {
    if parts.method != hyper::Method::POST {
        let mut resp = error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Expecting a 'POST' request, received '{}'", parts.method),
        );
        resp.headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
        return Err(resp);
    }
    let Some(ct) = parts.headers.get(CONTENT_TYPE) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Expecting 'Content-Type' to be present",
        ));
    };
    let ct = ct.to_str().unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/x-protobuf") {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "mesolite speaks JSON only; set Content-Type: application/json",
        ));
    }
    if !media.eq_ignore_ascii_case("application/json") {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Expecting 'Content-Type' of application/json, received '{ct}'"),
        ));
    }
    Ok(())
}

/// A query parameter of the request URI, percent-decoded.
pub fn query_param(uri: &hyper::Uri, name: &str) -> Option<String> {
    let q = uri.query()?;
    for pair in q.split('&') {
        let mut it = pair.splitn(2, '=');
        if it.next() == Some(name) {
            return Some(percent_decode(it.next().unwrap_or("")));
        }
    }
    None
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let digits = &bytes[i + 1..i + 3];
                let hex = digits
                    .iter()
                    .all(u8::is_ascii_hexdigit)
                    .then(|| std::str::from_utf8(digits).ok())
                    .flatten()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        let uri: hyper::Uri = "/files/read?path=%2Fa%20b&offset=3&x=%zz".parse().unwrap();
        assert_eq!(query_param(&uri, "path").as_deref(), Some("/a b"));
        assert_eq!(query_param(&uri, "offset").as_deref(), Some("3"));
        assert_eq!(query_param(&uri, "x").as_deref(), Some("%zz"));
        assert_eq!(query_param(&uri, "missing"), None);
        let uri: hyper::Uri = "/p?q=%4".parse().unwrap();
        assert_eq!(query_param(&uri, "q").as_deref(), Some("%4"));
        let uri: hyper::Uri = "/p?q=%+5".parse().unwrap();
        assert_eq!(query_param(&uri, "q").as_deref(), Some("% 5"));
    }
}
