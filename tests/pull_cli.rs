//! `vigil datasets pull` argument handling and its one-line errors (the binary prints
//! `error: {error:#}` and exits 2 for any `Err`). The CLI module is compiled in here directly,
//! so these tests do not depend on how the verb is wired into `main`.

#[path = "../src/cli/pull.rs"]
#[allow(dead_code)]
mod pull;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    args: pull::PullArgs,
}

/// Parses `vigil datasets pull` arguments (after the verb).
fn parse(argv: &[&str]) -> pull::PullArgs {
    let out = std::env::temp_dir().join("vigil-pull-cli-never-written");
    let out = out.display().to_string();
    let mut all = vec!["pull", "--out", out.as_str()];
    all.extend(argv);
    Cli::try_parse_from(all).expect("arguments parse").args
}

/// `extra` plus a one-hour range at 1m, no retries and a 5 s timeout.
fn args(extra: &[&str]) -> pull::PullArgs {
    let mut argv = vec![
        "--start",
        "2024-01-01T00:00:00Z",
        "--end",
        "2024-01-01T01:00:00Z",
        "--retries",
        "0",
        "--timeout",
        "5s",
    ];
    argv.extend(extra);
    parse(&argv)
}

/// Runs the verb and returns its error as the binary prints it, checking it is one line.
fn error_line(args: &pull::PullArgs) -> String {
    let error = pull::run(args).expect_err("the pull fails");
    let line = format!("{error:#}");
    assert!(!line.contains('\n'), "more than one line: {line}");
    assert!(line.contains("; hint: "), "no hint: {line}");
    line
}

/// Answers one connection with a raw HTTP response, then stops (gives up after 10 s).
fn one_shot_server(response: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok((mut stream, _)) = listener.accept() {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(response.as_bytes());
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    url
}

fn response(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn bad_url_is_one_line() {
    let line = error_line(&args(&["--prometheus", "127.0.0.1:9090", "--query", "up"]));
    assert_eq!(
        line,
        "invalid Prometheus URL \"127.0.0.1:9090\": it has no scheme (http:// or https://); hint: give the server's base URL, like http://127.0.0.1:9090 or https://prometheus.example.com/prom"
    );
}

#[test]
fn unreachable_server_is_one_line() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let line = error_line(&args(&["--prometheus", &url, "--query", "up"]));
    assert!(line.starts_with(&format!("query \"up\": cannot connect to Prometheus at {url}: connection refused (after 1 attempt(s))")), "{line}");
}

#[test]
fn promql_syntax_error_is_one_line() {
    // The body Prometheus 2.42 sends for `rate(x[5m)`.
    let body = r#"{"status":"error","errorType":"bad_data","error":"1:10: parse error: unexpected \")\" in subquery or range, expected \":\" or \"]\""}"#;
    let url = one_shot_server(response("400 Bad Request", body));
    let line = error_line(&args(&["--prometheus", &url, "--query", "cpu=rate(x[5m)"]));
    assert_eq!(
        line,
        "query \"cpu\": Prometheus rejected the PromQL rate(x[5m): 1:10: parse error: unexpected \")\" in subquery or range, expected \":\" or \"]\"; hint: fix the query (try it in the Prometheus UI's graph tab first)"
    );
}

#[test]
fn unauthorised_is_one_line() {
    let url = one_shot_server(response("401 Unauthorized", "Unauthorized\n"));
    let line = error_line(&args(&["--prometheus", &url, "--query", "up"]));
    assert_eq!(
        line,
        format!(
            "query \"up\": Prometheus at {url} answered HTTP 401 (not authorised); hint: the server wants credentials: put a token in an environment variable and pass --bearer-token-env NAME (or `user:pass` with --basic-auth-env NAME)"
        )
    );
}

#[test]
fn arguments_resolve_into_a_spec() {
    let now = 1_704_067_200_000;
    let spec = parse(&[
        "--prometheus",
        "http://127.0.0.1:9090/",
        "--query",
        "cpu=rate(x_total[5m])",
        "--query",
        "up",
        "--start",
        "now-1h",
        "--step",
        "30s",
        "--max-points",
        "100",
        "--retries",
        "5",
        "--timeout",
        "5s",
    ])
    .to_spec(now, |_| None)
    .expect("spec");
    assert_eq!(spec.server.as_str(), "http://127.0.0.1:9090");
    assert_eq!(
        (spec.start, spec.end, spec.step),
        (now - 3_600_000, now, 30_000)
    );
    let names: Vec<&str> = spec.queries.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["cpu", "up"]);
    assert_eq!((spec.points_per_chunk, spec.retry.max_retries), (100, 5));
    assert_eq!(spec.timeout, Duration::from_secs(5));

    let missing = args(&[
        "--prometheus",
        "http://127.0.0.1:9090",
        "--query",
        "up",
        "--bearer-token-env",
        "VIGIL_SURELY_UNSET",
    ])
    .to_spec(now, |_| None);
    let line = missing.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(line.starts_with("environment variable VIGIL_SURELY_UNSET (named by --bearer-token-env) is not set or empty"), "{line}");

    let counter = pull::run(&args(&[
        "--prometheus",
        "http://127.0.0.1:9",
        "--query",
        "requests_total",
    ]));
    let line = counter.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(
        line.contains("reads the raw counter requests_total") && line.contains("--allow-counter"),
        "{line}"
    );
}
