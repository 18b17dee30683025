"""Indexes for every filter of the study list at scale (see bench/RESULTS.md).

The many-to-many tables that Django creates for Study.therapies and Study.subtypes are not
declared in models.py, so their (therapy, study) and (subtype, study) indexes are plain SQL:
filtering by a therapy or subtype then finds the studies from the index alone. Django's own
indexes cover (study, therapy) and therapy only.
"""

from django.db import migrations, models

THROUGH_INDEXES = {
    "study_therapies_therapy_study_idx": ("evidence_study_therapies", "therapy_id, study_id"),
    "study_subtypes_subtype_study_idx": ("evidence_study_subtypes", "diseasesubtype_id, study_id"),
}


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_search_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="study",
            index=models.Index(fields=["age_group"], name="evidence_st_age_gro_f7d499_idx"),
        ),
        migrations.AddIndex(
            model_name="study",
            index=models.Index(fields=["refractory"], name="evidence_st_refract_f3a35d_idx"),
        ),
        migrations.AddIndex(
            model_name="study",
            index=models.Index(fields=["status", "modified"], include=["id"],
                               name="study_status_modified_idx"),
        ),
        migrations.AddIndex(
            model_name="study",
            index=models.Index(fields=["status", "design"], include=["id"],
                               name="study_status_design_idx"),
        ),
        *(
            migrations.RunSQL(
                f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" ({columns})',
                f"DROP INDEX IF EXISTS {name}",
            )
            for name, (table, columns) in THROUGH_INDEXES.items()
        ),
    ]
