//! A server that accepts TCP but never speaks: every engine must give up after the connect
//! time-out with a `timeout` error, retried within its bounds, instead of hanging.

mod common;

use dbadmin_collector::engine::{self, ConnectOptions};
use dbadmin_contracts::{Engine, ErrorKind, TlsMode};
use dbadmin_ports::DbCredentials;
use std::time::Duration;

#[tokio::test]
async fn a_silent_server_is_a_timeout_for_every_engine() {
    // The kernel completes the TCP handshake from the backlog; nothing ever answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let opts = ConnectOptions {
        connect_timeout: Duration::from_millis(300),
        max_attempts: 2,
        backoff: Duration::from_millis(10),
        ..ConnectOptions::default()
    };
    let creds = DbCredentials { username: "u".into(), password: "p".into(), ..Default::default() };
    for engine in [Engine::Mysql, Engine::Mariadb, Engine::Postgres, Engine::Sqlserver] {
        let target = common::target(engine, port, TlsMode::Disable);
        let (result, attempts) = engine::collect(&target, &creds, &opts).await;
        let err = result.expect_err("a silent server cannot be read");
        assert_eq!(err.kind, ErrorKind::Timeout, "{engine}: {err}");
        assert_eq!(attempts, 2, "{engine}: time-outs are retried up to max_attempts");
        assert!(
            err.reason.contains(&format!("127.0.0.1:{port}")),
            "{engine}: the reason names the endpoint: {}",
            err.reason
        );
    }
    drop(silent);
}
