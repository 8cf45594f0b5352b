"""Default sensitive words: matters that need a human look within hours (editable in the admin)."""

from django.db import migrations

DEFAULT_TERMS = {
    "safety": ["爆炸", "火灾", "起火", "中毒", "坍塌", "塌方", "安全事故", "工伤死亡", "泄漏", "危险化学品"],
    "wages": ["欠薪", "拖欠工资", "讨薪", "农民工工资", "发不出工资", "拖欠工人工资"],
    "layoffs": ["大规模裁员", "集体裁员", "停产", "倒闭", "关停", "老板跑路", "资金链断裂"],
    "unrest": ["集体上访", "群体性", "堵路", "堵门", "罢工", "围堵", "拉横幅"],
}


def add_terms(apps, schema_editor):
    SensitiveTerm = apps.get_model("alerts", "SensitiveTerm")
    for topic, terms in DEFAULT_TERMS.items():
        for term in terms:
            SensitiveTerm.objects.get_or_create(term=term, defaults={"topic": topic})


def remove_terms(apps, schema_editor):
    SensitiveTerm = apps.get_model("alerts", "SensitiveTerm")
    SensitiveTerm.objects.filter(term__in=[t for terms in DEFAULT_TERMS.values() for t in terms]).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0001_initial")]
    operations = [migrations.RunPython(add_terms, remove_terms)]
