"""Create the Curators and Editors groups with their model permissions.

Curators add, change and view every content model; they may delete only the rows that are part
of an entry (authors, outcomes, provenance, rationale links), because removing those is editing
the entry. Editors may also delete. Publishing is not a model permission: it is membership of
Editors (see core/workflow.py).
"""

from django.db import migrations

CONTENT_MODELS = {
    "references": ["reference", "author"],
    "therapies": ["drugclass", "therapy", "therapyrationale"],
    "evidence": ["diseasesubtype", "study", "outcome", "provenance", "statement"],
}
# Rows edited as part of their parent entry (inlines in the admin).
PART_OF_ENTRY = {"author", "therapyrationale", "outcome", "provenance"}


def _ensure_permissions(apps, using):
    """Permissions are normally created after all migrations; this migration needs them now."""
    from django.contrib.auth.management import create_permissions

    for label in CONTENT_MODELS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = None


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    _ensure_permissions(apps, using)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(actions_for):
        wanted = []
        for app_label, models in CONTENT_MODELS.items():
            for model in models:
                for action in actions_for(model):
                    wanted.append(
                        Permission.objects.using(using).get(
                            content_type__app_label=app_label, codename=f"{action}_{model}"
                        )
                    )
        return wanted

    curators, _ = Group.objects.using(using).get_or_create(name="Curators")
    curators.permissions.add(*perms(
        lambda model: ["add", "change", "view"] + (["delete"] if model in PART_OF_ENTRY else [])
    ))
    editors, _ = Group.objects.using(using).get_or_create(name="Editors")
    editors.permissions.add(*perms(lambda model: ["add", "change", "view", "delete"]))


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=["Curators", "Editors"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("references", "0001_initial"),
        ("therapies", "0001_initial"),
        ("evidence", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
