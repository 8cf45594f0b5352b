"""A labelled set of appeal texts for measuring the cluster detector (written for this project).

Each *problem* is a shared local situation (a park's power cuts, a blocked road, a late subsidy) that
several businesses describe in their own words: the generator combines, per business, one of several
openings, statements of the problem, consequences and requests, so no two texts are the same. Noise
texts are single-business problems of the same categories. ``cluster_metrics`` scores a grouping
against the labels: precision = share of predicted groups that are one true problem (at least
three businesses, ≥ 75 % of members from one problem); recall = share of problems found.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

PROBLEMS: dict[str, dict[str, list[str]]] = {
    "power_cut": {
        "problem": [
            "南庄工业园连续停电",
            "园区这周停了三次电",
            "工业园区反复断电",
            "园区突然大面积停电",
            "南庄园区供电不稳天天跳闸",
        ],
        "impact": ["生产线全停了", "机器停工订单交不了", "冷库货物坏了", "设备重启损失很大", "工人只能放假"],
        "ask": [
            "请供电部门尽快恢复供电",
            "希望协调供电局给个说法",
            "请问什么时候能恢复正常供电",
            "希望园区供电稳定下来",
        ],
    },
    "road_closure": {
        "problem": [
            "物流园门口的路被封了",
            "通往工业区的主干道封闭施工",
            "货车进不了园区道路封闭",
            "园区出入口道路施工封路一个月",
        ],
        "impact": ["货发不出去", "原材料运不进来", "每天绕路多花几百元运费", "客户的车进不来提货"],
        "ask": ["希望开放一条临时通道", "请交通部门协调货车通行", "能否调整施工时间", "请给货车办个临时通行证"],
    },
    "subsidy_delay": {
        "problem": [
            "去年申请的稳岗返还到现在还没发",
            "稳岗补贴迟迟没有到账",
            "说好的稳岗返还资金一直没到",
            "稳岗返还审核通过了钱还没拨",
        ],
        "impact": ["发工资很吃力", "资金周转困难", "答应员工的奖金发不出来", "现金流很紧张"],
        "ask": ["请问什么时候能到账", "希望人社局加快拨付", "麻烦帮忙查一下进度", "请尽快发放补贴"],
    },
    "port_congestion": {
        "problem": [
            "港口集装箱提不出来",
            "码头压港严重柜子提不了",
            "港区拥堵集装箱排队好几天",
            "海关查验排队太久货柜滞港",
        ],
        "impact": ["滞箱费一天好几千", "客户催货要罚款", "订单要违约了", "生产用的原料进不来"],
        "ask": ["希望协调港口加快放行", "请商务部门帮忙沟通", "能否减免滞港费用", "请帮忙加快查验"],
    },
    "water_pollution_check": {
        "problem": [
            "环保检查要求印染厂全部停产整改",
            "片区环保督查一刀切停产",
            "环保部门要求整个园区的厂停工",
            "环保整改通知让我们全部停产",
        ],
        "impact": ["已经停了半个月", "订单全部延误", "员工流失严重", "每天损失几万元"],
        "ask": ["希望分类处理不要一刀切", "请给整改期限", "希望尽快验收复产", "请说明整改标准"],
    },
}
OPENINGS = ["我们公司", "我厂", "本店", "我们这边", "你好，", "您好，我是做加工的，", "咨询一下，", ""]
NOISE = [
    "公司流动贷款下月到期，想申请无还本续贷，请问银行有什么政策",
    "上季度的出口退税还没到账，想问一下进度",
    "想变更营业执照经营范围，网上办理一直提示材料不全",
    "订单增加需要熟练焊工，招聘了两个月没招到",
    "厂房租金今年涨了三成，小企业负担不起",
    "增值税专用发票开错了怎么作废重开",
    "想申请高新技术企业认定，不知道要准备什么材料",
    "员工社保基数调整后公司负担太重，能否缓缴",
    "食品经营许可证快到期了，延续要多久",
    "供应商拖欠货款半年不给，想咨询法律途径",
    "想参加广交会，请问有没有展位补贴",
    "新招的大学生能不能申请就业补贴",
    "燃气价格上涨太快，餐饮店扛不住",
    "合同纠纷对方不履行，想找调解",
    "创业担保贷款的额度和利率是多少",
    "园区食堂卫生许可办理流程太复杂",
    "公司想迁址到另一个区，税务登记怎么转",
    "进口设备关税能不能减免",
    "工伤认定一直没结果，员工情绪很大",
    "电费账单比上月翻倍，怀疑电表有问题",
    "想申请专精特新企业，有什么条件",
    "快递网点被要求搬迁，找不到新场地",
    "消防验收排期太久，新店开不了业",
    "员工住房公积金能不能降低缴存比例",
    "跨境电商出口退税怎么申报",
]


@dataclass(frozen=True)
class LabelledText:
    label: str  # the problem's name, or "" for noise
    title: str
    text: str


def labelled_set(*, per_problem: int = 5, noise: int = len(NOISE), seed: int = 3) -> list[LabelledText]:
    """Five businesses per problem and every noise text once (a noise text repeated by three
    businesses would be a real cluster, not noise)."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    items = []
    for name, parts in PROBLEMS.items():
        for _ in range(per_problem):
            problem, impact = rng.choice(parts["problem"]), rng.choice(parts["impact"])
            text = f"{rng.choice(OPENINGS)}{problem}，{impact}，{rng.choice(parts['ask'])}。"
            title = rng.choice([problem, impact, f"{problem[:8]}…"])[:20]
            items.append(LabelledText(name, title, text))
    for sentence in rng.sample(NOISE, min(noise, len(NOISE))):
        items.append(LabelledText("", sentence[:12], f"{rng.choice(OPENINGS)}{sentence}。"))
    rng.shuffle(items)
    return items


@dataclass(frozen=True)
class ClusterScore:
    predicted: int
    correct: int
    problems: int
    found: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.problems if self.problems else 1.0


def cluster_metrics(groups: list[list[str]], *, labels: list[str], min_members: int = 3) -> ClusterScore:
    """Score predicted groups (lists of labels of their members) against the true problems."""
    predicted = [g for g in groups if len(g) >= min_members]
    correct = 0
    found: set[str] = set()
    for group in predicted:
        label, count = Counter(group).most_common(1)[0]
        if label and count >= min_members and count / len(group) >= 0.75:
            correct += 1
            found.add(label)
    problems = {label for label in labels if label}
    return ClusterScore(len(predicted), correct, len(problems), len(found))
