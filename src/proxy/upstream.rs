//! Connections to backends: a keep-alive pool per backend address, and one
//! request/response exchange on a connection, driven inline by the task
//! that serves the client (no connection task, no channel in between).

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{HeadError, ResponseHead};

/// How long connecting to a backend may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle connections kept per backend; more are closed when returned, so a
/// burst leaves no more open than this (nginx's `keepalive` is per worker
/// and typically 32 to 64).
pub const MAX_IDLE: usize = 64;
/// How long an idle connection is kept: under uvicorn's 5 s (vLLM's
/// server closes idle connections then), so the proxy lets go first and
/// never sends on a connection its backend is closing.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// Read buffer of a backend connection, to start with: answers are small
/// JSON or SSE events; a bigger one grows it (see [`Upstream::read`]).
const READ_CHUNK: usize = 4 * 1024;
/// The most a backend connection's buffer grows to for one read.
const MAX_READ: usize = 64 * 1024;

/// Where a backend's base URL points: `host:port`, and a path prefix to
/// put before the client's path ("" for most).
pub fn split_base(base_url: &str) -> Option<(&str, &str)> {
    let rest = base_url.strip_prefix("http://")?;
    let (authority, prefix) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if authority.is_empty() {
        return None;
    }
    Some((authority, prefix.trim_end_matches('/')))
}

/// One connection to a backend, with what was read from it and not used.
pub struct Upstream {
    stream: TcpStream,
    pub buf: BytesMut,
    /// It served an earlier request (so it may have gone stale meanwhile).
    pub reused: bool,
    /// How much room to make in `buf` before a read.
    room: usize,
    /// Since when it waits in the pool.
    idle_since: std::time::Instant,
}

/// Why an exchange with a backend failed.
#[derive(Debug)]
pub enum ExchangeError {
    /// The connection broke; `answered` when part of a response came.
    Io { err: io::Error, answered: bool },
    /// The backend's answer is not HTTP/1.1.
    Malformed(&'static str),
}

impl ExchangeError {
    /// A reused connection that broke before any answer was most likely
    /// closed by the backend while idle: the request can go on a new one.
    pub fn stale(&self, reused: bool) -> bool {
        matches!(
            self,
            ExchangeError::Io {
                answered: false,
                ..
            }
        ) && reused
    }

    pub fn describe(&self) -> String {
        match self {
            ExchangeError::Io { err, .. } => format!("connection to the backend failed: {err}"),
            ExchangeError::Malformed(why) => format!("the backend's answer is malformed: {why}"),
        }
    }
}

impl Upstream {
    pub async fn connect(authority: &str) -> io::Result<Upstream> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(authority))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        Ok(Upstream {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
            reused: false,
            room: READ_CHUNK,
            idle_since: std::time::Instant::now(),
        })
    }

    /// Still open, with nothing unread: a backend closing an idle
    /// connection makes it readable. Costs no system call when it is not.
    fn is_idle(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(err) if err.kind() == io::ErrorKind::WouldBlock)
    }

    /// Send a request: its head, then its body.
    pub async fn send(&mut self, head: &[u8], body: &[u8]) -> Result<(), ExchangeError> {
        let io = |err| ExchangeError::Io {
            err,
            answered: false,
        };
        self.stream.write_all(head).await.map_err(io)?;
        if !body.is_empty() {
            self.stream.write_all(body).await.map_err(io)?;
        }
        Ok(())
    }

    /// Read until a final (non-1xx) response head is whole.
    pub async fn read_head(&mut self) -> Result<ResponseHead, ExchangeError> {
        let mut answered = false;
        loop {
            match ResponseHead::parse(&mut self.buf) {
                Ok(Some(head)) if (100..200).contains(&head.status) => {
                    if head.status == 101 {
                        return Err(ExchangeError::Malformed(
                            "a protocol switch was not asked for",
                        ));
                    }
                    answered = true;
                    continue;
                }
                Ok(Some(head)) => return Ok(head),
                Ok(None) => {}
                Err(HeadError::Malformed(why) | HeadError::Unsupported(why)) => {
                    return Err(ExchangeError::Malformed(why))
                }
                Err(HeadError::TooLarge) => {
                    return Err(ExchangeError::Malformed("headers too large"))
                }
            }
            answered |= !self.buf.is_empty();
            match self.read().await {
                Ok(0) => {
                    return Err(ExchangeError::Io {
                        err: io::ErrorKind::UnexpectedEof.into(),
                        answered,
                    })
                }
                Ok(_) => {}
                Err(err) => return Err(ExchangeError::Io { err, answered }),
            }
        }
    }

    /// Read more into `buf`; 0 at the end of the stream. A read that
    /// fills the room there was doubles the room for the next one.
    pub async fn read(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(self.room);
        }
        let room = self.buf.capacity() - self.buf.len();
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == room {
            self.room = (self.room * 2).min(MAX_READ);
        }
        Ok(n)
    }
}

/// Idle keep-alive connections, by backend address: at most [`MAX_IDLE`]
/// each, none kept longer than the idle timeout.
pub struct Pool {
    idle: Mutex<HashMap<String, Vec<Upstream>>>,
    /// Connections put back so far, to sweep now and then.
    puts: AtomicUsize,
    idle_timeout: Duration,
}

impl Default for Pool {
    fn default() -> Self {
        Pool::with_idle_timeout(IDLE_TIMEOUT)
    }
}

/// Connections put back between two sweeps for dead ones.
const SWEEP_EVERY: usize = 4096;

/// Drop connections their backend closed or that waited longer than
/// `timeout`, and addresses left with none: a backend that went away
/// (stopped, or moved to another port) leaves no socket open here.
fn sweep(idle: &mut HashMap<String, Vec<Upstream>>, timeout: Duration) {
    for conns in idle.values_mut() {
        conns.retain(|c| c.idle_since.elapsed() < timeout && c.is_idle());
    }
    idle.retain(|_, conns| !conns.is_empty());
}

impl Pool {
    pub fn with_idle_timeout(idle_timeout: Duration) -> Self {
        Pool {
            idle: Mutex::new(HashMap::new()),
            puts: AtomicUsize::new(0),
            idle_timeout,
        }
    }

    /// How often [`Pool::expire`] should run.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Close the connections idle for longer than the idle timeout (run
    /// every idle timeout, so none is kept much longer).
    pub fn expire(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            sweep(&mut idle, self.idle_timeout);
        }
    }

    /// An idle connection to `authority`, if one is still open and has not
    /// waited too long. The newest is taken first: the oldest then age out.
    pub fn checkout(&self, authority: &str) -> Option<Upstream> {
        let mut idle = self.idle.lock().ok()?;
        let conns = idle.get_mut(authority)?;
        while let Some(conn) = conns.pop() {
            if conn.idle_since.elapsed() < self.idle_timeout && conn.is_idle() {
                return Some(conn);
            }
        }
        None
    }

    /// Keep a connection whose last answer was read whole.
    pub fn put_back(&self, authority: &str, mut conn: Upstream) {
        if !conn.buf.is_empty() {
            // Bytes after the answer: the backend is not speaking HTTP/1.1 right.
            return;
        }
        conn.reused = true;
        conn.idle_since = std::time::Instant::now();
        let Ok(mut idle) = self.idle.lock() else {
            return;
        };
        let puts = self.puts.fetch_add(1, Ordering::Relaxed);
        if let Some(conns) = idle.get_mut(authority) {
            if conns.len() < MAX_IDLE {
                conns.push(conn);
            }
        } else {
            // A backend address not seen before (a model moved after a
            // reload, say): a good time to let go of dead ones.
            sweep(&mut idle, self.idle_timeout);
            idle.insert(authority.to_string(), vec![conn]);
            return;
        }
        if puts % SWEEP_EVERY == 0 {
            sweep(&mut idle, self.idle_timeout);
        }
    }

    /// Send a request on an idle connection (or a new one) and read the
    /// answer's head. An idle connection the backend closed meanwhile is
    /// replaced once.
    pub async fn exchange(
        &self,
        authority: &str,
        request: &[u8],
        rest: &[u8],
    ) -> Result<(Upstream, ResponseHead), ExchangeError> {
        let connect = || async {
            Upstream::connect(authority)
                .await
                .map_err(|err| ExchangeError::Io {
                    err,
                    answered: false,
                })
        };
        let mut up = match self.checkout(authority) {
            Some(up) => up,
            None => connect().await?,
        };
        loop {
            let result = match up.send(request, rest).await {
                Ok(()) => up.read_head().await,
                Err(err) => Err(err),
            };
            match result {
                Ok(head) => return Ok((up, head)),
                Err(err) if err.stale(up.reused) => up = connect().await?,
                Err(err) => return Err(err),
            }
        }
    }

    /// Idle connections to `authority` (for tests).
    #[cfg(test)]
    fn idle_count(&self, authority: &str) -> usize {
        self.idle
            .lock()
            .map(|idle| idle.get(authority).map_or(0, Vec::len))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn base_urls_split_into_address_and_prefix() {
        assert_eq!(
            split_base("http://127.0.0.1:8001"),
            Some(("127.0.0.1:8001", ""))
        );
        assert_eq!(
            split_base("http://gpu-box:8000/api/"),
            Some(("gpu-box:8000", "/api"))
        );
        assert_eq!(split_base("https://x:1"), None);
        assert_eq!(split_base("http:///x"), None);
    }

    /// A pool holding one idle connection; its address and the backend's end.
    async fn one_idle() -> (Pool, String, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let authority = listener.local_addr().expect("addr").to_string();
        let pool = Pool::default();
        let conn = Upstream::connect(&authority).await.expect("connect");
        let (server_side, _) = listener.accept().await.expect("accept");
        pool.put_back(&authority, conn);
        assert_eq!(pool.idle_count(&authority), 1);
        (pool, authority, server_side)
    }

    #[tokio::test]
    async fn a_connection_the_backend_closed_is_not_handed_out() {
        let (pool, authority, server_side) = one_idle().await;
        drop(server_side);
        // Give the FIN time to arrive and the reactor time to see it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(pool.checkout(&authority).is_none());
        assert_eq!(pool.idle_count(&authority), 0);
    }

    #[tokio::test]
    async fn dead_connections_to_an_address_no_longer_used_are_let_go() {
        let (pool, old, server_side) = one_idle().await;
        drop(server_side);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let new = listener.local_addr().expect("addr").to_string();
        let conn = Upstream::connect(&new).await.expect("connect");
        let (_server_side, _) = listener.accept().await.expect("accept");
        pool.put_back(&new, conn);
        assert_eq!(pool.idle_count(&old), 0, "swept when a new address came");
        assert_eq!(pool.idle_count(&new), 1);
    }

    /// `n` connections to one listener put back at once, as after a burst.
    async fn burst(pool: &Pool, n: usize) -> (String, Vec<TcpStream>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let authority = listener.local_addr().expect("addr").to_string();
        let mut conns = Vec::new();
        let mut server_sides = Vec::new();
        for _ in 0..n {
            conns.push(Upstream::connect(&authority).await.expect("connect"));
            server_sides.push(listener.accept().await.expect("accept").0);
        }
        for conn in conns {
            pool.put_back(&authority, conn);
        }
        (authority, server_sides)
    }

    #[tokio::test]
    async fn a_burst_leaves_at_most_max_idle_connections_open() {
        let pool = Pool::default();
        // A burst of 200 kept every one of them open, for good.
        let (authority, _server_sides) = burst(&pool, 200).await;
        assert_eq!(pool.idle_count(&authority), 64);
        assert_eq!(MAX_IDLE, 64);
    }

    #[tokio::test]
    async fn idle_connections_are_closed_after_the_idle_timeout() {
        let pool = Pool::with_idle_timeout(Duration::from_millis(200));
        let (authority, mut server_sides) = burst(&pool, 3).await;
        assert!(pool.checkout(&authority).is_some(), "fresh: reused");
        tokio::time::sleep(Duration::from_millis(250)).await;
        pool.expire();
        assert_eq!(pool.idle_count(&authority), 0);
        // Closed on our side: the backend sees the end of each stream.
        for server_side in server_sides.iter_mut().take(2) {
            let mut byte = [0u8; 1];
            let read = tokio::time::timeout(Duration::from_secs(1), server_side.read(&mut byte));
            assert!(matches!(read.await, Ok(Ok(0))), "closed by the proxy");
        }
        let (authority, _sides) = burst(&pool, 1).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(pool.checkout(&authority).is_none(), "too old to hand out");
    }

    #[tokio::test]
    async fn an_open_connection_is_reused() {
        let (pool, authority, _server_side) = one_idle().await;
        let again = pool.checkout(&authority).expect("still open");
        assert!(again.reused);
    }

    /// Read one request (head and a 2-byte body) off `socket`.
    async fn read_request(socket: &mut TcpStream) {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") || !got.ends_with(b"{}") {
            let n = socket.read(&mut buf).await.expect("read");
            assert!(n > 0, "the request came whole");
            got.extend_from_slice(&buf[..n]);
        }
    }

    #[tokio::test]
    async fn a_request_on_a_connection_closed_unanswered_is_sent_again_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let authority = listener.local_addr().expect("addr").to_string();
        let server = tokio::spawn(async move {
            let (mut first, _) = listener.accept().await.expect("accept");
            read_request(&mut first).await;
            first
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na")
                .await
                .expect("answer");
            // The second request on it is read, then the connection closes
            // unanswered, as a backend's idle timeout would do.
            read_request(&mut first).await;
            drop(first);
            let (mut second, _) = listener.accept().await.expect("accept again");
            read_request(&mut second).await;
            second
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nb")
                .await
                .expect("answer");
        });
        let pool = Pool::default();
        let request = b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}";
        let (mut up, head) = pool
            .exchange(&authority, request, b"")
            .await
            .expect("first");
        assert_eq!(head.status, 200);
        while up.buf.is_empty() {
            up.read().await.expect("body");
        }
        up.buf.clear();
        pool.put_back(&authority, up);
        let (up, head) = pool
            .exchange(&authority, request, b"")
            .await
            .expect("sent again");
        assert_eq!(head.status, 200);
        assert!(!up.reused, "on a new connection");
        server.await.expect("server");
    }

    #[tokio::test]
    async fn an_exchange_skips_interim_answers() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let authority = listener.local_addr().expect("addr").to_string();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut request = vec![0u8; 1024];
            let _ = socket.read(&mut request).await;
            socket
                .write_all(
                    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
                )
                .await
                .expect("answer");
        });
        let mut conn = Upstream::connect(&authority).await.expect("connect");
        conn.send(b"POST / HTTP/1.1\r\ncontent-length: 2\r\n\r\n", b"{}")
            .await
            .expect("send");
        let head = conn.read_head().await.expect("head");
        assert_eq!(head.status, 200);
        while conn.buf.len() < 2 {
            conn.read().await.expect("body");
        }
        assert_eq!(&conn.buf[..], b"ok");
        server.await.expect("server");
    }

    #[tokio::test]
    async fn a_backend_that_closes_without_answering_is_stale_only_when_reused() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let authority = listener.local_addr().expect("addr").to_string();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.expect("accept");
            drop(socket);
        });
        let mut conn = Upstream::connect(&authority).await.expect("connect");
        server.await.expect("server");
        let err = match conn.send(b"POST / HTTP/1.1\r\n\r\n", b"").await {
            Ok(()) => conn.read_head().await.expect_err("no answer"),
            Err(err) => err,
        };
        assert!(err.stale(true));
        assert!(!err.stale(false));
    }
}
