"""Suggesting an appeal's category from its title and description.

A multinomial naive Bayes over Chinese text features, written here rather than pulled in with
scikit-learn: with a few hundred examples it trains in well under a second, a prediction is a
dictionary walk (tens of microseconds), and the model serialises to plain JSON (counts per class),
so stored versions are inspectable and nothing is ever unpickled.

Features (measured side by side in ``bench/routing_accuracy.py``):

* ``char``: character bigrams and trigrams of each run of Chinese characters/letters/digits;
* ``jieba``: jieba word segmentation (words of two or more characters, plus single-character
  words that are not stop characters).

The title is counted twice: appellants put the gist of the problem there.

Confidence is the posterior of the top class under a uniform prior after tempering the
log-likelihoods by the number of features (naive Bayes multiplies evidence as if every n-gram were
independent, which makes raw posteriors almost always 0 or 1; dividing by ``n ** 0.7`` gives
scores that order and threshold usefully). The prior is uniform on purpose: dispatchers'
corrections pile up in the categories that get misrouted, which says nothing about how often a
new appeal belongs to them.

Training data: the seed files ``routing/data/training/*.jsonl`` (written for this project) plus
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
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction

from routing.conf import routing_setting

logger = logging.getLogger(__name__)

TRAINING_DIR = Path(__file__).resolve().parent / "data" / "training"
ALGORITHM = "multinomial-naive-bayes"
DEFAULT_FEATURES = "char"
DEFAULT_ALPHA = 0.1
# Log-likelihoods are divided by n ** TEMPER_EXPONENT (n = number of known features). Chosen with
# bench/routing_accuracy.py: 0.5 leaves wrong answers at 0.9+ confidence, 1.0 flattens right ones.
TEMPER_EXPONENT = 0.7

_TOKEN_RUN = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")
# Characters that carry no topic on their own (particles, pronouns, generic verbs).
_STOP_CHARS = set("的了是在我们你他她它和与及或也都就还很但而被把让给对从向这那有没不要会能可以请希望")
_STOP_WORDS = {"我们", "希望", "请问", "公司", "企业", "问题", "需要", "想", "帮助", "协调", "政府", "部门", "有关"}


# --- Features -----------------------------------------------------------------------------------


def char_features(text: str) -> list[str]:
    """Character bigrams and trigrams inside each run of CJK characters, letters and digits."""
    features: list[str] = []
    for run in _TOKEN_RUN.findall(text.lower()):
        for n in (2, 3):
            features.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return features


_jieba_lock = threading.Lock()


def jieba_features(text: str) -> list[str]:
    """jieba words, dropping punctuation, stop words and single stop characters."""
    import jieba

    with _jieba_lock:  # jieba lazily builds its dictionary on first use; not thread-safe then
        words = jieba.lcut(text, HMM=False)
    out = []
    for word in words:
        word = word.strip().lower()
        if not word or not _TOKEN_RUN.fullmatch(word) or word in _STOP_WORDS:
            continue
        if len(word) == 1 and word in _STOP_CHARS:
            continue
        out.append(word)
    return out


FEATURE_EXTRACTORS = {"char": char_features, "jieba": jieba_features}


def text_features(title: str, description: str, kind: str) -> list[str]:
    extract = FEATURE_EXTRACTORS[kind]
    title_features = extract(title or "")
    return title_features + title_features + extract(description or "")


# --- The model ------------------------------------------------------------------------------------


@dataclass
class Example:
    title: str
    description: str
    category: str


@dataclass
class Prediction:
    category: str
    confidence: float
    scores: dict[str, float]
    version: str = ""
    top_features: list[str] = field(default_factory=list)
    # How many known features (n-grams) the text had: the weight of the evidence.
    feature_count: int = 0

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
        }


class NaiveBayes:
    """Multinomial naive Bayes with additive smoothing over sparse feature counts."""

    def __init__(self, *, features: str = DEFAULT_FEATURES, alpha: float = DEFAULT_ALPHA) -> None:
        self.features = features
        self.alpha = alpha
        self.class_counts: dict[str, int] = {}
        self.feature_counts: dict[str, dict[str, int]] = {}
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
                examples.append(Example(row["title"], row.get("description", ""), row["category"]))
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


def version_for(examples: Sequence[Example], features: str, alpha: float) -> str:
    digest = hashlib.sha256()
    digest.update(f"{ALGORITHM}|{features}|{alpha}|{TEMPER_EXPONENT}".encode())
    for example in examples:
        digest.update(f"\x1e{example.category}\x1f{example.title}\x1f{example.description}".encode())
    return f"nb-{features}-{digest.hexdigest()[:12]}"


# --- Versions: training, storing, loading ------------------------------------------------------------


_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"checked_at": 0.0, "version": None, "model": None}
# Trained models by version, so re-creating the seed version in a fresh database (tests, a new
# deployment) does not train again in the same process.
_trained: dict[str, NaiveBayes] = {}
_metrics: dict[str, dict[str, Any]] = {}


def reset_cache() -> None:
    """Forget the loaded model; the next prediction re-reads the active version."""
    with _cache_lock:
        _cache.update(checked_at=0.0, version=None, model=None)


def train(
    *, features: str | None = None, alpha: float | None = None, include_stored: bool = True, activate: bool = True
):
    """Train on the seed files (+ stored examples), store a ClassifierModel version, return it.

    The version id is a hash of the algorithm, features and training data, so training twice on
    the same data returns the existing version instead of a duplicate.
    """
    from routing.models import ClassifierModel

    features = features or routing_setting("CLASSIFIER_FEATURES", DEFAULT_FEATURES)
    alpha = alpha if alpha is not None else routing_setting("CLASSIFIER_ALPHA", DEFAULT_ALPHA)
    seed = seed_examples()
    stored = stored_examples() if include_stored else []
    examples = seed + stored
    version = version_for(examples, features, alpha)
    model = _trained.get(version)
    if model is None:
        model = NaiveBayes(features=features, alpha=alpha).fit(examples)
        _trained[version] = model
    metrics = _metrics.get(version)
    if metrics is None:
        metrics = training_metrics(examples, features=features, alpha=alpha, stored=len(stored))
        _metrics[version] = metrics
    try:
        with transaction.atomic():
            row, created = ClassifierModel.objects.get_or_create(
                version=version,
                defaults={
                    "algorithm": ALGORITHM,
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


def active_model() -> tuple[str, NaiveBayes]:
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
        model = NaiveBayes.from_dict(row.parameters)
        _trained[version] = model
    with _cache_lock:
        _cache.update(checked_at=now, version=version, model=model)
    return version, model


def classify(title: str, description: str) -> Prediction:
    """Suggest a category code for an appeal's text with the active model version."""
    version, model = active_model()
    prediction = model.predict(title, description)
    prediction.version = version
    return prediction
