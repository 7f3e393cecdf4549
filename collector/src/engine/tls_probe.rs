//! The certificate a MySQL/MariaDB server presents, read by a handshake of our own.
//!
//! mysql_async builds its own rustls configuration and never shows the peer certificate, so the
//! collector opens a second connection to the same endpoint, speaks the MySQL protocol only as far as
//! the TLS upgrade (greeting → SSLRequest → TLS handshake through the same verifier as the target's
//! mode, [`super::tls::client_config`]) and closes it before authenticating. No credential is sent.

use super::tls::client_config;
use super::{within, ConnectOptions, EngineError};
use dbadmin_contracts::{ErrorKind, Target};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CLIENT_LONG_PASSWORD: u32 = 0x0000_0001;
const CLIENT_PROTOCOL_41: u32 = 0x0000_0200;
const CLIENT_SSL: u32 = 0x0000_0800;
const CLIENT_SECURE_CONNECTION: u32 = 0x0000_8000;
/// The largest greeting accepted (a real one is under 128 bytes).
const MAX_GREETING: usize = 4096;

/// SHA-256 of the certificate `target`'s server presents, verified as its TLS mode says; `None` when
/// the mode does not encrypt.
pub(crate) async fn mysql_certificate(target: &Target, opts: &ConnectOptions) -> Result<Option<String>, EngineError> {
    let Some((config, presented)) = client_config(target.tls, opts.ca_file.as_deref())? else {
        return Ok(None);
    };
    let endpoint = format!("{}:{}", target.host, target.port);
    let what = format!("reading the TLS certificate of {endpoint}");
    within(opts.connect_timeout, &what, async {
        let fail = |kind: ErrorKind, why: &dyn std::fmt::Display| EngineError::new(kind, format!("{what}: {why}"));
        let mut tcp = TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|e| fail(ErrorKind::Unreachable, &e))?;
        let greeting = read_packet(&mut tcp).await.map_err(|e| fail(ErrorKind::Unreachable, &e))?;
        let capabilities = server_capabilities(&greeting).map_err(|e| fail(ErrorKind::Unreachable, &e))?;
        if capabilities & CLIENT_SSL == 0 {
            return Err(fail(ErrorKind::Tls, &"the server does not offer TLS"));
        }
        tcp.write_all(&ssl_request()).await.map_err(|e| fail(ErrorKind::Unreachable, &e))?;
        let name = ServerName::try_from(target.host.clone()).map_err(|e| fail(ErrorKind::Tls, &e))?;
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| fail(ErrorKind::Tls, &e))?;
        // Goodbye before authenticating; the server logs an aborted connection, nothing else.
        let _ = tls.shutdown().await;
        presented.sha256().map(Some).ok_or_else(|| fail(ErrorKind::Tls, &"the handshake showed no certificate"))
    })
    .await
}

/// One protocol packet: 3-byte little-endian length, sequence number, payload.
async fn read_packet(tcp: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut header = [0u8; 4];
    tcp.read_exact(&mut header).await?;
    let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
    if len > MAX_GREETING {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("a {len}-byte greeting")));
    }
    let mut payload = vec![0u8; len];
    tcp.read_exact(&mut payload).await?;
    Ok(payload)
}

/// The capability flags of a protocol-10 greeting, or the server's refusal (an error packet).
fn server_capabilities(greeting: &[u8]) -> Result<u32, String> {
    match greeting.first() {
        Some(0xff) => {
            let message = greeting.get(3..).map(String::from_utf8_lossy).unwrap_or_default();
            return Err(format!("the server refused the connection: {message}"));
        }
        Some(10) => {}
        other => return Err(format!("not a MySQL greeting (protocol {other:?})")),
    }
    // protocol(1) · server version (NUL-terminated) · thread id(4) · auth data(8) · filler(1) ·
    // capabilities, low 2 bytes · charset(1) · status(2) · capabilities, high 2 bytes
    let nul = greeting[1..].iter().position(|&b| b == 0).ok_or("a greeting without a server version")?;
    let at = 1 + nul + 1 + 4 + 8 + 1;
    let byte = |i: usize| greeting.get(i).copied().map(u32::from);
    let low = match (byte(at), byte(at + 1)) {
        (Some(a), Some(b)) => a | b << 8,
        _ => return Err("a greeting cut short".into()),
    };
    let high = match (byte(at + 5), byte(at + 6)) {
        (Some(a), Some(b)) => (a | b << 8) << 16,
        _ => 0,
    };
    Ok(low | high)
}

/// The SSLRequest packet (sequence 1): capabilities, max packet size, charset utf8, 23 zero bytes.
fn ssl_request() -> Vec<u8> {
    let flags = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION;
    let mut packet = vec![32, 0, 0, 1];
    packet.extend_from_slice(&flags.to_le_bytes());
    packet.extend_from_slice(&(16u32 << 20).to_le_bytes());
    packet.push(33);
    packet.extend_from_slice(&[0; 23]);
    packet
}

#[cfg(test)]
mod tests {
    use super::*;

    fn greeting(capabilities: u32) -> Vec<u8> {
        let mut g = vec![10];
        g.extend_from_slice(b"11.8.9-MariaDB\0");
        g.extend_from_slice(&[1, 0, 0, 0]);
        g.extend_from_slice(&[7; 8]);
        g.push(0);
        g.extend_from_slice(&(capabilities as u16).to_le_bytes());
        g.push(45);
        g.extend_from_slice(&[2, 0]);
        g.extend_from_slice(&((capabilities >> 16) as u16).to_le_bytes());
        g
    }

    #[test]
    fn reads_a_greeting_and_refusals() {
        assert_eq!(server_capabilities(&greeting(0x000f_a8ff)), Ok(0x000f_a8ff));
        assert_eq!(server_capabilities(&greeting(0x0000_0200)).map(|c| c & CLIENT_SSL), Ok(0));
        let refused = [&[0xff, 0x69, 0x04][..], b"Host '10.0.0.9' is blocked"].concat();
        assert!(server_capabilities(&refused).unwrap_err().contains("is blocked"));
        assert!(server_capabilities(&greeting(0x0800)[..20]).is_err());
        assert!(server_capabilities(&[10, b'x']).is_err());
        assert!(server_capabilities(&[]).is_err());
    }

    #[test]
    fn the_ssl_request_is_32_bytes_asking_for_tls() {
        let p = ssl_request();
        assert_eq!(p.len(), 36);
        assert_eq!(&p[..4], &[32, 0, 0, 1]);
        let flags = u32::from_le_bytes(p[4..8].try_into().unwrap());
        assert_ne!(flags & CLIENT_SSL, 0);
        assert_ne!(flags & CLIENT_PROTOCOL_41, 0);
    }
}
