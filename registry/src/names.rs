//! Validation of every name and key that reaches the database or the artifact directory.
//!
//! Values always travel as bound parameters, so validation is not what keeps SQL injection
//! out; it keeps names usable in URLs, file names and `MODEL@ALIAS` references, and gives a
//! clear error at the edge instead of a confusing one later.

use crate::error::{RegistryError, Result};

const MAX_NAME: usize = 128;
const MAX_KEY: usize = 250;
const MAX_ARTIFACT_NAME: usize = 255;

/// Checks a model, experiment or dataset-role name: 1–128 of `A-Z a-z 0-9 . _ -`, starting
/// with a letter or digit.
pub fn validate_name(kind: &'static str, value: &str) -> Result<()> {
    let fail = |reason| {
        Err(RegistryError::InvalidName {
            kind,
            value: value.to_owned(),
            reason,
        })
    };
    if value.is_empty() {
        return fail("it is empty");
    }
    if value.len() > MAX_NAME {
        return fail("it is longer than 128 characters");
    }
    if !value.as_bytes()[0].is_ascii_alphanumeric() {
        return fail("it must start with a letter or digit");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return fail("it may only hold A-Z a-z 0-9 . _ -");
    }
    Ok(())
}

/// Checks an alias name: a [`validate_name`] name that is not all digits, so `MODEL@3` always
/// means version 3 and `MODEL@champion` always an alias.
pub fn validate_alias(value: &str) -> Result<()> {
    validate_name("alias", value)?;
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RegistryError::InvalidName {
            kind: "alias",
            value: value.to_owned(),
            reason: "it is all digits, which would read as a version number",
        });
    }
    Ok(())
}

/// Checks a param, metric or tag key: 1–250 characters, no control characters.
pub fn validate_key(kind: &'static str, value: &str) -> Result<()> {
    let fail = |reason| {
        Err(RegistryError::InvalidKey {
            kind,
            value: value.to_owned(),
            reason,
        })
    };
    if value.is_empty() {
        return fail("it is empty");
    }
    if value.chars().count() > MAX_KEY {
        return fail("it is longer than 250 characters");
    }
    if value.chars().any(char::is_control) {
        return fail("it holds a control character");
    }
    Ok(())
}

/// Checks an artifact name: a plain file name that cannot escape the directory it is written
/// into (no separators, no `.`/`..`, no NUL, not absolute, at most 255 bytes).
pub fn validate_artifact_name(value: &str) -> Result<()> {
    let fail = |reason| {
        Err(RegistryError::InvalidArtifactName {
            value: value.to_owned(),
            reason,
        })
    };
    if value.is_empty() {
        return fail("it is empty");
    }
    if value.len() > MAX_ARTIFACT_NAME {
        return fail("it is longer than 255 bytes");
    }
    if value.contains('\0') {
        return fail("it holds a NUL byte");
    }
    if value.contains('/') || value.contains('\\') {
        return fail("it holds a path separator");
    }
    if value == "." || value == ".." {
        return fail("it names a directory");
    }
    if value.chars().any(char::is_control) {
        return fail("it holds a control character");
    }
    if value == crate::export::MANIFEST_FILE {
        return fail("it is reserved for the manifest written by `get`");
    }
    Ok(())
}

/// Checks a sha256 hex digest (dataset fingerprint or artifact hash): 64 lowercase hex digits.
pub fn validate_digest(kind: &'static str, value: &str) -> Result<()> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(RegistryError::InvalidDigest {
            kind,
            value: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_the_documented_alphabet() {
        for ok in ["nab-ewma", "model_1", "A.b-c_d", "7days"] {
            assert!(validate_name("model", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn names_reject_each_rule() {
        let long = "a".repeat(129);
        for (bad, why) in [
            ("", "empty"),
            (long.as_str(), "longer"),
            ("-x", "start"),
            ("a b", "may only"),
            ("a@b", "may only"),
            ("a/b", "may only"),
            ("x'; DROP TABLE runs; --", "may only"),
        ] {
            let err = validate_name("model", bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(err.contains("hint:"), "{err}");
        }
    }

    #[test]
    fn aliases_cannot_be_numbers() {
        assert!(validate_alias("champion").is_ok());
        assert!(validate_alias("v2").is_ok());
        let err = validate_alias("42").expect_err("digits").to_string();
        assert!(err.contains("version number"), "{err}");
    }

    #[test]
    fn keys_reject_empty_long_and_control() {
        assert!(validate_key("metric", "f1/point adjusted").is_ok());
        assert!(validate_key("metric", "").is_err());
        assert!(validate_key("metric", &"k".repeat(251)).is_err());
        assert!(validate_key("metric", "a\nb").is_err());
    }

    #[test]
    fn artifact_names_cannot_escape() {
        assert!(validate_artifact_name("model.json").is_ok());
        assert!(validate_artifact_name("..hidden").is_ok());
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "manifest.json",
        ] {
            let err = validate_artifact_name(bad).expect_err(bad).to_string();
            assert!(err.contains("hint:"), "{err}");
        }
        assert!(validate_artifact_name(&"x".repeat(256)).is_err());
    }

    #[test]
    fn digests_are_64_lowercase_hex() {
        assert!(validate_digest("dataset fingerprint", &"ab".repeat(32)).is_ok());
        assert!(validate_digest("dataset fingerprint", &"AB".repeat(32)).is_err());
        assert!(validate_digest("dataset fingerprint", "abc").is_err());
        assert!(validate_digest("dataset fingerprint", &"g".repeat(64)).is_err());
    }
}
