//! Sockets and framing for the internal protocol: listening, sniffing what a connection speaks,
//! the client preamble, and reading and writing length-prefixed frames.

use mesolite_core::wire::{self, FrameDecoder, FrameError, Sniffed};
use serde::{de::DeserializeOwned, Serialize};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};
use std::fmt;
use std::net::SocketAddr;

/// Why a connection failed.
#[derive(Debug)]
pub enum NetError {
    Io(std::io::Error),
    Frame(FrameError),
    /// The peer speaks another version of the internal protocol.
    WrongVersion(u8),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Io(e) => write!(f, "{e}"),
            NetError::Frame(e) => write!(f, "bad frame: {e}"),
            NetError::WrongVersion(v) => write!(
                f,
                "peer speaks internal protocol version {v}, this mesolite speaks {}",
                wire::PROTOCOL_VERSION
            ),
        }
    }
}

impl From<std::io::Error> for NetError {
    fn from(e: std::io::Error) -> Self {
        NetError::Io(e)
    }
}

/// Backlog of the listening socket: connections the kernel completes before they are accepted.
/// A restarted master is hit by every agent at once (10,000 by default); a short queue drops
/// their SYNs and each dropped SYN costs its agent a one-second retransmission. Linux caps the
/// value at `net.core.somaxconn` (4,096 since Linux 5.4, 128 before).
pub const LISTEN_BACKLOG: i32 = 4096;

/// Binds a listening socket with a backlog of [`LISTEN_BACKLOG`].
pub async fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await?;
    // The standard library listens with a backlog of 128; listening again on a listening
    // socket only changes its backlog.
    rustix::net::listen(&listener, LISTEN_BACKLOG)?;
    Ok(listener)
}

/// How long a new connection may take to say what it speaks.
pub const SNIFF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a freshly accepted connection speaks, decided from its first bytes without consuming them
/// (an HTTP request is left intact for the HTTP server). A peer that sends too little to decide
/// within [`SNIFF_TIMEOUT`] (or half a preamble and then nothing) gets `TimedOut`.
pub async fn sniff(stream: &TcpStream) -> Result<Sniffed, NetError> {
    smol::future::or(sniff_now(stream), async {
        smol::Timer::after(SNIFF_TIMEOUT).await;
        Err(NetError::Io(std::io::ErrorKind::TimedOut.into()))
    })
    .await
}

async fn sniff_now(stream: &TcpStream) -> Result<Sniffed, NetError> {
    let mut buf = [0u8; wire::PREAMBLE_LEN];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 {
            return Ok(Sniffed::Http);
        }
        match wire::sniff(&buf[..n]) {
            Sniffed::NeedMore => {
                // Not all preamble bytes are here yet; wait a moment for the rest.
                smol::Timer::after(std::time::Duration::from_millis(2)).await;
            }
            other => return Ok(other),
        }
    }
}

/// Consumes the preamble of an internal connection (after [`sniff`] said `Internal`).
pub async fn skip_preamble(stream: &mut TcpStream) -> Result<(), NetError> {
    let mut buf = [0u8; wire::PREAMBLE_LEN];
    stream.read_exact(&mut buf).await?;
    Ok(())
}

/// Connects to a peer's single port and opens the internal protocol.
pub async fn connect_internal(addr: &str) -> Result<TcpStream, NetError> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    stream.write_all(&wire::preamble()).await?;
    Ok(stream)
}

/// Reads frames from a stream.
pub struct FrameReader {
    stream: TcpStream,
    decoder: FrameDecoder,
    buf: Vec<u8>,
}

impl FrameReader {
    pub fn new(stream: TcpStream) -> Self {
        FrameReader {
            stream,
            decoder: FrameDecoder::new(),
            buf: vec![0; 64 * 1024],
        }
    }

    /// The next message; `Ok(None)` at a clean end of stream.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, NetError> {
        loop {
            if let Some(msg) = self.decoder.next_message().map_err(NetError::Frame)? {
                return Ok(Some(msg));
            }
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                return Ok(None);
            }
            self.decoder.extend(&self.buf[..n]);
        }
    }
}

/// What a connection's writer is told to do.
#[derive(Debug)]
pub enum Outgoing<T> {
    Send(T),
    Close,
}

/// Runs a framed connection until either side ends it: writes what `outgoing` yields (until
/// `Close` or the channel closes) and hands each incoming message to `on_message`. Returns the
/// error that ended it, `None` for a clean end. The socket is shut down on return.
pub async fn pump<I: DeserializeOwned, O: Serialize>(
    stream: TcpStream,
    outgoing: smol::channel::Receiver<Outgoing<O>>,
    on_message: impl FnMut(I),
) -> Option<NetError> {
    pump_as(stream, outgoing, Some, on_message).await
}

/// [`pump`] for a peer speaking another shape of the messages: each outgoing message is
/// converted by `encode_as` before it is written, and skipped when that gives `None`.
pub async fn pump_as<I: DeserializeOwned, O, W: Serialize>(
    stream: TcpStream,
    outgoing: smol::channel::Receiver<Outgoing<O>>,
    encode_as: impl Fn(O) -> Option<W>,
    mut on_message: impl FnMut(I),
) -> Option<NetError> {
    let mut writer = stream.clone();
    let write = async {
        let mut scratch = Vec::new();
        while let Ok(Outgoing::Send(msg)) = outgoing.recv().await {
            let Some(msg) = encode_as(msg) else {
                continue;
            };
            if let Err(e) = write_message(&mut writer, &msg, &mut scratch).await {
                return Some(e);
            }
        }
        None
    };
    let read = async {
        let mut reader = FrameReader::new(stream.clone());
        loop {
            match reader.next::<I>().await {
                Ok(Some(msg)) => on_message(msg),
                Ok(None) => return None,
                Err(e) => return Some(e),
            }
        }
    };
    let ended = smol::future::or(write, read).await;
    let _ = stream.shutdown(std::net::Shutdown::Both);
    ended
}

/// Writes one framed message.
pub async fn write_message<T: Serialize>(
    stream: &mut TcpStream,
    msg: &T,
    scratch: &mut Vec<u8>,
) -> Result<(), NetError> {
    scratch.clear();
    wire::encode_frame(msg, scratch).map_err(NetError::Frame)?;
    stream.write_all(scratch).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesolite_core::wire::{AgentToMaster, MasterToAgent};

    #[test]
    fn internal_and_http_connections_are_told_apart_on_one_port() {
        smol::block_on(async {
            let listener = listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let a2 = addr.clone();
            let client = smol::spawn(async move {
                let mut s = connect_internal(&a2).await.unwrap();
                let mut scratch = Vec::new();
                write_message(&mut s, &AgentToMaster::Pong { seq: 3 }, &mut scratch)
                    .await
                    .unwrap();
                let mut r = FrameReader::new(s);
                r.next::<MasterToAgent>().await.unwrap()
            });
            let (mut s, _) = listener.accept().await.unwrap();
            assert_eq!(sniff(&s).await.unwrap(), Sniffed::Internal);
            skip_preamble(&mut s).await.unwrap();
            let mut reader = FrameReader::new(s.clone());
            assert_eq!(
                reader.next::<AgentToMaster>().await.unwrap(),
                Some(AgentToMaster::Pong { seq: 3 })
            );
            write_message(&mut s, &MasterToAgent::Ping { seq: 4 }, &mut Vec::new())
                .await
                .unwrap();
            assert_eq!(client.await, Some(MasterToAgent::Ping { seq: 4 }));

            let http = smol::spawn({
                let addr = addr.clone();
                async move {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.write_all(b"GET /health HTTP/1.1\r\n\r\n").await.unwrap();
                }
            });
            let (s, _) = listener.accept().await.unwrap();
            http.await;
            assert_eq!(sniff(&s).await.unwrap(), Sniffed::Http);
            // Sniffing consumed nothing.
            let mut first = [0u8; 3];
            let mut s2 = s;
            s2.read_exact(&mut first).await.unwrap();
            assert_eq!(&first, b"GET");
        });
    }

    #[test]
    fn the_listen_backlog_holds_more_than_the_default_128_connections() {
        // Linux caps the backlog at net.core.somaxconn; below 130 nothing can be shown here.
        let somaxconn: usize = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(128);
        let n = somaxconn.min(LISTEN_BACKLOG as usize).min(400);
        smol::block_on(async {
            let listener = listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Nothing is accepted: every connection waits in the backlog. A connection beyond
            // it has its SYN dropped and would take a second (the SYN retransmission) or fail.
            let started = std::time::Instant::now();
            let clients: Vec<_> = (0..n)
                .map(|_| {
                    std::net::TcpStream::connect_timeout(
                        &addr,
                        std::time::Duration::from_millis(500),
                    )
                    .unwrap()
                })
                .collect();
            assert!(started.elapsed() < std::time::Duration::from_millis(900));
            assert_eq!(clients.len(), n);
        });
    }

    #[test]
    fn garbage_frames_end_the_connection_with_an_error() {
        smol::block_on(async {
            let listener = listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let client = smol::spawn(async move {
                let mut s = connect_internal(&addr).await.unwrap();
                s.write_all(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3])
                    .await
                    .unwrap();
                s
            });
            let (mut s, _) = listener.accept().await.unwrap();
            skip_preamble(&mut s).await.unwrap();
            let _keep = client.await;
            let mut r = FrameReader::new(s);
            assert!(matches!(
                r.next::<AgentToMaster>().await,
                Err(NetError::Frame(FrameError::TooLarge(_)))
            ));
        });
    }
}
