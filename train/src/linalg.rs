//! Small dense linear algebra the families need, written here rather than pulling a LAPACK
//! binding: the symmetric eigen-decomposition (cyclic Jacobi) used by PCA.

use ndarray::{Array1, Array2};

/// Eigen-decomposition of a symmetric matrix by the cyclic Jacobi method: eigenvalues in
/// descending order and the matching unit eigenvectors as the *rows* of the returned matrix.
///
/// Jacobi is accurate to a few ulps of the largest eigenvalue (it reaches eigenvalues with
/// high relative accuracy on well-scaled matrices) and costs O(d³) per sweep, with typically
/// 6–10 sweeps: fine for d up to a few hundred. Only the upper triangle of `a` is read.
pub fn symmetric_eigen(a: &Array2<f64>) -> (Array1<f64>, Array2<f64>) {
    let d = a.nrows();
    debug_assert_eq!(d, a.ncols(), "symmetric_eigen needs a square matrix");
    let mut m = a.clone();
    for i in 0..d {
        for j in 0..i {
            m[[i, j]] = m[[j, i]];
        }
    }
    // Columns of `v` are the eigenvectors.
    let mut v = Array2::<f64>::eye(d);
    for _sweep in 0..100 {
        let mut off = 0.0;
        let mut diag = 0.0;
        for i in 0..d {
            diag += m[[i, i]] * m[[i, i]];
            for j in (i + 1)..d {
                off += m[[i, j]] * m[[i, j]];
            }
        }
        if off == 0.0 || off <= 1e-32 * diag {
            break;
        }
        for p in 0..d {
            for q in (p + 1)..d {
                let apq = m[[p, q]];
                if apq == 0.0 {
                    continue;
                }
                let app = m[[p, p]];
                let aqq = m[[q, q]];
                // Skip rotations below rounding of both diagonal entries.
                if apq.abs() <= f64::EPSILON * 1e-3 * (app.abs().min(aqq.abs()))
                    && app.abs() > 0.0
                    && aqq.abs() > 0.0
                {
                    m[[p, q]] = 0.0;
                    m[[q, p]] = 0.0;
                    continue;
                }
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let mkp = m[[k, p]];
                    let mkq = m[[k, q]];
                    m[[k, p]] = c * mkp - s * mkq;
                    m[[k, q]] = s * mkp + c * mkq;
                }
                for k in 0..d {
                    let mpk = m[[p, k]];
                    let mqk = m[[q, k]];
                    m[[p, k]] = c * mpk - s * mqk;
                    m[[q, k]] = s * mpk + c * mqk;
                }
                m[[p, q]] = 0.0;
                m[[q, p]] = 0.0;
                for k in 0..d {
                    let vkp = v[[k, p]];
                    let vkq = v[[k, q]];
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| m[[j, j]].total_cmp(&m[[i, i]]).then(i.cmp(&j)));
    let values = Array1::from_iter(order.iter().map(|&i| m[[i, i]]));
    let vectors = Array2::from_shape_fn((d, d), |(row, k)| v[[k, order[row]]]);
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn reconstructs_the_matrix_and_orders_eigenvalues() {
        let a = array![
            [4.0, 1.0, 2.0, 0.5],
            [1.0, 3.0, 0.0, 0.1],
            [2.0, 0.0, 5.0, 1.0],
            [0.5, 0.1, 1.0, 1.0]
        ];
        let (values, vectors) = symmetric_eigen(&a);
        assert!(values.windows(2).into_iter().all(|w| w[0] >= w[1]));
        // A = Vᵀ Λ V with eigenvectors as rows.
        for i in 0..4 {
            for j in 0..4 {
                let sum: f64 = (0..4)
                    .map(|k| vectors[[k, i]] * values[k] * vectors[[k, j]])
                    .sum();
                assert!((sum - a[[i, j]]).abs() < 1e-12, "{i},{j}: {sum}");
            }
        }
        // Orthonormal rows.
        for i in 0..4 {
            for j in 0..4 {
                let dot: f64 = (0..4).map(|k| vectors[[i, k]] * vectors[[j, k]]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12);
            }
        }
        // Trace is preserved.
        assert!((values.sum() - 13.0).abs() < 1e-12);
    }

    #[test]
    fn diagonal_and_zero_matrices() {
        let (values, _) = symmetric_eigen(&array![[1.0, 0.0], [0.0, 3.0]]);
        assert_eq!(values.to_vec(), vec![3.0, 1.0]);
        let (values, vectors) = symmetric_eigen(&Array2::zeros((3, 3)));
        assert_eq!(values.to_vec(), vec![0.0; 3]);
        assert_eq!(vectors, Array2::<f64>::eye(3));
    }
}
