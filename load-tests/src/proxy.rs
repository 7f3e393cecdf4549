//! A TCP proxy that adds network latency, for benchmarks: every byte waits `one_way` in each
//! direction (10 ms each way = 20 ms round trip), and a new connection waits one round trip before
//! its first byte moves (the TCP handshake a real network costs). Chunks keep their order and
//! are not throttled: what the client pipelines stays pipelined.
//!
//! It also counts the client's *flights*: runs of client→server bytes that follow server→client
//! bytes (or open the connection). A request–response protocol spends one round trip per flight,
//! so flights per target are the round trips a collection costs, whatever the driver does inside.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Totals over every connection a proxy carried.
#[derive(Debug, Default)]
pub struct Counts {
    pub connections: AtomicU64,
    pub client_flights: AtomicU64,
    pub bytes_up: AtomicU64,
    pub bytes_down: AtomicU64,
}

/// A snapshot of [`Counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Snapshot {
    pub connections: u64,
    pub client_flights: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

impl std::ops::Sub for Snapshot {
    type Output = Snapshot;
    fn sub(self, o: Snapshot) -> Snapshot {
        Snapshot {
            connections: self.connections - o.connections,
            client_flights: self.client_flights - o.client_flights,
            bytes_up: self.bytes_up - o.bytes_up,
            bytes_down: self.bytes_down - o.bytes_down,
        }
    }
}

pub struct DelayProxy {
    pub port: u16,
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl DelayProxy {
    /// Listens on 127.0.0.1 (an ephemeral port) and forwards to 127.0.0.1:`upstream`.
    pub async fn start(upstream: u16, one_way: Duration) -> std::io::Result<DelayProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counts = shared.clone();
                tokio::spawn(async move {
                    counts.connections.fetch_add(1, Ordering::Relaxed);
                    // The handshake a real network would cost before the first byte.
                    tokio::time::sleep(one_way * 2).await;
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    carry(client, server, one_way, counts).await;
                });
            }
        });
        Ok(DelayProxy { port, counts, task })
    }

    pub fn snapshot(&self) -> Snapshot {
        let c = &self.counts;
        Snapshot {
            connections: c.connections.load(Ordering::Relaxed),
            client_flights: c.client_flights.load(Ordering::Relaxed),
            bytes_up: c.bytes_up.load(Ordering::Relaxed),
            bytes_down: c.bytes_down.load(Ordering::Relaxed),
        }
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const UP: u8 = 1;
const DOWN: u8 = 2;

async fn carry(client: TcpStream, server: TcpStream, one_way: Duration, counts: Arc<Counts>) {
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    let last = Arc::new(AtomicU8::new(DOWN));
    let up = pump(cr, sw, one_way, UP, last.clone(), counts.clone());
    let down = pump(sr, cw, one_way, DOWN, last, counts);
    tokio::join!(up, down);
}

/// Reads `from`, and writes each chunk to `to` `one_way` after it was read.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    one_way: Duration,
    direction: u8,
    last: Arc<AtomicU8>,
    counts: Arc<Counts>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((read_at, chunk)) = rx.recv().await {
            tokio::time::sleep_until(read_at + one_way).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if last.swap(direction, Ordering::Relaxed) != direction && direction == UP {
            counts.client_flights.fetch_add(1, Ordering::Relaxed);
        }
        let bytes = if direction == UP { &counts.bytes_up } else { &counts.bytes_down };
        bytes.fetch_add(n as u64, Ordering::Relaxed);
        if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that answers every chunk with the same bytes.
    async fn echo() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn bytes_pass_in_order_and_each_request_response_turn_is_one_flight() {
        let proxy = DelayProxy::start(echo().await, Duration::from_millis(1)).await.unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        for word in [&b"one"[..], b"two", b"three"] {
            c.write_all(word).await.unwrap();
            let mut back = vec![0u8; word.len()];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(back, word);
        }
        drop(c);
        let s = proxy.snapshot();
        assert_eq!((s.connections, s.client_flights), (1, 3), "{s:?}");
        assert_eq!((s.bytes_up, s.bytes_down), (11, 11), "{s:?}");
    }
}
