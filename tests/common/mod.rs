//! What the CLI test binaries share: the shared datasets and running the `vigil` binary.
//! (Each test binary uses a different subset, hence `dead_code`.)

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// `../shared/datasets` (or `VIGIL_SHARED_DATASETS`); fails when it is missing.
pub fn shared_datasets() -> PathBuf {
    vigil_testkit::shared_datasets()
}

/// The `vigil` binary with `args`, isolated from the caller's log level, registry and shard
/// group; output captured (for `spawn`).
pub fn vigil_command<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vigil"));
    command
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("VIGIL_DB")
        .env_remove("VIGIL_SHARD_GROUP")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `vigil args` to completion.
pub fn vigil(args: &[&str]) -> Output {
    vigil_command(args).output().expect("run vigil")
}

/// Standard output as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// (stdout, stderr) as text.
pub fn text(output: &Output) -> (String, String) {
    (stdout(output), stderr(output))
}
