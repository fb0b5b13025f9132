"""Commission rules: which rate applies to a line when its order is paid.

The most specific rule valid at that moment wins: the shop's own rule, else the rule of the
line's category or its nearest ancestor, else the platform default rule, else
settings.COMMISSION_DEFAULT_RATE. Among rules of the same target, the one that started last.
The rate found is frozen on the line's split (LineSplit.commission_rate): later rule changes
never rewrite a paid order.
"""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from catalog.models import Category, Product
from marketplace.errors import DomainError
from marketplace.models import User
from marketplace.services import audit_record
from payments.models import CommissionRule


def _valid_at(at: datetime) -> Q:
    return Q(valid_from__lte=at) & (Q(valid_until__isnull=True) | Q(valid_until__gt=at))


def commission_rates_for(*, lines: list[tuple[int, int]], at: datetime) -> dict[tuple[int, int], Decimal]:
    """Rates for (vendor_id, product_id) pairs, in three queries whatever the number of lines."""
    products = dict(
        Product.objects.filter(pk__in={product_id for _vendor, product_id in lines}).values_list("pk", "category_id")
    )
    categories = dict(Category.objects.filter(pk__in=set(products.values())).values_list("pk", "path"))
    rules = list(
        CommissionRule.objects.filter(_valid_at(at))
        .filter(
            Q(scope=CommissionRule.Scope.PLATFORM)
            | Q(scope=CommissionRule.Scope.SHOP, vendor_id__in={vendor_id for vendor_id, _product in lines})
            | Q(scope=CommissionRule.Scope.CATEGORY)
        )
        .order_by("-valid_from", "-id")
        .values("scope", "vendor_id", "category_id", "rate")
    )
    shop_rate: dict[int, Decimal] = {}
    category_rate: dict[int, Decimal] = {}
    platform_rate = None
    for rule in rules:  # newest first: the first one seen per target wins
        if rule["scope"] == CommissionRule.Scope.SHOP:
            shop_rate.setdefault(rule["vendor_id"], rule["rate"])
        elif rule["scope"] == CommissionRule.Scope.CATEGORY:
            category_rate.setdefault(rule["category_id"], rule["rate"])
        elif platform_rate is None:
            platform_rate = rule["rate"]
    default = platform_rate if platform_rate is not None else settings.COMMISSION_DEFAULT_RATE
    ancestors = _ancestor_ids(categories)

    rates = {}
    for vendor_id, product_id in lines:
        rate = shop_rate.get(vendor_id)
        if rate is None:
            for category_id in ancestors.get(products.get(product_id), []):
                if category_id in category_rate:
                    rate = category_rate[category_id]
                    break
        rates[(vendor_id, product_id)] = default if rate is None else rate
    return rates


def _ancestor_ids(paths: dict[int, str]) -> dict[int, list[int]]:
    """For each category, itself then its ancestors, nearest first, read from its materialised
    path (segments `<position:04d><id:08d>/`, see catalog/categories.py)."""
    result = {}
    for category_id, path in paths.items():
        chain = [int(segment[4:]) for segment in path.split("/") if len(segment) == 12]
        result[category_id] = list(reversed(chain)) or [category_id]
    return result


def commission_rule_create(
    *,
    actor: User,
    scope: str,
    rate: Decimal,
    valid_from: datetime,
    valid_until: datetime | None = None,
    category: Category | None = None,
    vendor=None,
    note: str = "",
) -> CommissionRule:
    """An admin sets a rate. Refuses rates outside [0, 1) and empty periods; audited."""
    if not isinstance(rate, Decimal) or not (Decimal(0) <= rate < Decimal(1)):
        raise DomainError(gettext("A commission rate is a decimal from 0 to below 1, e.g. 0.0500 for 5%."))
    if valid_until is not None and valid_until <= valid_from:
        raise DomainError(gettext("The rule must end after it starts."))
    with transaction.atomic():
        rule = CommissionRule.objects.create(
            scope=scope,
            rate=rate,
            valid_from=valid_from,
            valid_until=valid_until,
            category=category,
            vendor=vendor,
            note=note,
            created_by=actor,
        )
        audit_record(actor=actor, action="commission_rule.created", obj=rule, data={"scope": scope, "rate": str(rate)})
    return rule
