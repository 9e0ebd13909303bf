//! Internal master/agent protocol: message types, the connection preamble and length-prefixed framing.
//!
//! Messages are postcard-encoded serde types. A connection that starts with [`PREAMBLE`] followed by
//! [`PROTOCOL_VERSION`] speaks this protocol; anything else on the port is HTTP. Every frame is
//! `[u32 little-endian length][postcard payload]` and never longer than [`MAX_FRAME_LEN`].

mod frame;
mod messages;
pub mod previous;

pub use frame::{decode_frame, encode_frame, FrameDecoder, FrameError, MAX_FRAME_LEN};
pub use messages::*;

/// The bytes that open an internal-protocol connection (followed by one version byte).
pub const PREAMBLE: &[u8; 8] = b"MESOLITE";
/// Version of the internal protocol; bumped on any incompatible change of the message types.
/// Version 2 typed agent attributes and added the fault domain to `AgentInfo`; version 3 added
/// the role to tasks and the data to executors. A master also serves agents speaking
/// [`previous::VERSION`].
pub const PROTOCOL_VERSION: u8 = 3;
/// Length of the preamble including the version byte.
pub const PREAMBLE_LEN: usize = PREAMBLE.len() + 1;

/// What the first bytes of a connection say it speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniffed {
    /// Not enough bytes yet to decide.
    NeedMore,
    /// The internal protocol at our version.
    Internal,
    /// The internal protocol at the previous version ([`previous::VERSION`]), which a master
    /// still serves.
    InternalPrevious,
    /// The internal preamble with another protocol version.
    WrongVersion(u8),
    /// Anything else: HTTP.
    Http,
}

/// Classifies a connection from its first bytes.
pub fn sniff(prefix: &[u8]) -> Sniffed {
    let n = prefix.len().min(PREAMBLE.len());
    if prefix[..n] != PREAMBLE[..n] {
        return Sniffed::Http;
    }
    if prefix.len() < PREAMBLE_LEN {
        return Sniffed::NeedMore;
    }
    match prefix[PREAMBLE.len()] {
        PROTOCOL_VERSION => Sniffed::Internal,
        previous::VERSION => Sniffed::InternalPrevious,
        v => Sniffed::WrongVersion(v),
    }
}

/// The bytes a client sends first on an internal-protocol connection.
pub fn preamble() -> [u8; PREAMBLE_LEN] {
    let mut p = [0u8; PREAMBLE_LEN];
    p[..PREAMBLE.len()].copy_from_slice(PREAMBLE);
    p[PREAMBLE.len()] = PROTOCOL_VERSION;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_tells_protocols_apart() {
        assert_eq!(sniff(b"GET / HTTP/1.1"), Sniffed::Http);
        assert_eq!(sniff(b"MESO"), Sniffed::NeedMore);
        assert_eq!(sniff(&preamble()), Sniffed::Internal);
        assert_eq!(sniff(b"MESOLITE\x09"), Sniffed::WrongVersion(9));
        assert_eq!(sniff(b"MESOLITE\x02"), Sniffed::InternalPrevious);
        assert_eq!(sniff(b"MESOLITE\x01"), Sniffed::WrongVersion(1));
        assert_eq!(sniff(b""), Sniffed::NeedMore);
        assert_eq!(sniff(b"\x16\x03\x01"), Sniffed::Http);
    }
}
