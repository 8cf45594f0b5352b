"""The router on real text: normalisation, Traditional, typos, English, empty titles, thresholds."""

from __future__ import annotations

import json
import math

import pytest

from routing import classifier
from routing.linear_model import LinearModel, bureau_confidence, choose_threshold
from routing.text_features import normalise, robust_features, title_is_empty


@pytest.fixture(scope="module")
def model() -> LinearModel:
    examples = classifier.seed_examples()
    return LinearModel(features="robust").fit(
        [classifier.document_features(e.title, e.description, "robust") for e in examples],
        [e.category for e in examples],
    )


def test_normalise_folds_traditional_full_width_and_case():
    assert normalise("貸款到期ＶＡＴ發票，ＯＥＭ") == "贷款到期vat发票,oem"


def test_homophone_typos_share_pinyin_features():
    assert "~daikuan" in robust_features("代款") and "~daikuan" in robust_features("贷款")
    assert "@mcu" in robust_features("MCU缺货")


def test_empty_titles_are_recognised():
    for title in ("求助", "急急急！！", "咨询一下", "help", "在线等，挺急的"):
        assert title_is_empty(title), title
    assert not title_is_empty("社保断缴")


@pytest.mark.parametrize(
    ("title", "description", "category"),
    [
        # Traditional characters
        ("貸款到期還不上", "銀行下個月要收回三百萬貸款，我們的貨款還沒回來，希望協調展期。", "loan_deferral"),
        ("出口訂單被取消", "美國客戶取消了訂單，貨櫃壓在港口，出口退稅也還沒到賬。", "export"),
        # homophone typos
        ("代款到期换不上", "银行要收回代款，希望帮忙申请廷期还款。", "loan_deferral"),
        ("设保断交了", "公司困难，社宝好几个月没交，想申请缓交。", "social_insurance"),
        # English mixed in
        ("MCU缺货", "supplier说MCU和PCB要等半年，生产线快停了，求帮忙找货源。", "supply_chain"),
        ("VAT留抵退税", "我们的VAT refund申请了三个月还没到账。", "tax"),
        # a title that says nothing: the description decides
        ("急急急", "房东说不交租就断水断电换锁，我们想分期补交租金。", "rent"),
        # colloquial / Cantonese
        ("老细话请唔到人", "厂里冇工人，招普工招咗两个月都冇人嚟，点算？", "employment"),
    ],
)
def test_real_world_text_is_classified(model, title, description, category):
    assert model.predict(title, description).category == category


def test_stored_json_reproduces_scikit_learn(model):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    examples = classifier.seed_examples()
    documents = [classifier.document_features(e.title, e.description, "robust") for e in examples]
    vectorizer = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=2)
    regression = LogisticRegression(C=model.c, max_iter=3000).fit(
        vectorizer.fit_transform(documents), [e.category for e in examples]
    )
    copy = LinearModel.from_dict(json.loads(json.dumps(model.to_dict())))
    for title, text in [("厂房租金上涨", "园区厂房租金一年涨了三成"), ("出口退税慢", "退税半年没到账")]:
        document = classifier.document_features(title, text, "robust")
        expected = regression.predict_proba(vectorizer.transform([document]))[0]
        ours = copy.probabilities(document)[0]
        for code, probability in zip(regression.classes_, expected, strict=True):
            assert math.isclose(ours[code], probability, abs_tol=1e-3)
    prediction = copy.predict("出口退税慢", "出口退税申报后三个月还没到账")
    assert prediction.category == "export" and prediction.top_features


def test_threshold_is_the_lowest_with_few_enough_wrong_bureaus():
    outcomes = [(0.95, False)] * 60 + [(0.9, True)] + [(0.6, False)] * 30 + [(0.55, True)] * 3 + [(0.3, False)] * 6
    chosen = choose_threshold(outcomes, max_wrong=0.02)
    # 0.56+ : 91 routed, 1 wrong (1.1 %); 0.55 would add 3 wrong (4.3 %).
    assert chosen["threshold"] == 0.56
    assert chosen["auto_share"] == round(91 / 100, 4) and chosen["wrong_share"] == round(1 / 91, 4)
    assert choose_threshold([(0.99, True)], max_wrong=0.02)["auto_share"] == 0.0  # never good enough


def test_bureau_confidence_adds_up_categories_of_one_bureau():
    bureau_of = {"financing": "finance", "loan_deferral": "finance", "tax": "tax"}
    scores = {"financing": 0.45, "loan_deferral": 0.4, "tax": 0.15}
    assert bureau_confidence(scores, "financing", bureau_of) == pytest.approx(0.85)
    assert bureau_confidence(scores, "tax", bureau_of) == pytest.approx(0.15)
