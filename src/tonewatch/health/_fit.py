"""Learning health weights from outcomes: L2-regularised logistic regression in numpy.

Each row is the factor values of one customer at one time (``factor_features(report)``) and
whether they churned within the horizon after it. The model is
``P(churn) = sigmoid(b0 + sum(beta_f * value_f))``, fitted by Newton's method on standardised
values (the intercept is not penalised). It is mapped onto points by linearising
``health ~ 100 * (1 - P(churn))`` at even odds: ``weight_f = -25 * beta_f`` and
``base = 50 - 25 * b0`` (bounded to 0..100), so health 50 is a coin flip and each unit of
log-odds is 25 points.

How well the score separates churned from retained customers is the AUC on a *time-based*
split: the model is fitted on the earliest rows and scored on the latest ``test_fraction``,
as it would be used. The returned weights are then refitted on all rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tonewatch._errors import InputError

from ._weights import FEATURES, HealthWeights

if TYPE_CHECKING:
    from ._report import HealthReport

__all__ = ["POINTS_PER_LOGIT", "FitResult", "factor_features", "fit_weights", "health_from_features", "roc_auc"]

POINTS_PER_LOGIT = 25.0
_Array = npt.NDArray[np.float64]


def factor_features(report: HealthReport) -> dict[str, float]:
    """Every factor's value at the report's time (zeros included): one row for ``fit_weights``."""
    return {name: float(report.features.get(name, 0.0)) for name in FEATURES}


def health_from_features(features: Mapping[str, float], weights: HealthWeights) -> float:
    """The health the given weights assign to a row of factor values (``base + sum``, bounded 0..100)."""
    total = weights.base + sum(weights.points(k) * float(v) for k, v in features.items())
    return min(max(total, 0.0), 100.0)


def roc_auc(scores: Sequence[float] | _Array, labels: Sequence[bool] | npt.NDArray[np.bool_]) -> float | None:
    """Area under the ROC curve (higher score = more likely positive); ties count half.

    None when only one class is present, where the AUC is undefined.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < s.size:  # average ranks over ties
        j = i
        while j + 1 < s.size and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


@dataclass(frozen=True, slots=True)
class FitResult:
    """Learned weights, the logistic model behind them and how well it separates churn."""

    weights: HealthWeights
    coefficients: dict[str, float]
    intercept: float
    auc: float | None
    train_auc: float | None
    current_auc: float | None
    n_train: int
    n_test: int
    n_churned: int

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 4)

        return {
            "weights": self.weights.to_dict(),
            "coefficients": {k: round(v, 6) for k, v in self.coefficients.items()},
            "intercept": round(self.intercept, 6),
            "auc": r(self.auc),
            "train_auc": r(self.train_auc),
            "current_auc": r(self.current_auc),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_churned": self.n_churned,
        }


def _logistic(x: _Array, y: _Array, l2: float, max_iter: int, tol: float) -> tuple[float, _Array]:
    """Newton's method for L2-penalised logistic regression; returns (intercept, coefficients)."""
    n, d = x.shape
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    live = sd > 1e-12
    z = np.zeros_like(x)
    z[:, live] = (x[:, live] - mu[live]) / sd[live]
    a = np.hstack([np.ones((n, 1)), z])
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[0] = 0.0
    penalty[1:][~live] = 1e6  # constant columns carry no information: pin them at zero
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ w, -35.0, 35.0)))
        grad = a.T @ (p - y) + penalty * w
        hess = (a * (p * (1.0 - p))[:, None]).T @ a + np.diag(penalty) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.max(np.abs(step))) < tol:
            break
    beta = np.zeros(d)
    beta[live] = w[1:][live] / sd[live]
    b0 = float(w[0] - float(beta[live] @ mu[live]))
    return b0, beta


def fit_weights(
    rows: Sequence[tuple[Mapping[str, float], bool]],
    *,
    times: Sequence[datetime] | None = None,
    test_fraction: float = 0.25,
    l2: float = 1.0,
    current: HealthWeights | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> FitResult:
    """Fit health weights to churn labels; see the module docstring.

    ``rows`` are ``(factor values, churned within horizon)`` in time order, or in any order with
    ``times`` given (one per row). ``current`` weights, when given, are scored on the same
    hold-out so a new fit can be compared with what is in use.
    """
    if not 0 < test_fraction < 1:
        raise InputError("test_fraction must be between 0 and 1", field="test_fraction")
    if l2 < 0:
        raise InputError("l2 must be >= 0", field="l2")
    if times is not None and len(times) != len(rows):
        raise InputError("times must have one entry per row", field="times")
    if len(rows) < 10:
        raise InputError(f"need at least 10 rows to fit health weights, got {len(rows)}", code="insufficient_data")
    index = {name: i for i, name in enumerate(FEATURES)}
    x = np.zeros((len(rows), len(FEATURES)))
    y = np.zeros(len(rows))
    for r, (features, churned) in enumerate(rows):
        for name, value in features.items():
            i = index.get(name)
            if i is None:
                raise InputError(f"unknown health factor {name!r}", code="unknown_factor", field=name)
            v = float(value)
            if not np.isfinite(v):
                raise InputError(f"factor {name!r} is not a finite number", code="invalid_value", field=name)
            x[r, i] = v
        y[r] = 1.0 if churned else 0.0
    if times is not None:
        order = np.argsort(np.array([t.timestamp() for t in times]), kind="mergesort")
        x, y = x[order], y[order]
    n_churned = int(y.sum())
    if n_churned == 0 or n_churned == len(y):
        raise InputError("need both churned and retained rows to fit health weights", code="insufficient_data")
    n_test = max(1, round(len(y) * test_fraction))
    n_train = len(y) - n_test
    x_tr, y_tr, x_te, y_te = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    if 0 < y_tr.sum() < n_train:
        b0, beta = _logistic(x_tr, y_tr, l2, max_iter, tol)
        auc = roc_auc(x_te @ beta + b0, y_te > 0.5)
        train_auc = roc_auc(x_tr @ beta + b0, y_tr > 0.5)
    else:
        auc = train_auc = None  # the earliest rows hold one class only: no honest hold-out score
    current_auc = None
    if current is not None:
        w = np.array([current.points(name) for name in FEATURES])
        health = np.clip(current.base + x_te @ w, 0.0, 100.0)
        current_auc = roc_auc(-health, y_te > 0.5)
    b0, beta = _logistic(x, y, l2, max_iter, tol)
    points = {name: float(-POINTS_PER_LOGIT * beta[i]) for name, i in index.items()}
    base = float(min(max(50.0 - POINTS_PER_LOGIT * b0, 0.0), 100.0))
    weights = HealthWeights.from_dict({"base": round(base, 3), **{k: round(v, 3) for k, v in points.items()}})
    return FitResult(
        weights=weights,
        coefficients={name: float(beta[i]) for name, i in index.items()},
        intercept=b0,
        auc=auc,
        train_auc=train_auc,
        current_auc=current_auc,
        n_train=n_train,
        n_test=n_test,
        n_churned=n_churned,
    )
