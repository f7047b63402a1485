"""factory_boy factories for places and people. Roles are given through ``council.services``
(see ``tests.conftest.World``), never by writing rows directly."""

import datetime as dt
from decimal import Decimal

import factory

from council.models import Community, Council, District, Grid, SubDistrict, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.django.Password("a-long-enough-password-42")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"第{n}区")
    slug = factory.Sequence(lambda n: f"district-{n}")


class SubDistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubDistrict

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"第{n}街道")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community
        skip_postgeneration_save = True

    sub_district = factory.SubFactory(SubDistrictFactory)
    name = factory.Sequence(lambda n: f"第{n}社区")
    slug = factory.Sequence(lambda n: f"community-{n}")
    collection_opens = factory.LazyFunction(lambda: dt.date.today() - dt.timedelta(days=10))
    collection_closes = factory.LazyFunction(lambda: dt.date.today() + dt.timedelta(days=30))
    cap_engineering = Decimal("500000.00")
    cap_service = Decimal("200000.00")
    cap_goods = Decimal("200000.00")
    council = factory.RelatedFactory(
        "tests.factories.CouncilFactory", factory_related_name="community"
    )


class CouncilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Council

    name = factory.LazyAttribute(lambda o: f"{o.community.name}居民议事会")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    name = factory.Sequence(lambda n: f"第{n}网格")
