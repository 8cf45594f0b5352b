"""Text features for the classifier: what a title and description are turned into before counting.

* ``char``: character bigrams and trigrams of each run of Chinese characters/letters/digits;
* ``jieba``: jieba word segmentation (words of two or more characters, plus single-character
  words that are not stop characters);
* ``robust`` (the default): the text is first normalised — Traditional → Simplified with OpenCC,
  full-width → half-width (NFKC), lower case — then character 1–3-grams of the whole text,
  pinyin bigrams of each Chinese run (so the homophone typo 代款 shares ``~daikuan`` with 贷款) and
  English words (VAT, MCU, OEM) as their own features.

A title that says nothing ("求助", "急急急") is not counted twice: the description carries the text.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
import unicodedata
from typing import Any

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


# --- Normalised features: Traditional/full-width/case folded, homophone- and English-robust ---------

_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_WORD = re.compile(r"[a-z][a-z/&.-]*[a-z]|[a-z]")
_opencc_lock = threading.Lock()
_opencc: dict[str, Any] = {}
# Title words that say nothing about the matter: with only these, the description carries the weight.
_EMPTY_TITLE = re.compile(
    r"求助|求救|急+|紧急|咨询一下|咨询|请问|问一下|问下|有个问题|问题|反映情况|反映|情况说明|情况|请帮忙|帮忙|"
    r"救救我们|救命|在线等|挺急的|很急|投诉|举报|建议|你好|您好|help|urgent|[!！?？。，,.、\s]"
)


def normalise(text: str) -> str:
    """Traditional → Simplified (OpenCC ``t2s``), full-width → half-width (NFKC), lower case."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    with _opencc_lock:
        converter = _opencc.get("t2s")
        if converter is None:
            import opencc

            converter = _opencc["t2s"] = opencc.OpenCC("t2s")
        text = converter.convert(text)
    return text.lower()


@functools.lru_cache(maxsize=20000)
def _syllable(char: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(char, style=Style.NORMAL)[0]


_SPACES = re.compile(r"\s+")


def _robust(text: str) -> list[str]:
    # Character n-grams run across punctuation and digits too ("3万", "，房东"): measured slightly
    # better than n-grams of Chinese runs only (bench/routing_accuracy.py).
    text = _SPACES.sub(" ", text)
    features: list[str] = []
    for n in (1, 2, 3):
        features.extend(text[i : i + n] for i in range(len(text) - n + 1))
    for run in _CJK_RUN.findall(text):
        # Sound-alike typos (代款/贷款, 社宝/社保) share their pinyin bigrams.
        syllables = [_syllable(c) for c in run]
        features.extend(f"~{a}{b}" for a, b in itertools.pairwise(syllables))
    features.extend(f"@{word}" for word in _LATIN_WORD.findall(text))
    return features


def title_is_empty(title: str) -> bool:
    """The title says nothing about the matter ("求助", "急急急", "咨询一下")."""
    return len(_EMPTY_TITLE.sub("", normalise(title))) < 2


def robust_features(text: str) -> list[str]:
    """Character 1–3-grams and pinyin bigrams of each Chinese run, plus English words, after ``normalise``."""
    return _robust(normalise(text))


FEATURE_EXTRACTORS = {"char": char_features, "jieba": jieba_features, "robust": robust_features}


def document_features(title: str, description: str, kind: str) -> list[str]:
    """Features of the title and description as one text (the linear model weighs them by TF-IDF)."""
    return FEATURE_EXTRACTORS[kind](f"{title or ''}\n{description or ''}")


def evidence_weight(title: str, description: str, *, known: Any, kind: str) -> int:
    """How much a text says, in the units ``CONTRADICTION_MIN_FEATURES`` counts: the known Chinese
    bigrams/trigrams, pinyin bigrams and English words, the title's twice unless it says nothing.
    About a title and one short sentence stays under the default 60."""
    extract = FEATURE_EXTRACTORS[kind]

    def count(text: str) -> int:
        return sum(
            1
            for f in extract(text or "")
            if f in known and (f[0] in "@~" or (len(f) >= 2 and _CJK_RUN.fullmatch(f) is not None))
        )

    title_weight = 1 if title_is_empty(title or "") else 2
    return title_weight * count(title) + count(description)


def text_features(title: str, description: str, kind: str) -> list[str]:
    extract = FEATURE_EXTRACTORS[kind]
    title_features = extract(title or "")
    if kind == "robust" and title_is_empty(title or ""):
        # "求助" / "急急急": counting such a title twice would only add noise.
        return title_features + extract(description or "")
    return title_features + title_features + extract(description or "")
