//! The NAB-sized experiment report stays small enough to mail and open.

use vigil_reports::render_experiment;

use crate::report::fixtures;

/// 31 series × 4,500 points, 15 families (leaderboard, curves, tuning, delays, false alarms),
/// the top three families' score tracks per series.
#[test]
fn nab_sized_report_is_under_5_mb() {
    let report = fixtures::experiment(31, 4_500, 15, 3);
    let html = render_experiment(&report).unwrap();
    let mb = html.len() as f64 / 1e6;
    eprintln!(
        "NAB-sized report (3 tracks/series): {:.2} MB, {} SVGs",
        mb,
        html.matches("<svg").count()
    );
    assert!(html.len() < 5_000_000, "{mb:.2} MB");
    crate::report::structure::assert_self_contained(&html);
    // Long datasets get an index of their series plots.
    assert!(html.contains("<details><summary>31 series</summary>"));
    assert_eq!(html.matches("<a href=\"#series-nab-").count(), 31);
}
