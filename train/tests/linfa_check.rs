//! vigil's DBSCAN, PCA, one-class SVM and k-d tree against linfa 0.8.1's (linfa-clustering,
//! linfa-reduction, linfa-svm, linfa-nn), on the scikit-learn fixtures of `ml_b_match.rs`: where linfa implements a family vigil has, the two
//! must agree, and the differences that keep vigil on its own code stay measured
//! (`docs/dependencies.md`). vigil's own references remain scikit-learn and PyOD.

use linfa::DatasetBase;
use linfa::dataset::Pr;
use linfa::traits::{Fit, Transformer};
use linfa_clustering::Dbscan;
use linfa_nn::distance::L2Dist;
use linfa_nn::{CommonNearestNeighbour, NearestNeighbour};
use linfa_reduction::Pca;
use linfa_svm::Svm;
use vigil_train::detectors::dbscan::core::{NOISE, dbscan};
use vigil_train::detectors::ocsvm::core::{Gamma, OcsvmState};
use vigil_train::detectors::pca::core::{PcaSettings, PcaState};
use vigil_train::neighbors::KdTree;

use crate::common::fixture;
use crate::ml_b_match::matrix;

#[test]
fn dbscan_clusters_equal_linfas_up_to_numbering() {
    let f = fixture("ml/dbscan");
    let train = matrix(&f["train"]);
    let n = train.nrows();
    let distance = |a: usize, b: usize| -> f64 {
        train
            .row(a)
            .iter()
            .zip(train.row(b))
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f64>()
            .sqrt()
    };
    for case in f["cases"].as_array().expect("cases") {
        let eps = case["eps"].as_f64().expect("eps");
        let min_samples = case["min_samples"].as_u64().expect("min_samples") as usize;
        let what = format!("eps {eps} min_samples {min_samples}");
        let ours = dbscan(train.view(), eps, min_samples);
        let theirs = Dbscan::params(min_samples)
            .tolerance(eps)
            .transform(&train)
            .expect("valid linfa parameters");
        // Noise is noise on both sides.
        for i in 0..n {
            assert_eq!(
                ours.labels[i] == NOISE,
                theirs[i].is_none(),
                "{what}: row {i}"
            );
        }
        // Core points: one linfa cluster per vigil cluster, and back.
        let mut map = std::collections::BTreeMap::new();
        let mut back = std::collections::BTreeMap::new();
        for &c in &ours.core {
            let t = theirs[c].expect("a core point is clustered");
            assert_eq!(
                *map.entry(ours.labels[c]).or_insert(t),
                t,
                "{what}: core {c}"
            );
            assert_eq!(
                *back.entry(t).or_insert(ours.labels[c]),
                ours.labels[c],
                "{what}"
            );
        }
        // Border points: the cluster of a core point within eps (either side may pick any).
        let core: std::collections::BTreeSet<usize> = ours.core.iter().copied().collect();
        let mut border = 0;
        for i in (0..n).filter(|i| !core.contains(i) && ours.labels[*i] != NOISE) {
            border += 1;
            let reachable: Vec<i64> = ours
                .core
                .iter()
                .filter(|&&c| distance(i, c) <= eps)
                .map(|&c| ours.labels[c])
                .collect();
            assert!(reachable.contains(&ours.labels[i]), "{what}: border {i}");
            let t = theirs[i].expect("clustered");
            assert!(
                reachable.iter().any(|l| map[l] == t),
                "{what}: linfa puts border row {i} in a cluster none of its core neighbours has"
            );
        }
        assert!(
            !ours.core.is_empty() && border > 0,
            "{what}: a trivial case"
        );
    }
}

#[test]
fn pca_subspace_equals_linfas_and_linfas_explained_variance_is_not_the_covariances() {
    let f = fixture("ml/pca");
    let train = matrix(&f["train"]);
    let n = train.nrows() as f64;
    let ours = PcaState::fit(
        train.view(),
        PcaSettings {
            n_components: None,
            n_selected_components: None,
            weighted: false,
            standardization: false,
        },
    )
    .expect("fit");
    let k = 2;
    let theirs = Pca::params(k)
        .fit(&DatasetBase::from(train.clone()))
        .expect("linfa PCA");
    for c in 0..k {
        // Same component up to sign.
        let a = ours.components.row(c);
        let b = theirs.components().row(c);
        let sign = if a.dot(&b) < 0.0 { -1.0 } else { 1.0 };
        let worst = a
            .iter()
            .zip(b)
            .map(|(p, q)| (p - sign * q).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-6, "component {c}: max abs diff {worst:e}");
        // The covariance's eigenvalue is σ² / (n − 1) of linfa's singular value...
        let sigma = theirs.singular_values()[c];
        let eigenvalue = sigma * sigma / (n - 1.0);
        let rel = (ours.explained_variance[c] - eigenvalue).abs() / eigenvalue;
        assert!(rel < 1e-6, "eigenvalue {c}: rel diff {rel:e}");
        // ...while linfa 0.8.1's `explained_variance()` divides σ² by k − 1 (the number of
        // components asked for), not n − 1: one reason vigil keeps its own PCA.
        let reported = theirs.explained_variance()[c];
        assert!(
            (reported - sigma * sigma / (k as f64 - 1.0)).abs() <= 1e-9 * reported.abs(),
            "linfa's explained_variance changed: {reported}"
        );
        assert!((reported - eigenvalue).abs() > 0.1 * eigenvalue);
    }
}

/// linfa-svm's one-class SVM solves the same dual as libsvm (0 ≤ α ≤ 1, Σα = νl, decision
/// Σ α K − ρ, Gaussian kernel exp(−‖x − x'‖² / eps), i.e. eps = 1 / γ). Both solvers run to a
/// tight tolerance here, so they must meet at the one optimum; vigil's own reference stays
/// scikit-learn at its default tolerance (`ml_b_match.rs`).
#[test]
fn ocsvm_decision_values_equal_linfas_at_the_optimum() {
    let f = fixture("ml/ocsvm");
    let train = matrix(&f["train"]);
    let test = matrix(&f["test"]);
    for (nu, gamma) in [(0.05, 0.5), (0.1, 0.1), (0.3, 1.0)] {
        let ours = OcsvmState::fit(train.view(), nu, Gamma::Value(gamma), 1e-10, false, 1 << 26);
        let theirs = Svm::<f64, Pr>::params()
            .nu_weight(nu)
            .gaussian_kernel(1.0 / gamma)
            .eps(1e-10)
            .shrinking(false)
            .fit(&DatasetBase::from(train.clone()))
            .expect("linfa one-class SVM");
        let worst = test
            .rows()
            .into_iter()
            .chain(train.rows())
            .map(|row| {
                let mine = ours.decision(&row.to_vec());
                let linfa = theirs.weighted_sum(&row) - theirs.rho;
                (mine - linfa).abs()
            })
            .fold(0.0, f64::max);
        eprintln!("nu {nu} gamma {gamma}: max |decision diff| {worst:e}");
        assert!(
            worst < 1e-6,
            "nu {nu} gamma {gamma}: max |decision diff| {worst:e} (rho {} vs {})",
            ours.rho,
            theirs.rho
        );
        assert_eq!(
            ours.dual_coef.len(),
            theirs.nsupport(),
            "nu {nu} gamma {gamma}"
        );
    }
}

/// vigil's k-d tree (the kNN and LOF families' neighbour search) returns the same k nearest
/// training rows as linfa-nn's k-d tree and linear search, at the same distances.
#[test]
fn knn_neighbours_equal_linfa_nns() {
    let f = fixture("ml/ocsvm");
    let train = matrix(&f["train"]);
    let test = matrix(&f["test"]);
    let k = 7;
    let ours = KdTree::build(train.view(), 16).query(test.view(), k);
    for algorithm in [
        CommonNearestNeighbour::KdTree,
        CommonNearestNeighbour::LinearSearch,
    ] {
        let index = algorithm
            .from_batch(&train, L2Dist)
            .expect("linfa-nn index");
        for (q, row) in test.rows().into_iter().enumerate() {
            let theirs = index.k_nearest(row, k).expect("k nearest");
            let mut theirs: Vec<(f64, usize)> = theirs
                .iter()
                .map(|(p, i)| {
                    let d = p
                        .iter()
                        .zip(row)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        .sqrt();
                    (d, *i)
                })
                .collect();
            theirs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for j in 0..k {
                let (d, i) = theirs[j];
                assert!(
                    (ours.distances[[q, j]] - d).abs() <= 1e-12,
                    "{algorithm:?} query {q} neighbour {j}: {} vs {d}",
                    ours.distances[[q, j]]
                );
                // Ties aside, the same rows.
                if j + 1 < k && theirs[j + 1].0 > d && (j == 0 || theirs[j - 1].0 < d) {
                    assert_eq!(
                        ours.indices[[q, j]],
                        i,
                        "{algorithm:?} query {q} neighbour {j}"
                    );
                }
            }
        }
    }
}
