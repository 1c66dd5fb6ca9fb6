"""Factories of listings; created through the service so that search columns are filled as in production."""

from __future__ import annotations

import factory

from apps.properties.models import ListingType, Property, PropertyType


class PropertyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Property

    external_id = factory.Sequence(lambda n: f"ext-{n:05d}")
    title = factory.Sequence(lambda n: f"Listing number {n}")
    description = "A pleasant place to live."
    property_type = PropertyType.APARTMENT
    listing_type = ListingType.SALE
    price = 250_000
    currency = "USD"
    bedrooms = 2
    city = "Austin"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from apps.properties.services import property_create

        return property_create(**kwargs)
