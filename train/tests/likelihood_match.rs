//! The anomaly-likelihood transform against the committed Python port of nupic's
//! `AnomalyLikelihood` in NAB's configuration (fixture `anomaly_likelihood`): every
//! likelihood and log-likelihood to 1e-9.

use vigil_train::detectors::anomaly_likelihood::LikelihoodParams;

use crate::common::{fixture, floats, nab_values};

#[test]
fn likelihoods_match_the_nupic_port() {
    let expected = fixture("anomaly_likelihood");
    let values = nab_values(expected["nab_file"].as_str().expect("nab_file"));
    let raw = floats(&expected["raw_scores"]);
    let probation = expected["probationary_rows"].as_u64().expect("rows") as usize;
    let params = LikelihoodParams::for_probationary_period(probation);
    params.check().expect("valid");
    for (log_scale, key) in [(false, "likelihood"), (true, "log_likelihood")] {
        let ours = LikelihoodParams {
            log_scale,
            ..params.clone()
        }
        .transform(&raw, Some(&values), None);
        let theirs = floats(&expected[key]);
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!(
                (a - b).abs() <= 1e-9,
                "{key}[{i}]: vigil {a} vs reference {b}"
            );
        }
        assert!(
            theirs.iter().any(|v| *v > 0.9),
            "{key}: the fixture has no high likelihood to check"
        );
    }
}
