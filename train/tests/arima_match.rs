//! ARIMA against statsmodels 0.15 `ARIMA(z, order=(p, 0, q), trend="n")` on the same
//! differenced / demeaned series (fixture `arima_statsmodels`): coefficients within 2e-3,
//! σ² within 1e-3 relative, log-likelihood within 1e-6 relative and never lower (vigil's
//! optimum is at least as high), one-step residuals within 1e-2 of the residual standard
//! deviation, and the same order chosen by AIC on the grid p ≤ 3, q ≤ 2.

use vigil_train::detectors::arima::ArimaParams;

use crate::common::{fixture, floats, nab_values, series};

fn data(expected: &serde_json::Value, name: &str) -> Vec<f64> {
    match name {
        "nab" => {
            let values = nab_values(expected["nab_file"].as_str().expect("nab_file"));
            values[..expected["nab_rows"].as_u64().expect("nab_rows") as usize].to_vec()
        }
        _ => floats(&expected["simulated"]),
    }
}

#[test]
fn coefficients_likelihood_and_residuals_match_statsmodels() {
    let expected = fixture("arima_statsmodels");
    for case in expected["cases"].as_array().expect("cases") {
        let (p, q, d) = (
            case["p"].as_u64().expect("p") as usize,
            case["q"].as_u64().expect("q") as usize,
            case["d"].as_u64().expect("d") as usize,
        );
        let label = format!("ARIMA({p},{d},{q}) on {}", case["series"]);
        let y = data(&expected, case["series"].as_str().expect("series"));
        let valid = ArimaParams::default()
            .with_order(p, d, q)
            .with_scale_alpha(0.0)
            .check()
            .expect("check");
        let fit = valid.fit_values(&y).expect("fit");
        for (name, ours, theirs) in [
            ("ar", &fit.ar, floats(&case["ar"])),
            ("ma", &fit.ma, floats(&case["ma"])),
        ] {
            assert_eq!(ours.len(), theirs.len(), "{label}: {name} order");
            for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                assert!(
                    (a - b).abs() < 2e-3,
                    "{label}: {name}[{i}] = {a}, statsmodels {b}"
                );
            }
        }
        let sigma2 = case["sigma2"].as_f64().expect("sigma2");
        assert!(
            (fit.sigma2 - sigma2).abs() < 1e-3 * sigma2,
            "{label}: σ² {} vs {sigma2}",
            fit.sigma2
        );
        let loglik = case["loglik"].as_f64().expect("loglik");
        assert!(
            (fit.loglik - loglik).abs() < 1e-6 * loglik.abs(),
            "{label}: loglik {} vs {loglik}",
            fit.loglik
        );
        assert!(
            fit.loglik >= loglik - 1e-9 * loglik.abs(),
            "{label}: vigil's optimum is lower than statsmodels'"
        );

        // Residuals: observed minus vigil's one-step forecast, from the fitted model's scores.
        let model = valid.fit(&series(&y)).expect("fit series");
        let scores = model.score(&series(&y)).expect("score");
        let forecasts = scores.expected.expect("expected");
        let resid = floats(&case["resid"]);
        let sd = sigma2.sqrt();
        for (i, r) in resid.iter().enumerate() {
            let t = i + d;
            let ours = y[t] - forecasts[t];
            assert!(
                (ours - r).abs() < 1e-2 * sd,
                "{label}: residual at row {t}: {ours} vs {r}"
            );
        }
        assert_eq!(
            scores.warm_up, d,
            "{label}: warm-up is the differencing order"
        );
    }
}

#[test]
fn aic_grid_chooses_the_statsmodels_order() {
    let expected = fixture("arima_statsmodels");
    let grid = &expected["grid"];
    let y = data(&expected, grid["series"].as_str().expect("series"));
    let fit = ArimaParams::default()
        .with_d(grid["d"].as_u64().expect("d") as usize)
        .with_grid(
            grid["max_p"].as_u64().expect("p") as usize,
            grid["max_q"].as_u64().expect("q") as usize,
        )
        .check()
        .expect("check")
        .fit_values(&y)
        .expect("fit");
    assert_eq!(fit.candidates.len(), 12);
    let mut best_reference = f64::INFINITY;
    for reference in grid["aics"].as_array().expect("aics") {
        let (p, q) = (
            reference["p"].as_u64().expect("p") as usize,
            reference["q"].as_u64().expect("q") as usize,
        );
        let theirs = reference["aic"].as_f64().expect("aic");
        best_reference = best_reference.min(theirs);
        let ours = fit
            .candidates
            .iter()
            .find(|c| c.0 == p && c.1 == q)
            .expect("candidate")
            .2;
        assert!(
            ours <= theirs + 1e-6 * theirs.abs(),
            "AIC of ({p},{q}): vigil {ours} worse than statsmodels {theirs}"
        );
    }
    // The chosen order is the best vigil found; it is statsmodels' choice unless vigil's
    // likelihood search found a strictly better optimum for another order.
    let best = floats(&grid["best"]);
    let chosen = (fit.ar.len(), fit.ma.len());
    if chosen != (best[0] as usize, best[1] as usize) {
        assert!(
            fit.aic < best_reference - 1.0,
            "chose {chosen:?} (AIC {}) over statsmodels' {best:?} ({best_reference})",
            fit.aic
        );
    }
    println!(
        "chosen {chosen:?} AIC {}, statsmodels {best:?} AIC {best_reference}; candidates {:?}",
        fit.aic, fit.candidates
    );
}
