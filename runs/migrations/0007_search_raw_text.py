"""SQLite's search index holds the stored text of each column, as PostgreSQL's does.

Migration 0004 fed the FTS5 index the string values of the JSON bodies
(``json_tree``); a candidate then had to be confirmed against the same
``json_tree`` text, ~20 us a row through a Python case-fold. Indexing the
stored column text instead (JSON as written: UTF-8, only quotes, backslashes
and control characters escaped) lets a query confirm its candidates, and scan
a trace for a match, with SQLite's own ``LIKE`` (~4 us a row), and makes both
databases search the same text (PostgreSQL indexes ``inputs::text``).
Writers keep bodies unescaped: the ingest store writes with orjson, and the
model's JSON fields use ``runs.models.UnicodeJSONEncoder``.

The triggers keep the contentless index in step with every insert, update and
delete, as before; the index is rebuilt from the stored rows.
"""

from django.db import migrations, models

import runs.models

TEXT = (
    "coalesce({r}.name, '') || ' ' || coalesce({r}.error, '') || ' ' || "
    "coalesce({r}.inputs, '') || ' ' || coalesce({r}.outputs, '')"
)
# Migration 0004's text, for going back.
JSON_VALUES_TEXT = """
  coalesce({r}.name, '') || ' ' || coalesce({r}.error, '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree({r}.inputs)
            WHERE type = 'text'), '') || ' ' ||
  coalesce((SELECT group_concat(value, ' ') FROM json_tree({r}.outputs)
            WHERE type = 'text'), '')
"""
DROP = [
    "DROP TRIGGER IF EXISTS runs_run_search_au",
    "DROP TRIGGER IF EXISTS runs_run_search_ad",
    "DROP TRIGGER IF EXISTS runs_run_search_ai",
    "DROP TABLE IF EXISTS runs_run_search",
]


def statements(text: str) -> list[str]:
    return [
        *DROP,
        "CREATE VIRTUAL TABLE runs_run_search USING fts5("
        "body, content='', tokenize='trigram', detail=none)",
        f"""CREATE TRIGGER runs_run_search_ai AFTER INSERT ON runs_run BEGIN
          INSERT INTO runs_run_search(rowid, body)
          VALUES (new.rowid, {text.format(r="new")});
        END""",
        f"""CREATE TRIGGER runs_run_search_ad AFTER DELETE ON runs_run BEGIN
          INSERT INTO runs_run_search(runs_run_search, rowid, body)
          VALUES ('delete', old.rowid, {text.format(r="old")});
        END""",
        f"""CREATE TRIGGER runs_run_search_au
        AFTER UPDATE OF name, error, inputs, outputs ON runs_run
        WHEN old.name IS NOT new.name OR old.error IS NOT new.error
          OR old.inputs IS NOT new.inputs OR old.outputs IS NOT new.outputs
        BEGIN
          INSERT INTO runs_run_search(runs_run_search, rowid, body)
          VALUES ('delete', old.rowid, {text.format(r="old")});
          INSERT INTO runs_run_search(rowid, body)
          VALUES (new.rowid, {text.format(r="new")});
        END""",
        f"""INSERT INTO runs_run_search(rowid, body)
        SELECT rowid, {text.format(r="runs_run")} FROM runs_run""",
    ]


def _apply(text: str):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in statements(text):
            schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("runs", "0006_partial_run_indexes")]

    operations = [
        migrations.RunPython(_apply(TEXT), _apply(JSON_VALUES_TEXT)),
        # The encoder only changes how Python writes the text: state only, as an
        # AlterField would rebuild the SQLite table and drop its triggers.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="run",
                    name=name,
                    field=models.JSONField(
                        blank=True,
                        encoder=runs.models.UnicodeJSONEncoder,
                        **options,
                    ),
                )
                for name, options in (
                    ("inputs", {"default": dict}),
                    ("outputs", {"null": True}),
                )
            ]
        ),
    ]
