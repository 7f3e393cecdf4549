//! `local-bench`: how the local run's cost grows with the estate, against the way teams do it
//! today and against the floor, on the real local servers (scripts/test-servers.sh up).
//!
//! For each network round-trip time (`--rtt-ms`, default 0 and 20) every server is reached through
//! a delay proxy ([`dbadmin_load_tests::proxy`]: half the RTT each way, one RTT per new
//! connection) that also counts the client's request flights, i.e. round trips. For each N it
//! builds an inventory of N targets over MariaDB, MySQL and PostgreSQL (many targets share a
//! server) and measures, in the same run:
//! - **ours**: the release `db-admin-report generate --local` as a child process (wall time, peak
//!   RSS from `wait4`, and the stage timings it reports);
//! - **sequential**: `pt-show-grants` per MySQL/MariaDB target and `psql` running an admin query per
//!   PostgreSQL target, one after another (only up to `--sequential-max`; beyond it the per-target
//!   median of the largest measured N is extrapolated and marked as such);
//! - **floor**: connect + one admin query + disconnect with the same drivers, TLS settings and
//!   concurrency, no pipeline, in this process.
//!
//! Results go to `load-tests/results/local.json` and `load-tests/results/local-wall-time.svg`
//! (wall time × N, one line per method and RTT).

use anyhow::{bail, Context};
use dbadmin_load_tests::proxy::{DelayProxy, Snapshot};
use futures::StreamExt;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 16;
const USER: &str = "dbadmin_collector";
const PASSWORD: &str = "collector-pw";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    Mariadb,
    Mysql,
    Postgres,
}

#[derive(Clone)]
struct Servers {
    mariadb: u16,
    mysql: u16,
    postgres: u16,
    ca: PathBuf,
}

/// The three servers behind delay proxies.
struct Proxied {
    servers: Servers,
    proxies: [DelayProxy; 3],
}

impl Proxied {
    async fn start(direct: &Servers, rtt: Duration) -> anyhow::Result<Proxied> {
        let one_way = rtt / 2;
        let proxies = [
            DelayProxy::start(direct.mariadb, one_way).await?,
            DelayProxy::start(direct.mysql, one_way).await?,
            DelayProxy::start(direct.postgres, one_way).await?,
        ];
        let servers = Servers {
            mariadb: proxies[0].port,
            mysql: proxies[1].port,
            postgres: proxies[2].port,
            ca: direct.ca.clone(),
        };
        Ok(Proxied { servers, proxies })
    }

    /// What every proxy carried so far.
    fn snapshot(&self) -> Snapshot {
        self.proxies.iter().map(DelayProxy::snapshot).fold(Snapshot::default(), |a, b| Snapshot {
            connections: a.connections + b.connections,
            client_flights: a.client_flights + b.client_flights,
            bytes_up: a.bytes_up + b.bytes_up,
            bytes_down: a.bytes_down + b.bytes_down,
        })
    }

    /// Runs `f` and returns its result with the round trips (client flights) per target it cost.
    fn counting<T>(&self, n: usize, f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
        let before = self.snapshot();
        let out = f()?;
        let spent = self.snapshot() - before;
        Ok((out, spent.client_flights as f64 / n.max(1) as f64))
    }
}

impl Servers {
    fn from_env() -> anyhow::Result<Servers> {
        let port = |v: &str| -> anyhow::Result<u16> {
            std::env::var(v)
                .with_context(|| format!("{v} is not set: run scripts/test-servers.sh up and eval its env"))?
                .parse()
                .with_context(|| format!("{v} is not a port"))
        };
        Ok(Servers {
            mariadb: port("DBADMIN_TEST_MARIADB_PORT")?,
            mysql: port("DBADMIN_TEST_MYSQL_PORT")?,
            postgres: port("DBADMIN_TEST_PG_PORT")?,
            ca: std::env::var("DBADMIN_TEST_CA_FILE").context("DBADMIN_TEST_CA_FILE is not set")?.into(),
        })
    }

    /// Target `i` of an estate: engines in turn, accounts and regions varied.
    fn target(&self, i: usize) -> (Engine, u16) {
        match i % 3 {
            0 => (Engine::Mariadb, self.mariadb),
            1 => (Engine::Mysql, self.mysql),
            _ => (Engine::Postgres, self.postgres),
        }
    }
}

fn inventory(servers: &Servers, n: usize) -> String {
    let mut csv = String::from("id,account_id,region,engine,host,port,databases,secret,role_arn,tls,tags\n");
    let regions = ["eu-west-1", "us-east-1", "ap-southeast-2"];
    for i in 0..n {
        let (engine, port) = servers.target(i);
        let (name, secret) = match engine {
            Engine::Mariadb => ("mariadb", "demo/mariadb"),
            Engine::Mysql => ("mysql", "demo/mysql"),
            Engine::Postgres => ("postgres", "demo/postgres"),
        };
        let account = 100_000_000_000u64 + (i % 40) as u64;
        let region = regions[i % regions.len()];
        csv.push_str(&format!("t{i:05},{account},{region},{name},127.0.0.1,{port},,{secret},,verify-full,bench=1\n"));
    }
    csv
}

/// Runs a child to completion; returns its wall time and peak RSS (KiB).
fn measure(cmd: &mut Command) -> anyhow::Result<(Duration, u64, std::process::Output)> {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn()?;
    let pid = child.id() as libc::pid_t;
    // Read the pipes while the child runs, then reap it ourselves to get its rusage.
    let mut child = child;
    let mut stdout = child.stdout.take().context("stdout")?;
    let mut stderr = child.stderr.take().context("stderr")?;
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut b).map(|_| b)
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut b).map(|_| b)
    });
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we spawned.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if rc != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let elapsed = started.elapsed();
    std::mem::forget(child); // already reaped
    let output = std::process::Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out_reader.join().map_err(|_| anyhow::anyhow!("stdout reader"))??,
        stderr: err_reader.join().map_err(|_| anyhow::anyhow!("stderr reader"))??,
    };
    Ok((elapsed, usage.ru_maxrss as u64, output))
}

#[derive(Serialize, Clone, Default)]
struct Ours {
    wall_ms: u64,
    peak_rss_kib: u64,
    timings: serde_json::Value,
    rows: u64,
    errors: u64,
}

fn ours(bin: &Path, servers: &Servers, dir: &Path, n: usize) -> anyhow::Result<Ours> {
    let inv = dir.join(format!("inventory-{n}.csv"));
    std::fs::write(&inv, inventory(servers, n))?;
    let out = dir.join(format!("out-{n}"));
    let (wall, rss, output) = measure(
        Command::new(bin)
            .args(["generate", "--local", "--no-progress", "--output", "json", "--concurrency"])
            .arg(CONCURRENCY.to_string())
            .arg("--inventory")
            .arg(&inv)
            .arg("--secrets-file")
            .arg(dir.join("secrets.json"))
            .arg("--tls-ca-file")
            .arg(&servers.ca)
            .arg("--out")
            .arg(&out),
    )?;
    if !output.status.success() {
        bail!("generate --local failed at N={n}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    if summary["errors"].as_u64() != Some(0) {
        bail!("N={n}: {} targets failed; the estate must be readable for a fair comparison", summary["errors"]);
    }
    std::fs::remove_dir_all(&out).ok();
    Ok(Ours {
        wall_ms: wall.as_millis() as u64,
        peak_rss_kib: rss,
        timings: summary["timings"].clone(),
        rows: summary["rows"].as_u64().unwrap_or(0),
        errors: 0,
    })
}

const PG_ADMIN_QUERY: &str = "SELECT rolname FROM pg_roles WHERE rolsuper OR rolcreaterole OR rolbypassrls";
const MYSQL_ADMIN_QUERY: &str = "SELECT user, host FROM mysql.user WHERE Super_priv = 'Y' OR Grant_priv = 'Y'";

/// The way a team does it today: one client process per database, one after another.
fn sequential(servers: &Servers, n: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for i in 0..n {
        let (engine, port) = servers.target(i);
        let output = match engine {
            Engine::Postgres => Command::new("psql")
                .arg(format!(
                    "host=127.0.0.1 port={port} user={USER} dbname=postgres sslmode=verify-full sslrootcert={}",
                    servers.ca.display()
                ))
                .args(["-XAtq", "-c", PG_ADMIN_QUERY])
                .env("PGPASSWORD", PASSWORD)
                .output()?,
            _ => Command::new("pt-show-grants").arg(format!("h=127.0.0.1,P={port},u={USER},p={PASSWORD}")).output()?,
        };
        if !output.status.success() || output.stdout.is_empty() {
            bail!("baseline failed on target {i} ({engine:?}): {}", String::from_utf8_lossy(&output.stderr));
        }
    }
    Ok(started.elapsed())
}

/// The floor: connect, one admin query, disconnect; same drivers, TLS and concurrency; no pipeline.
async fn floor(servers: &Servers, n: usize) -> anyhow::Result<Duration> {
    let tls = dbadmin_collector::engine::tls::client_config(dbadmin_contracts::TlsMode::VerifyFull, Some(&servers.ca))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .context("a TLS configuration")?
        .0;
    let started = Instant::now();
    let results: Vec<anyhow::Result<usize>> = futures::stream::iter(0..n)
        .map(|i| {
            let (engine, port) = servers.target(i);
            let tls = tls.clone();
            let ca = servers.ca.clone();
            async move {
                match engine {
                    Engine::Postgres => {
                        let mut config = tokio_postgres::Config::new();
                        config
                            .host("localhost")
                            .hostaddr(std::net::IpAddr::from([127, 0, 0, 1]))
                            .port(port)
                            .user(USER)
                            .password(PASSWORD)
                            .dbname("postgres")
                            .ssl_mode(tokio_postgres::config::SslMode::Require);
                        let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
                        let (client, connection) = config.connect(connector).await?;
                        let driver = tokio::spawn(connection);
                        let rows = client.simple_query(PG_ADMIN_QUERY).await?.len();
                        drop(client);
                        let _ = driver.await;
                        Ok(rows)
                    }
                    _ => {
                        use mysql_async::prelude::Queryable;
                        let ssl = mysql_async::SslOpts::default().with_root_certs(vec![ca.into()]);
                        // The collector's connection settings: TCP only (no switch to a local
                        // socket, which would bypass the delay proxy) and no settings query.
                        let opts = mysql_async::OptsBuilder::default()
                            .ip_or_hostname("localhost")
                            .tcp_port(port)
                            .user(Some(USER))
                            .pass(Some(PASSWORD))
                            .prefer_socket(false)
                            .max_allowed_packet(Some(64 * 1024 * 1024))
                            .wait_timeout(Some(28_800))
                            .ssl_opts(Some(ssl));
                        let mut conn = mysql_async::Conn::new(opts).await?;
                        let rows: Vec<(String, String)> = conn.query(MYSQL_ADMIN_QUERY).await?;
                        conn.disconnect().await?;
                        Ok(rows.len())
                    }
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for r in results {
        r.context("a floor connection failed")?;
    }
    Ok(started.elapsed())
}

/// Our collector engine alone: every catalog query the report needs, same drivers, TLS and
/// concurrency, but no queue, no storage, no counting, no report. `ours − engine` is the pipeline.
async fn engine_only(servers: &Servers, inventory_csv: &str, n: usize) -> anyhow::Result<Duration> {
    let inventory = dbadmin_contracts::Inventory::parse("bench", inventory_csv.as_bytes())?;
    let opts = dbadmin_collector::ConnectOptions { ca_file: Some(servers.ca.clone()), ..Default::default() };
    let creds = dbadmin_ports::DbCredentials { username: USER.into(), password: PASSWORD.into(), ..Default::default() };
    let started = Instant::now();
    let failures = futures::stream::iter(inventory.targets.iter().take(n))
        .map(|t| dbadmin_collector::engine::collect(t, &creds, &opts))
        .buffer_unordered(CONCURRENCY)
        .filter(|(r, _)| futures::future::ready(r.is_err()))
        .count()
        .await;
    if failures > 0 {
        bail!("{failures} engine-only collections failed");
    }
    Ok(started.elapsed())
}

#[derive(Serialize)]
struct Point {
    /// The round-trip time the delay proxies added.
    rtt_ms: u64,
    n: usize,
    ours: Ours,
    /// Measured, or `None` when extrapolated.
    sequential_ms: Option<u64>,
    sequential_extrapolated_ms: Option<u64>,
    floor_ms: u64,
    engine_only_ms: u64,
    ours_vs_sequential: f64,
    ours_vs_floor: f64,
    /// Client request flights per target, as the delay proxies counted them.
    round_trips: RoundTrips,
}

#[derive(Serialize, Default)]
struct RoundTrips {
    ours: f64,
    floor: f64,
    engine_only: f64,
    /// Measured only where the sequential loop was.
    sequential: Option<f64>,
}

#[derive(Serialize)]
struct Results {
    date: String,
    machine: String,
    concurrency: usize,
    note: &'static str,
    points: Vec<Point>,
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned()))
        .and_then(|kib| kib.parse::<u64>().ok())
        .map(|kib| kib / 1024 / 1024)
        .unwrap_or(0);
    let os = std::fs::read_to_string("/etc/debian_version").map(|v| format!("Debian {}", v.trim())).unwrap_or_default();
    format!("{cpus} cores, {mem} GiB, {} {os}", std::env::consts::ARCH)
}

#[allow(clippy::too_many_lines, reason = "a benchmark's script, read top to bottom; not product code")]
fn main() -> anyhow::Result<()> {
    let mut ns = Vec::new();
    let mut sequential_max = 100;
    let mut rtts: Vec<u64> = vec![0, 20];
    let mut name = "local".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sequential-max" => sequential_max = args.next().context("--sequential-max N")?.parse()?,
            // Another name for the results (`local-memory` → results/local-memory.json and .svg).
            "--name" => name = args.next().context("--name NAME")?,
            "--rtt-ms" => {
                rtts = args
                    .next()
                    .context("--rtt-ms 0,20")?
                    .split(',')
                    .map(|v| v.trim().parse::<u64>().with_context(|| format!("'{v}' is not milliseconds")))
                    .collect::<anyhow::Result<_>>()?
            }
            n => ns.push(n.parse::<usize>().with_context(|| format!("'{n}' is not a number of targets"))?),
        }
    }
    if ns.is_empty() {
        ns = vec![100, 1000];
    }
    let direct = Servers::from_env()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().context("repo root")?.to_owned();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let bin = target.join("release/db-admin-report");
    if !bin.exists() {
        bail!("{} is missing: cargo build --release -p db-admin-report --no-default-features", bin.display());
    }
    let dir = tempfile::tempdir()?;
    let secrets = dir.path().join("secrets.json");
    std::fs::copy(root.join("examples/demo/secrets.json"), &secrets)?;
    std::fs::set_permissions(&secrets, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;

    let mut points = Vec::new();
    for &rtt in &rtts {
        let proxied = runtime.block_on(Proxied::start(&direct, Duration::from_millis(rtt)))?;
        let servers = &proxied.servers;
        let mut per_target_sequential = None;
        for &n in &ns {
            eprintln!("[local-bench] RTT {rtt} ms, N={n}: ours");
            let (o, ours_trips) = proxied.counting(n, || ours(&bin, servers, dir.path(), n))?;
            eprintln!("[local-bench] RTT {rtt} ms, N={n}: floor");
            let (f, floor_trips) = proxied.counting(n, || runtime.block_on(floor(servers, n)))?;
            eprintln!("[local-bench] RTT {rtt} ms, N={n}: engine only");
            let (engine, engine_trips) =
                proxied.counting(n, || runtime.block_on(engine_only(servers, &inventory(servers, n), n)))?;
            let (seq_measured, seq, seq_trips) = if n <= sequential_max {
                eprintln!("[local-bench] RTT {rtt} ms, N={n}: sequential baseline");
                let (s, trips) = proxied.counting(n, || sequential(servers, n))?;
                per_target_sequential = Some(s.as_secs_f64() / n as f64);
                (Some(s.as_millis() as u64), s.as_secs_f64() * 1000.0, Some(trips))
            } else {
                // Extrapolated from the largest measured N, or not compared at all (--sequential-max 0).
                (None, per_target_sequential.map_or(0.0, |per| per * n as f64 * 1000.0), None)
            };
            let p = Point {
                rtt_ms: rtt,
                round_trips: RoundTrips {
                    ours: ours_trips,
                    floor: floor_trips,
                    engine_only: engine_trips,
                    sequential: seq_trips,
                },
                n,
                ours_vs_sequential: seq / o.wall_ms as f64,
                ours_vs_floor: o.wall_ms as f64 / f.as_millis().max(1) as f64,
                sequential_extrapolated_ms: (seq_measured.is_none() && seq > 0.0).then_some(seq as u64),
                sequential_ms: seq_measured,
                floor_ms: f.as_millis() as u64,
                engine_only_ms: engine.as_millis() as u64,
                ours: o,
            };
            eprintln!(
            "[local-bench] RTT {rtt} ms, N={n}: ours {} ms (peak {} MiB, {:.1} round trips per target), sequential {} ms{}, floor {} ms ({:.1}), engine only {} ms ({:.1}) → {:.1}× faster than sequential, {:.2}× the floor",
            p.ours.wall_ms,
            p.ours.peak_rss_kib / 1024,
            p.round_trips.ours,
            seq as u64,
            if seq_measured.is_none() { " (extrapolated)" } else { "" },
            p.floor_ms,
            p.round_trips.floor,
            p.engine_only_ms,
            p.round_trips.engine_only,
            p.ours_vs_sequential,
            p.ours_vs_floor
        );
            points.push(p);
        }
    }
    let results = Results {
        date: dbadmin_contracts::now_rfc3339(),
        machine: machine(),
        concurrency: CONCURRENCY,
        note: "every server behind a delay proxy adding rtt_ms (half each way, one RTT per new connection) and counting client request flights (round_trips, per target); ours = release `generate --local` child process (wall, peak RSS); sequential = pt-show-grants / psql per target (measured up to --sequential-max, extrapolated beyond); floor = connect + one admin query + disconnect, same drivers and concurrency; engine only = our collector's full catalog queries, same concurrency, no pipeline",
        points,
    };
    let out = root.join("load-tests/results");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join(format!("{name}.json")), serde_json::to_vec_pretty(&results)?)?;
    std::fs::write(out.join(format!("{name}-wall-time.svg")), chart(&results.points))?;
    eprintln!("[local-bench] wrote {}", out.display());
    Ok(())
}

/// A chart line: name, colour, dashed, (N, milliseconds) points.
type Series = (String, &'static str, bool, Vec<(f64, f64)>);

/// Wall time against N on log-log axes, one line per method and round-trip time (dashed when the
/// proxies add latency).
fn chart(points: &[Point]) -> String {
    let (w, h, left, bottom, top, right) = (760.0, 460.0, 70.0, 50.0, 30.0, 230.0);
    let mut rtts: Vec<u64> = points.iter().map(|p| p.rtt_ms).collect();
    rtts.dedup();
    type Measure = fn(&Point) -> u64;
    let methods: [(&str, &str, Measure); 4] = [
        ("db-admin-report", "#1f77b4", |p| p.ours.wall_ms),
        ("sequential", "#d62728", |p| p.sequential_ms.or(p.sequential_extrapolated_ms).unwrap_or(0)),
        ("floor", "#2ca02c", |p| p.floor_ms),
        ("engine only", "#ff7f0e", |p| p.engine_only_ms),
    ];
    let series: Vec<Series> = rtts
        .iter()
        .flat_map(|&rtt| {
            methods.iter().map(move |(name, color, measure)| {
                let pts = points.iter().filter(|p| p.rtt_ms == rtt).map(|p| (p.n as f64, measure(p) as f64)).collect();
                (format!("{name}, RTT {rtt} ms"), *color, rtt > 0, pts)
            })
        })
        .collect();
    let all: Vec<(f64, f64)> = series.iter().flat_map(|s| s.3.iter().copied()).filter(|p| p.1 > 0.0).collect();
    let (xmin, xmax) = (all.iter().map(|p| p.0).fold(f64::MAX, f64::min), all.iter().map(|p| p.0).fold(0.0, f64::max));
    let (ymin, ymax) = (all.iter().map(|p| p.1).fold(f64::MAX, f64::min), all.iter().map(|p| p.1).fold(0.0, f64::max));
    let (lx0, lx1) = (xmin.log10().floor(), xmax.log10().ceil().max(xmin.log10().floor() + 1.0));
    let (ly0, ly1) = (ymin.log10().floor(), ymax.log10().ceil().max(ymin.log10().floor() + 1.0));
    let x = |v: f64| left + (v.log10() - lx0) / (lx1 - lx0) * (w - left - right);
    let y = |v: f64| h - bottom - (v.log10() - ly0) / (ly1 - ly0) * (h - bottom - top);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"18\" font-size=\"14\">Local run wall time vs number of databases and network round-trip time (log-log)</text>\n"
    );
    for e in lx0 as i32..=lx1 as i32 {
        let v = 10f64.powi(e);
        svg.push_str(&format!(
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{top}\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{0}\" y=\"{2}\" text-anchor=\"middle\">{3}</text>\n",
            x(v),
            h - bottom,
            h - bottom + 16.0,
            v
        ));
    }
    for e in ly0 as i32..=ly1 as i32 {
        let v = 10f64.powi(e);
        let label = if v >= 1000.0 { format!("{} s", v / 1000.0) } else { format!("{v} ms") };
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{0}\" y1=\"{1}\" y2=\"{1}\" stroke=\"#ddd\"/><text x=\"{2}\" y=\"{3}\" text-anchor=\"end\">{label}</text>\n",
            w - right,
            y(v),
            left - 6.0,
            y(v) + 4.0
        ));
    }
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">databases (N)</text>\n",
        (left + w - right) / 2.0,
        h - 10.0
    ));
    for (i, (name, color, dashed, pts)) in series.iter().enumerate() {
        let path: Vec<String> =
            pts.iter().filter(|p| p.1 > 0.0).map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1))).collect();
        let dash = if *dashed { " stroke-dasharray=\"6 4\"" } else { "" };
        svg.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash} points=\"{}\"/>\n",
            path.join(" ")
        ));
        for p in pts.iter().filter(|p| p.1 > 0.0) {
            svg.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>\n", x(p.0), y(p.1)));
        }
        let ly = top + 20.0 + i as f64 * 18.0;
        svg.push_str(&format!(
            "<line x1=\"{0}\" x2=\"{1}\" y1=\"{ly}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/><text x=\"{2}\" y=\"{3}\">{name}</text>\n",
            w - right + 10.0,
            w - right + 30.0,
            w - right + 34.0,
            ly + 4.0
        ));
    }
    svg.push_str("</svg>\n");
    svg
}
