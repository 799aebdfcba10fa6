//! Opens each report in headless Chromium as a person would: the page must load without a
//! console message (the reports log nothing, so any message is an error such as "Uncaught
//! ..."), and the screenshot must be a real 1400×2000 PNG with content.
//!
//! Chromium is Debian's `chromium` (`VIGIL_CHROMIUM` overrides the binary). Under CI (`CI`
//! set) a missing browser fails the test; locally it is skipped with a note.
//! `VIGIL_UPDATE_SCREENSHOTS=1` copies the screenshots to `docs/report-*.png`;
//! `VIGIL_REPORTS_KEEP=DIR` keeps the HTML files there.

use std::path::{Path, PathBuf};

use vigil_reports::browser::{PageLoad, find_chromium, open_headless};
use vigil_reports::{render_comparison, render_experiment, render_model_card};

use crate::report::fixtures;

const WINDOW: (u32, u32) = (1400, 2000);

/// The browser, or `None` (after a note) when it is missing outside CI.
fn require_chromium() -> Option<PathBuf> {
    match find_chromium() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!(
            "chromium not found under CI\nhint: apt-get install -y --no-install-recommends chromium (or set VIGIL_CHROMIUM)"
        ),
        None => {
            eprintln!("note: chromium not found; skipping the browser check (it fails under CI)");
            None
        }
    }
}

/// Loads `html_path`, screenshots it to `png` at the test's window size.
fn load(browser: &Path, html_path: &Path, png: &Path) -> PageLoad {
    open_headless(browser, html_path, png, WINDOW).unwrap()
}

/// Renders `html` in the browser and checks it; `docs_height` is the height of the committed
/// screenshot (taller for the experiment report, so its first plots show).
fn check(browser: &Path, dir: &Path, name: &str, html: &str, docs_height: u32) -> PageLoad {
    let html_path = dir.join(format!("{name}.html"));
    let png = dir.join(format!("{name}.png"));
    std::fs::write(&html_path, html).unwrap();
    if let Some(keep) = std::env::var_os("VIGIL_REPORTS_KEEP") {
        std::fs::write(Path::new(&keep).join(format!("{name}.html")), html).unwrap();
    }
    let loaded = load(browser, &html_path, &png);
    assert!(
        loaded.console.is_empty(),
        "{name}: console output:\n{}",
        loaded.console.join("\n")
    );
    assert_eq!(loaded.screenshot_size, WINDOW, "{name}: screenshot size");
    // A blank 1400x2000 PNG compresses to a few KB; tables and plots take far more.
    assert!(
        loaded.screenshot_bytes > 40_000,
        "{name}: screenshot only {} bytes",
        loaded.screenshot_bytes
    );
    if std::env::var_os("VIGIL_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
        std::fs::create_dir_all(&docs).unwrap();
        let docs_png = docs.join(format!("report-{name}.png"));
        let shot = open_headless(browser, &html_path, &docs_png, (WINDOW.0, docs_height)).unwrap();
        assert!(shot.console.is_empty());
    }
    loaded
}

#[test]
fn reports_open_in_headless_chromium_without_console_errors() {
    let Some(browser) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    check(
        &browser,
        dir.path(),
        "experiment",
        &render_experiment(&fixtures::experiment(4, 2_000, 15, 2)).unwrap(),
        3_300,
    );
    check(
        &browser,
        dir.path(),
        "model-card",
        &render_model_card(&fixtures::model_card()).unwrap(),
        2_400,
    );
    check(
        &browser,
        dir.path(),
        "comparison",
        &render_comparison(&fixtures::comparison()).unwrap(),
        2_000,
    );
}

#[test]
fn a_script_error_is_caught_by_the_check() {
    let Some(browser) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.html");
    std::fs::write(
        &path,
        "<!DOCTYPE html><html><body><p>x</p><script>missing.call();</script></body></html>",
    )
    .unwrap();
    let loaded = load(&browser, &path, &dir.path().join("broken.png"));
    assert!(
        loaded
            .console
            .iter()
            .any(|l| l.contains("Uncaught ReferenceError")),
        "{:?}",
        loaded.console
    );
}

/// Load time of the NAB-sized report as the browser measures it (navigation start to the
/// load event), read from a marker logged by a copy of the page.
#[test]
fn nab_sized_report_loads_quickly() {
    let Some(browser) = require_chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let html = render_experiment(&fixtures::experiment(31, 4_500, 15, 3)).unwrap();
    let marker = "<script>window.addEventListener('load',function(){requestAnimationFrame(function(){console.log('vigil-load-ms '+performance.now().toFixed(0));});});</script></body>";
    let timed = html.replacen("</body>", marker, 1);
    let path = dir.path().join("nab.html");
    std::fs::write(&path, &timed).unwrap();
    if let Some(keep) = std::env::var_os("VIGIL_REPORTS_KEEP") {
        std::fs::write(Path::new(&keep).join("nab-timed.html"), &timed).unwrap();
    }
    let loaded = load(&browser, &path, &dir.path().join("nab.png"));
    let load_ms: f64 = loaded
        .console
        .iter()
        .find_map(|l| l.split("vigil-load-ms ").nth(1))
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no load marker in {:?}", loaded.console));
    let other: Vec<&String> = loaded
        .console
        .iter()
        .filter(|l| !l.contains("vigil-load-ms"))
        .collect();
    assert!(other.is_empty(), "console output: {other:?}");
    eprintln!(
        "NAB-sized report: {:.2} MB, load event + first frame at {load_ms} ms, whole chromium run {} ms",
        html.len() as f64 / 1e6,
        loaded.wall_ms
    );
    // Target 2 s on an idle machine; the bound leaves room for a loaded CI machine.
    assert!(load_ms < 6_000.0, "load took {load_ms} ms");
}
