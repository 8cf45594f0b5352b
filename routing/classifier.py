"""Suggesting an appeal's category from its title and description.

Two models, measured side by side in ``bench/routing_accuracy.py``:

* **logistic regression** (the default, ``routing.linear_model``): TF-IDF weighted ``robust``
  features (``routing.text_features``: OpenCC Traditional → Simplified, full-width → half-width,
  lower case; character 1–3-grams, pinyin bigrams against homophone typos, English words), trained
  with scikit-learn and stored as JSON weights; prediction is pure Python. Its probabilities are
  calibrated enough to threshold: each version stores the auto-routing threshold chosen on
  held-out hand-written examples (``train_linear``), which ``routing.decisions`` uses unless
  ``ROUTING["AUTO_ROUTE_CONFIDENCE"]`` is set.
* **multinomial naive Bayes** (``NaiveBayes``): counts per class as JSON, over ``char``, ``jieba``
  or ``robust`` features. Confidence is the posterior under a uniform prior after tempering the
  log-likelihoods by ``n ** TEMPER_EXPONENT`` (raw naive Bayes posteriors are almost always 0 or 1).
  Kept for comparison and so versions trained with it still load.

Priors are uniform on purpose for naive Bayes: dispatchers' corrections pile up in the categories
that get misrouted, which says nothing about how often a new appeal belongs to them.

Training data: the seed files ``routing/data/training/*.jsonl`` — hand-written examples and the
generated ``generated.jsonl`` (``routing/data/make_training_examples.py``: every category × the five
appeal types × the registers people write in; each line labelled with its appeal type) — plus
``TrainingExample`` rows (dispatchers' manual routing, harvested from the audit trail). Each
training run stores a ``ClassifierModel`` row with its version, parameters and metrics; the active
version is loaded once per process and re-checked at most every ``CLASSIFIER_RELOAD_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from routing.conf import routing_setting
from routing.linear_model import DEFAULT_C, LinearModel, bureau_confidence, choose_threshold
from routing.text_features import (  # noqa: F401 - char_features & co. stay importable from here
    FEATURE_EXTRACTORS,
    char_features,
    document_features,
    evidence_weight,
    jieba_features,
    normalise,
    robust_features,
    text_features,
    title_is_empty,
)

logger = logging.getLogger(__name__)

TRAINING_DIR = Path(__file__).resolve().parent / "data" / "training"
ALGORITHM = "multinomial-naive-bayes"
DEFAULT_FEATURES = "char"
DEFAULT_ALPHA = 0.1
# The default model: a calibrated logistic regression over robust features (routing.linear_model).
LINEAR_ALGORITHM = "logistic-regression"
LINEAR_FEATURES = "robust"
# Calibration target: at most this share of automatically routed held-out appeals at a wrong bureau.
MAX_WRONG_SHARE = 0.02
# Log-likelihoods are divided by n ** TEMPER_EXPONENT (n = number of known features). Chosen with
# bench/routing_accuracy.py: 0.5 leaves wrong answers at 0.9+ confidence, 1.0 flattens right ones.
TEMPER_EXPONENT = 0.7


# --- The model ------------------------------------------------------------------------------------


@dataclass
class Example:
    title: str
    description: str
    category: str
    # The appeal type (咨询 求助 建议 投诉 举报) where the example says: ready for a type model.
    appeal_type: str = ""
    # Generated from the phrase banks (make_training_examples.py) rather than written one by one.
    generated: bool = False


@dataclass
class Prediction:
    category: str
    confidence: float
    scores: dict[str, float]
    version: str = ""
    top_features: list[str] = field(default_factory=list)
    # How many known features (n-grams) the text had: the weight of the evidence.
    feature_count: int = 0
    # The auto-routing threshold calibrated with this model version (None: use the setting).
    auto_threshold: float | None = None

    def probability(self, category: str) -> float:
        return self.scores.get(category, 0.0)

    def as_explanation(self) -> dict[str, Any]:
        top = sorted(self.scores.items(), key=lambda item: item[1], reverse=True)[:3]
        return {
            "category": self.category,
            "confidence": round(self.confidence, 4),
            "top3": [[code, round(score, 4)] for code, score in top],
            "evidence": self.top_features,
            "features": self.feature_count,
            "version": self.version,
            **({"threshold": self.auto_threshold} if self.auto_threshold is not None else {}),
        }


class NaiveBayes:
    """Multinomial naive Bayes with additive smoothing over sparse feature counts."""

    def __init__(self, *, features: str = DEFAULT_FEATURES, alpha: float = DEFAULT_ALPHA) -> None:
        self.features = features
        self.alpha = alpha
        self.class_counts: dict[str, int] = {}
        self.feature_counts: dict[str, dict[str, int]] = {}
        # Set from the stored version's metrics when loaded (naive Bayes versions have none).
        self.auto_threshold: float | None = None
        self._prepare()

    # Training and serialisation

    def fit(self, examples: Iterable[Example]) -> NaiveBayes:
        class_counts: Counter[str] = Counter()
        feature_counts: dict[str, Counter[str]] = defaultdict(Counter)
        for example in examples:
            class_counts[example.category] += 1
            feature_counts[example.category].update(text_features(example.title, example.description, self.features))
        self.class_counts = dict(class_counts)
        self.feature_counts = {code: dict(counts) for code, counts in feature_counts.items()}
        self._prepare()
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "alpha": self.alpha,
            "class_counts": self.class_counts,
            "feature_counts": self.feature_counts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NaiveBayes:
        model = cls(features=data["features"], alpha=data["alpha"])
        model.class_counts = {k: int(v) for k, v in data["class_counts"].items()}
        model.feature_counts = {k: {f: int(c) for f, c in v.items()} for k, v in data["feature_counts"].items()}
        model._prepare()
        return model

    def _prepare(self) -> None:
        """Precompute log priors and, per feature, only the classes that have seen it.

        log P(f|c) = unseen(c) + delta(f, c), with delta zero for classes that never saw f; most
        n-grams occur in one to three classes, so a prediction touches a few numbers per feature.
        """
        self.classes = sorted(self.class_counts)
        vocabulary = {f for counts in self.feature_counts.values() for f in counts}
        size = max(len(vocabulary), 1)
        denominators = [sum(self.feature_counts.get(c, {}).values()) + self.alpha * size for c in self.classes]
        self.log_unseen = [math.log(self.alpha / d) for d in denominators]
        sparse: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, c in enumerate(self.classes):
            log_alpha = math.log(self.alpha)
            for feature, n in self.feature_counts.get(c, {}).items():
                sparse[feature].append((index, math.log(n + self.alpha) - log_alpha))
        self.sparse = {f: tuple(entries) for f, entries in sparse.items()}
        unseen_sum = sum(self.log_unseen)
        self.log_prob_sums = {f: unseen_sum + sum(d for _i, d in entries) for f, entries in self.sparse.items()}

    def log_prob(self, feature: str, index: int) -> float:
        for i, delta in self.sparse.get(feature, ()):
            if i == index:
                return self.log_unseen[index] + delta
        return self.log_unseen[index]

    # Prediction

    def predict(self, title: str, description: str) -> Prediction:
        if not self.classes:
            raise RuntimeError("The classifier has not been trained.")
        sparse = self.sparse
        counts = Counter(t for t in text_features(title, description, self.features) if t in sparse)
        n = sum(counts.values())
        totals = [n * u for u in self.log_unseen]
        for token, k in counts.items():
            for index, delta in sparse[token]:
                totals[index] += k * delta
        temper = max(n, 1) ** TEMPER_EXPONENT
        raw = [t / temper for t in totals]
        top = max(raw)
        exp = [math.exp(v - top) for v in raw]
        total = sum(exp)
        scores = {c: e / total for c, e in zip(self.classes, exp, strict=True)}
        best_index = raw.index(top)
        best = self.classes[best_index]
        return Prediction(
            category=best,
            confidence=scores[best],
            scores=scores,
            top_features=self._evidence(best_index, counts),
            feature_count=n,
        )

    def _evidence(self, index: int, counts: Counter[str], limit: int = 5) -> list[str]:
        """Features seen with class ``index`` that pushed most towards it against the other classes."""
        others = len(self.classes) - 1
        if others <= 0:
            return []
        sums = self.log_prob_sums
        lifts = {}
        for token in counts:
            own = self.log_prob(token, index)
            if own != self.log_unseen[index]:
                lifts[token] = own - (sums[token] - own) / others
        return sorted(lifts, key=lifts.__getitem__, reverse=True)[:limit]


# --- Training data ------------------------------------------------------------------------------


def seed_examples(directory: Path = TRAINING_DIR) -> list[Example]:
    """The labelled examples written for this project (one JSON object per line)."""
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(
                    Example(
                        row["title"],
                        row.get("description", ""),
                        row["category"],
                        appeal_type=row.get("type", ""),
                        generated="register" in row,
                    )
                )
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path.name}:{line_number}: not a training example ({exc})") from exc
    return examples


def stored_examples() -> list[Example]:
    from routing.models import TrainingExample

    rows = TrainingExample.objects.select_related("category").order_by("id")
    return [Example(row.title, row.description, row.category.code) for row in rows]


def cross_validate(examples: Sequence[Example], *, features: str, alpha: float, folds: int = 5) -> float:
    """k-fold accuracy (deterministic shuffle) — a sanity figure stored with each version."""
    if len(examples) < folds * 2:
        return 0.0
    shuffled = list(examples)
    random.Random(42).shuffle(shuffled)  # noqa: S311 - a reproducible fold split, not security
    correct = 0
    for fold in range(folds):
        test = shuffled[fold::folds]
        train = [e for i, e in enumerate(shuffled) if i % folds != fold]
        model = NaiveBayes(features=features, alpha=alpha).fit(train)
        correct += sum(model.predict(e.title, e.description).category == e.category for e in test)
    return correct / len(shuffled)


def training_metrics(examples: Sequence[Example], *, features: str, alpha: float, stored: int) -> dict[str, Any]:
    return {
        "cv_accuracy": round(cross_validate(examples, features=features, alpha=alpha), 4),
        "seed_examples": len(examples) - stored,
        "dispatcher_examples": stored,
        "per_category": dict(Counter(e.category for e in examples)),
    }


def version_for(examples: Sequence[Example], features: str, alpha: float, algorithm: str = ALGORITHM) -> str:
    """A version id hashing the algorithm, its parameters and the training data."""
    digest = hashlib.sha256()
    if algorithm == ALGORITHM:
        digest.update(f"{ALGORITHM}|{features}|{alpha}|{TEMPER_EXPONENT}".encode())
    else:
        digest.update(f"{algorithm}|{features}|{alpha}|{MAX_WRONG_SHARE}".encode())
    for example in examples:
        digest.update(f"\x1e{example.category}\x1f{example.title}\x1f{example.description}".encode())
    prefix = "nb" if algorithm == ALGORITHM else "lr"
    return f"{prefix}-{features}-{digest.hexdigest()[:12]}"


def _calibration_split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(training part, held-out part): every third hand-written example of each category is held out.

    Generated examples are never held out: they share phrases with each other, so a threshold
    calibrated on them would be far too confident about text written by other people.
    """
    train_part, held_out = [], []
    seen: Counter[str] = Counter()
    for example in examples:
        if not example.generated:
            seen[example.category] += 1
            if seen[example.category] % 3 == 0:
                held_out.append(example)
                continue
        train_part.append(example)
    return train_part, held_out


def train_linear(
    examples: Sequence[Example], *, features: str, c: float, bureau_of: dict[str, str]
) -> tuple[LinearModel, dict[str, Any]]:
    """Fit the linear model, calibrating its auto-routing threshold on held-out hand-written examples.

    ``bureau_of`` maps category codes to bureau type codes: a threshold is about bureaus (routing a
    financing appeal as loan deferral still reaches the right finance bureau). The threshold is the
    lowest at which at most ``MAX_WRONG_SHARE`` of held-out appeals routed automatically would reach
    the wrong bureau. The model is then refitted on all examples.
    """
    train_part, held_out = _calibration_split(examples)
    probe = LinearModel(features=features, c=c).fit(
        [document_features(e.title, e.description, features) for e in train_part], [e.category for e in train_part]
    )
    outcomes = []
    correct = 0
    for example in held_out:
        prediction = probe.predict(example.title, example.description)
        correct += prediction.category == example.category
        if bureau_of.get(prediction.category, "dispatch") == "dispatch":
            continue  # "other"/policy predictions go to triage anyway
        confidence = bureau_confidence(prediction.scores, prediction.category, bureau_of)
        wrong = bureau_of.get(prediction.category) != bureau_of.get(example.category)
        outcomes.append((confidence, wrong))
    calibration = choose_threshold(outcomes, max_wrong=MAX_WRONG_SHARE)
    model = LinearModel(features=features, c=c).fit(
        [document_features(e.title, e.description, features) for e in examples], [e.category for e in examples]
    )
    metrics = {
        "held_out_examples": len(held_out),
        "held_out_accuracy": round(correct / len(held_out), 4) if held_out else None,
        "auto_route_threshold": calibration["threshold"],
        "held_out_auto_share": calibration["auto_share"],
        "held_out_wrong_share": calibration["wrong_share"],
        "per_category": dict(Counter(e.category for e in examples)),
        "per_type": dict(Counter(e.appeal_type or "unlabelled" for e in examples)),
    }
    return model, metrics


def bureau_types_by_category() -> dict[str, str]:
    """Category code → its default bureau type code, from the database."""
    from routing.models import Category

    return dict(Category.objects.values_list("code", "default_bureau_type__code"))


# --- Versions: training, storing, loading ------------------------------------------------------------


_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"checked_at": 0.0, "version": None, "model": None}
# Trained models by version, so re-creating the seed version in a fresh database (tests, a new
# deployment) does not train again in the same process.
_trained: dict[str, NaiveBayes | LinearModel] = {}
_metrics: dict[str, dict[str, Any]] = {}


def reset_cache() -> None:
    """Forget the loaded model; the next prediction re-reads the active version."""
    with _cache_lock:
        _cache.update(checked_at=0.0, version=None, model=None)


def train(
    *,
    features: str | None = None,
    alpha: float | None = None,
    include_stored: bool = True,
    activate: bool = True,
    algorithm: str | None = None,
):
    """Train on the seed files (+ stored examples), store a ClassifierModel version, return it.

    ``algorithm`` is ``CLASSIFIER_ALGORITHM`` by default: the calibrated logistic regression
    (``LINEAR_ALGORITHM``) or naive Bayes (``ALGORITHM``, kept for comparison and old versions).
    For the regression ``alpha`` is its inverse regularisation strength C.
    The version id is a hash of the algorithm, features and training data, so training twice on
    the same data returns the existing version instead of a duplicate.
    """
    from routing.models import ClassifierModel

    algorithm = algorithm or routing_setting("CLASSIFIER_ALGORITHM", LINEAR_ALGORITHM)
    linear = algorithm == LINEAR_ALGORITHM
    default_features = LINEAR_FEATURES if linear else DEFAULT_FEATURES
    features = features or routing_setting("CLASSIFIER_FEATURES", default_features)
    if alpha is None:
        alpha = (
            routing_setting("CLASSIFIER_C", DEFAULT_C) if linear else routing_setting("CLASSIFIER_ALPHA", DEFAULT_ALPHA)
        )
    seed = seed_examples()
    stored = stored_examples() if include_stored else []
    examples = seed + stored
    version = version_for(examples, features, alpha, algorithm)
    model: NaiveBayes | LinearModel | None = _trained.get(version)
    metrics = _metrics.get(version)
    if model is None or metrics is None:
        if linear:
            model, metrics = train_linear(examples, features=features, c=alpha, bureau_of=bureau_types_by_category())
        else:
            model = NaiveBayes(features=features, alpha=alpha).fit(examples)
            metrics = training_metrics(examples, features=features, alpha=alpha, stored=len(stored))
        metrics.update(seed_examples=len(seed), dispatcher_examples=len(stored))
        _trained[version] = model
        _metrics[version] = metrics
    try:
        with transaction.atomic():
            row, created = ClassifierModel.objects.get_or_create(
                version=version,
                defaults={
                    "algorithm": algorithm,
                    "features": features,
                    "parameters": model.to_dict(),
                    "metrics": metrics,
                    "example_count": len(examples),
                },
            )
            if activate:
                ClassifierModel.objects.filter(is_active=True).exclude(pk=row.pk).update(is_active=False)
                if not row.is_active:
                    row.is_active = True
                    row.save(update_fields=["is_active"])
    except IntegrityError:
        # Another process stored the same version at the same moment: use theirs.
        row = ClassifierModel.objects.get(version=version)
    logger.info("Classifier %s trained on %d examples (%s)", version, len(examples), "new" if created else "existing")
    reset_cache()
    return row


def load_model(algorithm: str, parameters: dict[str, Any]) -> NaiveBayes | LinearModel:
    """A stored version's model, by its algorithm."""
    if algorithm == LINEAR_ALGORITHM:
        return LinearModel.from_dict(parameters)
    return NaiveBayes.from_dict(parameters)


def active_model() -> tuple[str, NaiveBayes | LinearModel]:
    """The active (version, model), loaded once per process and re-checked periodically."""
    from routing.models import ClassifierModel

    now = time.monotonic()
    reload_after = routing_setting("CLASSIFIER_RELOAD_SECONDS", 60)
    with _cache_lock:
        if _cache["model"] is not None and now - _cache["checked_at"] < reload_after:
            return _cache["version"], _cache["model"]
    version = ClassifierModel.objects.filter(is_active=True).values_list("version", flat=True).first()
    if version is None:
        version = train(include_stored=False).version
    model = _trained.get(version)
    if model is None:
        row = ClassifierModel.objects.get(version=version)
        model = load_model(row.algorithm, row.parameters)
        model.auto_threshold = (row.metrics or {}).get("auto_route_threshold")
        _trained[version] = model
    elif version in _metrics:
        model.auto_threshold = _metrics[version].get("auto_route_threshold")
    with _cache_lock:
        _cache.update(checked_at=now, version=version, model=model)
    return version, model


def classify(title: str, description: str) -> Prediction:
    """Suggest a category code for an appeal's text with the active model version."""
    version, model = active_model()
    prediction = model.predict(title, description)
    prediction.version = version
    prediction.auto_threshold = model.auto_threshold
    return prediction
