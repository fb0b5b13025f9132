"""Keep the search vectors in step with search_document inside the same write (PostgreSQL).

A BEFORE INSERT/UPDATE trigger computes both vectors whenever search_document changes, so a
product is written once, not inserted and then rewritten by a second UPDATE (which doubled the
table after bulk loads). search_refresh() remains for rows written before the trigger."""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION catalog_product_search_vectors() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR NEW.search_document IS DISTINCT FROM OLD.search_document
       OR NEW.search_vector IS NULL
       OR NEW.search_rank_vector IS NULL THEN
        NEW.search_vector :=
            setweight(to_tsvector('simple', split_part(coalesce(NEW.search_document, ''), E'\n', 1)), 'A')
            || setweight(to_tsvector('simple', split_part(coalesce(NEW.search_document, ''), E'\n', 2)), 'B')
            || setweight(to_tsvector('simple', split_part(coalesce(NEW.search_document, ''), E'\n', 3)), 'C');
        NEW.search_rank_vector :=
            setweight(to_tsvector('simple', split_part(coalesce(NEW.search_document, ''), E'\n', 1)), 'A')
            || setweight(to_tsvector('simple', split_part(coalesce(NEW.search_document, ''), E'\n', 2)), 'B');
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""
TRIGGER = """
CREATE TRIGGER catalog_product_search_vectors
BEFORE INSERT OR UPDATE OF search_document, search_vector, search_rank_vector ON catalog_product
FOR EACH ROW EXECUTE FUNCTION catalog_product_search_vectors()
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute("DROP TRIGGER IF EXISTS catalog_product_search_vectors ON catalog_product")
        schema_editor.execute(TRIGGER)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS catalog_product_search_vectors ON catalog_product")
        schema_editor.execute("DROP FUNCTION IF EXISTS catalog_product_search_vectors()")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0004_search_rank_vector")]

    operations = [migrations.RunPython(forward, backward)]
