"""Coupons for the tests: valid now, for a week, in CNY, unlimited unless told otherwise."""

from datetime import timedelta

import factory
from django.utils import timezone

from orders.models import Coupon


class CouponFactory(factory.django.DjangoModelFactory):
    """A shop coupon when given a vendor, else a platform coupon."""

    class Meta:
        model = Coupon

    name = factory.Sequence(lambda n: f"Coupon {n}")
    code = factory.Sequence(lambda n: f"CODE{n}")
    vendor = None
    funder = factory.LazyAttribute(lambda o: Coupon.Funder.SHOP if o.vendor else Coupon.Funder.PLATFORM)
    kind = Coupon.Kind.FIXED
    value = "10.00"
    min_spend = "0.00"
    currency = "CNY"
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    total_limit = None
    per_buyer_limit = 1
    is_active = True

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)

    @factory.post_generation
    def categories(self, create, extracted, **kwargs):
        if create and extracted:
            self.categories.set(extracted)
