//! Integration tests of vigil-reports: one binary, fixtures shared by every module.

#![allow(clippy::unwrap_used)]

mod report;
