"""Multinomial logistic regression over TF-IDF weighted text features, stored as JSON.

Trained with scikit-learn (``TfidfVectorizer`` + ``LogisticRegression``); the fitted numbers —
each feature's inverse document frequency and its weight per class, plus the intercepts — are
kept as plain JSON in ``ClassifierModel.parameters``, and prediction is a dictionary walk in pure
Python that reproduces ``predict_proba`` exactly (a test checks it). So a stored version is
inspectable, nothing is ever unpickled, and serving a prediction imports neither numpy nor
scikit-learn; only training does.

Why this model (``bench/routing_accuracy.py`` measures it beside the naive Bayes it replaces and
the reference character n-gram regression): its probabilities are far better calibrated than naive
Bayes' tempered posteriors, which is what a triage threshold needs; the features (see
``routing.classifier.robust_features``) add robustness to Traditional characters, full-width text,
homophone typos and English words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routing.classifier import Prediction

# Weights and idf values are rounded when stored: 5 significant decimals change no prediction and
# keep a version's JSON small.
_DIGITS = 5
# Features seen in fewer training texts than this are dropped (typos of typos, one-off numbers).
MIN_DF = 2
DEFAULT_C = 30.0


class LinearModel:
    """Multinomial logistic regression on sublinear, L2-normalised TF-IDF feature vectors."""

    def __init__(self, *, features: str, c: float = DEFAULT_C) -> None:
        self.features = features
        self.c = c
        self.classes: list[str] = []
        self.idf: dict[str, float] = {}
        self.weights: dict[str, list[float]] = {}
        self.intercepts: list[float] = []
        # The calibrated auto-routing threshold, set from the stored version's metrics when loaded.
        self.auto_threshold: float | None = None

    # Training and serialisation

    def fit(self, documents: Sequence[list[str]], labels: Sequence[str]) -> LinearModel:
        """Fit on documents given as feature lists (``routing.classifier.document_features``)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vectorizer = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=MIN_DF)
        matrix = vectorizer.fit_transform(documents)
        regression = LogisticRegression(C=self.c, max_iter=3000)
        regression.fit(matrix, list(labels))
        self.classes = [str(c) for c in regression.classes_]
        names = vectorizer.get_feature_names_out()
        coefficients = regression.coef_
        if len(self.classes) == 2:  # binary: sklearn keeps one row; the softmax needs both
            coefficients = [-coefficients[0] / 2, coefficients[0] / 2]
            intercepts = [-regression.intercept_[0] / 2, regression.intercept_[0] / 2]
        else:
            intercepts = list(regression.intercept_)
        self.idf = {str(name): round(float(v), _DIGITS) for name, v in zip(names, vectorizer.idf_, strict=True)}
        self.weights = {
            str(name): [round(float(row[j]), _DIGITS) for row in coefficients] for j, name in enumerate(names)
        }
        self.intercepts = [round(float(v), _DIGITS) for v in intercepts]
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "c": self.c,
            "classes": self.classes,
            "idf": self.idf,
            "weights": self.weights,
            "intercepts": self.intercepts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearModel:
        model = cls(features=data["features"], c=data["c"])
        model.classes = list(data["classes"])
        model.idf = {k: float(v) for k, v in data["idf"].items()}
        model.weights = {k: [float(w) for w in v] for k, v in data["weights"].items()}
        model.intercepts = [float(v) for v in data["intercepts"]]
        return model

    # Prediction

    def vector(self, document: list[str]) -> dict[str, float]:
        """The document's TF-IDF vector (known features only), as scikit-learn computes it."""
        counts = Counter(f for f in document if f in self.idf)
        values = {f: (1.0 + math.log(n)) * self.idf[f] for f, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        return {f: v / norm for f, v in values.items()}

    def probabilities(self, document: list[str]) -> tuple[dict[str, float], dict[str, float]]:
        """(probability per class, the vector), the softmax of the linear scores."""
        if not self.classes:
            raise RuntimeError("The classifier has not been trained.")
        vector = self.vector(document)
        totals = list(self.intercepts)
        for feature, value in vector.items():
            for index, weight in enumerate(self.weights[feature]):
                totals[index] += weight * value
        top = max(totals)
        exp = [math.exp(t - top) for t in totals]
        total = sum(exp)
        return {c: e / total for c, e in zip(self.classes, exp, strict=True)}, vector

    def evidence(self, vector: dict[str, float], category: str, limit: int = 5) -> list[str]:
        """The features that pushed the text most towards ``category`` (weight × value, largest first)."""
        index = self.classes.index(category)
        pushes = {f: v * self.weights[f][index] for f, v in vector.items()}
        return [f for f in sorted(pushes, key=pushes.__getitem__, reverse=True)[:limit] if pushes[f] > 0]

    def predict(self, title: str, description: str) -> Prediction:
        """The category, its probability, every class's probability and the evidence for a text."""
        from routing.classifier import Prediction, document_features, evidence_weight

        document = document_features(title, description, self.features)
        scores, vector = self.probabilities(document)
        best = max(scores, key=scores.__getitem__)
        return Prediction(
            category=best,
            confidence=scores[best],
            scores=scores,
            top_features=self.evidence(vector, best),
            feature_count=evidence_weight(title, description, known=self.idf, kind=self.features),
        )


def _identity(document: list[str]) -> list[str]:
    return document


# --- Calibrating the triage threshold -------------------------------------------------------------


def choose_threshold(
    outcomes: Sequence[tuple[float, bool]], *, max_wrong: float, grid: Sequence[float] | None = None
) -> dict[str, float]:
    """The lowest confidence threshold at which auto-routed appeals are wrong at most ``max_wrong`` of the time.

    ``outcomes`` are (bureau-level confidence, routed to the wrong bureau) for held-out appeals whose
    prediction is routable. Returns the threshold with the share auto-routed and wrong at it.
    """
    grid = grid or [round(0.2 + 0.01 * i, 2) for i in range(76)]
    total = len(outcomes) or 1
    for threshold in grid:
        auto = [wrong for confidence, wrong in outcomes if confidence >= threshold]
        if auto and sum(auto) / len(auto) <= max_wrong:
            return {
                "threshold": threshold,
                "auto_share": round(len(auto) / total, 4),
                "wrong_share": round(sum(auto) / len(auto), 4),
            }
    return {"threshold": grid[-1], "auto_share": 0.0, "wrong_share": 0.0}


def bureau_confidence(scores: dict[str, float], category: str, bureau_of: dict[str, str]) -> float:
    """The probability that the bureau type of ``category`` is right: its categories' summed probabilities."""
    bureau = bureau_of.get(category)
    return sum(p for c, p in scores.items() if bureau is not None and bureau_of.get(c) == bureau)
