#![allow(clippy::unwrap_used)]

use ndarray::Array2;
use rand::{Rng, SeedableRng};

use super::*;

/// Gaussian-ish inliers around 0 and `outliers` rows far out, in `d` columns.
fn blob(n: usize, d: usize, outliers: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n + outliers, d), |(r, _)| {
        let u: f64 = (0..4).map(|_| rng.random::<f64>()).sum::<f64>() - 2.0;
        if r < n { u } else { 6.0 + u }
    })
}

fn valid(params: IsolationForestParams) -> IsolationForestValid {
    params.check().unwrap()
}

#[test]
fn average_path_length_matches_scikit_learn() {
    // scikit-learn 1.9.1 _average_path_length([1, 2, 3, 256]).
    assert_eq!(average_path_length(1), 0.0);
    assert_eq!(average_path_length(2), 1.0);
    assert!((average_path_length(3) - 1.207_392_357_589_623).abs() < 1e-15);
    assert!((average_path_length(256) - 10.244_770_920_119_917).abs() < 1e-14);
}

#[test]
fn planted_outliers_score_highest() {
    let rows = blob(500, 3, 5, 1);
    let forest = valid(IsolationForestParams::default())
        .fit_rows(rows.view())
        .unwrap();
    assert_eq!(forest.n_estimators(), 100);
    assert_eq!(forest.max_samples, 256);
    let scores = forest.score_rows(rows.view());
    assert!(scores.iter().all(|s| *s > 0.0 && *s <= 1.0));
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    let top: Vec<usize> = order[..5].to_vec();
    assert!(top.iter().all(|r| *r >= 500), "top 5: {top:?}");
    let inlier_mean = scores[..500].iter().sum::<f64>() / 500.0;
    assert!(
        (0.35..0.5).contains(&inlier_mean),
        "inlier mean {inlier_mean}"
    );
}

#[test]
fn forests_do_not_depend_on_the_thread_count() {
    let rows = blob(3000, 4, 10, 2);
    let params = IsolationForestParams::default()
        .with_bootstrap(true)
        .with_max_features(MaxFeatures::Fraction(0.5))
        .with_seed(9);
    let fit_on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let forest = valid(params.clone()).fit_rows(rows.view()).unwrap();
            let scores = forest.score_rows(rows.view());
            (forest, scores)
        })
    };
    let (a, sa) = fit_on(1);
    let (b, sb) = fit_on(4);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    let other = valid(params.with_seed(10)).fit_rows(rows.view()).unwrap();
    assert_ne!(a, other, "another seed grows another forest");
}

#[test]
fn max_samples_and_features_resolve_like_scikit_learn() {
    let rows = blob(100, 4, 0, 3);
    let fit = |p: IsolationForestParams| valid(p).fit_rows(rows.view()).unwrap();
    assert_eq!(
        fit(IsolationForestParams::default()).max_samples,
        100,
        "auto = min(256, n)"
    );
    let p = IsolationForestParams::default().with_max_samples(MaxSamples::Count(1000));
    assert_eq!(fit(p).max_samples, 100, "a count above n is n");
    let p = IsolationForestParams::default().with_max_samples(MaxSamples::Fraction(0.25));
    assert_eq!(fit(p).max_samples, 25);
    let p = IsolationForestParams::default().with_max_features(MaxFeatures::Count(5));
    assert!(matches!(
        valid(p).fit_rows(rows.view()),
        Err(TrainError::ParamError { param, .. }) if param == "isolation_forest.max_features"
    ));
}

#[test]
fn constant_rows_give_single_leaf_trees_and_half_scores() {
    let rows = Array2::from_elem((50, 2), 3.0);
    let forest = valid(IsolationForestParams::default().with_n_estimators(10))
        .fit_rows(rows.view())
        .unwrap();
    assert_eq!(forest.n_nodes(), 10, "one leaf per tree");
    let scores = forest.score_rows(rows.view());
    // Every row ends at the root leaf: h = c(50) = c(ψ), so the score is 2^−1.
    assert!(scores.iter().all(|s| (*s - 0.5).abs() < 1e-15));
}

#[test]
fn each_rule_names_its_parameter() {
    let cases = [
        (
            IsolationForestParams::default().with_n_estimators(0),
            "isolation_forest.n_estimators",
        ),
        (
            IsolationForestParams::default().with_max_samples(MaxSamples::Count(0)),
            "isolation_forest.max_samples",
        ),
        (
            IsolationForestParams::default().with_max_samples(MaxSamples::Fraction(1.5)),
            "isolation_forest.max_samples",
        ),
        (
            IsolationForestParams::default().with_max_features(MaxFeatures::Fraction(0.0)),
            "isolation_forest.max_features",
        ),
        (
            IsolationForestParams::default().with_features(FeatureParams::default().with_window(0)),
            "features.window",
        ),
    ];
    for (params, name) in cases {
        match params.check() {
            Err(TrainError::ParamError { param, .. }) => assert_eq!(param, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn amounts_read_and_write_as_scikit_learn_spells_them() {
    let p: IsolationForestParams =
        serde_json::from_str(r#"{"max_samples": "auto", "max_features": 0.5}"#).unwrap();
    assert_eq!(p.max_samples, MaxSamples::Auto);
    assert_eq!(p.max_features, MaxFeatures::Fraction(0.5));
    let p: IsolationForestParams =
        serde_json::from_str(r#"{"max_samples": 128, "max_features": 3}"#).unwrap();
    assert_eq!(p.max_samples, MaxSamples::Count(128));
    assert_eq!(p.max_features, MaxFeatures::Count(3));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["max_samples"], 128);
    assert!(serde_json::from_str::<IsolationForestParams>(r#"{"max_samples": "all"}"#).is_err());
}
