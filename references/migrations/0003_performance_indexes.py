"""Indexes for the bibliography at scale: its default order, the order studies are listed in,
and the published-content validators (count and latest change). See bench/RESULTS.md."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("references", "0002_source_review_role"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="reference",
            index=models.Index(fields=["number", "-year"], name="reference_list_order_idx"),
        ),
        migrations.AddIndex(
            model_name="reference",
            index=models.Index(fields=["-year", "number"], name="reference_year_number_idx"),
        ),
        migrations.AddIndex(
            model_name="reference",
            index=models.Index(fields=["status", "modified"], include=["id"],
                               name="reference_status_modified_idx"),
        ),
    ]
