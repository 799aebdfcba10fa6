//! Opening a rendered report in headless Chromium, as a person would: the page must load
//! without console output (the reports log nothing, so any line is an error such as
//! "Uncaught ..."), and the screenshot shows what a reader sees. Used by the tests of this
//! crate and of the `vigil` binary (a real `vigil run` report); needs Debian's `chromium`
//! (`VIGIL_CHROMIUM` names another binary).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// What the browser saw.
#[derive(Debug, Clone)]
pub struct PageLoad {
    /// Console lines Chromium logged for the page (empty for a clean page).
    pub console: Vec<String>,
    /// Wall time of the whole browser run, milliseconds.
    pub wall_ms: u128,
    /// Width and height of the screenshot, pixels.
    pub screenshot_size: (u32, u32),
    /// Size of the screenshot PNG, bytes (a blank page compresses to a few KB).
    pub screenshot_bytes: usize,
}

/// Why a page could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The browser could not be started or failed.
    #[error("chromium ({browser}) failed on {page}: {message}\nhint: {hint}")]
    Failed {
        /// The browser binary.
        browser: String,
        /// The page.
        page: String,
        /// What happened.
        message: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// The screenshot is missing or not a PNG.
    #[error("screenshot {path}: {message}")]
    Screenshot {
        /// The PNG path.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The Chromium binary: `VIGIL_CHROMIUM`, else `chromium` or `chromium-browser` on `PATH`.
pub fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("VIGIL_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|candidate| candidate.is_file())
}

/// Loads `page` in headless Chromium at `window` pixels and screenshots it to `png`.
pub fn open_headless(
    browser: &Path,
    page: &Path,
    png: &Path,
    window: (u32, u32),
) -> Result<PageLoad, BrowserError> {
    let failed = |message: String| BrowserError::Failed {
        browser: browser.display().to_string(),
        page: page.display().to_string(),
        message,
        hint: "install Debian's chromium (apt-get install -y --no-install-recommends \
               chromium) or set VIGIL_CHROMIUM",
    };
    let start = Instant::now();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            &format!("--screenshot={}", png.display()),
            &format!("--window-size={},{}", window.0, window.1),
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| failed(e.to_string()))?;
    let wall_ms = start.elapsed().as_millis();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(failed(format!("{}:\n{stderr}", out.status)));
    }
    // Chromium 156 logs page console output as `...:INFO:CONSOLE:12] "message", source: ...`
    // (errors and logs alike); uncaught exceptions read "Uncaught ...".
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    let shot_error = |message: String| BrowserError::Screenshot {
        path: png.display().to_string(),
        message,
    };
    let bytes = std::fs::read(png).map_err(|e| shot_error(e.to_string()))?;
    let screenshot_size = png_size(&bytes).ok_or_else(|| shot_error("not a PNG".into()))?;
    Ok(PageLoad {
        console,
        wall_ms,
        screenshot_size,
        screenshot_bytes: bytes.len(),
    })
}

/// Width and height from a PNG's signature and IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    Some((w, h))
}

#[cfg(test)]
mod tests {
    #[test]
    fn png_size_reads_the_header_and_rejects_other_bytes() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&1400u32.to_be_bytes());
        png.extend_from_slice(&2000u32.to_be_bytes());
        assert_eq!(super::png_size(&png), Some((1400, 2000)));
        assert_eq!(super::png_size(b"GIF89a not a png at all...."), None);
        assert_eq!(super::png_size(&png[..20]), None);
    }
}
