"""Train the calibrated logistic-regression classifier on the seed examples and make it active.

The naive Bayes versions stay stored (decisions keep naming the version they used); reversing
re-activates the newest naive Bayes version and removes the seed regression version.
"""

from django.db import migrations


def train_linear(apps, schema_editor):
    from routing import classifier

    ClassifierModel = apps.get_model("routing", "ClassifierModel")
    Category = apps.get_model("routing", "Category")
    examples = classifier.seed_examples()
    features, c = classifier.LINEAR_FEATURES, classifier.DEFAULT_C
    version = classifier.version_for(examples, features, c, classifier.LINEAR_ALGORITHM)
    bureau_of = dict(Category.objects.values_list("code", "default_bureau_type__code"))
    model, metrics = classifier.train_linear(examples, features=features, c=c, bureau_of=bureau_of)
    metrics.update(seed_examples=len(examples), dispatcher_examples=0)
    ClassifierModel.objects.filter(is_active=True).update(is_active=False)
    ClassifierModel.objects.update_or_create(
        version=version,
        defaults={
            "algorithm": classifier.LINEAR_ALGORITHM,
            "features": features,
            "parameters": model.to_dict(),
            "metrics": metrics,
            "example_count": len(examples),
            "is_active": True,
        },
    )


def back_to_naive_bayes(apps, schema_editor):
    ClassifierModel = apps.get_model("routing", "ClassifierModel")
    ClassifierModel.objects.filter(version__startswith="lr-", metrics__dispatcher_examples=0).delete()
    newest = ClassifierModel.objects.order_by("-created_at", "-id").first()
    if newest is not None and not ClassifierModel.objects.filter(is_active=True).exists():
        newest.is_active = True
        newest.save(update_fields=["is_active"])


class Migration(migrations.Migration):
    dependencies = [("routing", "0007_guangdong_regions")]

    operations = [migrations.RunPython(train_linear, back_to_naive_bayes)]
