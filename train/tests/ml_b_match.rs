//! ECOD, PCA, one-class SVM, DBSCAN, the matrix-profile discord and DAMP matched to their
//! references (PyOD 3.6.7, scikit-learn 1.9.1, a brute-force numpy left matrix profile
//! cross-checked with stumpy 1.14.1). Fixtures: `tests/fixtures/ml/<family>/expected.json`,
//! written by `tests/fixtures/ml/gen_ml_b.py`.

use ndarray::Array2;
use vigil_train::detectors::damp::damp;
use vigil_train::detectors::dbscan::core::{DbscanState, dbscan};
use vigil_train::detectors::ecod::core::EcodState;
use vigil_train::detectors::matrix_profile::left_matrix_profile;
use vigil_train::detectors::ocsvm::core::{Gamma, OcsvmState};
use vigil_train::detectors::pca::core::{PcaSettings, PcaState};

use crate::common::{fixture, floats, shared_datasets, usizes};

pub fn matrix(value: &serde_json::Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = value.as_array().expect("rows").iter().map(floats).collect();
    let d = rows[0].len();
    Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j])
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let mut worst = 0.0_f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / w.abs().max(1.0);
        worst = worst.max(err);
        assert!(err <= tol, "{what}[{i}]: {g} vs {w} (rel err {err:e})");
    }
    worst
}

/// SMD machine-1-2 training file: rows [0, 2000) to fit and [2000, 3000) to score, the given
/// columns.
pub fn smd_slices(columns: &[usize]) -> (Array2<f64>, Array2<f64>) {
    let path = shared_datasets().join("smd/train/machine-1-2.txt");
    let text = std::fs::read_to_string(&path).expect("SMD machine-1-2");
    let data: Vec<Vec<f64>> = text
        .lines()
        .take(3000)
        .map(|l| l.split(',').map(|v| v.parse().expect("a number")).collect())
        .collect();
    let slice = |from: usize, to: usize| {
        Array2::from_shape_fn((to - from, columns.len()), |(i, j)| {
            data[from + i][columns[j]]
        })
    };
    (slice(0, 2000), slice(2000, 3000))
}

#[test]
fn ecod_matches_pyod_in_sample_and_the_no_leak_reference() {
    let f = fixture("ml/ecod");
    let train = matrix(&f["train"]);
    let test = matrix(&f["test"]);
    let state = EcodState::fit(train.view());
    let in_sample = state.training_scores(train.view());
    assert_close("ecod train", &in_sample, &floats(&f["train_scores"]), 1e-12);
    let novelty: Vec<f64> = test
        .rows()
        .into_iter()
        .map(|r| state.score_row(&r.to_vec()))
        .collect();
    assert_close(
        "ecod novelty",
        &novelty,
        &floats(&f["novelty_scores"]),
        1e-12,
    );
    let batch = state.score_batch(test.view());
    assert!(
        batch
            .iter()
            .zip(&novelty)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "the batch path equals row-by-row scoring bit for bit"
    );
    // PyOD's batch scores differ (they use the other test rows): make sure we are not them.
    let leaky = floats(&f["pyod_batch_scores"]);
    assert!(
        novelty
            .iter()
            .zip(&leaky)
            .any(|(a, b)| (a - b).abs() > 1e-3)
    );

    let smd = &f["smd"];
    let (train, test) = smd_slices(&usizes(&smd["columns"]));
    let state = EcodState::fit(train.view());
    let in_sample = state.training_scores(train.view());
    assert_close(
        "ecod smd train",
        &in_sample,
        &floats(&smd["train_scores"]),
        1e-12,
    );
    let novelty: Vec<f64> = test
        .rows()
        .into_iter()
        .map(|r| state.score_row(&r.to_vec()))
        .collect();
    assert_close(
        "ecod smd novelty",
        &novelty,
        &floats(&smd["novelty_scores"]),
        1e-12,
    );
}

fn pca_settings(params: &serde_json::Value) -> PcaSettings {
    let opt = |v: &serde_json::Value| v.as_u64().map(|n| n as usize);
    PcaSettings {
        n_components: opt(&params["n_components"]),
        n_selected_components: opt(&params["n_selected_components"]),
        weighted: params["weighted"].as_bool().expect("weighted"),
        standardization: params["standardization"]
            .as_bool()
            .expect("standardization"),
    }
}

fn pca_scores(state: &PcaState, rows: &Array2<f64>) -> Vec<f64> {
    let mut buffer = Vec::new();
    rows.rows()
        .into_iter()
        .map(|r| state.score_row(&r.to_vec(), &mut buffer))
        .collect()
}

#[test]
fn pca_matches_pyod_to_1e9() {
    let f = fixture("ml/pca");
    let train = matrix(&f["train"]);
    let test = matrix(&f["test"]);
    for case in f["cases"].as_array().expect("cases") {
        let settings = pca_settings(&case["params"]);
        let state = PcaState::fit(train.view(), settings).expect("fit");
        let what = format!("pca {}", case["params"]);
        assert_close(
            &format!("{what} ratio"),
            &state.explained_variance_ratio,
            &floats(&case["explained_variance_ratio"]),
            1e-10,
        );
        let components = matrix(&case["components"]);
        assert_close(
            &format!("{what} components"),
            state.components.as_slice().expect("contiguous"),
            components.as_slice().expect("contiguous"),
            1e-9,
        );
        assert_close(
            &format!("{what} train"),
            &pca_scores(&state, &train),
            &floats(&case["train_scores"]),
            1e-9,
        );
        assert_close(
            &format!("{what} test"),
            &pca_scores(&state, &test),
            &floats(&case["test_scores"]),
            1e-9,
        );
    }
    let smd = &f["smd"];
    let (train, test) = smd_slices(&usizes(&smd["columns"]));
    let settings = PcaSettings {
        n_components: None,
        n_selected_components: None,
        weighted: true,
        standardization: true,
    };
    let state = PcaState::fit(train.view(), settings).expect("fit");
    let worst = assert_close(
        "pca smd",
        &pca_scores(&state, &test),
        &floats(&smd["test_scores"]),
        1e-9,
    );
    eprintln!("pca smd: worst relative error {worst:e}");
}

#[test]
fn ocsvm_decision_values_match_scikit_learn() {
    let f = fixture("ml/ocsvm");
    let train = matrix(&f["train"]);
    let test = matrix(&f["test"]);
    for case in f["cases"].as_array().expect("cases") {
        let params = &case["params"];
        let nu = params["nu"].as_f64().expect("nu");
        let gamma = match &params["gamma"] {
            serde_json::Value::String(s) if s == "scale" => Gamma::Scale,
            serde_json::Value::String(s) if s == "auto" => Gamma::Auto,
            v => Gamma::Value(v.as_f64().expect("gamma")),
        };
        let shrinking = params["shrinking"].as_bool().expect("shrinking");
        let state = OcsvmState::fit(train.view(), nu, gamma, 1e-3, shrinking, 1 << 20);
        let decision: Vec<f64> = test
            .rows()
            .into_iter()
            .map(|r| state.decision(&r.to_vec()))
            .collect();
        let want = floats(&case["decision_test"]);
        let worst = decision
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!(
            "ocsvm {params}: max |diff| {worst:e}, rho {} vs {}, SVs {} vs {}, iterations {} vs {}",
            state.rho,
            case["rho"],
            state.dual_coef.len(),
            case["n_support"],
            state.iterations,
            case["n_iter"]
        );
        assert!(worst <= 1e-4, "ocsvm {params}: max |diff| {worst:e}");
        // Same path as libsvm: same iterations, same support.
        assert_eq!(
            state.iterations as u64,
            case["n_iter"].as_u64().expect("n_iter")
        );
        assert_eq!(
            state.dual_coef.len() as u64,
            case["n_support"].as_u64().expect("n")
        );
    }
}

#[test]
fn ocsvm_shrinking_follows_libsvm_on_a_larger_problem() {
    let f = fixture("ml/ocsvm");
    let big = &f["big"];
    let train = matrix(&big["train"]);
    let test = matrix(&big["test"]);
    let mut decisions = Vec::new();
    for case in big["cases"].as_array().expect("cases") {
        let shrinking = case["params"]["shrinking"].as_bool().expect("shrinking");
        // A small cache (64 columns) exercises eviction too.
        let cache = 64 * 4 * train.nrows();
        let state = OcsvmState::fit(train.view(), 0.4, Gamma::Value(1.5), 1e-3, shrinking, cache);
        let decision: Vec<f64> = test
            .rows()
            .into_iter()
            .map(|r| state.decision(&r.to_vec()))
            .collect();
        let worst = decision
            .iter()
            .zip(floats(&case["decision_test"]))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        eprintln!(
            "ocsvm big shrinking={shrinking}: max |diff| {worst:e}, iterations {} vs {}",
            state.iterations, case["n_iter"]
        );
        assert!(worst <= 1e-4, "shrinking={shrinking}: {worst:e}");
        assert_eq!(
            state.iterations as u64,
            case["n_iter"].as_u64().expect("n_iter")
        );
        decisions.push(decision);
    }
    // The two paths end at different points within the tolerance.
    assert!(decisions[0] != decisions[1]);
}

#[test]
fn dbscan_labels_and_core_points_equal_scikit_learn() {
    let f = fixture("ml/dbscan");
    let train = matrix(&f["train"]);
    let test = matrix(&f["test"]);
    for case in f["cases"].as_array().expect("cases") {
        let eps = case["eps"].as_f64().expect("eps");
        let min_samples = case["min_samples"].as_u64().expect("min_samples") as usize;
        let clustering = dbscan(train.view(), eps, min_samples);
        let labels: Vec<i64> = case["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|v| v.as_i64().expect("label"))
            .collect();
        assert_eq!(
            clustering.labels, labels,
            "eps {eps} min_samples {min_samples}"
        );
        let core: Vec<usize> = usizes(&case["core_sample_indices"]);
        assert_eq!(clustering.core, core, "eps {eps} min_samples {min_samples}");
        let (state, _) = DbscanState::fit(train.view(), eps, min_samples);
        let scores: Vec<f64> = test
            .rows()
            .into_iter()
            .map(|r| state.score_row(&r.to_vec(), &mut Vec::new()))
            .collect();
        assert_close(
            "dbscan novelty",
            &scores,
            &floats(&case["novelty_scores"]),
            1e-12,
        );
    }
}

/// The fixture's UCR prefix (the shared dataset's file, the fixture's row count) and window.
fn ucr_prefix(ucr: &serde_json::Value) -> (Vec<f64>, usize) {
    let path = shared_datasets().join(ucr["file"].as_str().expect("file"));
    let text = std::fs::read_to_string(&path).expect("UCR file");
    let rows = ucr["rows"].as_u64().expect("rows") as usize;
    let series = text
        .split_whitespace()
        .take(rows)
        .map(|v| v.parse().expect("a number"))
        .collect();
    (series, ucr["m"].as_u64().expect("m") as usize)
}

/// The largest value from row 2,500 on (the fixture's training prefix) sits where stumpy's does.
fn assert_discord_after_train_end(ucr: &serde_json::Value, values: &[f64]) {
    let discord = 2500
        + values[2500..]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .expect("non-empty");
    assert_eq!(
        discord as u64,
        ucr["discord_after_train_end"].as_u64().expect("discord")
    );
}

fn profile_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_nan() {
            assert!(g.is_infinite(), "{what}[{i}]: {g}, want no match");
        } else {
            assert!((g - w).abs() <= tol, "{what}[{i}]: {g} vs {w}");
        }
    }
}

#[test]
fn left_matrix_profile_matches_brute_force_and_stumpy() {
    let f = fixture("ml/matrix_profile");
    let m = f["m"].as_u64().expect("m") as usize;
    let x = floats(&f["series"]);
    profile_close(
        "plain",
        &left_matrix_profile(&x, m),
        &floats(&f["left_profile"]),
        1e-9,
    );
    let gapped = floats(&f["gapped"]);
    profile_close(
        "gapped",
        &left_matrix_profile(&gapped, m),
        &floats(&f["left_profile_gapped"]),
        1e-9,
    );
    let ucr = &f["ucr"];
    let (series, m) = ucr_prefix(ucr);
    let profile = left_matrix_profile(&series, m);
    profile_close("ucr", &profile, &floats(&ucr["left_profile"]), 1e-9);
    assert_discord_after_train_end(ucr, &profile);
}

#[test]
fn subsequence_pca_through_the_catalog_matches_pyod_on_windows_of_nyc_taxi() {
    use vigil_train::DetectorSpec;
    use vigil_train::detectors::pca::PcaParams;
    use vigil_train::features::{FeatureParams, Scaling};

    let f = fixture("ml/pca");
    let sub = &f["subsequence"];
    let window = sub["window"].as_u64().expect("window") as usize;
    let rows = sub["rows"].as_u64().expect("rows") as usize;
    let fit_rows = sub["fit_rows"].as_u64().expect("fit rows") as usize;
    let x = crate::common::nab_values("realKnownCause/nyc_taxi.csv");
    let params = PcaParams::subsequence()
        .with_features(
            FeatureParams::default()
                .with_window(window)
                .with_scaling(Scaling::None),
        )
        .with_n_components(sub["n_components"].as_u64().expect("k") as usize);
    let spec = DetectorSpec::SubsequencePca(params);
    let model = spec
        .fit(&crate::common::series(&x[..fit_rows]))
        .expect("fit");
    let scores = model
        .score(&crate::common::series(&x[..rows]))
        .expect("score");
    assert_eq!(scores.warm_up, window - 1);
    assert!(scores.values[..window - 1].iter().all(|v| *v == 0.0));
    assert_close(
        "subsequence pca train",
        &scores.values[window - 1..fit_rows],
        &floats(&sub["train_scores"]),
        1e-9,
    );
    assert_close(
        "subsequence pca test",
        &scores.values[fit_rows..rows],
        &floats(&sub["test_scores"]),
        1e-9,
    );
}

/// DAMP's contract against stumpy's left profile: never below it, equal to it wherever it
/// reaches its running maximum (the discords), and the same discord after the split.
fn damp_contract(what: &str, got: &[f64], left: &[f64], from: usize) {
    assert_eq!(got.len(), left.len(), "{what}: lengths");
    let mut running = f64::NEG_INFINITY;
    let mut records = 0;
    for i in from..left.len() {
        let (g, l) = (got[i], left[i]);
        if l.is_nan() {
            assert!(g.is_infinite(), "{what}[{i}]: {g}, want no match");
            continue;
        }
        assert!(g >= l - 1e-9, "{what}[{i}]: {g} below the left profile {l}");
        if l >= running {
            assert!((g - l).abs() <= 1e-9, "{what}[{i}]: record {l}, DAMP {g}");
            running = l;
            records += 1;
        }
    }
    assert!(records > 0, "{what}: no records checked");
}

#[test]
fn damp_is_exact_where_the_left_profile_peaks_and_finds_stumpys_discord() {
    let f = fixture("ml/matrix_profile");
    let m = f["m"].as_u64().expect("m") as usize;
    let x = floats(&f["series"]);
    let left = floats(&f["left_profile"]);
    for lookahead in [0, 16] {
        damp_contract("plain", &damp(&x, m, lookahead, 0), &left, 0);
    }
    let gapped = floats(&f["gapped"]);
    damp_contract(
        "gapped",
        &damp(&gapped, m, 16, 0),
        &floats(&f["left_profile_gapped"]),
        0,
    );
    let ucr = &f["ucr"];
    let (series, m) = ucr_prefix(ucr);
    // The fixture's discord is the left profile's largest value among subsequences starting
    // at 2,500 or later: split so that the best so far restarts at that start.
    let values = damp(&series, m, 16, 2500 + m - 1);
    damp_contract("ucr", &values, &floats(&ucr["left_profile"]), 2500);
    assert_discord_after_train_end(ucr, &values);
}
