"""Active API keys get unique names (revoking by name must name one key).

Keys made before share a name only by accident; all but the oldest of each
name get their prefix appended, so nothing is revoked or lost.
"""

from django.db import migrations, models


def rename_duplicates(apps, schema_editor):
    ApiKey = apps.get_model("runs", "ApiKey")
    seen: set[str] = set()
    active = ApiKey.objects.filter(revoked_at__isnull=True).order_by("created_at", "id")
    for key in active:
        if key.name in seen:
            key.name = f"{key.name[:200]}-{key.prefix}"
            key.save(update_fields=["name"])
        seen.add(key.name)


class Migration(migrations.Migration):
    dependencies = [("runs", "0012_run_cost")]

    operations = [
        migrations.RunPython(rename_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="apikey",
            constraint=models.UniqueConstraint(
                condition=models.Q(revoked_at__isnull=True),
                fields=("name",),
                name="apikey_active_name_unique",
                violation_error_message="An active API key already has this name.",
            ),
        ),
    ]
