//! [`RedisServer`]: a real `redis-server` on an ephemeral loopback port, for the
//! shared-store tests, stopped and started again on the same port at will.
//!
//! Three kinds: [`RedisServer::start`] keeps nothing on disk,
//! [`RedisServer::start_tls`] speaks only TLS (`rediss://`) with a certificate made
//! at test time by a CA of its own ([`RedisServer::ca_pem`]), and
//! [`RedisServer::start_persistent`] keeps its data (append-only file, synced on
//! every write) across [`RedisServer::stop`] and [`RedisServer::start_again`].
//!
//! Where the binary is missing or the server does not start, the constructors return
//! `None` after printing a notice, so that those tests are skipped visibly; CI installs
//! it, and with `CI=true` in the environment they panic instead: a skipped test must
//! never look like a passed one in CI.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// How long a start or a stop may take before it counts as failed.
const PATIENCE: Duration = Duration::from_secs(10);

/// A running (or stopped) `redis-server`, with a temporary directory of its own
/// (removed on drop) for its log, its TLS files and, when persistent, its data.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    kind: Kind,
    dir: TempDir,
    ca_pem: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Plain TCP, nothing on disk: data goes with a stop.
    Memory,
    /// TLS only, nothing on disk.
    Tls,
    /// Plain TCP, every write appended and synced to disk: data survives a stop.
    Persistent,
}

/// Whether `redis-server` can be run here.
pub fn available() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether this runs in CI (`CI=true`), where a skipped test is a failed one.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// `None` with a notice outside CI; a panic in CI, so the skip cannot pass for a pass.
#[allow(clippy::panic)] // a test helper: in CI, a missing server must fail the test
fn skip(why: &str) -> Option<RedisServer> {
    if in_ci() {
        panic!("{why} (CI=true: the shared-store tests fail rather than skip)");
    }
    eprintln!(
        "notice: {why}; the shared-store tests are skipped \
         (apt-get install redis-server, which .ci/run does)"
    );
    None
}

impl RedisServer {
    /// Starts one on a free port that keeps nothing on disk. `None`, with a notice on
    /// stderr, when `redis-server` is not installed or does not start; with `CI=true`
    /// in the environment, panics instead.
    pub fn start() -> Option<Self> {
        Self::launch(Kind::Memory)
    }

    /// Starts one that speaks only TLS, on a free port: a CA and a server certificate
    /// for `127.0.0.1`, `::1` and `localhost` are made for it, [`url`](Self::url) is
    /// `rediss://127.0.0.1:<port>/` and [`ca_pem`](Self::ca_pem) is the CA to trust.
    /// Clients are not asked for certificates. `None` or a panic as for
    /// [`start`](Self::start).
    pub fn start_tls() -> Option<Self> {
        Self::launch(Kind::Tls)
    }

    /// Starts one whose data survives [`stop`](Self::stop) and
    /// [`start_again`](Self::start_again): an append-only file in its directory,
    /// synced on every write, and a stop that shuts the server down cleanly. `None` or
    /// a panic as for [`start`](Self::start).
    pub fn start_persistent() -> Option<Self> {
        Self::launch(Kind::Persistent)
    }

    fn launch(kind: Kind) -> Option<Self> {
        if !available() {
            return skip("redis-server is not installed");
        }
        match Self::prepare(kind) {
            Ok(mut server) => match server.start_again() {
                Ok(()) => Some(server),
                Err(e) => skip(&format!("redis-server did not start: {e}")),
            },
            Err(e) => skip(&format!("cannot prepare a redis-server: {e}")),
        }
    }

    fn prepare(kind: Kind) -> io::Result<Self> {
        let dir = TempDir::new()?;
        let ca_pem = if kind == Kind::Tls {
            let files = tls_files().map_err(|e| io::Error::other(e.to_string()))?;
            fs::write(dir.path().join("ca.pem"), &files.ca)?;
            fs::write(dir.path().join("server.pem"), &files.cert)?;
            fs::write(dir.path().join("server.key"), &files.key)?;
            Some(files.ca)
        } else {
            None
        };
        Ok(Self {
            port: free_port()?,
            child: None,
            kind,
            dir,
            ca_pem,
        })
    }

    /// The URL to connect to: `redis://127.0.0.1:<port>/`, or `rediss://` for a TLS
    /// server.
    pub fn url(&self) -> String {
        let scheme = if self.kind == Kind::Tls {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The PEM of the CA that signed a TLS server's certificate; `None` for the others.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The server's directory: its log, TLS files and, when persistent, its data.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server. A persistent one is sent `SHUTDOWN` (its data is on disk once
    /// it has exited); the others are killed and their data goes with them.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if self.kind == Kind::Persistent && shutdown(self.port).is_ok() {
            let deadline = Instant::now() + PATIENCE;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts it again on the same port (and, when persistent, with the same data)
    /// and waits until it accepts connections.
    pub fn start_again(&mut self) -> io::Result<()> {
        self.stop();
        let dir = self.dir.path();
        let port = self.port.to_string();
        let log = dir.join("redis.log");
        let mut args: Vec<String> = vec!["--bind".into(), "127.0.0.1".into()];
        args.extend(["--dir".into(), path_arg(dir)]);
        args.extend(["--logfile".into(), path_arg(&log)]);
        args.extend(["--save".into(), String::new()]);
        match self.kind {
            Kind::Memory => {
                args.extend(["--port".into(), port, "--appendonly".into(), "no".into()]);
            }
            Kind::Persistent => args.extend([
                "--port".into(),
                port,
                "--appendonly".into(),
                "yes".into(),
                "--appendfsync".into(),
                "always".into(),
            ]),
            Kind::Tls => args.extend([
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port,
                "--tls-cert-file".into(),
                path_arg(&dir.join("server.pem")),
                "--tls-key-file".into(),
                path_arg(&dir.join("server.key")),
                "--tls-ca-cert-file".into(),
                path_arg(&dir.join("ca.pem")),
                "--tls-auth-clients".into(),
                "no".into(),
                "--appendonly".into(),
                "no".into(),
            ]),
        }
        let child = Command::new("redis-server")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(io::Error::other(format!(
                    "redis-server exited ({status}): {}",
                    log_tail(&log)
                )));
            }
            if self.ready() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "redis-server did not accept connections within {} s: {}",
                PATIENCE.as_secs(),
                log_tail(&log)
            ),
        ))
    }

    /// Accepting connections and, over plain TCP, answering (not still loading data).
    fn ready(&self) -> bool {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(100))
        else {
            return false;
        };
        if self.kind == Kind::Tls {
            return true;
        }
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
            return false;
        }
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Asks the server on `port` to shut down (plain TCP): it syncs its data and exits.
fn shutdown(port: u16) -> io::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(b"*1\r\n$8\r\nSHUTDOWN\r\n")
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The last lines of the server's log, for a failure message.
fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
    if tail.is_empty() {
        "(no log)".into()
    } else {
        tail
    }
}

fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// The PEM files of a TLS server: its CA, its certificate and its key.
struct TlsFiles {
    ca: String,
    cert: String,
    key: String,
}

/// A CA, and a server certificate it signed for the loopback names (an IP address SAN
/// for `127.0.0.1` and `::1`, since clients check the address they dialled).
fn tls_files() -> Result<TlsFiles, rcgen::Error> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "auth-testkit Redis test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut server = CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        "localhost".to_owned(),
    ])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.is_ca = IsCa::ExplicitNoCa;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = server.signed_by(&key, &issuer)?;
    Ok(TlsFiles {
        ca: ca_cert.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

/// A directory under the system's temporary directory, removed with what it holds
/// on drop.
#[derive(Debug)]
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> io::Result<Self> {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "auth-testkit-redis-{}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed),
        ));
        fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
