"""Generate ``training/generated.jsonl``: labelled appeals in the registers people really write in.

Run by hand after editing the phrase banks (``training_banks.py``); the output is committed, so
training is reproducible and reviewable:

    python routing/data/make_training_examples.py > routing/data/training/generated.jsonl

Every category gets the five appeal types (咨询 求助 建议 投诉 举报) crossed with eight registers
(plain, colloquial, dialect words, typos, Traditional characters, English mixed in, very short,
very long, plus titles that say nothing), four variants each: 5 × 9 × 4 = 180 examples per
category. Each line carries ``category``, ``type`` and ``register``, so a later model can learn
the appeal type too. Deterministic (fixed seed).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from training_banks import (
    BACKGROUNDS,
    BANKS,
    CLOSINGS,
    COLLOQUIAL_ENDINGS,
    COLLOQUIAL_OPENERS,
    DIALECT,
    EMPTY_TITLES,
    TYPOS,
)

TYPES = ("咨询", "求助", "建议", "投诉", "举报")
REGISTERS = ("plain", "colloquial", "dialect", "typo", "traditional", "english", "short", "long", "empty_title")
VARIANTS = 4


def split(text: str) -> list[str]:
    return [part for part in text.split("|") if part]


def compose(rng: random.Random, bank: dict[str, list[str]], kind: str) -> tuple[str, str]:
    """A plain (title, description) of one appeal type."""
    topic = rng.choice(bank["topic"])
    detail = rng.choice(bank["detail"])
    ask = rng.choice(bank["ask"])
    if kind == "咨询":
        title = rng.choice([f"{topic}咨询", f"请问{topic}怎么处理", f"关于{topic}的咨询", f"{topic}问题请教"])
        body = f"{detail}。{ask}？"
    elif kind == "求助":
        title = rng.choice([f"{topic}，请求帮助", f"求助：{topic}", f"{topic}急需协调", topic])
        body = f"{detail}，{ask}。"
    elif kind == "建议":
        suggestion = rng.choice(bank["suggest"])
        title = rng.choice([suggestion, f"关于{topic}的建议", f"对{topic}的意见建议"])
        body = f"{detail}。{suggestion}。"
    elif kind == "投诉":
        complaint = rng.choice(bank["complain"])
        title = rng.choice([f"投诉：{complaint}", f"{topic}问题投诉", complaint])
        body = f"{detail}，而且{complaint}。{ask}。"
    else:
        report = rng.choice(bank["report"])
        title = rng.choice([f"举报：{report}", f"关于{topic}的举报", report])
        body = f"{report}。{detail}。请有关部门查处。"
    return title, body


def colloquial(rng: random.Random, title: str, body: str) -> tuple[str, str]:
    return title.replace("咨询", "问下"), rng.choice(COLLOQUIAL_OPENERS) + body + rng.choice(COLLOQUIAL_ENDINGS)


def dialect(rng: random.Random, title: str, body: str) -> tuple[str, str]:
    words = list(DIALECT.items())
    rng.shuffle(words)
    for plain, spoken in words[:6]:
        body = body.replace(plain, spoken)
    return title, body + rng.choice(["唔该晒！", "点算好？", "真係冇办法。", ""])


def typo(rng: random.Random, title: str, body: str) -> tuple[str, str]:
    for right, wrong in TYPOS.items():
        if rng.random() < 0.8:
            title, body = title.replace(right, wrong), body.replace(right, wrong)
    if len(body) > 12 and rng.random() < 0.5:  # a dropped character
        at = rng.randrange(2, len(body) - 2)
        body = body[:at] + body[at + 1 :]
    return title, body


def traditional(rng: random.Random, title: str, body: str) -> tuple[str, str]:
    import opencc

    converter = opencc.OpenCC(rng.choice(["s2t", "s2hk", "s2tw"]))
    return converter.convert(title), converter.convert(body)


def english(rng: random.Random, title: str, body: str, terms: list[str]) -> tuple[str, str]:
    term = rng.choice(terms)
    other = rng.choice(terms)
    title = rng.choice([f"{title}（{term}）", f"{term} {title}", title])
    body = rng.choice([f"{body} 关于{term}的问题，boss让我问下。", f"我们的{other}出了问题，{body}", f"{body} Thanks!"])
    return title, body.replace("老板", "boss")


def short(rng: random.Random, title: str, body: str, bank: dict[str, list[str]]) -> tuple[str, str]:
    topic = rng.choice(bank["topic"])
    return rng.choice([topic, title]), rng.choice(["如题", "如题，急", f"{topic}怎么办", "", "急急急"])


def long(rng: random.Random, title: str, body: str, bank: dict[str, list[str]]) -> tuple[str, str]:
    extra = rng.sample(bank["detail"], 2)
    return title, (
        rng.choice(split(BACKGROUNDS))
        + body
        + f"另外，{extra[0]}。还有就是{extra[1]}。"
        + "我们也找过几个部门，都说不归他们管，只好在这里反映。"
        + rng.choice(split(CLOSINGS))
    )


def empty_title(rng: random.Random, title: str, body: str) -> tuple[str, str]:
    return rng.choice(split(EMPTY_TITLES)), f"{title}。{body}"


def generate() -> list[dict[str, str]]:
    rng = random.Random(2026)  # noqa: S311 - reproducible data, not secrets
    rows = []
    for category, raw in BANKS.items():
        bank = {key: split(value) for key, value in raw.items()}
        for kind in TYPES:
            for register in REGISTERS:
                for _ in range(VARIANTS):
                    title, body = compose(rng, bank, kind)
                    if register == "colloquial":
                        title, body = colloquial(rng, title, body)
                    elif register == "dialect":
                        title, body = dialect(rng, title, body)
                    elif register == "typo":
                        title, body = typo(rng, title, body)
                    elif register == "traditional":
                        title, body = traditional(rng, title, body)
                    elif register == "english":
                        title, body = english(rng, title, body, bank["en"])
                    elif register == "short":
                        title, body = short(rng, title, body, bank)
                    elif register == "long":
                        title, body = long(rng, title, body, bank)
                    elif register == "empty_title":
                        title, body = empty_title(rng, title, body)
                    rows.append(
                        {"title": title, "description": body, "category": category, "type": kind, "register": register}
                    )
    return rows


if __name__ == "__main__":
    for row in generate():
        sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
