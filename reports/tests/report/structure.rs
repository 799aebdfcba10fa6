//! Each report renders from fixture data with the expected sections, tables and one SVG per
//! plot, escapes its text, and links nothing outside the page.

use vigil_reports::{
    ExperimentReport, Metrics, ReportError, render_comparison, render_experiment, render_model_card,
};

use crate::report::fixtures;

/// The one URL allowed in a report: the SVG namespace plotters writes on each `<svg>`.
const SVG_XMLNS: &str = "xmlns=\"http://www.w3.org/2000/svg\"";

/// Fails on anything that could make the browser fetch or navigate outside the file.
pub fn assert_self_contained(html: &str) {
    let stripped = html.replace(SVG_XMLNS, "");
    for needle in [
        "http://", "https://", "//cdn", "src=", "<link", "@import", "url(", "<iframe", "<img",
    ] {
        assert!(!stripped.contains(needle), "report contains {needle:?}");
    }
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "exactly one inline script"
    );
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
}

fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

fn section_ids(html: &str) -> Vec<String> {
    html.split("<section id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_string())
        .collect()
}

/// Every `<figure>` holds exactly one `<svg>`, and no SVG sits outside a figure.
fn assert_one_svg_per_figure(html: &str) -> usize {
    let figures: Vec<&str> = html
        .split("<figure")
        .skip(1)
        .map(|f| f.split("</figure>").next().unwrap())
        .collect();
    for f in &figures {
        assert_eq!(count(f, "<svg"), 1, "figure with {} SVGs", count(f, "<svg"));
    }
    assert_eq!(count(html, "<svg"), figures.len());
    assert_eq!(count(html, "</svg>"), figures.len());
    figures.len()
}

#[test]
fn experiment_report_has_every_section_and_one_svg_per_plot() {
    let report = fixtures::experiment(3, 1_500, 15, 2);
    let html = render_experiment(&report).unwrap();
    assert_self_contained(&html);
    assert_eq!(
        section_ids(&html),
        [
            "lineage",
            "spec",
            "leaderboard",
            "series",
            "periods",
            "curves",
            "tuning",
            "delay",
            "false-alarms",
            "training",
            "glossary"
        ]
    );
    // 3 series + ROC + PR + 15 tuning studies + delays + false alarms (bars + daily) + training.
    assert_eq!(assert_one_svg_per_figure(&html), 3 + 2 + 15 + 1 + 2 + 1);
    // One figure per series, each SVG labelled by its caption.
    assert_eq!(count(&html, "<figure id=\"series-nab-"), 3);
    assert_eq!(
        count(&html, "<svg role=\"img\" aria-labelledby=\"series-nab-"),
        3
    );
    // Leaderboard: a sortable table with 15 detectors and 2 baselines, best values starred.
    let board = html
        .split("<h3 id=\"leaderboard-nab\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert!(board.contains("<table class=\"sortable\">"));
    assert_eq!(
        count(board, "<tr>") + count(board, "<tr class=\"baseline\">"),
        1 + 17
    );
    assert_eq!(count(board, "<tr class=\"baseline\">"), 2);
    assert!(board.contains("random baseline") && board.contains("null baseline"));
    assert!(board.contains("class=\"num best\""));
    assert!(board.contains("oracle "));
    // Detectors are ranked by the NAB score, highest first.
    let ranked: Vec<f64> = board
        .split("<tr>")
        .skip(2)
        .map(|row| {
            let cells: Vec<&str> = row.split("data-v=\"").skip(3).collect();
            cells[0].split('"').next().unwrap().parse().unwrap()
        })
        .collect();
    assert!(ranked.windows(2).all(|w| w[0] >= w[1]), "{ranked:?}");
    // Lineage: fingerprint, commit, seed, wall time.
    assert!(html.contains(&"3b7e".repeat(16)));
    assert!(html.contains("<code>f17d619</code>"));
    assert!(html.contains("6.9 min"));
    // Spec text is escaped.
    assert!(html.contains("# &lt;script&gt;alert(&#39;escaped&#39;)&lt;/script&gt;"));
    // Axes carry units and UTC dates.
    assert!(html.contains("value (% CPU)"));
    assert!(html.contains("time (UTC)"));
    assert!(html.contains("2014-02-1"));
    // Delay table: one row per incident.
    assert!(html.contains("Delay of each incident (6 incidents × 15 families)"));
}

#[test]
fn empty_sections_are_left_out() {
    let mut report = fixtures::experiment(1, 300, 2, 1);
    report.series.clear();
    report.tuning.clear();
    report.training.clear();
    let html = render_experiment(&report).unwrap();
    let ids = section_ids(&html);
    assert!(!ids.contains(&"series".to_string()) && !ids.contains(&"training".to_string()));
    assert_self_contained(&html);
    let minimal = ExperimentReport {
        title: "t".into(),
        experiment: "e".into(),
        ..ExperimentReport::default()
    };
    let html = render_experiment(&minimal).unwrap();
    assert_eq!(section_ids(&html), ["lineage", "spec"]);
    assert_eq!(count(&html, "<svg"), 0);
}

#[test]
fn model_card_has_every_section() {
    let html = render_model_card(&fixtures::model_card()).unwrap();
    assert_self_contained(&html);
    assert_eq!(
        section_ids(&html),
        [
            "detects",
            "data",
            "metrics",
            "decision",
            "limitations",
            "export",
            "lineage",
            "examples"
        ]
    );
    assert_eq!(assert_one_svg_per_figure(&html), 1);
    assert!(html.contains("Model card: checkout-latency v3"));
    assert!(html.contains("aliases: champion"));
    assert!(html.contains("<b>4.2</b> (score ≥ threshold detects)"));
    assert!(html.contains("threshold fitted on validation, applied unchanged"));
    assert!(html.contains("holiday seasonality is unseen"));
    assert!(html.contains("<span class=\"badge ok\">verified</span>"));
    assert!(html.contains("<span class=\"badge na\">unsupported</span>"));
    assert!(html.contains(&"ef56".repeat(16)));
    assert!(html.contains("cooldown_ms = <b>1800000</b>"));
}

#[test]
fn comparison_shows_deltas_by_direction_and_overlaid_plots() {
    let html = render_comparison(&fixtures::comparison()).unwrap();
    assert_self_contained(&html);
    assert_eq!(
        section_ids(&html),
        ["versions", "metrics", "per-series", "lineage"]
    );
    assert_eq!(assert_one_svg_per_figure(&html), 2);
    let metrics = html
        .split("<section id=\"metrics\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    // event F1 up (better), ROC-AUC down (worse), delay up (worse: lower is better), false alarms
    // down (better).
    assert!(
        metrics.contains("<span class=\"better\" title=\"better\">▲ +0.04</span>"),
        "{metrics}"
    );
    assert!(metrics.contains("<span class=\"worse\" title=\"worse\">▼ -0.02</span>"));
    assert!(metrics.contains("<span class=\"worse\" title=\"worse\">▼ +3</span>"));
    assert!(metrics.contains("<span class=\"better\" title=\"better\">▲ -0.2</span>"));
    // Per-series table: 6 rows, linked to the plotted ones; scores overlaid on one panel.
    let per_series = html
        .split("<section id=\"per-series\">")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert_eq!(count(per_series, "<tr>"), 1 + 6);
    assert_eq!(count(per_series, "<a href=\"#cmp-"), 2);
    assert!(html.contains("score ÷ threshold"));
    assert!(html.contains("score: champion v3") && html.contains("score: challenger v4"));
}

#[test]
fn misaligned_input_is_a_typed_error_naming_the_field() {
    let mut report = fixtures::experiment(1, 200, 2, 2);
    report.series[0].tracks[1].scores.pop();
    let err = render_experiment(&report).unwrap_err();
    match &err {
        ReportError::Misaligned {
            what,
            field,
            expected,
            got,
            ..
        } => {
            assert_eq!(*field, "scores");
            assert!(
                what.contains("rolling_zscore") || what.contains("ewma"),
                "{what}"
            );
            assert_eq!((*expected, *got), (200, 199));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("hint:"));

    let mut report = fixtures::experiment(1, 200, 2, 1);
    report.series[0].data.timestamps_ms.swap(3, 4);
    assert!(matches!(
        render_experiment(&report),
        Err(ReportError::Invalid {
            field: "timestamps_ms",
            ..
        })
    ));

    let mut report = fixtures::experiment(1, 200, 2, 1);
    report.leaderboards[0].rank_by = Some("f2".into());
    let err = render_experiment(&report).unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::Invalid {
                field: "rank_by",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn inputs_round_trip_through_json_with_nan_as_null() {
    let report = fixtures::experiment(2, 400, 3, 2);
    let json = serde_json::to_string(&report).unwrap();
    let back: ExperimentReport = serde_json::from_str(&json).unwrap();
    // NaN != NaN, so compare the renderings.
    assert_eq!(
        render_experiment(&back).unwrap(),
        render_experiment(&report).unwrap()
    );
    assert!(back.series[0].data.values.iter().any(|v| v.is_nan()));

    let m: Metrics = serde_json::from_str(r#"{"z": 1.0, "a": null, "m": 2.5}"#).unwrap();
    assert_eq!(m.names().collect::<Vec<_>>(), ["z", "a", "m"]);
    assert!(m.get("a").unwrap().is_nan());
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"z":1.0,"a":null,"m":2.5}"#
    );
    let card = fixtures::model_card();
    let back: vigil_reports::ModelCard =
        serde_json::from_str(&serde_json::to_string(&card).unwrap()).unwrap();
    assert_eq!(
        render_model_card(&back).unwrap(),
        render_model_card(&card).unwrap()
    );
    let cmp = fixtures::comparison();
    let back: vigil_reports::Comparison =
        serde_json::from_str(&serde_json::to_string(&cmp).unwrap()).unwrap();
    assert_eq!(
        render_comparison(&back).unwrap(),
        render_comparison(&cmp).unwrap()
    );
}

#[test]
fn a_spike_in_a_100k_point_series_reaches_the_plot() {
    // One row of 100k at 10x the level: its polyline point must sit at the top of the panel.
    let mut data = fixtures::series_data("long", 100_000, 1);
    // Gentle wiggle so the line keeps many points; one row at 10x the level.
    data.values
        .iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = 10.0 + (i as f64 * 0.37).sin());
    data.values[77_777] = 100.0;
    data.incidents.clear();
    let report = ExperimentReport {
        title: "spike".into(),
        experiment: "spike".into(),
        series: vec![vigil_reports::SeriesPlot {
            dataset: "d".into(),
            data,
            ..Default::default()
        }],
        ..ExperimentReport::default()
    };
    let html = render_experiment(&report).unwrap();
    let svg = html.split("<svg").nth(1).unwrap();
    // The value line (1 px wide), not the legend swatch (2 px).
    let points: Vec<(i32, i32)> = svg
        .split("<polyline ")
        .skip(1)
        .filter(|p| p.contains("stroke=\"#0072B2\" stroke-width=\"1\""))
        .map(|p| {
            p.split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .flat_map(|p| {
            p.split_whitespace().map(|xy| {
                let (x, y) = xy.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
        })
        .collect();
    let top = points.iter().map(|p| p.1).min().unwrap();
    let base = points.iter().map(|p| p.1).max().unwrap();
    assert!(base - top > 150, "spike drawn {} px tall", base - top);
    assert!(
        points.len() < 3_000,
        "{} points drawn for 100k rows",
        points.len()
    );
    assert!(html.len() < 200_000, "{} bytes", html.len());
}

#[test]
fn period_table_shows_each_series_periods_per_family() {
    let report = fixtures::experiment(3, 1_500, 15, 2);
    let html = render_experiment(&report).unwrap();
    let section = html
        .split("id=\"periods\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert!(section.contains("<th scope=\"col\">holt_winters</th><th scope=\"col\">mstl</th>"));
    // web-1: Holt-Winters found a day, MSTL a day and a week; web-2: Holt-Winters found no
    // season (—) and MSTL was not fitted (blank).
    assert!(
        section.contains("<td>web-1</td><td>288</td><td>288, 2016</td>"),
        "{section}"
    );
    assert!(
        section.contains("<td>web-2</td><td>\u{2014}</td><td></td>"),
        "{section}"
    );
}
