"""Chinese word segmentation for hot topics: jieba plus a stop-word list written for appeal texts.

Appeals are full of polite and procedural words (希望, 协助, 我们, 公司, 问题) that say nothing about
*what* is wrong; they are dropped, as are single characters, numbers and punctuation, so the terms
left are the ones a policymaker can act on (社保, 贷款, 出口退税, 招工).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

STOP_WORDS_FILE = Path(__file__).with_name("stopwords.txt")


def _load_stop_words(path: Path = STOP_WORDS_FILE) -> frozenset[str]:
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        words.update(line.partition("#")[0].split())
    return frozenset(words)


STOP_WORDS = _load_stop_words()

# Characters that carry grammar rather than content: pronouns, demonstratives and question words,
# prepositions, negations, degree and time adverbs, auxiliaries, particles, measure words, directional
# complements and the vaguest adjectives. A term made only of these (不到, 出去, 哪个, 按新, 这么) is a
# fragment of a phrase, never a topic; one with a single content character (不足, 出口, 新规) is kept.
FUNCTION_CHARS = frozenset(
    "我你他她它您们咱这那哪谁啥某每各该此其本"
    "在于从向往对把被给为以按照跟和与同及或比让由到至自离朝"
    "不没未无非别莫勿"
    "很太更最挺极都也又就才再还只仅已曾将会能要想可应该得必须"
    "的了着过地吗呢吧啊呀嘛哦么"
    "个些次件份位名种样点下回遍"
    "出去进来上起开回"
    "新旧大小多少好坏"
    "一二两三几什怎么如何为啥"
)
# A term ending in one of these is a phrase cut in the middle (运不 from 运不出去, 说的).
_DANGLING_END = frozenset("不没的了着过地得吗呢吧啊")

_KEEP = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]*$")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def is_informative(word: str) -> bool:
    """The minimum-information rule: 2-40 characters of Chinese or Latin letters (digits after the
    first), not a stop word, not made only of function characters, not ending on a dangling one."""
    word = word.strip().lower()
    if len(word) < 2 or len(word) > 40 or word in STOP_WORDS or not _KEEP.match(word):
        return False
    if all(char in FUNCTION_CHARS for char in word):
        return False
    return word[-1] not in _DANGLING_END


def segment(text: str) -> list[str]:
    """The content words of ``text`` in order (jieba precise mode, HMM for unseen words)."""
    words = []
    for word in _jieba().lcut(text or ""):
        if is_informative(word):
            words.append(word.strip().lower())
    return words


def document_terms(title: str, description: str, *, limit: int = 40) -> list[str]:
    """Distinct content words of one appeal (document frequency is what hot topics count)."""
    seen: dict[str, None] = {}
    for word in segment(f"{title} {description}"):
        seen.setdefault(word, None)
        if len(seen) >= limit:
            break
    return sorted(seen)
