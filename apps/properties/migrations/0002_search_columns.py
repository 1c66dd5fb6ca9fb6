"""Search columns of listings: lowercase short text for trigrams and a generated full-text vector."""

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("properties", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="property",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="property",
            name="search_vector",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.contrib.postgres.search.CombinedSearchVector(
                    django.contrib.postgres.search.CombinedSearchVector(
                        django.contrib.postgres.search.SearchVector("title", config="english", weight="A"),
                        "||",
                        django.contrib.postgres.search.SearchVector("search_text", config="english", weight="B"),
                        django.contrib.postgres.search.SearchConfig("english"),
                    ),
                    "||",
                    django.contrib.postgres.search.SearchVector("description", config="english", weight="C"),
                    django.contrib.postgres.search.SearchConfig("english"),
                ),
                output_field=django.contrib.postgres.search.SearchVectorField(),
            ),
        ),
        migrations.AddIndex(
            model_name="property",
            index=django.contrib.postgres.indexes.GinIndex(fields=["search_vector"], name="property_search_vector_idx"),
        ),
        migrations.AddIndex(
            model_name="property",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_text"], name="property_search_text_trgm_idx", opclasses=["gin_trgm_ops"]
            ),
        ),
    ]
