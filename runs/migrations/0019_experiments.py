"""Experiments: a project's reference dataset; pairwise feedback's comparison.

AddField with a null default adds a column without rebuilding the SQLite table,
so the triggers of migrations 0004, 0005, 0007 and 0008 stay in place.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("runs", "0018_user_rollups")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="reference_dataset_id",
            field=models.UUIDField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="feedback",
            name="comparative_experiment_id",
            field=models.UUIDField(blank=True, db_index=True, null=True),
        ),
        migrations.AddField(
            model_name="feedback",
            name="feedback_group_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="feedback",
            index=models.Index(
                fields=["session_id", "key"], name="feedback_session_key"
            ),
        ),
    ]
