"""An organization's listings and their embeddings (tenant schema)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from pgvector.django import HnswIndex, VectorField


class PropertyType(models.TextChoices):
    HOUSE = "house", "House"
    APARTMENT = "apartment", "Apartment"
    CONDO = "condo", "Condo"
    TOWNHOUSE = "townhouse", "Townhouse"
    LAND = "land", "Land"
    COMMERCIAL = "commercial", "Commercial"


class ListingType(models.TextChoices):
    SALE = "sale", "For sale"
    RENT = "rent", "For rent"


class Property(models.Model):
    external_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    property_type = models.CharField(max_length=20, choices=PropertyType.choices)
    listing_type = models.CharField(max_length=10, choices=ListingType.choices)
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    bedrooms = models.PositiveSmallIntegerField(null=True, blank=True)
    bathrooms = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    area_sqm = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    address = models.CharField(max_length=255, blank=True, default="")
    neighborhood = models.CharField(max_length=120, blank=True, default="")
    city = models.CharField(max_length=120)
    postal_code = models.CharField(max_length=20, blank=True, default="")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    features = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    images = ArrayField(models.URLField(max_length=500), default=list, blank=True)
    url = models.URLField(max_length=500, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "properties"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The search's hard filters: city (case-insensitive) and the common combinations.
            models.Index(models.functions.Lower("city"), name="property_city_lower_idx"),
            models.Index(fields=["is_active", "listing_type", "property_type"], name="property_kind_idx"),
            models.Index(fields=["price"], name="property_price_idx"),
            models.Index(fields=["bedrooms"], name="property_bedrooms_idx"),
            models.Index(fields=["created_at"], name="property_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class PropertyEmbedding(models.Model):
    property = models.OneToOneField(Property, on_delete=models.CASCADE, related_name="embedding")
    model_name = models.CharField(max_length=100)
    vector = VectorField(dimensions=settings.VECTOR_DIMENSIONS)
    content_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            HnswIndex(
                name="property_embedding_hnsw",
                fields=["vector"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]
