"""Train the first classifier version from the seed examples in routing/data/training/ and make it
active, so the first appeal after deployment is classified without a training pause. Later
versions come from the nightly retrain task (routing.retrain_classifier)."""

from django.db import migrations


def train_seed(apps, schema_editor):
    from routing import classifier

    ClassifierModel = apps.get_model("routing", "ClassifierModel")
    if ClassifierModel.objects.filter(is_active=True).exists():
        return
    features, alpha = classifier.DEFAULT_FEATURES, classifier.DEFAULT_ALPHA
    examples = classifier.seed_examples()
    version = classifier.version_for(examples, features, alpha)
    model = classifier.NaiveBayes(features=features, alpha=alpha).fit(examples)
    ClassifierModel.objects.update_or_create(
        version=version,
        defaults={
            "algorithm": classifier.ALGORITHM,
            "features": features,
            "parameters": model.to_dict(),
            "metrics": classifier.training_metrics(examples, features=features, alpha=alpha, stored=0),
            "example_count": len(examples),
            "is_active": True,
        },
    )


def remove_seed(apps, schema_editor):
    ClassifierModel = apps.get_model("routing", "ClassifierModel")
    ClassifierModel.objects.filter(version__startswith="nb-", metrics__dispatcher_examples=0).delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0004_default_deadline_policies")]

    operations = [migrations.RunPython(train_seed, remove_seed)]
