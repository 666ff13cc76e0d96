#!/usr/bin/python3
"""The scikit-learn side of the calibration benchmarks (issue 4); run by
bench/run_calibration_bench.sh, which also runs the C++ side on the same files.

    calibration_sklearn.py generate DIR   # the samples, as raw little-endian float64
    calibration_sklearn.py csv DIR        # DIR/10m.csv: the 10M samples as `p,y` lines
    calibration_sklearn.py time DIR REPS  # times scikit-learn; writes DIR/sk_* answers
    calibration_sklearn.py rss DIR        # one 10M job, for /usr/bin/time -v
    calibration_sklearn.py compare DIR    # DIR/sk_* vs DIR/tb_* and the timings: the table

The samples (numpy default_rng(20260401), 1M and then 10M drawn from the same generator):
    p = sigmoid(N(0, 1.5)),  y ~ Bernoulli(sigmoid(1.4 logit(p) - 0.3))
i.e. over-confident, biased forecasts with about 1M (10M) distinct values of p.

What is timed on the scikit-learn side (each the median of REPS runs, in this process):
    isotonic     IsotonicRegression(out_of_bounds="clip").fit(p, y).predict(p), 1M
                 (what CalibratedClassifierCV(method="isotonic") fits)
    platt        _sigmoid_calibration(logit(p), y), 1M, logit computed as the C++ side does
    temperature  LogisticRegression(penalty=None, fit_intercept=False).fit(logit(p), y), 1M:
                 scikit-learn has no temperature scaling; the coefficient is 1/T
    ece          calibration_curve(y, p, n_bins=10), the bin counts (which it does not return)
                 and ECE = sum(count/n * |prob_true - prob_pred|), 10M
"""
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.special import expit
from sklearn.calibration import _sigmoid_calibration, calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

SEED = 20260401
CLIP = 1e-12  # calibration::kProbabilityClip


def logit(p):
    q = np.clip(p, CLIP, 1 - CLIP)
    return np.log(q / (1 - q))


def load(folder, suffix):
    return np.fromfile(folder / f"p_{suffix}.f64"), np.fromfile(folder / f"y_{suffix}.f64")


def generate(folder):
    rng = np.random.default_rng(SEED)
    for suffix, n in (("1m", 1_000_000), ("10m", 10_000_000)):
        p = expit(rng.normal(0.0, 1.5, n))
        y = (rng.random(n) < expit(1.4 * logit(p) - 0.3)).astype(np.float64)
        p.astype("<f8").tofile(folder / f"p_{suffix}.f64")
        y.astype("<f8").tofile(folder / f"y_{suffix}.f64")


def write_csv(folder):
    p, y = load(folder, "10m")
    with open(folder / "10m.csv", "w") as out:
        for start in range(0, len(p), 1_000_000):
            chunk = zip(p[start:start + 1_000_000].tolist(), y[start:start + 1_000_000].tolist())
            out.write("".join(f"{a!r},{int(b)}\n" for a, b in chunk))


def isotonic(p, y):
    return IsotonicRegression(out_of_bounds="clip").fit(p, y).predict(p)


def platt(p, y):
    return _sigmoid_calibration(logit(p), y)


def temperature(p, y, **options):
    model = LogisticRegression(penalty=None, fit_intercept=False, **options)
    return 1.0 / float(model.fit(logit(p).reshape(-1, 1), y).coef_[0, 0])


def ece_and_bins(p, y):
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
    counts = np.bincount(np.searchsorted(np.linspace(0.0, 1.0, 11)[1:-1], p), minlength=10)
    counts = counts[counts != 0]
    ece = float(np.sum(counts / len(p) * np.abs(prob_true - prob_pred)))
    return prob_true, prob_pred, counts, ece


def timed(reps, fn, *args, **kwargs):
    seconds = []
    for _ in range(reps):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds.append(time.perf_counter() - start)
    return result, {"median_ms": statistics.median(seconds) * 1e3, "min_ms": min(seconds) * 1e3}


def time_sklearn(folder, reps):
    p1, y1 = load(folder, "1m")
    p10, y10 = load(folder, "10m")
    timings = {}
    predictions, timings["isotonic"] = timed(reps, isotonic, p1, y1)
    predictions.astype("<f8").tofile(folder / "sk_isotonic_1m.f64")
    (a, b), timings["platt"] = timed(reps, platt, p1, y1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence warnings
        t_default, timings["temperature"] = timed(reps, temperature, p1, y1)
        t_tight, timings["temperature_tight"] = timed(reps, temperature, p1, y1, tol=1e-10,
                                                      max_iter=10_000)
    (prob_true, prob_pred, counts, ece), timings["ece"] = timed(reps, ece_and_bins, p10, y10)
    answers = {"platt": [float(a), float(b)], "temperature": t_default,
               "temperature_tight": t_tight,
               "ece": {"ece": ece, "prob_true": prob_true.tolist(),
                       "prob_pred": prob_pred.tolist(), "counts": counts.tolist()}}
    (folder / "sk_answers.json").write_text(json.dumps(answers))
    (folder / "sk_timings.json").write_text(json.dumps(timings))


def rss_job(folder):
    p, y = load(folder, "10m")
    isotonic(p, y)
    ece_and_bins(p, y)


def platt_loss(p, y, a, b):
    # Platt's smoothed-target cross-entropy (platt.h SigmoidLoss), summed exactly (fsum).
    f = logit(p)
    positives = float(np.sum(y > 0))
    negatives = len(y) - positives
    t = np.where(y > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    z = a * f + b
    terms = t * np.logaddexp(0, z) + (1 - t) * np.logaddexp(0, -z)
    return math.fsum(terms.tolist())


def temperature_loss(p, y, t):
    z = logit(p) / t
    return math.fsum((y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)).tolist())


def compare(folder):
    sk = json.loads((folder / "sk_answers.json").read_text())
    sk_time = json.loads((folder / "sk_timings.json").read_text())
    tb_time = json.loads((folder / "tb_timings.json").read_text())
    p1, y1 = load(folder, "1m")
    rows = []

    iso_tb = np.fromfile(folder / "tb_isotonic_1m.f64")
    iso_sk = np.fromfile(folder / "sk_isotonic_1m.f64")
    rows.append(("isotonic fit+predict, 1M", "isotonic", "BM_IsotonicFitPredict/1M",
                 f"max abs diff of the 1M predictions: {np.max(np.abs(iso_tb - iso_sk)):.1e}"))

    params = json.loads((folder / "tb_platt_1m.json").read_text())
    a, b = params["a"], params["b"]
    sa, sb = sk["platt"]
    gap = platt_loss(p1, y1, sa, sb) - platt_loss(p1, y1, a, b)
    rows.append(("Platt, 1M", "platt", "BM_PlattFit/1M",
                 f"abs diff a {abs(a - sa):.1e}, b {abs(b - sb):.1e}; "
                 f"loss(sklearn) - loss(ours) = {gap:.1e}"))

    t = json.loads((folder / "tb_temperature_1m.json").read_text())["temperature"]
    st, st_tight = sk["temperature"], sk["temperature_tight"]
    gap = temperature_loss(p1, y1, st) - temperature_loss(p1, y1, t)
    rows.append(("temperature, 1M", "temperature", "BM_TemperatureFit/1M",
                 f"relative diff of T {abs(t - st) / st:.1e} "
                 f"(tol=1e-10: {abs(t - st_tight) / st_tight:.1e}); "
                 f"loss(sklearn) - loss(ours) = {gap:.1e}"))

    ece_tb = json.loads((folder / "tb_ece_10m.json").read_text())
    ece_sk = sk["ece"]
    same_bins = all(ece_tb[k] == ece_sk[k] for k in ("prob_true", "prob_pred", "counts"))
    rows.append(("ECE + reliability bins, 10M", "ece", "BM_EceAndReliabilityBins/10M",
                 f"bins {'identical (bit for bit)' if same_bins else 'DIFFER'}; "
                 f"abs diff of ECE {abs(ece_tb['ece'] - ece_sk['ece']):.1e}"))

    print("| benchmark | scikit-learn 1.2.1 (median) | truthbook (median) | ratio | same answers |")
    print("|---|---|---|---|---|")
    for title, sk_key, tb_key, answers in rows:
        theirs = sk_time[sk_key]["median_ms"]
        ours = tb_time[tb_key]
        print(f"| {title} | {theirs:.1f} ms | {ours:.1f} ms | **{theirs / ours:.1f}×** | {answers} |")
    tight = sk_time["temperature_tight"]["median_ms"]
    print(f"\nscikit-learn temperature stand-in with tol=1e-10: {tight:.1f} ms "
          f"({tight / tb_time['BM_TemperatureFit/1M']:.1f}× truthbook)")


def main():
    command, folder = sys.argv[1], Path(sys.argv[2])
    if command == "generate":
        generate(folder)
    elif command == "csv":
        write_csv(folder)
    elif command == "time":
        time_sklearn(folder, int(sys.argv[3]))
    elif command == "rss":
        rss_job(folder)
    elif command == "compare":
        compare(folder)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
