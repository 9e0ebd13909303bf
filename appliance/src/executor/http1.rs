//! The HTTP/1.1 response framing the executor's client needs, without I/O: the response head
//! (status and the headers that decide framing and keep-alive) and an incremental chunked
//! transfer-coding decoder.

use std::fmt;

/// The longest response head accepted (status line and headers).
pub(crate) const MAX_HEAD: usize = 16 * 1024;
/// The longest chunk-size line accepted (size, extensions) and the longest trailer section.
const MAX_LINE: usize = 4 * 1024;

/// Why a response could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FramingError {
    /// The status line is not `HTTP/1.x <3 digits> ...`.
    StatusLine,
    /// A header line has no `:`, or a header value is not valid.
    Header,
    /// The head is longer than [`MAX_HEAD`].
    HeadTooLong,
    /// `Content-Length` is not a number, or two of them disagree.
    ContentLength,
    /// A `Transfer-Encoding` other than `chunked` (alone, or last).
    TransferEncoding,
    /// A chunk-size line is not hexadecimal, is too long or its size overflows.
    ChunkSize,
    /// The data of a chunk is not followed by CRLF.
    ChunkEnd,
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::StatusLine => "malformed HTTP status line",
            Self::Header => "malformed HTTP header",
            Self::HeadTooLong => "HTTP response head too long",
            Self::ContentLength => "invalid Content-Length",
            Self::TransferEncoding => "unsupported Transfer-Encoding",
            Self::ChunkSize => "malformed chunk size",
            Self::ChunkEnd => "chunk data not followed by CRLF",
        })
    }
}

/// How the body of a response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFraming {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body ends when the server closes the connection.
    UntilClose,
}

/// The parts of a response head the client acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    pub status: u16,
    pub framing: BodyFraming,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
}

/// Where the head ends in `buf`: the index just past the blank line, if it is complete.
pub(crate) fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Parses a complete response head (as delimited by [`head_end`]).
pub(crate) fn parse_head(head: &[u8]) -> Result<ResponseHead, FramingError> {
    let text = std::str::from_utf8(head).map_err(|_| FramingError::Header)?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().ok_or(FramingError::StatusLine)?;
    let (version, rest) = status_line
        .split_once(' ')
        .ok_or(FramingError::StatusLine)?;
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(FramingError::StatusLine),
    };
    let code = rest.get(..3).ok_or(FramingError::StatusLine)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) || rest.len() > 3 && !rest[3..].starts_with(' ') {
        return Err(FramingError::StatusLine);
    }
    let status: u16 = code.parse().map_err(|_| FramingError::StatusLine)?;

    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut keep_alive = !http10;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(FramingError::Header)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n: u64 = value.parse().map_err(|_| FramingError::ContentLength)?;
            if length.is_some_and(|l| l != n) {
                return Err(FramingError::ContentLength);
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            let last = value.rsplit(',').next().unwrap_or_default().trim();
            if !last.eq_ignore_ascii_case("chunked") {
                return Err(FramingError::TransferEncoding);
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    keep_alive = false;
                } else if token.eq_ignore_ascii_case("keep-alive") && http10 {
                    keep_alive = true;
                }
            }
        }
    }
    // RFC 9112 6.3: 1xx, 204 and 304 have no body; chunked wins over Content-Length.
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        BodyFraming::Length(0)
    } else if chunked {
        BodyFraming::Chunked
    } else if let Some(n) = length {
        BodyFraming::Length(n)
    } else {
        BodyFraming::UntilClose
    };
    if framing == BodyFraming::UntilClose {
        keep_alive = false;
    }
    Ok(ResponseHead {
        status,
        framing,
        keep_alive,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading a chunk-size line (the bytes so far are in `line`).
    Size,
    /// Inside a chunk's data, with this many bytes left.
    Data(u64),
    /// After a chunk's data: expecting `\r` (true) or `\n` (false).
    DataEnd(bool),
    /// After the last (zero-size) chunk: reading trailer lines until an empty one.
    Trailers,
    /// The body is complete.
    Done,
}

/// Decodes the chunked transfer coding incrementally, however the bytes were split on the wire.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: ChunkState,
    line: Vec<u8>,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self {
            state: ChunkState::Size,
            line: Vec::new(),
        }
    }
}

impl ChunkedDecoder {
    /// Whether the terminating chunk and trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes `input`, handing each piece of body data to `out`. Returns how many bytes of
    /// `input` were consumed: all of them, unless the body ended inside `input`.
    pub fn decode(
        &mut self,
        input: &[u8],
        mut out: impl FnMut(&[u8]),
    ) -> Result<usize, FramingError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                ChunkState::Size => {
                    let b = input[i];
                    i += 1;
                    if b != b'\n' {
                        if self.line.len() >= MAX_LINE {
                            return Err(FramingError::ChunkSize);
                        }
                        self.line.push(b);
                        continue;
                    }
                    let size = parse_chunk_size(&self.line)?;
                    self.line.clear();
                    self.state = if size == 0 {
                        ChunkState::Trailers
                    } else {
                        ChunkState::Data(size)
                    };
                }
                ChunkState::Data(left) => {
                    let available = input.len() - i;
                    let take = usize::try_from(left).map_or(available, |l| l.min(available));
                    out(&input[i..i + take]);
                    i += take;
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataEnd(true)
                    } else {
                        ChunkState::Data(left)
                    };
                }
                ChunkState::DataEnd(expect_cr) => {
                    let b = input[i];
                    i += 1;
                    self.state = match (expect_cr, b) {
                        (true, b'\r') => ChunkState::DataEnd(false),
                        (_, b'\n') => ChunkState::Size,
                        _ => return Err(FramingError::ChunkEnd),
                    };
                }
                ChunkState::Trailers => {
                    let b = input[i];
                    i += 1;
                    if b != b'\n' {
                        if self.line.len() >= MAX_LINE {
                            return Err(FramingError::Header);
                        }
                        self.line.push(b);
                        continue;
                    }
                    let empty = self.line.is_empty() || self.line == b"\r";
                    self.line.clear();
                    if empty {
                        self.state = ChunkState::Done;
                        return Ok(i);
                    }
                }
                ChunkState::Done => return Ok(i),
            }
        }
        Ok(i)
    }
}

/// Parses `<hex size>[;extensions][\r]`.
fn parse_chunk_size(line: &[u8]) -> Result<u64, FramingError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
    let hex = line[..end].trim_ascii();
    if hex.is_empty() || hex.len() > 16 {
        return Err(FramingError::ChunkSize);
    }
    let text = std::str::from_utf8(hex).map_err(|_| FramingError::ChunkSize)?;
    u64::from_str_radix(text, 16).map_err(|_| FramingError::ChunkSize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<ResponseHead, FramingError> {
        let bytes = text.as_bytes();
        let end = head_end(bytes).expect("complete head");
        parse_head(&bytes[..end])
    }

    #[test]
    fn heads_are_parsed_with_case_insensitive_headers() {
        let h = head("HTTP/1.1 200 OK\r\ncontent-TYPE: x\r\nTRANSFER-encoding: Chunked\r\n\r\n");
        assert_eq!(
            h,
            Ok(ResponseHead {
                status: 200,
                framing: BodyFraming::Chunked,
                keep_alive: true
            })
        );
        let h = head("HTTP/1.1 202 Accepted\r\nContent-Length:  0 \r\n\r\n").expect("202");
        assert_eq!((h.status, h.framing), (202, BodyFraming::Length(0)));
        assert!(h.keep_alive);
        let h = head(
            "HTTP/1.1 503 Service Unavailable\r\nCONNECTION: Close\r\nContent-Length: 5\r\n\r\n",
        )
        .expect("503");
        assert_eq!((h.status, h.keep_alive), (503, false));
        let h = head("HTTP/1.0 200 OK\r\n\r\n").expect("1.0");
        assert_eq!((h.framing, h.keep_alive), (BodyFraming::UntilClose, false));
        let h = head("HTTP/1.0 202 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
        assert!(h.expect("1.0 keep-alive").keep_alive);
        let h = head("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(h.expect("204").framing, BodyFraming::Length(0));
    }

    #[test]
    fn malformed_heads_are_refused() {
        assert_eq!(head("HTTP/2 200 OK\r\n\r\n"), Err(FramingError::StatusLine));
        assert_eq!(
            head("HTTP/1.1 2x0 OK\r\n\r\n"),
            Err(FramingError::StatusLine)
        );
        assert_eq!(head("HTTP/1.1 2000\r\n\r\n"), Err(FramingError::StatusLine));
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
            Err(FramingError::Header)
        );
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            Err(FramingError::ContentLength)
        );
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Err(FramingError::ContentLength)
        );
        assert_eq!(
            head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
            Err(FramingError::TransferEncoding)
        );
        assert_eq!(head_end(b"HTTP/1.1 200 OK\r\n\r"), None);
    }

    /// Decodes `wire` fed in pieces of `step` bytes; returns the body and the bytes consumed.
    fn dechunk(wire: &[u8], step: usize) -> Result<(Vec<u8>, usize, bool), FramingError> {
        let mut decoder = ChunkedDecoder::default();
        let mut body = Vec::new();
        let mut used = 0;
        for piece in wire.chunks(step) {
            let n = decoder.decode(piece, |d| body.extend_from_slice(d))?;
            used += n;
            if n < piece.len() {
                break;
            }
        }
        Ok((body, used, decoder.is_done()))
    }

    #[test]
    fn chunked_bodies_decode_however_they_are_split() {
        let wire =
            b"5\r\nhello\r\n1;ext=\"a\"\r\n \r\nB\r\n0123456789a\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
        let body_len = wire.len() - 4;
        for step in 1..=wire.len() {
            let (body, used, done) = dechunk(wire, step).expect("valid");
            assert_eq!(body, b"hello 0123456789a", "step {step}");
            assert_eq!(used, body_len, "step {step}");
            assert!(done);
        }
        // A stream still open: everything is data so far, nothing is done.
        let (body, used, done) = dechunk(b"3\r\nabc\r\n2\r\nd", 2).expect("partial");
        assert_eq!((body.as_slice(), used, done), (&b"abcd"[..], 12, false));
        // Bare LF line ends are tolerated.
        let (body, _, done) = dechunk(b"2\nhi\n0\n\n", 3).expect("lf");
        assert_eq!((body.as_slice(), done), (&b"hi"[..], true));
    }

    #[test]
    fn malformed_chunks_are_refused() {
        assert_eq!(dechunk(b"zz\r\n", 1), Err(FramingError::ChunkSize));
        assert_eq!(dechunk(b"\r\n", 1), Err(FramingError::ChunkSize));
        assert_eq!(
            dechunk(b"11111111111111111\r\n", 4),
            Err(FramingError::ChunkSize)
        );
        assert_eq!(dechunk(b"2\r\nabc\r\n", 1), Err(FramingError::ChunkEnd));
        let long = vec![b'1'; MAX_LINE + 1];
        assert_eq!(dechunk(&long, 100), Err(FramingError::ChunkSize));
    }
}
