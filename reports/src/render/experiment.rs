//! The experiment report.

use std::fmt::Write;

use super::series_plot;
use crate::error::{ReportError, Result};
use crate::html;
use crate::html::{
    Cell, Head, Page, duration, duration_ms, escape, lineage_html, metric_columns, metric_head,
    params_html, slug, table,
};
use crate::input::{ExperimentReport, Leaderboard, MetricInfo, PeriodTable, RowKind};
use crate::plot::charts::{
    curve_figure, daily_false_alarm_figure, delay_figure, false_alarm_figure, training_figure,
    tuning_figure,
};
use crate::plot::format_number;

/// Datasets in first-seen order over the given names.
fn datasets<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// Renders the experiment report as one self-contained HTML page.
pub fn render_experiment(report: &ExperimentReport) -> Result<String> {
    let subtitle = match &report.summary {
        Some(s) => format!("experiment {} — {s}", report.experiment),
        None => format!("experiment {}", report.experiment),
    };
    let mut page = Page::new(&report.title, &subtitle);
    for note in &report.notes {
        page.note(note);
    }

    page.section("lineage", "Lineage");
    page.push(&lineage_html(&report.lineage));

    page.section("spec", "Spec");
    let mut spec_meta = Vec::new();
    if let Some(p) = &report.spec.path {
        spec_meta.push(format!("<code>{}</code>", escape(p)));
    }
    if let Some(f) = &report.spec.format {
        spec_meta.push(escape(f));
    }
    if let Some(h) = &report.spec.sha256 {
        spec_meta.push(format!("sha256 <code>{}</code>", escape(h)));
    }
    if !spec_meta.is_empty() {
        page.push(&format!(
            "<p class=\"muted\">{}</p>\n",
            spec_meta.join(" · ")
        ));
    }
    page.push(&format!(
        "<pre class=\"spec\">{}</pre>\n",
        escape(&report.spec.text)
    ));

    if !report.leaderboards.is_empty() {
        page.section("leaderboard", "Leaderboards");
        page.push(
            "<p class=\"muted\">One row per family (its best configuration after tuning). Each metric is \
             measured at the <b>deployable</b> threshold (fitted on validation, applied unchanged to test); \
             the smaller <i>oracle</i> value below it uses the best threshold on test, so the gap shows how \
             much the threshold choice costs. ★ marks the best detector per column; baselines are in italics. \
             Click a heading to sort.</p>\n",
        );
        for board in &report.leaderboards {
            leaderboard(&mut page, board)?;
        }
    }

    if !report.series.is_empty() {
        page.section("series", "Series");
        page.push(
            "<p class=\"muted\">Values with incident windows shaded; the expected value and band of the \
             first track where its family forecasts; alerts marked ▲ at the top. Below, each track's raw \
             score with its deployable threshold (dashed).</p>\n",
        );
        for dataset in datasets(report.series.iter().map(|s| s.dataset.as_str())) {
            page.push(&format!("<h3>{}</h3>\n", escape(dataset)));
            // An index of the plots, for long datasets.
            let links: Vec<String> = report
                .series
                .iter()
                .filter(|s| s.dataset == dataset)
                .map(|s| {
                    format!(
                        "<a href=\"#series-{}-{}\">{}</a>",
                        slug(dataset),
                        slug(&s.data.name),
                        escape(&s.data.name)
                    )
                })
                .collect();
            if links.len() > 3 {
                page.push(&format!(
                    "<details><summary>{} series</summary><p class=\"params\" style=\"max-width:none\">{}</p></details>\n",
                    links.len(),
                    links.join(" · ")
                ));
            }
            for plot in report.series.iter().filter(|s| s.dataset == dataset) {
                series_plot(&mut page, "series", plot)?;
            }
        }
    }

    if !report.periods.is_empty() {
        page.section("periods", "Seasonal periods");
        page.push(
            "<p class=\"muted\">The season lengths, in rows, that each family with a period used on each \
             series: the spec's when it gives one, else what detection found on the series' training rows \
             (autocorrelation for one period; augurs' periodogram validated on the autocorrelation for \
             MSTL's several). \u{2014} no season found; blank: not fitted. Channels are separated by \
             \u{201c};\u{201d}.</p>\n",
        );
        for table in &report.periods {
            period_table(&mut page, table);
        }
    }

    if !report.curves.is_empty() {
        page.section("curves", "ROC and precision–recall");
        for dataset in datasets(report.curves.iter().map(|c| c.dataset.as_str())) {
            let sets: Vec<_> = report
                .curves
                .iter()
                .filter(|c| c.dataset == dataset)
                .collect();
            page.push(&format!(
                "<h3>{}</h3>\n<div class=\"row\">\n",
                escape(dataset)
            ));
            let roc = curve_figure(&sets, true)?;
            page.figure(
                &format!("roc-{}", slug(dataset)),
                &roc,
                "ROC over pooled rows; legend gives ROC-AUC.",
            );
            let pr = curve_figure(&sets, false)?;
            page.figure(
                &format!("pr-{}", slug(dataset)),
                &pr,
                "Precision–recall over pooled rows; legend gives average precision.",
            );
            page.push("</div>\n");
        }
    }

    if !report.tuning.is_empty() {
        page.section("tuning", "Tuning");
        page.push(
            "<p class=\"muted\">The objective of every trial against each tuned hyperparameter; ▲ is the \
             chosen trial.</p>\n",
        );
        for study in &report.tuning {
            let failed = study
                .trials
                .iter()
                .filter(|t| !t.objective.is_finite())
                .count();
            page.push(&format!(
                "<h4>{} on {}</h4>\n",
                escape(&study.family),
                escape(&study.dataset)
            ));
            let caption = format!(
                "{} trials ({failed} failed); objective: {} ({})",
                study.trials.len(),
                escape(&study.objective),
                if study.higher_is_better {
                    "higher is better"
                } else {
                    "lower is better"
                }
            );
            match tuning_figure(study)? {
                Some(svg) => page.figure(
                    &format!("tuning-{}-{}", slug(&study.dataset), slug(&study.family)),
                    &svg,
                    &caption,
                ),
                None => page.push(&format!(
                    "<p class=\"muted\">{caption}; no hyperparameter varied.</p>\n"
                )),
            }
        }
    }

    if !report.delays.is_empty() {
        page.section("delay", "Detection delay");
        for dataset in datasets(report.delays.iter().map(|d| d.dataset.as_str())) {
            let sets: Vec<_> = report
                .delays
                .iter()
                .filter(|d| d.dataset == dataset)
                .collect();
            page.push(&format!("<h3>{}</h3>\n", escape(dataset)));
            let svg = delay_figure(&sets)?;
            page.figure(
                &format!("delay-{}", slug(dataset)),
                &svg,
                "Each dot is one detected incident (time from its start to the first alert; negative = \
                 early, within the allowance); the bar is the median. Missed incidents are counted in the \
                 row label.",
            );
            page.push(&delay_table(&sets));
        }
    }

    if !report.false_alarms.is_empty() {
        page.section("false-alarms", "False alarms");
        for dataset in datasets(report.false_alarms.iter().map(|d| d.dataset.as_str())) {
            let sets: Vec<_> = report
                .false_alarms
                .iter()
                .filter(|d| d.dataset == dataset)
                .collect();
            page.push(&format!("<h3>{}</h3>\n", escape(dataset)));
            let svg = false_alarm_figure(&sets)?;
            page.figure(
                &format!("false-alarms-{}", slug(dataset)),
                &svg,
                "Alerts overlapping no incident, per day of data.",
            );
            let daily: Vec<_> = sets
                .iter()
                .copied()
                .filter(|s| !s.daily.is_empty())
                .collect();
            if !daily.is_empty() {
                let svg = daily_false_alarm_figure(&daily)?;
                page.figure(
                    &format!("false-alarms-daily-{}", slug(dataset)),
                    &svg,
                    "False alarms per UTC day.",
                );
            }
        }
    }

    if !report.training.is_empty() {
        page.section("training", "Training");
        for curve in &report.training {
            if curve.epochs.is_empty() {
                continue;
            }
            page.push(&format!(
                "<h4>{} on {}</h4>\n",
                escape(&curve.label),
                escape(&curve.dataset)
            ));
            let loss = curve.loss.as_deref().unwrap_or("loss");
            let svg = training_figure(&curve.epochs, loss)?;
            let last = curve.epochs.last().map(|e| e.train).unwrap_or(f64::NAN);
            page.figure(
                &format!("training-{}-{}", slug(&curve.dataset), slug(&curve.label)),
                &svg,
                &format!(
                    "{} epochs; final training loss {}",
                    curve.epochs.len(),
                    format_number(last)
                ),
            );
        }
    }

    let glossary: Vec<&MetricInfo> = report
        .leaderboards
        .iter()
        .flat_map(|b| b.metrics.iter())
        .filter(|m| m.description.is_some())
        .collect();
    if !glossary.is_empty() {
        page.section("glossary", "Metrics");
        let mut out = String::from("<dl>\n");
        let mut seen: Vec<&str> = Vec::new();
        for m in glossary {
            if seen.contains(&m.key.as_str()) {
                continue;
            }
            seen.push(&m.key);
            let _ = writeln!(
                out,
                "<dt><b>{}</b> <code>{}</code></dt><dd>{}</dd>",
                escape(m.heading()),
                escape(&m.key),
                escape(m.description.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</dl>\n");
        page.push(&out);
    }
    Ok(page.finish())
}

fn leaderboard(page: &mut Page, board: &Leaderboard) -> Result<()> {
    let columns = metric_columns(&board.metrics, board.rows.iter().map(|r| &r.metrics));
    let rank_key = board
        .rank_by
        .clone()
        .or_else(|| columns.first().map(|c| c.key.clone()));
    let rank_info = match &rank_key {
        Some(k) => Some(columns.iter().find(|c| &c.key == k).cloned().ok_or_else(|| ReportError::Invalid {
            what: format!("leaderboard \"{}\"", board.dataset),
            field: "rank_by",
            reason: format!("names \"{k}\", which is not one of the metric columns"),
            hint: "set rank_by to a key listed in metrics (or leave it out to rank by the first column)",
        })?),
        None => None,
    };
    // Detectors ranked by the rank metric (missing last), then the baselines.
    let mut order: Vec<usize> = (0..board.rows.len()).collect();
    let rank_value = |i: usize| -> Option<f64> {
        let info = rank_info.as_ref()?;
        board.rows[i]
            .metrics
            .get(&info.key)
            .filter(|v| v.is_finite())
            .map(|v| if info.higher_is_better { -v } else { v })
    };
    order.sort_by(|&a, &b| {
        let base = |i: usize| board.rows[i].kind != RowKind::Detector;
        base(a)
            .cmp(&base(b))
            .then_with(|| match (rank_value(a), rank_value(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
    });
    // Best detector value per column.
    let best: Vec<Option<f64>> = columns
        .iter()
        .map(|c| {
            board
                .rows
                .iter()
                .filter(|r| r.kind == RowKind::Detector)
                .filter_map(|r| r.metrics.get(&c.key).filter(|v| v.is_finite()))
                .reduce(|a, b| if (b > a) == c.higher_is_better { b } else { a })
        })
        .collect();

    let mut heads = vec![
        Head::num("#"),
        Head::text("family"),
        Head::text("best parameters"),
    ];
    heads.extend(columns.iter().map(metric_head));
    heads.push(Head::num("threshold").titled(Some("deployable threshold; oracle below".into())));
    heads.push(Head::num("trials"));
    heads.push(Head::num("fit time"));
    let mut rank = 0;
    let rows: Vec<(Option<&str>, Vec<Cell>)> = order
        .iter()
        .map(|&i| {
            let row = &board.rows[i];
            let detector = row.kind == RowKind::Detector;
            let mut cells = Vec::new();
            if detector {
                rank += 1;
                cells.push(Cell::number(f64::from(rank)));
            } else {
                cells.push(Cell::text("").with_class("num"));
            }
            let mut family = escape(&row.family);
            match row.kind {
                RowKind::RandomBaseline => {
                    family.push_str(" <span class=\"badge\">random baseline</span>")
                }
                RowKind::NullBaseline => {
                    family.push_str(" <span class=\"badge\">null baseline</span>")
                }
                RowKind::Detector => {}
            }
            if let Some(n) = &row.note {
                let _ = write!(family, "<div class=\"oracle\">{}</div>", escape(n));
            }
            let mut family_cell = Cell::html(family);
            family_cell.sort = Some(row.family.clone());
            family_cell.title = row.run_id.as_ref().map(|r| format!("run {r}"));
            cells.push(family_cell);
            cells.push(if detector {
                Cell::html(params_html(&row.params))
            } else {
                Cell::text("")
            });
            for (c, best) in columns.iter().zip(&best) {
                let v = row.metrics.get(&c.key).unwrap_or(f64::NAN);
                let mut cell = Cell::number(v);
                if let Some(o) = row.oracle_metrics.get(&c.key) {
                    let _ = write!(
                        cell.html,
                        "<span class=\"oracle\">oracle {}</span>",
                        format_number(o)
                    );
                }
                if detector && v.is_finite() && Some(v) == *best {
                    cell.class = "num best";
                }
                cells.push(cell);
            }
            let mut threshold = Cell::optional_number(row.deployable_threshold);
            if let Some(o) = row.oracle_threshold {
                let _ = write!(
                    threshold.html,
                    "<span class=\"oracle\">oracle {}</span>",
                    format_number(o)
                );
            }
            cells.push(threshold);
            cells.push(Cell::optional_number(row.trials.map(|t| t as f64)));
            let mut fit = Cell::optional_number(row.fit_time_s);
            if let Some(s) = row.fit_time_s {
                fit.html = duration(s);
            }
            cells.push(fit);
            (if detector { None } else { Some("baseline") }, cells)
        })
        .collect();
    page.push(&format!(
        "<h3 id=\"leaderboard-{}\">{}</h3>\n",
        slug(&board.dataset),
        escape(&board.dataset)
    ));
    let mut meta = Vec::new();
    if let Some(info) = &rank_info {
        meta.push(format!("ranked by {}", escape(info.heading())));
    }
    if let Some(p) = &board.threshold_protocol {
        meta.push(format!("deployable threshold: {}", escape(p)));
    }
    if !meta.is_empty() {
        page.push(&format!("<p class=\"muted\">{}</p>\n", meta.join(" · ")));
    }
    page.push(&table(&heads, &rows, true));
    Ok(())
}

fn delay_table(sets: &[&crate::input::DelaySet]) -> String {
    // Incidents as rows (by series and start), families as columns.
    let mut incidents: Vec<(&str, i64, i64)> = Vec::new();
    for s in sets {
        for i in &s.incidents {
            let key = (i.series.as_str(), i.window.start_ms, i.window.end_ms);
            if !incidents.contains(&key) {
                incidents.push(key);
            }
        }
    }
    let mut heads = vec![Head::text("series"), Head::text("incident start (UTC)")];
    heads.extend(sets.iter().map(|s| Head::num(&s.family)));
    let rows: Vec<(Option<&str>, Vec<Cell>)> = incidents
        .iter()
        .map(|&(series, start, end)| {
            let mut cells = vec![Cell::text(series), {
                let mut c = Cell::text(&crate::plot::format_time(start as f64, "%Y-%m-%d %H:%M"));
                c.sort = Some(start.to_string());
                c
            }];
            for s in sets {
                let d = s.incidents.iter().find(|i| {
                    i.series == series && i.window.start_ms == start && i.window.end_ms == end
                });
                cells.push(match d.and_then(|d| d.delay_ms) {
                    Some(ms) => {
                        let mut c = Cell::number(ms as f64);
                        c.html = duration_ms(ms);
                        c
                    }
                    None => {
                        let mut c = Cell::text("missed").with_class("num");
                        c.sort = Some(String::new());
                        c
                    }
                });
            }
            (None, cells)
        })
        .collect();
    format!(
        "<details><summary>Delay of each incident ({} incidents × {} families)</summary>\n{}</details>\n",
        incidents.len(),
        sets.len(),
        table(&heads, &rows, true)
    )
}

fn period_table(page: &mut Page, table: &PeriodTable) {
    page.push(&format!("<h3>{}</h3>\n", escape(&table.dataset)));
    let mut heads = vec![Head::text("series")];
    heads.extend(table.families.iter().map(|f| Head::text(f)));
    let rows: Vec<(Option<&str>, Vec<Cell>)> = table
        .rows
        .iter()
        .map(|row| {
            let mut cells = vec![Cell::text(&row.series)];
            cells.extend(
                row.periods
                    .iter()
                    .map(|p| Cell::text(&format_periods(p.as_deref()))),
            );
            (None, cells)
        })
        .collect();
    page.push(&html::table(&heads, &rows, true));
}

/// `24, 168` per channel, channels joined by `; `, `—` for a channel without a season, blank
/// when not fitted.
fn format_periods(periods: Option<&[Vec<usize>]>) -> String {
    let Some(channels) = periods else {
        return String::new();
    };
    channels
        .iter()
        .map(|c| {
            if c.is_empty() {
                "\u{2014}".to_string()
            } else {
                c.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}
