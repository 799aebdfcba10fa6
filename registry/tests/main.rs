//! Integration tests of vigil-registry on SQLite and PostgreSQL.
//!
//! PostgreSQL tests connect to `VIGIL_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), create a database per test and drop it
//! afterwards. If PostgreSQL is unreachable they print `SKIPPED: …` to stderr, or fail when
//! the `CI` environment variable is set.

mod common;

mod artifacts_gc;
mod concurrency;
mod crash;
mod migrations;
mod models;
mod roundtrip;

/// Not a test: the entry point of the child processes spawned by the concurrency and crash
/// tests (they re-run this binary with `--ignored --exact child_process_entry`).
#[test]
#[ignore = "child-process entry point for the concurrency and crash tests"]
fn child_process_entry() {
    common::child::entry();
}
