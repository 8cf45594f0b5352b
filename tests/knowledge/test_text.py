from knowledge.text import name_variants, normalise, personal_data_left, redact


def test_redact_removes_every_kind_of_personal_detail():
    text = (
        "我是佛山市顺德区美达电器有限公司的王先生，手机13812345678，座机0757-22334455，"
        "信用代码91440101MA5CJQ4N59，身份证440102199001011234，邮箱wang@example.com，"
        "地址顺德区大良街道新城路12号3栋501室。联系人：张小明。"
    )
    result = redact(text)
    for secret in (
        "美达电器",
        "王先生",
        "13812345678",
        "22334455",
        "91440101MA5CJQ4N59",
        "440102199001011234",
        "wang@example.com",
        "新城路12号",
        "张小明",
    ):
        assert secret not in result.text, secret
    assert set(result.found) >= {"company", "person", "phone", "credit_code", "id_number", "email", "address"}
    # The identity card is recognised as such, not as a credit code.
    assert "[证件号]" in result.text


def test_redact_removes_values_known_from_the_appeal_and_keeps_generic_words():
    result = redact("华南精工反映：我们公司招不到人，该厂订单多", known=["华南精工"])
    assert result.text == "[已隐去]反映：我们公司招不到人，该厂订单多"
    assert result.found == {"known": 1}


def test_plain_policy_text_is_left_alone():
    text = "符合条件的小微企业可申请稳岗返还，返还比例为上年度实际缴纳失业保险费的60%。"
    assert redact(text).text == text
    assert personal_data_left(text) == []


def test_normalise_folds_full_width_and_case():
    assert normalise("ＶＡＴ　发票  Ｏｋ") == "vat 发票 ok"


def test_name_variants_cover_the_trade_name():
    variants = name_variants("佛山市南海区华辉五金制品有限公司")
    assert "华辉五金制品" in variants and "华辉" in variants
    assert redact("华辉五金想问稳岗返还", known=variants).text == "[已隐去]想问稳岗返还"
