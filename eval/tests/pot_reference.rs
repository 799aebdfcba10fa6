//! Peaks-over-threshold (SPOT) thresholds and their generalised Pareto fits against SciPy's
//! `genpareto.fit` (MLE, location 0), committed in `tests/fixtures/pot/` (numpy 2.4.6,
//! scipy 1.17.1).

use vigil_eval::threshold::{SeriesScores, ThresholdPolicy, fit_gpd, quantile_sorted};

use crate::common::{fixture, floats};

/// Relative difference, against the reference's magnitude.
fn relative(got: f64, expected: f64) -> f64 {
    (got - expected).abs() / expected.abs()
}

#[test]
fn gpd_fit_and_pot_thresholds_equal_scipy_genpareto() {
    let fx = fixture("pot");
    assert_eq!(fx["versions"]["scipy"], "1.17.1");
    assert_eq!(fx["versions"]["numpy"], "2.4.6");
    let cases = fx["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    let (mut worst_shape, mut worst_scale, mut worst_threshold) = (0f64, 0f64, 0f64);
    for c in cases {
        let name = c["name"].as_str().expect("name");
        let scores = floats(&c["scores"]);
        let level = c["level"].as_f64().expect("level");
        let mut sorted = scores.clone();
        sorted.sort_by(f64::total_cmp);
        let t = quantile_sorted(&sorted, level).unwrap();
        assert_eq!(t, c["initial_threshold"].as_f64().unwrap(), "{name} t");
        let excesses: Vec<f64> = scores.iter().filter(|&&x| x > t).map(|&x| x - t).collect();
        assert_eq!(excesses.len() as u64, c["n_excesses"].as_u64().unwrap());

        let gpd = fit_gpd(&excesses).unwrap();
        let (shape, scale) = (c["shape"].as_f64().unwrap(), c["scale"].as_f64().unwrap());
        let d_shape = (gpd.shape - shape).abs();
        let d_scale = relative(gpd.scale, scale);
        assert!(
            d_shape < 1e-6,
            "{name}: shape {} vs scipy {shape}",
            gpd.shape
        );
        assert!(
            d_scale < 1e-6,
            "{name}: scale {} vs scipy {scale}",
            gpd.scale
        );
        let ll = c["log_likelihood"].as_f64().unwrap();
        // At the maximum the likelihood is flat: ours is at least SciPy's, up to rounding.
        assert!(
            gpd.log_likelihood >= ll - 1e-9 * ll.abs(),
            "{name}: ll {} vs {ll}",
            gpd.log_likelihood
        );
        assert!(
            relative(gpd.log_likelihood, ll) < 1e-9,
            "{name}: ll {} vs {ll}",
            gpd.log_likelihood
        );
        worst_shape = worst_shape.max(d_shape);
        worst_scale = worst_scale.max(d_scale);

        // Through the policy, with the rows split over two series (pooling must not matter).
        let (a, b) = scores.split_at(scores.len() / 3);
        let series = [
            SeriesScores::new(a, &[]).unwrap(),
            SeriesScores::new(b, &[]).unwrap(),
        ];
        for (risk, expected) in c["thresholds"].as_object().expect("thresholds") {
            let risk: f64 = risk.parse().unwrap();
            let policy = ThresholdPolicy::Pot { risk, level };
            let z = policy.fit(&series).unwrap().value;
            let d = relative(z, expected.as_f64().unwrap());
            assert!(d < 1e-6, "{name} risk {risk}: {z} vs scipy {expected}");
            worst_threshold = worst_threshold.max(d);
        }
    }
    println!(
        "max |shape − scipy| {worst_shape:e}, max rel. scale {worst_scale:e}, max rel. threshold {worst_threshold:e}"
    );
}
