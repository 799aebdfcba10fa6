//! The HTTP side: one blocking `POST /api/v1/query_range` per chunk, retried on transient
//! failures, and the answer classified into samples or a one-line error naming the query.
//!
//! POST with a form body (which Prometheus accepts like GET) keeps long PromQL out of URL
//! length limits and out of proxy access logs.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{PullError, Result};
use crate::retry::{RetryPolicy, is_transient_status, parse_retry_after};
use crate::target::{Auth, ServerUrl};

/// The largest response body read (1 GiB); a larger one is an error, not an out-of-memory.
const MAX_BODY_BYTES: u64 = 1 << 30;

/// One label set's samples from one range query: times in ms (UTC), values as Prometheus sent
/// them (`NaN` and `±Inf` included).
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeries {
    /// The label set (`__name__` included when the query returns it).
    pub labels: BTreeMap<String, String>,
    /// `(time ms, value)` in the order Prometheus sent them (ascending time).
    pub samples: Vec<(i64, f64)>,
}

/// What a successful range query gave.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RangeAnswer {
    /// One entry per label set.
    pub series: Vec<RawSeries>,
    /// Prometheus' own `warnings`, passed on.
    pub warnings: Vec<String>,
}

/// A blocking Prometheus API client with retries.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    server: ServerUrl,
    auth: Auth,
    retry: RetryPolicy,
    timeout: Duration,
}

/// The outcome of one HTTP exchange before it is judged.
struct Exchange {
    status: u16,
    body: Vec<u8>,
}

impl Client {
    /// A client for `server`; each request (connect + answer) must finish within `timeout`.
    pub fn new(server: ServerUrl, auth: Auth, retry: RetryPolicy, timeout: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            agent,
            server,
            auth,
            retry,
            timeout,
        }
    }

    /// The server this client talks to.
    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    /// Runs `query` over `[start, end]` (ms) at `step` (ms). `name` labels errors and logs.
    pub fn query_range(
        &self,
        name: &str,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<RangeAnswer> {
        let url = self.server.endpoint("/api/v1/query_range");
        let form = [
            ("query", query.to_owned()),
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", seconds(step)),
        ];
        let exchange = self.post(name, &url, &form)?;
        self.judge(name, query, &url, exchange)
    }

    /// Posts the form, retrying transient failures; returns the final status and body.
    fn post(&self, name: &str, url: &str, form: &[(&str, String)]) -> Result<Exchange> {
        let mut attempt = 1;
        loop {
            let mut request = self.agent.post(url);
            if let Some(header) = self.auth.header() {
                request = request.header("Authorization", header);
            }
            let fields = form.iter().map(|(k, v)| (*k, v.as_str()));
            let failure = match request.send_form(fields) {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    let body = response
                        .body_mut()
                        .with_config()
                        .limit(MAX_BODY_BYTES)
                        .read_to_vec();
                    match body {
                        Ok(_) if is_transient_status(status) && self.retry.may_retry(attempt) => {
                            Failure::Retry(format!("HTTP {status}"), retry_after)
                        }
                        Ok(body) => return Ok(Exchange { status, body }),
                        Err(error) => self.transport_failure(name, url, attempt, error)?,
                    }
                }
                Err(error) => self.transport_failure(name, url, attempt, error)?,
            };
            let Failure::Retry(reason, retry_after) = failure;
            let delay = self.retry.delay(attempt, retry_after);
            tracing::warn!(
                "query {name:?}: {reason} from {}; retrying in {:.1} s (retry {attempt} of {})",
                self.server,
                delay.as_secs_f64(),
                self.retry.max_retries
            );
            std::thread::sleep(delay);
            attempt += 1;
        }
    }

    /// Turns a transport error into a retry (when transient and attempts remain) or the error
    /// to return.
    fn transport_failure(
        &self,
        name: &str,
        url: &str,
        attempt: u32,
        error: ureq::Error,
    ) -> Result<Failure> {
        let transient = matches!(
            &error,
            ureq::Error::Io(_) | ureq::Error::Timeout(_) | ureq::Error::ConnectionFailed
        );
        if transient && self.retry.may_retry(attempt) {
            return Ok(Failure::Retry(describe(&error), None));
        }
        Err(match error {
            ureq::Error::Timeout(_) => PullError::Timeout {
                name: name.to_owned(),
                url: self.server.to_string(),
                timeout: crate::time::format_duration(self.timeout.as_millis() as i64),
                attempts: attempt,
            },
            ureq::Error::BodyExceedsLimit(limit) => PullError::BadResponse {
                name: name.to_owned(),
                url: url.to_owned(),
                reason: format!(
                    "the answer is larger than {} MiB; pull fewer series per query or a shorter range per chunk (--max-points)",
                    limit >> 20
                ),
            },
            ureq::Error::BadUri(reason) => PullError::BadUrl {
                url: url.to_owned(),
                reason,
            },
            other => PullError::Unreachable {
                name: name.to_owned(),
                url: self.server.to_string(),
                reason: describe(&other),
                attempts: attempt,
            },
        })
    }

    /// Reads the final answer: samples, or the error it stands for.
    fn judge(&self, name: &str, query: &str, url: &str, exchange: Exchange) -> Result<RangeAnswer> {
        let Exchange { status, body } = exchange;
        if status == 401 || status == 403 {
            return Err(PullError::Unauthorized {
                name: name.to_owned(),
                url: self.server.to_string(),
                status,
                hint: self.auth.refused_hint(),
            });
        }
        let parsed: std::result::Result<ApiResponse<'_>, _> = serde_json::from_slice(&body);
        let response = match parsed {
            Ok(response) => response,
            Err(error) if (200..300).contains(&status) => {
                return Err(PullError::BadResponse {
                    name: name.to_owned(),
                    url: url.to_owned(),
                    reason: format!("the body is not Prometheus API JSON ({error})"),
                });
            }
            Err(_) => {
                return Err(PullError::HttpStatus {
                    name: name.to_owned(),
                    url: url.to_owned(),
                    status,
                    body: excerpt(&body),
                });
            }
        };
        if response.status != "success" {
            let error_type = response.error_type.unwrap_or_else(|| "unknown".to_owned());
            let error = one_line(response.error.as_deref().unwrap_or(""));
            if error_type == "bad_data"
                && (error.contains("parameter \"query\"") || error.contains("parse error"))
            {
                return Err(PullError::PromqlSyntax {
                    name: name.to_owned(),
                    query: query.to_owned(),
                    error,
                });
            }
            let hint = match error_type.as_str() {
                "bad_data" => {
                    "Prometheus refused the request's parameters: check --start, --end and --step"
                }
                "execution" => {
                    "the query failed while running (too many samples or series?): narrow the label matchers or use a coarser --step"
                }
                "timeout" | "canceled" => {
                    "the query ran out of time on the server: use a coarser --step, a shorter range or fewer series, or raise the server's --query.timeout"
                }
                _ => "the server had a problem; try again later, and check the server's own logs",
            };
            return Err(PullError::PrometheusFailed {
                name: name.to_owned(),
                query: query.to_owned(),
                error_type,
                status,
                error,
                hint: hint.to_owned(),
            });
        }
        let Some(data) = response.data else {
            return Err(PullError::BadResponse {
                name: name.to_owned(),
                url: url.to_owned(),
                reason: "status is success but there is no `data`".to_owned(),
            });
        };
        if data.result_type != "matrix" {
            return Err(PullError::BadResponse {
                name: name.to_owned(),
                url: url.to_owned(),
                reason: format!("resultType is {:?}, not \"matrix\"", data.result_type),
            });
        }
        let mut series = Vec::with_capacity(data.result.len());
        for result in data.result {
            let mut samples = Vec::with_capacity(result.values.len());
            for (time, text) in result.values {
                let value = text.parse::<f64>().map_err(|_| PullError::BadResponse {
                    name: name.to_owned(),
                    url: url.to_owned(),
                    reason: format!("sample value {text:?} is not a number"),
                })?;
                samples.push(((time * 1000.0).round() as i64, value));
            }
            series.push(RawSeries {
                labels: result.metric,
                samples,
            });
        }
        Ok(RangeAnswer {
            series,
            warnings: response.warnings,
        })
    }
}

/// A failure that will be retried: why, and the server's `Retry-After`.
enum Failure {
    Retry(String, Option<Duration>),
}

#[derive(Deserialize)]
struct ApiResponse<'a> {
    status: &'a str,
    #[serde(default, borrow)]
    data: Option<MatrixData<'a>>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
struct MatrixData<'a> {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(borrow)]
    result: Vec<MatrixSeries<'a>>,
}

#[derive(Deserialize)]
struct MatrixSeries<'a> {
    metric: BTreeMap<String, String>,
    #[serde(default, borrow)]
    values: Vec<(f64, &'a str)>,
}

/// Seconds with millisecond precision, as the API takes times and steps.
fn seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    format!("{sign}{}.{:03}", abs / 1000, abs % 1000)
}

/// A transport error as a short phrase (the innermost cause for IO errors).
fn describe(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            std::io::ErrorKind::ConnectionReset => "connection reset by the server".to_owned(),
            std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection early".to_owned()
            }
            _ => one_line(&io.to_string()),
        },
        ureq::Error::HostNotFound => "host not found (DNS)".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        other => one_line(&other.to_string()),
    }
}

/// Text with line breaks folded into spaces, so every message stays on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The start of a non-JSON body, for an HTTP error message (`: <text>` or nothing).
fn excerpt(body: &[u8]) -> String {
    let text = one_line(&String::from_utf8_lossy(&body[..body.len().min(400)]));
    if text.is_empty() {
        return String::new();
    }
    let short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        format!(": {short}…")
    } else {
        format!(": {short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_sent_as_seconds_with_milliseconds() {
        assert_eq!(seconds(1_700_000_000_000), "1700000000.000");
        assert_eq!(seconds(1_500), "1.500");
        assert_eq!(seconds(60_000), "60.000");
        assert_eq!(seconds(-250), "-0.250");
    }

    #[test]
    fn messages_stay_on_one_line() {
        assert_eq!(one_line("a\nb\t c  "), "a b c");
        assert_eq!(
            excerpt(b"<html>\n<h1>Not Found</h1>\n</html>"),
            ": <html> <h1>Not Found</h1> </html>"
        );
        assert_eq!(excerpt(b""), "");
        assert!(excerpt(&[b'x'; 500]).ends_with('…'));
    }
}
