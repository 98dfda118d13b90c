//! One client connection: read a request head within the header timeout,
//! then its body, answer it (forwarded, or by the proxy's own routes), and
//! go round again while the connection is kept alive. Requests on one
//! connection are answered in order, pipelined ones included.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::futures::Notified;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::deadline::Deadline;
use super::wire::{ChunkedDecoder, Framing, HeadError, RequestHead};
use super::{forward, local, ProxyError, Shared};

/// How much of a client's request is read at a time.
const READ_CHUNK: usize = 4 * 1024;
/// Bytes a client may send ahead (pipelined) while its answer streams.
const MAX_AHEAD: usize = 1024 * 1024;
/// After refusing a body, how long to read and drop what the client still
/// sends, so closing does not reset the connection before it reads the answer.
const LINGER: Duration = Duration::from_secs(2);

/// The client's side: its socket, what it sent that is not used yet, and a
/// buffer for what goes out.
pub struct Client {
    pub stream: TcpStream,
    pub buf: BytesMut,
    pub out: Vec<u8>,
}

/// The most a body's buffer grows by before the bytes for it arrive: a
/// client that announces a large body must send it to make it take memory.
const GROW: usize = 64 * 1024;

/// The memory that the request bodies in flight may hold together, in
/// bytes (a semaphore's permits): a few slow clients with large bodies
/// cannot make the supervisor, and every model with it, run out.
pub const BODY_BUDGET: usize = 256 * 1024 * 1024;

/// A body's share of [`BODY_BUDGET`], given back when it is dropped.
#[derive(Default)]
pub struct Held(Option<OwnedSemaphorePermit>);

impl Held {
    fn bytes(&self) -> usize {
        self.0.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
    }

    /// Hold `total` bytes of `budget` in all. When the bodies in flight
    /// hold all of it, the request is refused at once (503, retry later):
    /// waiting would let a few stalled clients hold every other one.
    fn grow_to(&mut self, budget: &Arc<Semaphore>, total: usize) -> Result<(), BodyError> {
        let Some(more) = total.checked_sub(self.bytes()).filter(|m| *m > 0) else {
            return Ok(());
        };
        let more = u32::try_from(more).map_err(|_| BodyError::TooLarge)?;
        let permit = Arc::clone(budget)
            .try_acquire_many_owned(more)
            .map_err(|_| BodyError::Busy)?;
        match &mut self.0 {
            Some(held) => held.merge(permit),
            None => self.0 = Some(permit),
        }
        Ok(())
    }
}

/// Why a body could not be read.
pub enum BodyError {
    TooLarge,
    Malformed(&'static str),
    /// The bodies in flight hold all of [`BODY_BUDGET`].
    Busy,
    /// The client went away or stalled; nothing more can be said to it.
    Gone,
}

impl BodyError {
    /// The error to answer, and what becomes of the connection after it
    /// (its framing can no longer be trusted); `None` when the client is gone.
    pub fn answer(self, limit: usize) -> Option<(ProxyError, After)> {
        match self {
            BodyError::TooLarge => Some((ProxyError::TooLarge { limit }, After::Linger)),
            BodyError::Busy => Some((ProxyError::Busy, After::Linger)),
            BodyError::Malformed(why) => Some((ProxyError::Malformed(why), After::Close)),
            BodyError::Gone => None,
        }
    }
}

impl Client {
    /// Room in `buf` for another read.
    fn make_room(&mut self) {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
    }

    /// Read more of the client's bytes; 0 when it closed its side.
    async fn read(&mut self) -> io::Result<usize> {
        self.make_room();
        self.stream.read_buf(&mut self.buf).await
    }

    /// Write `out` whole, then empty it.
    pub async fn flush_out(&mut self) -> io::Result<()> {
        let result = self.stream.write_all(&self.out).await;
        self.out.clear();
        result
    }

    /// Resolves when the client closes its side or its connection breaks.
    /// Bytes it sends meanwhile (a pipelined request) are kept. Cancel-safe.
    pub async fn gone(&mut self) {
        loop {
            if self.buf.len() > MAX_AHEAD || self.stream.readable().await.is_err() {
                // Too far ahead to keep reading: no longer watched.
                return std::future::pending().await;
            }
            self.make_room();
            match self.stream.try_read_buf(&mut self.buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    }

    /// Read the request's body, up to `limit` bytes; each read must come
    /// within `idle`. Its memory is taken from `budget` as its bytes
    /// arrive, and held until the [`Held`] returned is dropped.
    pub async fn read_body(
        &mut self,
        head: &RequestHead,
        limit: usize,
        idle: Duration,
        budget: &Arc<Semaphore>,
    ) -> Result<(Bytes, Held), BodyError> {
        let mut held = Held::default();
        match head.framing {
            Framing::Empty | Framing::Close => Ok((Bytes::new(), held)),
            Framing::Length(len) => {
                let len = usize::try_from(len)
                    .ok()
                    .filter(|len| *len <= limit)
                    .ok_or(BodyError::TooLarge)?;
                self.continue_if_asked(head).await?;
                held.grow_to(budget, len.min(self.buf.len()))?;
                while self.buf.len() < len {
                    // Room for what comes next, not for what was announced.
                    let next = len.min(self.buf.len() + GROW);
                    held.grow_to(budget, next)?;
                    self.buf.reserve(next - self.buf.len());
                    self.read_within(idle).await?;
                }
                Ok((self.buf.split_to(len).freeze(), held))
            }
            Framing::Chunked => {
                self.continue_if_asked(head).await?;
                let mut decoder = ChunkedDecoder::default();
                let mut body = Vec::new();
                let mut too_large = false;
                loop {
                    let used = decoder
                        .decode(&self.buf, |data| {
                            too_large |= body.len() + data.len() > limit;
                            if !too_large {
                                body.extend_from_slice(data);
                            }
                        })
                        .map_err(BodyError::Malformed)?;
                    self.buf.advance(used);
                    if too_large {
                        return Err(BodyError::TooLarge);
                    }
                    if decoder.is_done() {
                        return Ok((Bytes::from(body), held));
                    }
                    held.grow_to(budget, body.len() + READ_CHUNK)?;
                    self.read_within(idle).await?;
                }
            }
        }
    }

    async fn continue_if_asked(&mut self, head: &RequestHead) -> Result<(), BodyError> {
        if head.expect_continue && self.buf.is_empty() {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| BodyError::Gone)?;
        }
        Ok(())
    }

    async fn read_within(&mut self, idle: Duration) -> Result<(), BodyError> {
        match tokio::time::timeout(idle, self.read()).await {
            Ok(Ok(n)) if n > 0 => Ok(()),
            _ => Err(BodyError::Gone),
        }
    }

    /// Close after refusing a request whose body was not read: stop
    /// writing, drop what still comes for a moment, then close.
    pub async fn linger_close(mut self) {
        let _ = self.stream.shutdown().await;
        let deadline = Instant::now() + LINGER;
        // Into the request buffer, emptied each time (an array here would
        // make every connection's task that much bigger).
        while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, self.read()).await {
            if n == 0 {
                break;
            }
            self.buf.clear();
        }
    }
}

/// What became of a request's connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    KeepAlive,
    Close,
    /// Close, but let the client read the answer first (its body was not read).
    Linger,
}

/// Serve one client connection until it closes, breaks, stalls, or the
/// proxy stops (then between requests).
pub async fn serve(shared: std::sync::Arc<Shared>, stream: TcpStream) {
    let mut client = Client {
        stream,
        buf: BytesMut::with_capacity(READ_CHUNK),
        out: Vec::new(),
    };
    // The wait for a request's head, and for the backend's answer.
    let mut head_deadline = Deadline::after(shared.header_timeout);
    let mut answer_deadline = Deadline::after(shared.state.backend_timeout);
    // Registered once, so waiting between requests costs no lock.
    let stopped = shared.stop.notified();
    tokio::pin!(stopped);
    stopped.as_mut().enable();
    loop {
        if shared.stopping() {
            break;
        }
        let head = match next_head(&shared, &mut client, &mut head_deadline, stopped.as_mut()).await
        {
            Ok(Some(head)) => head,
            Ok(None) => break,
            Err(err) => {
                local::write_error(&shared, &mut client, err, None).await;
                break;
            }
        };
        let after = match forward::takes(&head) {
            Some(kind) => {
                forward::forward(&shared, &mut client, &head, kind, &mut answer_deadline).await
            }
            None => local::answer(&shared, &mut client, &head).await,
        };
        match after {
            After::KeepAlive if head.keep_alive => {}
            After::Linger => return client.linger_close().await,
            _ => break,
        }
    }
    let _ = client.stream.shutdown().await;
}

/// The next request head: `Ok(None)` when the connection should just
/// close (the client left, or stayed idle, or the proxy stops), else the
/// status to answer before closing.
async fn next_head(
    shared: &Shared,
    client: &mut Client,
    deadline: &mut Deadline,
    mut stopped: Pin<&mut Notified<'_>>,
) -> Result<Option<RequestHead>, ProxyError> {
    deadline.set_after(shared.header_timeout);
    loop {
        match RequestHead::parse(&mut client.buf) {
            Ok(Some(head)) => return Ok(Some(head)),
            Ok(None) => {}
            Err(HeadError::Malformed(why)) => return Err(ProxyError::Malformed(why)),
            Err(HeadError::TooLarge) => return Err(ProxyError::HeadersTooLarge),
            Err(HeadError::Unsupported(what)) => return Err(ProxyError::NotImplemented(what)),
        }
        let idle = client.buf.is_empty();
        tokio::select! {
            biased;
            read = client.read() => match read {
                Ok(0) | Err(_) => return Ok(None),
                Ok(_) => {}
            },
            () = deadline.passed() => {
                // An idle connection closes quietly; a started request
                // that stalls is told why.
                return if idle { Ok(None) } else { Err(ProxyError::HeadTimeout) };
            }
            () = stopped.as_mut(), if idle => return Ok(None),
        }
    }
}
