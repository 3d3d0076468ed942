"""PostgreSQL's search index keeps identifiers whole.

pg_trgm splits text into words at every character that is not a letter or a
digit, so ``cust-4821`` is indexed as the words ``cust`` and ``4821``: a search
for it fetched every run holding both words anywhere (20,000 of a million
seeded runs) and rechecked each. The index now reads the text with the joining
characters of identifiers (``- _ . @ /``: ids, snake_case, hosts, e-mail
addresses, paths) replaced by one letter, ``ǁ`` (U+01C1), so an identifier is
one word and its trigrams are its own.

The replacement maps text to text character by character, so a text that
contains a query also contains the query with the same replacement: the
index never misses a match. A candidate is then confirmed against the real
text (``agentspy_run_text``), which drops a run that only matches once
replaced. See runs/query/search.py.

SQLite is unchanged: FTS5's trigram tokenizer already indexes every character.
"""

from django.db import migrations

JOINED = (
    "replace(replace(replace(replace(replace("
    "agentspy_run_text(name, error, inputs, outputs), "
    "'-', 'ǁ'), '_', 'ǁ'), '.', 'ǁ'), '@', 'ǁ'), '/', 'ǁ')"
)
FORWARD = [
    f"""CREATE OR REPLACE FUNCTION agentspy_run_search_text(
        name text, error text, inputs jsonb, outputs jsonb
    ) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {JOINED} $$""",
    "CREATE INDEX run_search_joined_trgm ON runs_run USING gin "
    "(agentspy_run_search_text(name, error, inputs, outputs) gin_trgm_ops)",
    "DROP INDEX IF EXISTS run_search_trgm",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS run_search_trgm ON runs_run USING gin "
    "(agentspy_run_text(name, error, inputs, outputs) gin_trgm_ops)",
    "DROP INDEX IF EXISTS run_search_joined_trgm",
    "DROP FUNCTION IF EXISTS agentspy_run_search_text(text, text, jsonb, jsonb)",
]


def _run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return apply


class Migration(migrations.Migration):
    dependencies = [("runs", "0008_rollup_model_name")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
