import factory

from marketplace.tests.factories import UserFactory
from orders.models import Address


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    recipient = "Li Lei"
    phone = "+86 138 0000 0000"
    country = "CN"
    region = "浙江省"
    city = "杭州市"
    district = "西湖区"
    street = "文三路 100 号"
    postal_code = "310000"
    is_default = True
