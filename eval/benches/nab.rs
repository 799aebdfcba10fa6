//! Placeholder replaced by the NAB bench.
fn main() {}
