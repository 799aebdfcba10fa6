//! The HTTP edge against a scripted local server: retries and backoff, credentials, and one
//! clear line for each failure (401, unreachable, timeout, not Prometheus, bad body).

use std::time::{Duration, Instant};

use vigil_pull::{Auth, PullError, PullSpec, QueryArg, RetryPolicy, ServerUrl, resolve_names};

use super::harness::{Reply, Stub, free_port, http, matrix_body};

fn spec(url: &str, retries: u32) -> PullSpec {
    let queries = resolve_names(vec![QueryArg::parse("up")]).expect("query");
    let mut spec = PullSpec::new(
        ServerUrl::parse(url).expect("url"),
        queries,
        60_000,
        180_000,
        60_000,
    );
    spec.retry = RetryPolicy {
        max_retries: retries,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    };
    spec.timeout = Duration::from_secs(5);
    spec
}

fn message(result: vigil_pull::Result<vigil_pull::Pulled>) -> String {
    let text = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(!text.contains('\n'), "not one line: {text}");
    assert!(text.contains("; hint: "), "no hint: {text}");
    text
}

const OK: &str = "[60,\"1\"],[120,\"2\"],[180,\"NaN\"]";

#[test]
fn transient_failures_are_retried_with_backoff() {
    let body = matrix_body(&[(60, "1"), (120, "2"), (180, "NaN")]);
    assert!(body.contains(OK));
    let stub = Stub::start(vec![
        http(
            503,
            "Service Unavailable",
            "Retry-After: 0\r\n",
            "{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"busy\"}",
        ),
        http(502, "Bad Gateway", "", "<html>gateway</html>"),
        http(200, "OK", "", &body),
    ]);
    let started = Instant::now();
    let pulled = spec(&stub.url, 3)
        .check()
        .expect("spec")
        .run(&mut |_| {})
        .expect("third attempt succeeds");
    // Waits of 20 ms then 40 ms: the backoff doubles.
    assert!(started.elapsed() >= Duration::from_millis(60));
    let values = pulled.series[0].values.column(0).to_vec();
    assert_eq!(&values[..2], [1.0, 2.0]);
    assert!(values[2].is_nan());
    let requests = stub.finish();
    assert_eq!(requests.len(), 3);
    assert!(
        requests[0].starts_with("POST /api/v1/query_range HTTP/1.1"),
        "{}",
        requests[0]
    );
    assert!(
        requests[0].contains("query=up&start=60.000&end=180.000&step=60.000"),
        "{}",
        requests[0]
    );
}

#[test]
fn retries_are_bounded() {
    let busy = || {
        http(
            503,
            "Service Unavailable",
            "",
            "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out\"}",
        )
    };
    let stub = Stub::start(vec![busy(), busy(), busy()]);
    let text = message(spec(&stub.url, 1).check().expect("spec").run(&mut |_| {}));
    assert!(
        text.starts_with(
            "query \"up\" (up): Prometheus failed (timeout, HTTP 503): query timed out; hint: "
        ),
        "{text}"
    );
    // One try and one retry, then it stops.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(stub.requests().len(), 2);
}

#[test]
fn unauthorised_is_one_line_and_never_echoes_the_secret() {
    let stub = Stub::start(vec![http(
        401,
        "Unauthorized",
        "WWW-Authenticate: Bearer\r\n",
        "Unauthorized\n",
    )]);
    let mut with_token = spec(&stub.url, 3);
    with_token.auth = Auth::from_env(Some("VIGIL_TEST_TOKEN"), None, |_| {
        Some("s3cret-token".to_owned())
    })
    .expect("auth");
    let text = message(with_token.check().expect("spec").run(&mut |_| {}));
    assert_eq!(
        text,
        format!(
            "query \"up\": Prometheus at {} answered HTTP 401 (not authorised); hint: the token in $VIGIL_TEST_TOKEN was refused; check that it is current and allowed to query",
            stub.url
        )
    );
    let requests = stub.finish();
    assert_eq!(requests.len(), 1, "a 401 is not retried");
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer s3cret-token"),
        "{}",
        requests[0]
    );

    let stub = Stub::start(vec![http(401, "Unauthorized", "", "")]);
    let text = message(spec(&stub.url, 0).check().expect("spec").run(&mut |_| {}));
    assert!(
        text.contains("HTTP 401") && text.contains("--bearer-token-env NAME"),
        "{text}"
    );
}

#[test]
fn basic_auth_is_sent_from_the_environment() {
    let stub = Stub::start(vec![http(200, "OK", "", &matrix_body(&[(60, "1")]))]);
    let mut basic = spec(&stub.url, 0);
    basic.auth = Auth::from_env(None, Some("VIGIL_TEST_BASIC"), |_| {
        Some("Aladdin:open sesame".to_owned())
    })
    .expect("auth");
    assert_eq!(
        format!("{:?}", basic.auth),
        "Auth(basic auth from $VIGIL_TEST_BASIC)"
    );
    basic.check().expect("spec").run(&mut |_| {}).expect("pull");
    let requests = stub.finish();
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("authorization: basic qwxhzgrpbjpvcgvuihnlc2ftzq=="),
        "{}",
        requests[0]
    );
}

#[test]
fn unreachable_server_is_one_line_after_bounded_retries() {
    let port = free_port(); // bound and released: nothing listens there
    let url = format!("http://127.0.0.1:{port}");
    let text = message(spec(&url, 2).check().expect("spec").run(&mut |_| {}));
    assert_eq!(
        text,
        format!(
            "query \"up\": cannot connect to Prometheus at {url}: connection refused (after 3 attempt(s)); hint: check the URL and port, and that the server is running and reachable from here"
        )
    );
}

#[test]
fn a_silent_server_times_out() {
    let stub = Stub::start(vec![Reply::Stall(Duration::from_secs(3))]);
    let mut slow = spec(&stub.url, 0);
    slow.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let text = message(slow.check().expect("spec").run(&mut |_| {}));
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        text.starts_with("query \"up\": no answer from Prometheus at")
            && text.contains("--timeout"),
        "{text}"
    );
}

#[test]
fn something_that_is_not_prometheus_is_named() {
    let stub = Stub::start(vec![http(
        404,
        "Not Found",
        "",
        "<html><h1>404 page not found</h1></html>",
    )]);
    let text = message(spec(&stub.url, 3).check().expect("spec").run(&mut |_| {}));
    assert!(text.starts_with(&format!("query \"up\": {}/api/v1/query_range answered HTTP 404: <html><h1>404 page not found</h1></html>; hint:", stub.url)), "{text}");

    let stub = Stub::start(vec![http(200, "OK", "", "hello")]);
    let text = message(spec(&stub.url, 0).check().expect("spec").run(&mut |_| {}));
    assert!(text.contains("did not answer with a Prometheus range-query result: the body is not Prometheus API JSON"), "{text}");

    let stub = Stub::start(vec![http(
        200,
        "OK",
        "",
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
    )]);
    let text = message(spec(&stub.url, 0).check().expect("spec").run(&mut |_| {}));
    assert!(text.contains("resultType is \"vector\""), "{text}");

    let stub = Stub::start(vec![http(200, "OK", "", &matrix_body(&[(90, "1")]))]);
    let text = message(spec(&stub.url, 0).check().expect("spec").run(&mut |_| {}));
    assert!(
        text.contains("not one of the chunk's evaluation times"),
        "{text}"
    );
}

#[test]
fn bad_urls_fail_before_any_request() {
    for (url, want) in [
        ("localhost:9090", "no scheme"),
        ("http://", "no host"),
        ("ftp://127.0.0.1:9090", "not http or https"),
    ] {
        let error = ServerUrl::parse(url).err();
        assert!(
            matches!(&error, Some(PullError::BadUrl { reason, .. }) if reason.contains(want)),
            "{url}: {error:?}"
        );
        let text = error.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            text.starts_with(&format!("invalid Prometheus URL {url:?}")) && !text.contains('\n'),
            "{text}"
        );
    }
}
