//! A minimal TDS 7.4 server for tests: PRELOGIN (declining encryption), LOGIN7 with SQL
//! authentication, and SQL batches answered from canned replies as NVARCHAR columns, one result
//! set per statement of a batch (statements separated by a line holding `;`, as the collector
//! joins them), each batch counted.
//!
//! It proves the collector's **client path** through tiberius — connecting, logging in,
//! negotiating encryption, sending queries, decoding rows, mapping server errors — and nothing
//! about the T-SQL, which only a real SQL Server can check (sqlserver_real.rs, `MSSQL_TEST_URL`).
//! Protocol reference: Microsoft's [MS-TDS] specification; written for these tests.

use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the double answers one SQL batch.
#[derive(Debug, Clone)]
pub enum Reply {
    Rows(Vec<Vec<Option<String>>>),
    /// A server error token (number, message), as SQL Server sends for permission errors.
    Error(u32, String),
}

pub type Responder = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

pub struct TdsDouble {
    pub port: u16,
    /// SQL batches received: round trips.
    pub batches: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TdsDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const PACKET_SIZE: usize = 4096;
const TYPE_SQL_BATCH: u8 = 0x01;
const TYPE_REPLY: u8 = 0x04;
const TYPE_LOGIN7: u8 = 0x10;
const TYPE_PRELOGIN: u8 = 0x12;

impl TdsDouble {
    /// Listens on 127.0.0.1 and accepts `user`/`password` only.
    pub async fn start(user: &str, password: &str, responder: Responder) -> TdsDouble {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the TDS double");
        let port = listener.local_addr().expect("local address").port();
        let (user, password) = (user.to_owned(), password.to_owned());
        let batches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = batches.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (user, password, responder) = (user.clone(), password.clone(), responder.clone());
                let counted = counted.clone();
                tokio::spawn(async move {
                    // A client hanging up mid-conversation is not a test failure of the double.
                    let _ = serve(stream, &user, &password, responder, counted).await;
                });
            }
        });
        TdsDouble { port, batches, task }
    }
}

async fn read_message(s: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut body = Vec::new();
    loop {
        let mut header = [0u8; 8];
        s.read_exact(&mut header).await?;
        let len = u16::from_be_bytes([header[2], header[3]]) as usize;
        let mut payload = vec![0u8; len.saturating_sub(8)];
        s.read_exact(&mut payload).await?;
        body.extend(payload);
        if header[1] & 0x01 != 0 {
            return Ok((header[0], body));
        }
    }
}

async fn write_message(s: &mut TcpStream, kind: u8, body: &[u8]) -> std::io::Result<()> {
    let chunks: Vec<&[u8]> = if body.is_empty() { vec![&[][..]] } else { body.chunks(PACKET_SIZE - 8).collect() };
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut packet = vec![kind, u8::from(i == last)];
        packet.extend(((chunk.len() + 8) as u16).to_be_bytes());
        packet.extend([0x00, 0x34, (i + 1) as u8, 0x00]);
        packet.extend(chunk);
        s.write_all(&packet).await?;
    }
    s.flush().await
}

fn ucs2(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn from_ucs2(b: &[u8]) -> String {
    String::from_utf16_lossy(&b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect::<Vec<_>>())
}

fn b_varchar(s: &str) -> Vec<u8> {
    let mut out = vec![s.encode_utf16().count() as u8];
    out.extend(ucs2(s));
    out
}

fn prelogin_reply() -> Vec<u8> {
    // Options: VERSION (6 bytes), ENCRYPTION (1: ENCRYPT_NOT_SUP), INSTOPT (1), MARS (1).
    let data: Vec<(u8, Vec<u8>)> =
        vec![(0x00, vec![16, 0, 0x0F, 0xA0, 0, 0]), (0x01, vec![0x02]), (0x02, vec![0x00]), (0x04, vec![0x00])];
    let mut offset = (data.len() * 5 + 1) as u16;
    let mut out = Vec::new();
    for (token, bytes) in &data {
        out.push(*token);
        out.extend(offset.to_be_bytes());
        out.extend((bytes.len() as u16).to_be_bytes());
        offset += bytes.len() as u16;
    }
    out.push(0xFF);
    for (_, bytes) in data {
        out.extend(bytes);
    }
    out
}

/// `(user, password)` from a LOGIN7 body; the password is de-obfuscated (XOR 0xA5, nibbles swapped).
fn login_credentials(body: &[u8]) -> Option<(String, String)> {
    let field = |at: usize| -> Option<&[u8]> {
        let offset = u16::from_le_bytes([*body.get(at)?, *body.get(at + 1)?]) as usize;
        let chars = u16::from_le_bytes([*body.get(at + 2)?, *body.get(at + 3)?]) as usize;
        body.get(offset..offset + chars * 2)
    };
    let user = from_ucs2(field(40)?);
    let password: Vec<u8> = field(44)?.iter().map(|b| (b ^ 0xA5).rotate_left(4)).collect();
    Some((user, from_ucs2(&password)))
}

fn done(status: u16, rows: u64) -> Vec<u8> {
    let mut out = vec![0xFD];
    out.extend(status.to_le_bytes());
    out.extend(0x00C1u16.to_le_bytes());
    out.extend(rows.to_le_bytes());
    out
}

fn error_token(number: u32, message: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(number.to_le_bytes());
    body.extend([1u8, 14u8]);
    body.extend((message.encode_utf16().count() as u16).to_le_bytes());
    body.extend(ucs2(message));
    body.extend(b_varchar("tds-double"));
    body.extend(b_varchar(""));
    body.extend(1u32.to_le_bytes());
    let mut out = vec![0xAA];
    out.extend((body.len() as u16).to_le_bytes());
    out.extend(body);
    out
}

fn login_ack() -> Vec<u8> {
    let mut body = vec![0x01];
    body.extend(0x7400_0004u32.to_be_bytes());
    body.extend(b_varchar("Microsoft SQL Server"));
    body.extend([16, 0, 0x0F, 0xA0]);
    let mut out = vec![0xAD];
    out.extend((body.len() as u16).to_le_bytes());
    out.extend(body);
    // ENVCHANGE: packet size 4096.
    let mut env = vec![0x04];
    env.extend(b_varchar("4096"));
    env.extend(b_varchar("4096"));
    out.push(0xE3);
    out.extend((env.len() as u16).to_le_bytes());
    out.extend(env);
    out
}

/// One statement's answer; `more` when others of the batch follow (DONE_MORE).
fn rows_reply(rows: &[Vec<Option<String>>], more: bool) -> Vec<u8> {
    let columns = rows.first().map_or(1, Vec::len);
    let mut out = vec![0x81];
    out.extend((columns as u16).to_le_bytes());
    for i in 0..columns {
        out.extend(0u32.to_le_bytes()); // user type
        out.extend(0x0001u16.to_le_bytes()); // nullable
        out.push(0xE7); // NVARCHAR
        out.extend(8000u16.to_le_bytes());
        out.extend([0x09, 0x04, 0xD0, 0x00, 0x34]); // collation
        out.extend(b_varchar(&format!("c{i}")));
    }
    for row in rows {
        out.push(0xD1);
        for cell in row {
            match cell {
                None => out.extend(0xFFFFu16.to_le_bytes()),
                Some(v) => {
                    let bytes = ucs2(v);
                    out.extend((bytes.len() as u16).to_le_bytes());
                    out.extend(bytes);
                }
            }
        }
    }
    out.extend(done(0x0010 | u16::from(more), rows.len() as u64));
    out
}

async fn serve(
    mut s: TcpStream,
    user: &str,
    password: &str,
    responder: Responder,
    batches: Arc<std::sync::atomic::AtomicUsize>,
) -> std::io::Result<()> {
    let (kind, _) = read_message(&mut s).await?;
    assert_eq!(kind, TYPE_PRELOGIN, "the client starts with PRELOGIN");
    write_message(&mut s, TYPE_REPLY, &prelogin_reply()).await?;

    let (kind, body) = read_message(&mut s).await?;
    assert_eq!(kind, TYPE_LOGIN7, "LOGIN7 follows an unencrypted PRELOGIN");
    match login_credentials(&body) {
        Some((u, p)) if u == user && p == password => {
            let mut reply = login_ack();
            reply.extend(done(0x0000, 0));
            write_message(&mut s, TYPE_REPLY, &reply).await?;
        }
        _ => {
            let mut reply = error_token(18456, &format!("Login failed for user '{user}'."));
            reply.extend(done(0x0002, 0));
            write_message(&mut s, TYPE_REPLY, &reply).await?;
            return Ok(());
        }
    }

    loop {
        let (kind, body) = read_message(&mut s).await?;
        if kind != TYPE_SQL_BATCH {
            continue;
        }
        batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let headers = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
        let sql = from_ucs2(&body[headers..]);
        let statements: Vec<&str> = sql.split("\n;\n").collect();
        let mut reply = Vec::new();
        for (i, statement) in statements.iter().enumerate() {
            let more = i + 1 < statements.len();
            // Like SQL Server, a failing statement does not stop the batch.
            reply.extend(match responder(statement) {
                Reply::Rows(rows) => rows_reply(&rows, more),
                Reply::Error(number, message) => {
                    let mut r = error_token(number, &message);
                    r.extend(done(0x0002 | u16::from(more), 0));
                    r
                }
            });
        }
        write_message(&mut s, TYPE_REPLY, &reply).await?;
    }
}
