//! Content coding of answers, as libprocess does it (Mesos `HttpResponseEncoder`): a large
//! in-memory answer is sent gzip-compressed when the request's `Accept-Encoding` allows it.
//!
//! Only answers marked [`Compressible`] (JSON answers and the shared state renderings) are
//! considered; event streams and file downloads never are. An answer that several requests
//! share carries a [`SharedGzip`], so its compressed form is made once and sent to every
//! request that accepts gzip.

use super::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, VARY,
};
use hyper::Response;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// Smallest body compressed (libprocess' `GZIP_MINIMUM_BODY_LENGTH`): below it the gzip header
/// and trailer cost more than compression saves.
pub const GZIP_MINIMUM_BODY_LENGTH: u64 = 1024;

/// The compression level: the fastest. On the 15 MB GET_STATE of 20,000 tasks it takes about a
/// seventh of the time of the default level (6) for a body about a third larger, and the time
/// is spent on the master's only thread while every client waits.
fn level() -> flate2::Compression {
    flate2::Compression::fast()
}

/// Marks a response whose body may be sent gzip-compressed: the body is in memory, has an
/// exact length, and is not a stream.
#[derive(Clone, Default)]
pub struct Compressible {
    shared: Option<Arc<SharedGzip>>,
}

impl Compressible {
    /// A body sent to one request only: compressed for each request that accepts gzip.
    pub fn single() -> Self {
        Compressible { shared: None }
    }

    /// A body shared by many requests: compressed once, into `slot`.
    pub fn shared(slot: Arc<SharedGzip>) -> Self {
        Compressible { shared: Some(slot) }
    }
}

/// The gzip form of one shared body, made by the first request that accepts gzip.
#[derive(Default)]
pub struct SharedGzip(OnceLock<Bytes>);

impl SharedGzip {
    /// The compressed body, if a request has made it.
    pub fn get(&self) -> Option<&Bytes> {
        self.0.get()
    }
}

/// Whether a request's `Accept-Encoding` lets the answer be gzip-compressed.
///
/// As libprocess does, a request without the header (or with an empty one) gets the identity
/// coding. Otherwise gzip (or `x-gzip`) is acceptable when listed with a nonzero quality, or
/// when not listed and `*` is listed with a nonzero quality. It is chosen unless `identity`
/// (listed itself or through `*`) has a higher quality. A malformed quality counts as 0.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut identity = None;
    let mut any = None;
    let mut listed = false;
    for value in headers.get_all(ACCEPT_ENCODING) {
        // A header that is not visible ASCII names no coding we know.
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut params = entry.split(';');
            let coding = params.next().unwrap_or("").trim();
            if coding.is_empty() {
                continue;
            }
            listed = true;
            let q = entry_quality(params);
            let slot =
                if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                    &mut gzip
                } else if coding.eq_ignore_ascii_case("identity") {
                    &mut identity
                } else if coding == "*" {
                    &mut any
                } else {
                    continue;
                };
            // The first listing of a coding counts, as in libprocess.
            slot.get_or_insert(q);
        }
    }
    if !listed {
        return false;
    }
    let gzip = gzip.or(any).unwrap_or(0);
    // An unlisted identity is acceptable but preferred to nothing listed.
    let identity = identity.or(any).unwrap_or(0);
    gzip > 0 && gzip >= identity
}

/// The quality (in thousandths) of one `Accept-Encoding` entry, from its parameters: 1000
/// without a `q`, 0 for a malformed one.
fn entry_quality<'a>(params: impl Iterator<Item = &'a str>) -> u16 {
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            return parse_quality(value.trim()).unwrap_or(0);
        }
    }
    1000
}

/// An HTTP quality value (`0`, `0.5`, `1.000`; at most three decimals) in thousandths.
fn parse_quality(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = frac.bytes().chain(std::iter::repeat(b'0')).take(3);
    let thousandths = digits.fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Applies the content coding to a response: a [`Compressible`] body of at least
/// [`GZIP_MINIMUM_BODY_LENGTH`] bytes gets `Vary: Accept-Encoding`, and is gzip-compressed when
/// `gzip` (the request accepts it). Every other response is returned as it is.
pub async fn encode(mut resp: Response<Body>, gzip: bool) -> Response<Body> {
    let Some(mark) = resp.extensions_mut().remove::<Compressible>() else {
        return resp;
    };
    let large = resp
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n >= GZIP_MINIMUM_BODY_LENGTH);
    if !large || resp.headers().contains_key(CONTENT_ENCODING) {
        return resp;
    }
    resp.headers_mut()
        .append(VARY, HeaderValue::from_static("Accept-Encoding"));
    if !gzip {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let compressed = match mark.shared.as_ref().and_then(|s| s.get()) {
        Some(done) => done.clone(),
        None => {
            let chunks = collect(body).await;
            match compress(&chunks) {
                Ok(done) => {
                    if let Some(slot) = &mark.shared {
                        // Another request may have compressed it meanwhile; both are equal.
                        let _ = slot.0.set(done.clone());
                    }
                    done
                }
                // Writing into memory does not fail; were it to, the answer goes plain.
                Err(_) => {
                    let plain = Bytes::from(chunks.concat());
                    return Response::from_parts(parts, Full::new(plain).boxed_unsync());
                }
            }
        }
    };
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Response::from_parts(parts, Full::new(compressed).boxed_unsync())
}

/// The data chunks of an in-memory body (cloning `Bytes` copies nothing).
async fn collect(mut body: Body) -> Vec<Bytes> {
    let mut chunks = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            chunks.push(data);
        }
    }
    chunks
}

/// The gzip member holding `chunks` one after the other.
pub fn compress(chunks: &[Bytes]) -> std::io::Result<Bytes> {
    let len: usize = chunks.iter().map(Bytes::len).sum();
    // JSON answers shrink to about a tenth.
    let out = Vec::with_capacity(len / 8 + 64);
    let mut enc = flate2::write::GzEncoder::new(out, level());
    for chunk in chunks {
        enc.write_all(chunk)?;
    }
    enc.finish().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn accepts(values: &[&str]) -> bool {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(ACCEPT_ENCODING, HeaderValue::from_str(v).expect("a header"));
        }
        accepts_gzip(&h)
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        for (header, want) in [
            ("gzip", true),
            ("gzip, deflate", true),
            ("gzip, deflate, br, zstd", true),
            ("deflate, GZIP", true),
            ("x-gzip", true),
            ("gzip;q=1.0, identity; q=0.5, *;q=0", true),
            ("*", true),
            ("br;q=1, *;q=0.1", true),
            ("gzip ; q=0.001", true),
            ("", false),
            (" , ", false),
            ("identity", false),
            ("deflate, br", false),
            ("gzip;q=0", false),
            ("gzip;q=0.000", false),
            ("gzip;q=0, *", false),
            ("*;q=0", false),
            ("*;q=0, identity", false),
            ("gzip;q=0.5, identity", false),
            ("gzip;q=0.5, *", false),
            ("gzip;q=0.5, identity;q=0.5", true),
            ("gzip;q=0.8, identity;q=0.5", true),
            ("gzip;q=2", false),
            ("gzip;q=1.5", false),
            ("gzip;q=0.1234", false),
            ("gzip;q=abc", false),
            ("gzip;q=", false),
            ("gzip;level=9", true),
        ] {
            assert_eq!(accepts(&[header]), want, "Accept-Encoding: {header:?}");
        }
        assert!(!accepts(&[]), "no header means identity only");
        assert!(
            accepts(&["identity;q=0.1", "gzip"]),
            "header lines are joined"
        );
        assert!(!accepts(&["gzip;q=0", "gzip"]), "the first listing counts");
    }

    #[test]
    fn qualities_parse_to_thousandths() {
        for (s, want) in [
            ("0", Some(0)),
            ("0.", Some(0)),
            ("0.5", Some(500)),
            ("0.05", Some(50)),
            ("0.123", Some(123)),
            ("1", Some(1000)),
            ("1.000", Some(1000)),
            ("1.001", None),
            (".5", None),
            ("0.-1", None),
            ("01", None),
        ] {
            assert_eq!(parse_quality(s), want, "{s:?}");
        }
    }

    fn answer(body: &'static [u8], mark: Option<Compressible>) -> Response<Body> {
        let mut resp = Response::new(Full::new(Bytes::from_static(body)).boxed_unsync());
        if let Some(mark) = mark {
            resp.extensions_mut().insert(mark);
        }
        resp
    }

    fn body_of(resp: Response<Body>) -> Vec<u8> {
        smol::block_on(resp.into_body().collect())
            .map(|c| c.to_bytes().to_vec())
            .unwrap_or_default()
    }

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("a gzip body");
        out
    }

    static LARGE: [u8; 4096] = [b'a'; 4096];

    #[test]
    fn only_large_compressible_bodies_are_compressed() {
        let resp = smol::block_on(encode(answer(&LARGE, Some(Compressible::single())), true));
        assert_eq!(resp.headers()[CONTENT_ENCODING], "gzip");
        assert_eq!(resp.headers()[VARY], "Accept-Encoding");
        let body = body_of(resp);
        assert!(body.len() < 100, "4 KiB of one byte compresses well");
        assert_eq!(gunzip(&body), LARGE);

        let plain = smol::block_on(encode(answer(&LARGE, Some(Compressible::single())), false));
        assert!(!plain.headers().contains_key(CONTENT_ENCODING));
        assert_eq!(plain.headers()[VARY], "Accept-Encoding");
        assert_eq!(body_of(plain), LARGE);

        let unmarked = smol::block_on(encode(answer(&LARGE, None), true));
        assert!(!unmarked.headers().contains_key(CONTENT_ENCODING));
        assert!(!unmarked.headers().contains_key(VARY));
        assert_eq!(body_of(unmarked), LARGE);

        let small = &LARGE[..GZIP_MINIMUM_BODY_LENGTH as usize - 1];
        let resp = smol::block_on(encode(answer(small, Some(Compressible::single())), true));
        assert!(!resp.headers().contains_key(CONTENT_ENCODING));
        assert_eq!(body_of(resp), small);
    }

    #[test]
    fn a_shared_body_is_compressed_once() {
        let slot = Arc::new(SharedGzip::default());
        let first = smol::block_on(encode(
            answer(&LARGE, Some(Compressible::shared(slot.clone()))),
            true,
        ));
        let made = slot
            .get()
            .cloned()
            .expect("the first gzip request fills the slot");
        assert_eq!(body_of(first), made);
        // A later request sends the slot's bytes themselves.
        let second = smol::block_on(encode(
            answer(&LARGE, Some(Compressible::shared(slot.clone()))),
            true,
        ));
        let mut body = second.into_body();
        let sent = smol::block_on(body.frame())
            .and_then(|f| f.ok())
            .and_then(|f| f.into_data().ok())
            .expect("one data frame");
        assert_eq!(sent.as_ptr(), made.as_ptr(), "the same bytes, not a copy");
        assert_eq!(gunzip(&sent), LARGE);
    }
}
