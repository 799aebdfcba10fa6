//! STL against statsmodels 0.15 `STL` (default and robust) and S-H-ESD against the committed
//! Python port of Twitter's `detect_anoms` (fixture `stl_shesd`): components to 1e-9 of the
//! data's magnitude; the same flagged rows in the same order, with the same ESD statistics.

use vigil_train::DetectorSpec;
use vigil_train::detectors::seasonal_esd::stl::{StlConfig, decompose};

use crate::common::{fixture, floats, nab_values, series};

fn data(expected: &serde_json::Value, name: &str) -> Vec<f64> {
    match name {
        "nab" => {
            let values = nab_values(expected["nab_file"].as_str().expect("nab_file"));
            values[..expected["nab_rows"].as_u64().expect("nab_rows") as usize].to_vec()
        }
        _ => floats(&expected["synthetic"]),
    }
}

#[test]
fn stl_components_match_statsmodels() {
    let expected = fixture("stl_shesd");
    let y = data(&expected, "nab");
    let scale = y.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let period = expected["period"].as_u64().expect("period") as usize;
    for case in expected["stl"].as_array().expect("stl") {
        let robust = case["robust"].as_bool().expect("robust");
        let config = StlConfig {
            robust,
            ..StlConfig::new(period)
        };
        let ours = decompose(&y, &config);
        for (name, mine, theirs, tolerance) in [
            (
                "seasonal",
                &ours.seasonal,
                floats(&case["seasonal"]),
                1e-9 * scale,
            ),
            ("trend", &ours.trend, floats(&case["trend"]), 1e-9 * scale),
            ("weights", &ours.weights, floats(&case["weights"]), 1e-9),
        ] {
            assert_eq!(mine.len(), theirs.len());
            for (i, (a, b)) in mine.iter().zip(&theirs).enumerate() {
                assert!(
                    (a - b).abs() <= tolerance,
                    "robust={robust} {name}[{i}]: vigil {a} vs statsmodels {b}"
                );
            }
        }
    }
}

#[test]
fn seasonal_esd_flags_the_reference_points() {
    let expected = fixture("stl_shesd");
    for case in expected["shesd"].as_array().expect("shesd") {
        let y = data(&expected, case["series"].as_str().expect("series"));
        let label = format!(
            "{} {} alpha={}",
            case["series"], case["direction"], case["alpha"]
        );
        let spec: DetectorSpec = serde_json::from_value(serde_json::json!({
            "kind": "seasonal_esd",
            "period": case["period"],
            "alpha": case["alpha"],
            "max_anomalies": case["max_anomalies"],
            "direction": case["direction"],
        }))
        .expect("spec");
        let DetectorSpec::SeasonalEsd(params) = &spec else {
            panic!("not seasonal_esd")
        };
        let model = params
            .check()
            .expect("check")
            .fit(&series(&y))
            .expect("fit");
        let flagged = &model.anomalies(&series(&y)).expect("anomalies")[0];
        let removed = case["removed"].as_array().expect("removed");
        let count = case["anomalies"].as_u64().expect("anomalies") as usize;
        let reference: Vec<usize> = removed[..count]
            .iter()
            .map(|r| r[0].as_u64().expect("row") as usize)
            .collect();
        assert_eq!(flagged, &reference, "{label}: flagged rows");
        let scores = model.score(&series(&y)).expect("score");
        for r in removed {
            let (row, statistic) = (
                r[0].as_u64().expect("row") as usize,
                r[1].as_f64().expect("R"),
            );
            let ours = scores.values[row];
            assert!(
                (ours - statistic.max(0.0)).abs() <= 1e-6 * statistic.abs().max(1.0),
                "{label}: statistic at row {row}: vigil {ours} vs reference {statistic}"
            );
        }
    }
}
