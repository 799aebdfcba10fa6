//! Tests of the threshold policies.

use super::*;

fn fit(policy: &str, scores: &[f64], windows: &[Window]) -> Result<FittedThreshold> {
    let s = SeriesScores::new(scores, windows)?;
    policy.parse::<ThresholdPolicy>()?.fit(&[s])
}

#[test]
fn parse_round_trips_and_rejects() {
    for text in [
        "fixed:0.5",
        "quantile:0.99",
        "contamination:0.01",
        "topk:10",
        "std:3",
        "mad:3",
        "best:f1",
        "best:adjusted-f1",
        "best:nab:reward_low_FN_rate",
    ] {
        let p: ThresholdPolicy = text.parse().unwrap();
        assert_eq!(p.to_string().parse::<ThresholdPolicy>().unwrap(), p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ThresholdPolicy>(&json).unwrap(), p);
    }
    assert_eq!(
        "best-f1".parse::<ThresholdPolicy>().unwrap(),
        ThresholdPolicy::Best {
            objective: Objective::PointF1
        }
    );
    assert_eq!(
        "nab:low-fp".parse::<ThresholdPolicy>().unwrap(),
        ThresholdPolicy::Best {
            objective: Objective::Nab {
                profile: NabProfile::RewardLowFp
            }
        }
    );
    for bad in [
        "quantile:1.5",
        "topk:0",
        "topk:2.5",
        "fixed",
        "fixed:x",
        "nope",
        "contamination:0",
    ] {
        let err = bad.parse::<ThresholdPolicy>().unwrap_err().to_string();
        assert!(err.contains("hint:"), "{bad}: {err}");
    }
}

#[test]
fn unsupervised_policies() {
    let scores = [1.0, 2.0, 3.0, 4.0, 10.0];
    assert_eq!(fit("fixed:0.5", &scores, &[]).unwrap().value, 0.5);
    assert!((fit("quantile:0.5", &scores, &[]).unwrap().value - 3.0).abs() < 1e-15);
    assert!((fit("quantile:0.9", &scores, &[]).unwrap().value - 7.6).abs() < 1e-12);
    assert!((fit("contamination:0.1", &scores, &[]).unwrap().value - 7.6).abs() < 1e-12);
    assert_eq!(fit("topk:2", &scores, &[]).unwrap().value, 4.0);
    assert_eq!(fit("topk:99", &scores, &[]).unwrap().value, 1.0);
    // mean 4, population variance (9+4+1+0+36)/5 = 10
    let t = fit("std:2", &scores, &[]).unwrap().value;
    assert!((t - (4.0 + 2.0 * 10f64.sqrt())).abs() < 1e-12);
    // median 3, |dev| = 2 1 0 1 7 -> MAD 1
    let t = fit("mad:3", &scores, &[]).unwrap().value;
    assert!((t - (3.0 + 3.0 * MAD_NORMAL_SCALE)).abs() < 1e-12);
    assert!(fit("quantile:0.5", &[], &[]).is_err());
}

#[test]
fn best_f1_picks_the_separating_threshold() {
    let scores = [0.1, 0.2, 0.9, 0.8, 0.3, 0.85, 0.1];
    let windows = [Window::new(2, 3)];
    let f = fit("best-f1", &scores, &windows).unwrap();
    assert_eq!(f.value, 0.8);
    assert!((f.objective_value.unwrap() - 0.8).abs() < 1e-15); // TP 2, FP 1 (0.85)
    let f = fit("best-adjusted-f1", &scores, &windows).unwrap();
    assert_eq!(f.value, 0.9); // the window peaks at 0.9: full recall, no FP
    assert_eq!(f.objective_value, Some(1.0));
    assert!(matches!(
        fit("best-f1", &scores, &[]),
        Err(EvalError::NotEnoughData { .. })
    ));
}

#[test]
fn best_of_any_metric_by_candidates() {
    use crate::alert::{AlertPolicy, apply_alert_policy};
    use crate::event::event_metrics;
    let scores = [0.1, 0.7, 0.2, 0.9, 0.95, 0.3, 0.8, 0.1, 0.6, 0.2];
    let windows = [Window::new(3, 4)];
    let t: Vec<i64> = (0..10).collect();
    let event_f1 = |th: f64| -> Result<f64> {
        let alerts = apply_alert_policy(&scores, &t, th, &AlertPolicy::default())?;
        Ok(event_metrics(&alerts, &windows, &t, 0)?.event_f1)
    };
    // Only 0.9 and 0.95 catch the incident without false alarms; the higher one wins.
    let (th, f) = best_threshold_by(&scores, usize::MAX, event_f1).unwrap();
    assert_eq!((th, f), (0.95, 1.0));
    // A coarse grid still evaluates the top score first.
    let (th, _) = best_threshold_by(&scores, 3, event_f1).unwrap();
    assert_eq!(th, 0.95);
    assert!(best_threshold_by(&scores, 0, event_f1).is_err());
    assert!(best_threshold_by(&[], 5, event_f1).is_err());
}

#[test]
fn nab_objective_uses_the_exact_search() {
    let mut scores = vec![0.0; 100];
    scores[40] = 0.7; // early in the window
    scores[80] = 0.9; // a false positive, more anomalous
    let windows = [Window::new(40, 49)];
    let f = fit("nab", &scores, &windows).unwrap();
    assert_eq!(f.value, 0.7);
    assert!(f.objective_value.unwrap() > 0.0);
}

#[test]
fn budget_and_pot_text_forms() {
    assert_eq!(
        "budget:1".parse::<ThresholdPolicy>().unwrap(),
        ThresholdPolicy::AlertBudget { per_day: 1.0 }
    );
    assert_eq!(
        "alert-budget:0.5".parse::<ThresholdPolicy>().unwrap(),
        ThresholdPolicy::AlertBudget { per_day: 0.5 }
    );
    assert_eq!(
        "pot:1e-4".parse::<ThresholdPolicy>().unwrap(),
        ThresholdPolicy::Pot {
            risk: 1e-4,
            level: 0.98
        }
    );
    assert_eq!(
        "POT:1e-4:0.95".parse::<ThresholdPolicy>().unwrap(),
        ThresholdPolicy::Pot {
            risk: 1e-4,
            level: 0.95
        }
    );
    for text in [
        "budget:1",
        "budget:0",
        "budget:2.5",
        "pot:1e-4",
        "pot:0.001:0.95",
    ] {
        let p: ThresholdPolicy = text.parse().unwrap();
        assert_eq!(p.to_string(), text.replace("1e-4", "0.0001"));
        assert_eq!(p.to_string().parse::<ThresholdPolicy>().unwrap(), p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ThresholdPolicy>(&json).unwrap(), p);
        assert!(!p.is_supervised());
    }
    // The level defaults in serde too.
    let p: ThresholdPolicy = serde_json::from_str(r#"{"kind":"pot","risk":0.001}"#).unwrap();
    assert_eq!(
        p,
        ThresholdPolicy::Pot {
            risk: 1e-3,
            level: 0.98
        }
    );
    let p: ThresholdPolicy =
        serde_json::from_str(r#"{"kind":"alert_budget","per_day":3}"#).unwrap();
    assert_eq!(p, ThresholdPolicy::AlertBudget { per_day: 3.0 });
    for bad in [
        "budget",
        "budget:-1",
        "budget:nan",
        "budget:x",
        "pot",
        "pot:0",
        "pot:1",
        "pot:0.05", // not in the tail above the 0.98-quantile
        "pot:1e-4:1",
        "pot:1e-4:0",
        "pot:1e-4:x",
        "pot:1e-4:0.9:1",
    ] {
        let err = bad.parse::<ThresholdPolicy>().unwrap_err().to_string();
        assert!(err.contains("hint:"), "{bad}: {err}");
    }
    let hint = "nope".parse::<ThresholdPolicy>().unwrap_err().to_string();
    assert!(
        hint.contains("budget:PER_DAY") && hint.contains("pot:RISK[:LEVEL]"),
        "{hint}"
    );
}

#[test]
fn pot_needs_enough_excesses() {
    let scores: Vec<f64> = (0..200).map(f64::from).collect();
    // 2 % of 200 rows: 4 excesses.
    let err = fit("pot:1e-3", &scores, &[]).unwrap_err();
    assert!(matches!(err, EvalError::NotEnoughData { .. }), "{err}");
    assert!(err.to_string().contains("hint:"));
    let t = fit("pot:1e-3:0.9", &scores, &[]).unwrap().value;
    assert!(t > 199.0 * 0.9 && t.is_finite(), "{t}");
    let constant = vec![1.0; 1000];
    assert!(fit("pot:1e-3", &constant, &[]).is_err());
    assert!(
        !ThresholdPolicy::Pot {
            risk: 1e-3,
            level: 0.98
        }
        .needs_context()
    );
}
