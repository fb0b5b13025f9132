"""The buyer's address book. Orders keep a snapshot of the address, so editing or deleting an
entry never changes a placed order."""

from __future__ import annotations

from django.db import transaction

from marketplace.models import User
from orders.models import Address

ADDRESS_FIELDS = ("recipient", "phone", "country", "region", "city", "district", "street", "postal_code", "is_default")


def _default_keep_single(*, user: User, address: Address) -> None:
    if address.is_default:
        Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)


@transaction.atomic
def address_create(*, user: User, data: dict) -> Address:
    """Adds an entry; the first one, or one marked default, becomes the only default."""
    values = {name: data[name] for name in ADDRESS_FIELDS if name in data}
    if not Address.objects.filter(user=user).exists():
        values["is_default"] = True
    address = Address.objects.create(user=user, **values)
    _default_keep_single(user=user, address=address)
    return address


@transaction.atomic
def address_update(*, address: Address, data: dict) -> Address:
    for name in ADDRESS_FIELDS:
        if name in data:
            setattr(address, name, data[name])
    address.save()
    _default_keep_single(user=address.user, address=address)
    return address


@transaction.atomic
def address_delete(*, address: Address) -> None:
    user, was_default = address.user, address.is_default
    address.delete()
    if was_default:
        # Another entry takes over as default, so checkout can still preselect one.
        successor = Address.objects.filter(user=user).order_by("-id").first()
        if successor is not None:
            Address.objects.filter(pk=successor.pk).update(is_default=True)
