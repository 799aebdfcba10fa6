//! Test servers: a real Prometheus (Debian's `prometheus` 2.42 package) started on a free
//! 127.0.0.1 port over TSDB blocks backfilled with `promtool`, and a scripted HTTP stub on a
//! `TcpListener`. Both only ever listen on 127.0.0.1, and every wait has a deadline.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// 2024-01-01T00:00:00Z in seconds: the first sample of the test data.
pub const T0_S: i64 = 1_704_067_200;
/// The same in milliseconds.
pub const T0_MS: i64 = T0_S * 1000;

/// Finds an executable on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// True when `prometheus` and `promtool` are installed. Without them the test FAILS under `CI`
/// and is loudly skipped elsewhere.
pub fn real_server_available(test: &str) -> bool {
    let missing: Vec<&str> = ["prometheus", "promtool"]
        .into_iter()
        .filter(|tool| which(tool).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{test}: {} not installed; install Debian's package: DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus",
        missing.join(" and ")
    );
    if std::env::var("CI").is_ok_and(|v| !v.is_empty()) {
        panic!("{message} (CI is set, so this test may not skip)");
    }
    eprintln!(
        "\n========== SKIPPED (real Prometheus) ==========\n{message}\n===============================================\n"
    );
    false
}

/// A Prometheus server over backfilled data, stopped (killed and reaped) on drop.
pub struct PromServer {
    child: Child,
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl PromServer {
    /// Backfills `openmetrics` (text ending in `# EOF`) with `promtool tsdb
    /// create-blocks-from openmetrics` and starts Prometheus on that storage.
    pub fn start(openmetrics: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data.om");
        let tsdb = dir.path().join("tsdb");
        std::fs::write(&data, openmetrics).expect("write OpenMetrics");
        let backfill = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg(&data)
            .arg(&tsdb)
            .output()
            .expect("run promtool");
        assert!(
            backfill.status.success(),
            "promtool backfill failed: {}{}",
            String::from_utf8_lossy(&backfill.stdout),
            String::from_utf8_lossy(&backfill.stderr)
        );
        let config = dir.path().join("prometheus.yml");
        // No scrape targets: the server only serves the backfilled blocks.
        std::fs::write(&config, "global:\n  scrape_interval: 1m\n").expect("write config");
        let port = free_port();
        let log = dir.path().join("prometheus.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // Time retention counts back from the newest block: keep old test data.
            .arg("--storage.tsdb.retention.time=100y")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start prometheus");
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        server.wait_ready(port);
        server
    }

    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "prometheus exited ({status}) before it was ready:\n{}",
                    self.log_text()
                );
            }
            if http_get_status(port, "/-/ready") == Some(200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready within 60 s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for PromServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago (bound, then released).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// The status code of a plain GET, or `None` when nothing answers.
fn http_get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// One scripted answer of the stub.
pub enum Reply {
    /// Write this raw HTTP response and close.
    Respond(String),
    /// Read the request and answer nothing for this long (to provoke a client timeout).
    Stall(Duration),
}

/// A raw HTTP/1.1 response with a body.
pub fn http(status: u16, reason: &str, extra_headers: &str, body: &str) -> Reply {
    Reply::Respond(format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    ))
}

/// A scripted HTTP server on 127.0.0.1: answers one connection per reply, in order, and
/// records each request (head and body). It gives up waiting for a client after 20 s.
pub struct Stub {
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
    handle: Option<JoinHandle<()>>,
}

impl Stub {
    /// Starts the stub with its replies.
    pub fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind stub");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let handle = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(20);
            for reply in replies {
                let stream = loop {
                    match listener.accept() {
                        Ok((stream, _)) => break stream,
                        Err(_) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => return,
                    }
                };
                serve(stream, reply, &seen);
            }
        });
        Self {
            url,
            requests,
            handle: Some(handle),
        }
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits (at most 20 s) until every reply was served.
    pub fn finish(mut self) -> Vec<String> {
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        self.requests()
    }
}

fn serve(mut stream: TcpStream, reply: Reply, seen: &Mutex<Vec<String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = read_request(&mut stream);
    if let Ok(mut all) = seen.lock() {
        all.push(request);
    }
    match reply {
        Reply::Respond(text) => {
            let _ = stream.write_all(text.as_bytes());
        }
        Reply::Stall(duration) => std::thread::sleep(duration),
    }
}

fn read_request(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let mut body_wanted: Option<usize> = None;
    loop {
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
            let length = *body_wanted.get_or_insert_with(|| {
                head.lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0)
            });
            if bytes.len() >= end + 4 + length {
                break;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A successful matrix answer with one series `{job="a"}` and the given `(seconds, value)`.
pub fn matrix_body(samples: &[(i64, &str)]) -> String {
    let values: Vec<String> = samples
        .iter()
        .map(|(t, v)| format!("[{t},\"{v}\"]"))
        .collect();
    format!(
        "{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":[{{\"metric\":{{\"job\":\"a\"}},\"values\":[{}]}}]}}}}",
        values.join(",")
    )
}

/// A path inside a fresh temp dir that is kept alive by the returned guard.
pub fn out_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("pulled");
    (dir, out)
}

/// Reads a file to a string, panicking with its path.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
