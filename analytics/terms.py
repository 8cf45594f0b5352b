"""Chinese word segmentation for hot topics: jieba plus a stop-word list written for appeal texts.

Appeals are full of polite and procedural words (希望, 协助, 我们, 公司, 问题) that say nothing about
*what* is wrong; they are dropped, as are single characters, numbers and punctuation, so the terms
left are the ones a policymaker can act on (社保, 贷款, 出口退税, 招工).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

# Words that appear in almost every appeal regardless of topic. Grouped by kind so the list can be
# reviewed; extend it when a new filler word tops the hot-topic list.
_STOP_TEXT = """
    我们 我司 我公司 本公司 公司 企业 单位 本人 我 你们 他们 贵 贵单位 相关 部门 政府 有关
    希望 请求 恳请 请 申请 要求 建议 反映 咨询 请问 帮助 协助 帮忙 解决 处理 办理 落实 支持 关注 答复
    问题 情况 事情 事项 工作 方面 目前 现在 近期 最近 今年 去年 明年 一直 已经 还是 仍然 依然 始终
    因为 由于 所以 但是 但 而且 并且 以及 或者 如果 虽然 然而 因此 导致 造成 出现 存在 进行 没有 不能
    无法 能否 是否 可以 能够 需要 应该 怎么 如何 什么 哪里 为什么 多少 一些 一个 这个 那个 这些 那些
    这样 那样 非常 十分 比较 特别 很多 较多 太 很 都 也 又 就 才 再 还 只 更 最 已 将 会 能 要 想 让 把 被
    的 了 在 是 和 与 及 或 等 对 向 从 给 为 以 于 之 其 该 此 有 无 不 没 未 个 次 份 家 位 名 年 月 日 天
    时 号 元 万 多 后 前 中 内 外 上 下 里 着 过 得 地 吗 呢 吧 啊 呀 您 谢谢 感谢 麻烦 尽快 及时 一下
    导致 影响 困难 造成 方式 通过 根据 按照 关于 对于 并 且 但是 然后 之后 之前 期间 当中 其中
    """
STOP_WORDS = frozenset(_STOP_TEXT.split())

_KEEP = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]*$")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def segment(text: str) -> list[str]:
    """The content words of ``text`` in order (jieba precise mode, HMM for unseen words)."""
    words = []
    for word in _jieba().lcut(text or ""):
        word = word.strip()
        if len(word) < 2 or len(word) > 40 or word in STOP_WORDS or not _KEEP.match(word):
            continue
        words.append(word.lower())
    return words


def document_terms(title: str, description: str, *, limit: int = 40) -> list[str]:
    """Distinct content words of one appeal (document frequency is what hot topics count)."""
    seen: dict[str, None] = {}
    for word in segment(f"{title} {description}"):
        seen.setdefault(word, None)
        if len(seen) >= limit:
            break
    return sorted(seen)
