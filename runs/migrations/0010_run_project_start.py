"""One index for every run of a project, newest first; two redundant ones go.

LangSmith's ``list_runs(project_name=...)`` (``POST /runs/query`` with a
session) sorted every run of the project by start time: ~3 s at a million
runs. ``run_project_start`` serves it, and also serves the project foreign
key's lookups (its prefix), so the key's own index is dropped; the
``trace_id`` index is a prefix of ``run_trace_order`` and is dropped too. The
write path keeps as many indexes as before.

The indexes are dropped by name: AlterField would rebuild the SQLite table and
lose the triggers of migrations 0004, 0005, 0007 and 0008.
"""

import django.db.models.deletion
from django.db import migrations, models


def _drop(name):
    return migrations.RunSQL(
        f"DROP INDEX IF EXISTS {name}",
        # Going back re-creates them by name (no table rebuild either).
        {
            "runs_run_trace_id_536130f8": "CREATE INDEX IF NOT EXISTS "
            "runs_run_trace_id_536130f8 ON runs_run (trace_id)",
            "runs_run_project_id_f1a383ab": "CREATE INDEX IF NOT EXISTS "
            "runs_run_project_id_f1a383ab ON runs_run (project_id)",
        }[name],
    )


class Migration(migrations.Migration):
    dependencies = [("runs", "0009_pg_search_joined_words")]

    operations = [
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                fields=["project", "-start_time", "-id"], name="run_project_start"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                _drop("runs_run_trace_id_536130f8"),
                _drop("runs_run_project_id_f1a383ab"),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="run",
                    name="project",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="runs",
                        to="runs.project",
                    ),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="trace_id",
                    field=models.UUIDField(),
                ),
            ],
        ),
    ]
