//! Point families against their references (fixtures from `fixtures/ml/gen_ml_a.py`:
//! scikit-learn 1.9.1, PyOD 3.6.7, numpy 2.4.6): LOF and kNN scores to 1e-9, Isolation Forest
//! scores on scikit-learn's own fitted trees to 1e-12, and Isolation Forest ROC-AUC within 0.01
//! of scikit-learn's on a synthetic set and on SMD machine-1-2.

use ndarray::Array2;
use vigil_train::detectors::isolation_forest::{
    IsolationForest, IsolationForestParams, TreeArrays,
};
use vigil_train::detectors::knn::{KnnMethod, KnnParams};
use vigil_train::detectors::lof::LofParams;
use vigil_train::features::{FeatureParams, PointFamily, PointScorer, Scaling};

use crate::common::{floats, shared_datasets};

fn ml_fixture(name: &str) -> serde_json::Value {
    let path = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ml"))
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn matrix(value: &serde_json::Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = value.as_array().expect("rows").iter().map(floats).collect();
    let d = rows[0].len();
    Array2::from_shape_fn((rows.len(), d), |(r, c)| rows[r][c])
}

fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let worst = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0, f64::max);
    eprintln!("{what}: largest relative difference {worst:e}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}: row {i}: {g} vs reference {w}"
        );
    }
}

#[test]
fn lof_matches_scikit_learn_novelty_scores() {
    let f = ml_fixture("lof_knn.json");
    let (train, test) = (matrix(&f["train"]), matrix(&f["test"]));
    for k in [5, 20, 35] {
        let model = LofParams::default()
            .with_n_neighbors(k)
            .check()
            .expect("params")
            .fit_rows(train.view())
            .expect("fit");
        let want = floats(&f["lof"][k.to_string()]);
        assert_close(
            &model.score_rows(test.view()),
            &want,
            1e-9,
            &format!("LOF k={k}"),
        );
    }
    let small = train.slice(ndarray::s![..12, ..]);
    let model = LofParams::default()
        .check()
        .expect("params")
        .fit_rows(small)
        .expect("fit");
    assert_eq!(model.n_neighbors, 11);
    let want = floats(&f["lof_small_train_12_k20"]);
    assert_close(&model.score_rows(test.view()), &want, 1e-9, "LOF k clamped");
}

#[test]
fn knn_matches_pyod_decision_function() {
    let f = ml_fixture("lof_knn.json");
    let (train, test) = (matrix(&f["train"]), matrix(&f["test"]));
    for k in [1, 5, 10] {
        for (method, name) in [
            (KnnMethod::Largest, "largest"),
            (KnnMethod::Mean, "mean"),
            (KnnMethod::Median, "median"),
        ] {
            let model = KnnParams::default()
                .with_n_neighbors(k)
                .with_method(method)
                .check()
                .expect("params")
                .fit_rows(train.view())
                .expect("fit");
            let want = floats(&f["knn"][format!("{name}_{k}")]);
            assert_close(
                &model.score_rows(test.view()),
                &want,
                1e-9,
                &format!("kNN {name} k={k}"),
            );
        }
    }
}

#[test]
fn isolation_forest_scores_scikit_learn_trees_exactly() {
    let f = ml_fixture("iforest_fixed.json");
    let test = matrix(&f["test"]);
    let n_features = f["n_features"].as_u64().expect("n_features") as usize;
    for (name, case) in f["cases"].as_object().expect("cases") {
        let trees: Vec<TreeArrays> =
            serde_json::from_value(case["trees"].clone()).expect("tree arrays");
        let max_samples = case["max_samples"].as_u64().expect("max_samples") as usize;
        let forest = IsolationForest::from_trees(n_features, max_samples, &trees).expect("forest");
        let want = floats(&case["scores"]);
        assert_close(&forest.score_rows(test.view()), &want, 1e-12, name);
    }
}

/// ROC-AUC by the rank-sum (Mann-Whitney) statistic, ties counted half.
fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
    let mut ranks = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o] = rank;
        }
        i = j + 1;
    }
    let positives = labels.iter().filter(|l| **l).count() as f64;
    let negatives = labels.len() as f64 - positives;
    let rank_sum: f64 = ranks
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(r, _)| r)
        .sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

/// Mean ROC-AUC of our forest over seeds 0..10 (scikit-learn's parameters, raw rows).
fn mean_auc(train: &Array2<f64>, test: &Array2<f64>, labels: &[bool]) -> f64 {
    let aucs: Vec<f64> = (0..10)
        .map(|seed| {
            let forest = IsolationForestParams::default()
                .with_seed(seed)
                .check()
                .expect("params")
                .fit_rows(train.view())
                .expect("fit");
            roc_auc(&forest.score_rows(test.view()), labels)
        })
        .collect();
    aucs.iter().sum::<f64>() / aucs.len() as f64
}

#[test]
fn isolation_forest_ranks_as_well_as_scikit_learn() {
    let f = ml_fixture("iforest_auc.json");
    let synthetic = &f["synthetic"];
    let labels: Vec<bool> = floats(&synthetic["labels"])
        .iter()
        .map(|v| *v == 1.0)
        .collect();
    let ours = mean_auc(
        &matrix(&synthetic["train"]),
        &matrix(&synthetic["test"]),
        &labels,
    );
    let theirs = synthetic["auc_mean"].as_f64().expect("auc");
    eprintln!("synthetic: ROC-AUC {ours} vs scikit-learn {theirs}");
    assert!(
        (ours - theirs).abs() <= 0.01,
        "synthetic: ROC-AUC {ours} vs scikit-learn {theirs}"
    );

    let read = |part: &str| -> Array2<f64> {
        let path = shared_datasets()
            .join("smd")
            .join(part)
            .join("machine-1-2.txt");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let rows: Vec<Vec<f64>> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                l.split(',')
                    .map(|v| v.trim().parse::<f64>().expect("a number"))
                    .collect()
            })
            .collect();
        Array2::from_shape_fn((rows.len(), rows[0].len()), |(r, c)| rows[r][c])
    };
    let labels: Vec<bool> = read("test_label")
        .column(0)
        .iter()
        .map(|v| *v == 1.0)
        .collect();
    let ours = mean_auc(&read("train"), &read("test"), &labels);
    let theirs = f["smd_machine_1_2"]["auc_mean"].as_f64().expect("auc");
    eprintln!("SMD machine-1-2: ROC-AUC {ours} vs scikit-learn {theirs}");
    assert!(
        (ours - theirs).abs() <= 0.01,
        "SMD machine-1-2: ROC-AUC {ours} vs scikit-learn {theirs}"
    );
}

#[test]
fn the_row_model_feeds_scaled_valid_rows_to_the_family() {
    // With no scaling and window 1, the row model's scores are the family's on the raw rows.
    let f = ml_fixture("lof_knn.json");
    let (train, test) = (matrix(&f["train"]), matrix(&f["test"]));
    let as_series = |m: &Array2<f64>| {
        vigil_datasets::Series::new(
            "t",
            (0..m.nrows() as i64).collect(),
            (0..m.ncols()).map(|c| format!("c{c}")).collect(),
            m.clone(),
        )
    };
    let params =
        LofParams::default().with_features(FeatureParams::default().with_scaling(Scaling::None));
    let model = params
        .check()
        .expect("params")
        .fit(&as_series(&train))
        .expect("fit");
    let scores = model.score(&as_series(&test)).expect("score");
    assert_close(
        &scores.values,
        &floats(&f["lof"]["20"]),
        1e-9,
        "LOF through the row model",
    );
    assert_eq!(scores.warm_up, 0);
}
