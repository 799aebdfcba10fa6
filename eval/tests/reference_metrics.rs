//! Curves, VUS, range-based metrics and threshold statistics against the Python references
//! committed in `tests/fixtures/*/` (scikit-learn, numpy/scipy, prts, TSB-AD).

use vigil_eval::curves::{average_precision, pr_curve, roc_auc};
use vigil_eval::labels_from_windows;
use vigil_eval::range::{Bias, Cardinality, RangeParams, range_metrics_of_windows};
use vigil_eval::threshold::{SeriesScores, ThresholdPolicy};
use vigil_eval::vus::{VusParams, vus};
use vigil_eval::windows_from_labels;

use crate::common::{close, fixture, floats, windows};

#[test]
fn roc_auc_average_precision_and_pr_curve_equal_scikit_learn() {
    let fx = fixture("sklearn_curves");
    let cases = fx["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    for c in cases {
        let name = c["name"].as_str().expect("name");
        let scores = floats(&c["scores"]);
        let w = windows(&c["windows"]);
        let labels = labels_from_windows(&w, scores.len());
        close(
            &format!("{name} roc_auc"),
            roc_auc(&scores, &labels).unwrap(),
            c["roc_auc"].as_f64().unwrap(),
            1e-12,
        );
        close(
            &format!("{name} average_precision"),
            average_precision(&scores, &labels).unwrap(),
            c["average_precision"].as_f64().unwrap(),
            1e-12,
        );
        let pr = pr_curve(&scores, &labels).unwrap();
        for key in ["precision", "recall", "thresholds"] {
            let expected = floats(&c["pr_curve"][key]);
            let got = match key {
                "precision" => &pr.precision,
                "recall" => &pr.recall,
                _ => &pr.thresholds,
            };
            assert_eq!(got.len(), expected.len(), "{name} pr_curve.{key} length");
            for (i, (a, b)) in got.iter().zip(&expected).enumerate() {
                close(&format!("{name} pr_curve.{key}[{i}]"), *a, *b, 1e-12);
            }
        }
    }
}

#[test]
fn threshold_statistics_equal_numpy_and_scipy() {
    let fx = fixture("sklearn_curves");
    for c in fx["cases"].as_array().expect("cases") {
        let name = c["name"].as_str().expect("name");
        let scores = floats(&c["scores"]);
        let series = [SeriesScores::new(&scores, &[]).unwrap()];
        let fit = |p: ThresholdPolicy| p.fit(&series).unwrap().value;
        for (q, v) in c["quantiles"].as_object().expect("quantiles") {
            let q: f64 = q.parse().unwrap();
            close(
                &format!("{name} quantile {q}"),
                fit(ThresholdPolicy::Quantile { q }),
                v.as_f64().unwrap(),
                1e-12,
            );
        }
        let (mean, std) = (c["mean"].as_f64().unwrap(), c["std"].as_f64().unwrap());
        close(
            &format!("{name} mean+0σ"),
            fit(ThresholdPolicy::MeanStd { k: 0.0 }),
            mean,
            1e-12,
        );
        close(
            &format!("{name} mean+3σ"),
            fit(ThresholdPolicy::MeanStd { k: 3.0 }),
            mean + 3.0 * std,
            1e-12,
        );
        let (median, mad) = (
            c["median"].as_f64().unwrap(),
            c["mad_normal"].as_f64().unwrap(),
        );
        close(
            &format!("{name} median"),
            fit(ThresholdPolicy::MedianMad { k: 0.0 }),
            median,
            1e-12,
        );
        close(
            &format!("{name} median+3MAD"),
            fit(ThresholdPolicy::MedianMad { k: 3.0 }),
            median + 3.0 * mad,
            1e-12,
        );
    }
}

#[test]
fn range_precision_and_recall_equal_prts() {
    let fx = fixture("prts_range");
    let cases = fx["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4);
    let mut compared = 0;
    for c in cases {
        let name = c["name"].as_str().expect("name");
        let to_bool = |v: &serde_json::Value| -> Vec<bool> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64() == Some(1))
                .collect()
        };
        let real = windows_from_labels(&to_bool(&c["real"]));
        let pred = windows_from_labels(&to_bool(&c["pred"]));
        for v in c["values"].as_array().expect("values") {
            let params = RangeParams {
                alpha: v["alpha"].as_f64().unwrap(),
                cardinality: match v["cardinality"].as_str().unwrap() {
                    "one" => Cardinality::One,
                    _ => Cardinality::Reciprocal,
                },
                bias: v["bias"].as_str().unwrap().parse::<Bias>().unwrap(),
            };
            let m = range_metrics_of_windows(&real, &pred, params, params).unwrap();
            let ctx = format!("{name} {params:?}");
            close(
                &format!("{ctx} precision"),
                m.precision,
                v["precision"].as_f64().unwrap(),
                1e-12,
            );
            close(
                &format!("{ctx} recall"),
                m.recall,
                v["recall"].as_f64().unwrap(),
                1e-12,
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 4 * 24);
}

#[test]
fn vus_equals_tsb_ad() {
    let fx = fixture("tsb_ad_vus");
    let cases = fx["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    for c in cases {
        let name = c["name"].as_str().expect("name");
        let scores = floats(&c["scores"]);
        let labels = labels_from_windows(&windows(&c["windows"]), scores.len());
        let params = VusParams {
            max_window: c["sliding_window"].as_u64().unwrap() as usize,
            thresholds: c["thresholds"].as_u64().unwrap() as usize,
        };
        let v = vus(&scores, &labels, params).unwrap();
        close(
            &format!("{name} VUS-ROC"),
            v.roc,
            c["vus_roc"].as_f64().unwrap(),
            1e-9,
        );
        close(
            &format!("{name} VUS-PR"),
            v.pr,
            c["vus_pr"].as_f64().unwrap(),
            1e-9,
        );
    }
}
