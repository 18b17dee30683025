"""Give the editorial groups their permissions on the synthesis models (issue 13), as
core/migrations/0001_editorial_groups.py does for the first content models: curators add,
change and view; they delete only rows that are part of a study (arms, patients per subtype,
per-arm results); editors may also delete."""

from django.db import migrations

MODELS = ["trial", "arm", "studysubtypecount", "outcomearmresult", "certaintyoverride"]
PART_OF_ENTRY = {"arm", "studysubtypecount", "outcomearmresult"}


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias
    app_config = apps.get_app_config("evidence")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(actions_for):
        return [Permission.objects.using(using).get(content_type__app_label="evidence",
                                                    codename=f"{action}_{model}")
                for model in MODELS for action in actions_for(model)]

    curators, _ = Group.objects.using(using).get_or_create(name="Curators")
    curators.permissions.add(*perms(
        lambda model: ["add", "change", "view"] + (["delete"] if model in PART_OF_ENTRY else [])))
    editors, _ = Group.objects.using(using).get_or_create(name="Editors")
    editors.permissions.add(*perms(lambda model: ["add", "change", "view", "delete"]))


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_editorial_groups"),
        ("evidence", "0008_trials_arms_certainty"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
