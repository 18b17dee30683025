"""Small write helpers shared by every app's services."""

from django.db import models


def apply_changes(instance: models.Model, values: dict) -> bool:
    """Set the attributes that differ; True when anything changed or the row is new.

    Services save only what changed, so that reloading the same data writes nothing and
    adds no history.
    """
    changed = instance.pk is None
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def save_changes(instance: models.Model, values: dict) -> bool:
    """``apply_changes``, then validate and save when something changed."""
    changed = apply_changes(instance, values)
    if changed:
        instance.full_clean()
        instance.save()
    return changed
