//! Holt-Winters against statsmodels 0.15 `ExponentialSmoothing` (fixture
//! `holt_winters_statsmodels`): with fixed weights and statsmodels' "simple" or "heuristic"
//! initial states, the initial state, every one-step forecast, the next forecast and the SSE
//! agree to 1e-9 relative (the contract asks 1e-3); with weights fitted by vigil, the SSE is
//! no worse (to 1e-6 relative, the optimisers' tolerance) than statsmodels' own optimiser for
//! the same initialisation ("simple" states given as known, "heuristic", and the default
//! "estimated", which fits the initial states too), for additive and multiplicative seasons,
//! damped or not, on a NAB series and a synthetic one.

use vigil_train::detectors::holt_winters::init::initial_heuristic;
use vigil_train::detectors::holt_winters::{
    Component, HoltWintersParams, Initialization, Structure,
};

use crate::common::{fixture, floats, nab_values, series};

fn component(value: &serde_json::Value) -> Component {
    serde_json::from_value(value.clone()).expect("component")
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

/// The series a case names: `nab`, `synthetic`, or `synthetic:N` (its first N rows).
fn data(expected: &serde_json::Value, name: &str) -> Vec<f64> {
    match name {
        "nab" => {
            let values = nab_values(expected["nab_file"].as_str().expect("nab_file"));
            values[..expected["nab_rows"].as_u64().expect("nab_rows") as usize].to_vec()
        }
        "synthetic" => floats(&expected["synthetic"]),
        other => {
            let rows: usize = other
                .strip_prefix("synthetic:")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("unknown series {other}"));
            floats(&expected["synthetic"])[..rows].to_vec()
        }
    }
}

fn structure_params(p: &serde_json::Value) -> HoltWintersParams {
    HoltWintersParams::default()
        .with_trend(
            component(&p["trend"]),
            p["damped"].as_bool().expect("damped"),
        )
        .with_seasonal(
            component(&p["seasonal"]),
            p["period"].as_u64().map(|v| v as usize),
        )
        .with_scale_alpha(0.0)
}

#[test]
fn fixed_weights_reproduce_statsmodels() {
    let expected = fixture("holt_winters_statsmodels");
    for case in expected["fixed"].as_array().expect("fixed") {
        check_fixed_case(&expected, case, Initialization::Simple);
    }
}

#[test]
fn fixed_weights_from_heuristic_states_reproduce_statsmodels() {
    let expected = fixture("holt_winters_statsmodels");
    for case in expected["heuristic"].as_array().expect("heuristic") {
        check_fixed_case(&expected, case, Initialization::Heuristic);
    }
}

#[test]
fn heuristic_states_equal_statsmodels_on_raw_values() {
    let expected = fixture("holt_winters_statsmodels");
    for case in expected["heuristic"].as_array().expect("heuristic") {
        let p = &case["params"];
        let y = data(&expected, case["series"].as_str().expect("series"));
        let seasonal = component(&p["seasonal"]);
        let structure = Structure {
            trend: component(&p["trend"]),
            damped: p["damped"].as_bool().expect("damped"),
            seasonal,
            period: p["period"].as_u64().map_or(0, |v| v as usize),
        };
        let state = initial_heuristic(&y, &structure).expect("heuristic states");
        let level = case["initial_level"].as_f64().expect("level");
        assert!(relative(state.level, level) < 1e-9, "{p}: level");
        if let Some(trend) = case["initial_trend"].as_f64() {
            assert!(relative(state.trend, trend) < 1e-9, "{p}: trend");
        }
        let seasons = floats(&case["initial_seasons"]);
        assert_eq!(state.season.len(), seasons.len(), "{p}: season length");
        for (ours, theirs) in state.season.iter().zip(&seasons) {
            assert!(
                (ours - theirs).abs() <= 1e-9 * level.abs().max(1.0),
                "{p}: season {ours} vs {theirs}"
            );
        }
    }
}

/// With every weight fixed, the fitted model reproduces statsmodels' initial state,
/// one-step forecasts, next forecast and SSE.
fn check_fixed_case(
    expected: &serde_json::Value,
    case: &serde_json::Value,
    initialization: Initialization,
) {
    {
        let p = &case["params"];
        let label = p.to_string();
        let y = data(expected, case["series"].as_str().expect("series"));
        let params = structure_params(p)
            .with_smoothing(
                p["alpha"].as_f64(),
                p["beta"].as_f64(),
                p["gamma"].as_f64(),
                p["phi"].as_f64(),
            )
            .with_initialization(initialization);
        let model = params
            .check()
            .expect("check")
            .fit(&series(&y))
            .expect("fit");
        let channel = &model.channels[0];
        assert!(
            channel.state.fallback.is_none(),
            "{label}: unexpected fallback"
        );
        let scale = channel.scale;
        let initial = &channel.state.initial;
        assert!(
            relative(
                initial.level * scale,
                case["initial_level"].as_f64().expect("level")
            ) < 1e-9,
            "{label}: level"
        );
        if let Some(trend) = case["initial_trend"].as_f64() {
            let ours = match component(&p["trend"]) {
                Component::Mul => initial.trend,
                _ => initial.trend * scale,
            };
            assert!(
                relative(ours, trend) < 1e-9,
                "{label}: initial trend {ours} vs {trend}"
            );
        }
        for (i, s) in floats(&case["initial_seasons"]).iter().enumerate() {
            let ours = match component(&p["seasonal"]) {
                Component::Mul => initial.season[i],
                _ => initial.season[i] * scale,
            };
            assert!(
                relative(ours, *s) < 1e-9,
                "{label}: initial season {i}: {ours} vs {s}"
            );
        }
        let sse = channel.state.sse * scale * scale;
        let reference_sse = case["sse"].as_f64().expect("sse");
        assert!(
            relative(sse, reference_sse) < 1e-9,
            "{label}: SSE {sse} vs statsmodels {reference_sse}"
        );

        // One-step forecasts over the data, then the next one (scored on an appended NaN row).
        let mut extended = y.clone();
        extended.push(f64::NAN);
        let scores = model.score(&series(&extended)).expect("score");
        let forecasts = scores.expected.expect("expected");
        let fitted = floats(&case["fitted"]);
        for (t, (ours, theirs)) in forecasts.iter().zip(&fitted).enumerate() {
            assert!(
                relative(*ours, *theirs) < 1e-9,
                "{label}: forecast of row {t}: {ours} vs {theirs}"
            );
        }
        let next = case["forecast"].as_f64().expect("forecast");
        assert!(
            relative(forecasts[y.len()], next) < 1e-9,
            "{label}: next forecast"
        );
    }
}

#[test]
fn fitted_weights_are_at_least_as_good_as_statsmodels() {
    let expected = fixture("holt_winters_statsmodels");
    for case in expected["optimised"].as_array().expect("optimised") {
        let p = &case["params"];
        let label = p.to_string();
        let y = data(&expected, case["series"].as_str().expect("series"));
        let fit_sse = |initialization: Initialization| {
            let params = structure_params(p).with_initialization(initialization);
            let model = params
                .check()
                .expect("check")
                .fit(&series(&y))
                .expect("fit");
            let channel = &model.channels[0];
            assert!(
                channel.state.fallback.is_none(),
                "{label}: unexpected fallback"
            );
            channel.state.sse * channel.scale * channel.scale
        };
        let simple = fit_sse(Initialization::Simple);
        let heuristic = fit_sse(Initialization::Heuristic);
        let estimated = fit_sse(Initialization::Estimated);
        let references = [
            ("simple", simple, case["sse"].as_f64().expect("sse")),
            (
                "heuristic",
                heuristic,
                case["sse_heuristic"].as_f64().expect("sse_heuristic"),
            ),
            (
                "estimated",
                estimated,
                case["sse_estimated_initial_states"]
                    .as_f64()
                    .expect("sse_estimated_initial_states"),
            ),
        ];
        for (name, ours, theirs) in references {
            println!(
                "{label} {name}: vigil SSE {ours:.6e}, statsmodels {theirs:.6e} ({:+.3}%)",
                100.0 * (ours / theirs - 1.0)
            );
            assert!(
                ours <= theirs * (1.0 + 1e-6),
                "{label}: {name} initialisation: vigil SSE {ours} is worse than statsmodels' {theirs}"
            );
        }
        assert!(
            estimated <= heuristic,
            "{label}: estimating the initial states made the fit worse"
        );
    }
}
