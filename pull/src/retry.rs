//! When to try a request again, and how long to wait first.
//!
//! Transient failures — the connection refused or reset, a timeout, HTTP 429, 500, 502, 503 or
//! 504 — are retried with exponential backoff (initial, 2×, 4×, … capped), honouring a
//! `Retry-After` of the server up to the cap. Anything else (4xx, a PromQL error, a bad body)
//! fails at once. The policy is deterministic (no jitter): one CLI pulling serially does not
//! cause a thundering herd, and tests can state exact delays. Every wait is capped and the
//! number of attempts is bounded, so a pull always ends.

use std::time::Duration;

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = try once).
    pub max_retries: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// No single wait is longer than this, whatever the server's `Retry-After` says.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries after 0.5 s, 1 s and 2 s; waits capped at 10 s.
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): `initial · 2^(retry-1)`, raised to the
    /// server's `Retry-After` when that is longer, and capped at `max_backoff`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let backoff = self.initial_backoff.saturating_mul(factor);
        backoff
            .max(retry_after.unwrap_or_default())
            .min(self.max_backoff)
    }

    /// Whether another attempt may follow attempt number `attempt` (1-based).
    pub fn may_retry(&self, attempt: u32) -> bool {
        attempt <= self.max_retries
    }
}

/// HTTP statuses worth retrying: rate limiting and server-side or gateway trouble.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Reads a `Retry-After` header given in seconds (the HTTP-date form is ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy::default();
        let ms = |retry| policy.delay(retry, None).as_millis();
        assert_eq!(
            [ms(1), ms(2), ms(3), ms(4), ms(5), ms(6)],
            [500, 1_000, 2_000, 4_000, 8_000, 10_000]
        );
        assert_eq!(policy.delay(40, None), Duration::from_secs(10));
    }

    #[test]
    fn retry_after_raises_the_wait_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            policy.delay(3, Some(Duration::from_secs(1))),
            Duration::from_secs(2)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3_600))),
            Duration::from_secs(10)
        );
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn attempts_are_bounded() {
        let policy = RetryPolicy {
            max_retries: 2,
            ..RetryPolicy::default()
        };
        assert!(policy.may_retry(1) && policy.may_retry(2) && !policy.may_retry(3));
        assert!(
            !RetryPolicy {
                max_retries: 0,
                ..policy
            }
            .may_retry(1)
        );
    }

    #[test]
    fn only_transient_statuses_are_retried() {
        for status in [429, 500, 502, 503, 504] {
            assert!(is_transient_status(status), "{status}");
        }
        for status in [200, 400, 401, 403, 404, 422, 501] {
            assert!(!is_transient_status(status), "{status}");
        }
    }
}
