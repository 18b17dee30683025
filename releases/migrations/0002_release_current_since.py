from django.db import migrations, models
from django.db.models import F


def made_here(apps, schema_editor):
    # Releases that exist already were made on this installation by make_release: its corpus
    # was the release at that moment. (Historical models have a plain manager, so the
    # ImmutableQuerySet's refusal does not apply to this one-time fill.)
    Release = apps.get_model("releases", "Release")
    Release.objects.update(current_since=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0001_releases_and_artefacts"),
    ]

    operations = [
        migrations.AddField(
            model_name="release",
            name="current_since",
            field=models.DateTimeField(
                blank=True,
                help_text="When this installation's published corpus was exactly this release: "
                "when it was made here, or loaded onto a corpus that matched it byte for byte; "
                "empty when it was loaded onto a corpus that differs from it.",
                null=True,
                verbose_name="corpus matched it from",
            ),
        ),
        migrations.RunPython(made_here, migrations.RunPython.noop),
    ]
