#!/usr/bin/python3
"""scikit-learn's answers for the calibrator differential tests
(src/calibration/calibrator_sklearn_test.cc).

    calibrators.py FOLDER CASE...

Each CASE names FOLDER/CASE.csv, written by the test: a header, then one row per sample with
the columns
    p  forecast probability in (0, 1)
    y  outcome, 0 or 1
    w  weight >= 0 (some exactly 0)
    f  ClippedLogit(p) as the C++ code computes it, so that both sides fit the same scores
    v  a continuous target, for IsotonicRegression beyond binary outcomes
and FOLDER/CASE_probes.csv, one probe point per line. Numbers are shortest round-trip
decimals, parsed here with float(), so both sides hold the same bits.

Prints one JSON object {CASE: answers}; the keys are read by the test.
"""
import csv
import json
import sys
import warnings

import numpy as np
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss


def read_columns(path):
    with open(path, newline="") as stream:
        rows = list(csv.reader(stream))
    header, body = rows[0], rows[1:]
    return {name: np.array([float(row[i]) for row in body]) for i, name in enumerate(header)}


def isotonic(p, y, w, probes, **options):
    # The isotonic calibrator: clip outside the training range, values in [0, 1].
    model = IsotonicRegression(out_of_bounds="clip", **options).fit(p, y, sample_weight=w)
    return {"train": model.predict(p).tolist(), "probes": model.predict(probes).tolist()}


def temperature(f, y, w):
    # No temperature scaling in scikit-learn: sigmoid(f / T) is unpenalized logistic regression
    # on the single feature f without intercept, whose coefficient is 1 / T.
    model = LogisticRegression(penalty=None, fit_intercept=False, tol=1e-12, max_iter=10000)
    model.fit(f.reshape(-1, 1), y, sample_weight=w)
    return 1.0 / float(model.coef_[0, 0])


def answers(folder, case):
    data = read_columns(f"{folder}/{case}.csv")
    probes = read_columns(f"{folder}/{case}_probes.csv")["x"]
    p, y, w, f, v = data["p"], data["y"], data["w"], data["f"], data["v"]
    out = {
        "isotonic": isotonic(p, y, None, probes, y_min=0.0, y_max=1.0),
        "isotonic_weighted": isotonic(p, y, w, probes, y_min=0.0, y_max=1.0),
        "isotonic_continuous": isotonic(p, v, w, probes),
        "isotonic_continuous_decreasing": isotonic(p, v, w, probes, increasing=False),
        "platt": list(_sigmoid_calibration(f, y)),
        "platt_weighted": list(_sigmoid_calibration(f, y, sample_weight=w)),
        "temperature": temperature(f, y, None),
        "temperature_weighted": temperature(f, y, w),
        "brier": brier_score_loss(y, p),
        "brier_weighted": brier_score_loss(y, p, sample_weight=w),
        "log_loss": log_loss(y, p),
        "log_loss_weighted": log_loss(y, p, sample_weight=w),
    }
    return {key: float(value) if isinstance(value, np.floating) else value
            for key, value in out.items()}


def main():
    folder, cases = sys.argv[1], sys.argv[2:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence chatter goes to stderr otherwise
        print(json.dumps({case: answers(folder, case) for case in cases}))


if __name__ == "__main__":
    main()
