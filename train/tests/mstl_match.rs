//! MSTL against statsmodels 0.15 `MSTL` (fixture `mstl_statsmodels`, script beside it): every
//! seasonal component and the trend to 1e-9 of the data's magnitude, on NAB's nyc_taxi (a day
//! and a week of 30-minute rows, plain and robust STL) and a seeded hourly series (given
//! windows and three passes; a period longer than half the series dropped; one period).

use vigil_train::detectors::mstl::decompose;

use crate::common::{fixture, floats, nab_values, usizes};

#[test]
fn mstl_components_match_statsmodels() {
    let expected = fixture("mstl_statsmodels");
    let taxi = nab_values(expected["nab_file"].as_str().expect("nab_file"));
    let taxi = &taxi[..expected["nab_rows"].as_u64().expect("nab_rows") as usize];
    let synthetic = floats(&expected["synthetic"]);
    let cases = expected["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    for (c, case) in cases.iter().enumerate() {
        let y: &[f64] = match case["series"].as_str().expect("series") {
            "nab" => taxi,
            _ => &synthetic,
        };
        let periods = usizes(&case["periods"]);
        let windows = case["windows"].as_array().map(|_| usizes(&case["windows"]));
        let iterate = case["iterate"].as_u64().expect("iterate") as usize;
        let robust = case["robust"].as_bool().expect("robust");
        let ours = decompose(y, &periods, windows.as_deref(), iterate, robust);
        assert_eq!(ours.periods, usizes(&case["kept_periods"]), "case {c}");
        let scale = y.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let theirs = case["seasonal"].as_array().expect("seasonal");
        assert_eq!(ours.seasonal.len(), theirs.len(), "case {c}");
        let mut pairs: Vec<(String, &[f64], Vec<f64>)> = ours
            .seasonal
            .iter()
            .zip(theirs)
            .zip(&ours.periods)
            .map(|((mine, theirs), p)| (format!("seasonal_{p}"), mine.as_slice(), floats(theirs)))
            .collect();
        pairs.push(("trend".into(), &ours.trend, floats(&case["trend"])));
        for (name, mine, theirs) in pairs {
            assert_eq!(mine.len(), theirs.len());
            for (i, (a, b)) in mine.iter().zip(&theirs).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-9 * scale,
                    "case {c} {name}[{i}]: vigil {a} vs statsmodels {b}"
                );
            }
        }
        // The residual is what is left: y − Σ seasonal − trend.
        for i in 0..y.len() {
            let sum: f64 = ours.seasonal.iter().map(|s| s[i]).sum::<f64>() + ours.trend[i];
            assert!((y[i] - sum - ours.resid[i]).abs() <= 1e-9 * scale);
        }
    }
}
