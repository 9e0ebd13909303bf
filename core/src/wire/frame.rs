//! Length-prefixed framing of postcard messages, with a maximum frame size and an incremental decoder.

use alloc::vec::Vec;
use core::fmt;
use serde::{de::DeserializeOwned, Serialize};

/// Largest frame payload accepted or produced (4 MiB): a re-registering agent with thousands of tasks fits.
pub const MAX_FRAME_LEN: usize = 4 * 1024 * 1024;

/// Why a frame could not be encoded or decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The announced or produced length exceeds [`MAX_FRAME_LEN`].
    TooLarge(usize),
    /// The payload is not a valid message.
    Malformed,
    /// The payload decoded but left bytes over.
    TrailingBytes,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge(n) => {
                write!(
                    f,
                    "frame of {n} bytes exceeds the maximum of {MAX_FRAME_LEN} bytes"
                )
            }
            FrameError::Malformed => f.write_str("frame payload is not a valid message"),
            FrameError::TrailingBytes => f.write_str("frame payload has trailing bytes"),
        }
    }
}

/// Appends one frame carrying `msg` to `out`.
pub fn encode_frame<T: Serialize>(msg: &T, out: &mut Vec<u8>) -> Result<(), FrameError> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    let body = postcard::to_extend(msg, core::mem::take(out)).map_err(|_| FrameError::Malformed)?;
    *out = body;
    let len = out.len() - start - 4;
    if len > MAX_FRAME_LEN {
        out.truncate(start);
        return Err(FrameError::TooLarge(len));
    }
    out[start..start + 4].copy_from_slice(&(len as u32).to_le_bytes());
    Ok(())
}

/// Decodes one complete frame payload (without its length prefix).
pub fn decode_frame<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    if payload.len() > MAX_FRAME_LEN {
        return Err(FrameError::TooLarge(payload.len()));
    }
    let (msg, rest) = postcard::take_from_bytes(payload).map_err(|_| FrameError::Malformed)?;
    if !rest.is_empty() {
        return Err(FrameError::TrailingBytes);
    }
    Ok(msg)
}

/// Buffers bytes from a stream and yields complete frames; never buffers more than one maximum frame.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
}

impl FrameDecoder {
    pub fn new() -> Self {
        FrameDecoder { buf: Vec::new() }
    }

    /// Adds bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Returns the next complete message, `Ok(None)` when more bytes are needed.
    /// After an error the stream is unusable and must be closed.
    pub fn next_message<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        if self.buf.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if len > MAX_FRAME_LEN {
            return Err(FrameError::TooLarge(len));
        }
        if self.buf.len() < 4 + len {
            return Ok(None);
        }
        let msg = decode_frame(&self.buf[4..4 + len]);
        self.buf.drain(..4 + len);
        msg.map(Some)
    }

    /// Bytes buffered but not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{AgentToMaster, MasterToAgent};
    use proptest::prelude::*;

    #[test]
    fn frames_round_trip_across_arbitrary_splits() {
        let mut out = Vec::new();
        encode_frame(&MasterToAgent::Ping { seq: 7 }, &mut out).unwrap();
        encode_frame(&AgentToMaster::Pong { seq: 7 }, &mut out).unwrap();
        for split in 0..out.len() {
            let mut d = FrameDecoder::new();
            d.extend(&out[..split]);
            let mut got = Vec::new();
            if let Some(m) = d.next_message::<MasterToAgent>().unwrap() {
                got.push(m);
            }
            d.extend(&out[split..]);
            if got.is_empty() {
                assert_eq!(
                    d.next_message::<MasterToAgent>().unwrap(),
                    Some(MasterToAgent::Ping { seq: 7 })
                );
            }
            assert_eq!(
                d.next_message::<AgentToMaster>().unwrap(),
                Some(AgentToMaster::Pong { seq: 7 })
            );
            assert_eq!(d.buffered(), 0);
        }
    }

    #[test]
    fn oversized_length_is_refused_before_buffering() {
        let mut d = FrameDecoder::new();
        d.extend(&(MAX_FRAME_LEN as u32 + 1).to_le_bytes());
        assert_eq!(
            d.next_message::<MasterToAgent>(),
            Err(FrameError::TooLarge(MAX_FRAME_LEN + 1))
        );
    }

    proptest! {
        #[test]
        fn decoder_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut d = FrameDecoder::new();
            d.extend(&bytes);
            for _ in 0..8 {
                match d.next_message::<AgentToMaster>() {
                    Ok(Some(_)) => continue,
                    _ => break,
                }
            }
        }

        #[test]
        fn garbage_payloads_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_frame::<MasterToAgent>(&bytes);
        }
    }
}
