"""Checks an exported vigil model in Python: onnx.checker accepts it and Python's onnxruntime
scores the rows of a case file as vigil did.

Usage: python3 check_onnx.py MODEL.onnx CASE.json

CASE.json: {"x": [[[...channels] * window] * batch], "score": [...], "is_anomaly": [...],
            "tolerance": 1e-5, "relative_tolerance": 0.0, "initial_state": null}, written by
            export/tests/parity.rs from vigil's own scores.
A stateful model (inputs x and state, outputs score, is_anomaly, state_out: the EWMA) is fed
the batch rows one at a time in order, from "initial_state" (null entries are NaN), each
call's state_out becoming the next call's state.
Versions: onnx 1.23.2, onnxruntime 1.31.1, numpy 2.4.6 (.ci/requirements.txt).
Allowed |Δscore| per row: tolerance + relative_tolerance × |vigil score|.
Prints one JSON line (max |Δscore|, decision mismatches) and exits 1 on any failure.
"""

import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main() -> int:
    model_path, case_path = sys.argv[1], sys.argv[2]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    with open(case_path) as f:
        case = json.load(f)
    x = np.asarray(case["x"], dtype=np.float32)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    inputs = [i.name for i in session.get_inputs()]
    if inputs == ["x"] and names == ["score", "is_anomaly"]:
        score, flag = session.run(["score", "is_anomaly"], {"x": x})
    elif inputs == ["x", "state"] and names == ["score", "is_anomaly", "state_out"]:
        shape = [1] + [d for d in session.get_inputs()[1].shape[1:]]
        initial = [np.nan if v is None else v for v in case["initial_state"]]
        state = np.asarray(initial, dtype=np.float64).reshape(shape)
        scores, flags = [], []
        for i in range(x.shape[0]):
            s, f, state = session.run(["score", "is_anomaly", "state_out"],
                                      {"x": x[i:i + 1], "state": state})
            scores.append(s[0])
            flags.append(f[0])
        score, flag = np.asarray(scores, dtype=np.float32), np.asarray(flags, dtype=bool)
    else:
        print(json.dumps({"error": f"unexpected inputs {inputs} / outputs {names}"}))
        return 1
    expected = np.asarray(case["score"], dtype=np.float64)
    expected_flag = np.asarray(case["is_anomaly"], dtype=bool)
    delta = float(np.max(np.abs(score.astype(np.float64) - expected))) if len(expected) else 0.0
    mismatches = int(np.sum(flag != expected_flag))
    meta = {p.key: p.value for p in model.metadata_props}
    print(json.dumps({"max_abs_delta": delta, "decision_mismatches": mismatches,
                      "rows": len(expected), "nodes": len(model.graph.node),
                      "family": meta.get("vigil.family")}))
    allowed = case["tolerance"] + case.get("relative_tolerance", 0.0) * np.abs(expected)
    within = bool(np.all(np.abs(score.astype(np.float64) - expected) <= allowed))
    ok = within and mismatches == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
