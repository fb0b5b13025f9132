"""Template helpers for catalog pages: money, safe descriptions, query strings."""

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from marketplace.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str = "CNY") -> str:
    """`{{ product.min_price|money:product.currency }}` → ¥1,299.00"""
    return format_money(amount, currency or "CNY")


@register.filter
def clean_description(html: str | None) -> str:
    """A shop's rich description, sanitised again at display time (defence in depth: rows that
    bypassed the services, e.g. imports or fixtures, are never trusted)."""
    from catalog.services.validation import description_clean

    return mark_safe(description_clean(html))  # noqa: S308 - nh3 output


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    """The current URL with another page number (other parameters kept)."""
    query = context["request"].GET.copy()
    query["page"] = number
    return "?" + query.urlencode()


@register.simple_tag
def product_cards(products) -> str:
    """The listing grid's cards. Rendered here rather than by a template include per product:
    a listing shows 24 of them and the template engine's lookups were most of a page's time."""
    sold_out = gettext("Sold out")
    cards = []
    for product in products:
        title = product.title
        url = f"/p/{product.slug}/"
        if product.cover_thumbnail:
            picture = format_html('<img src="{}" alt="{}" loading="lazy">', product.cover_thumbnail, title)
        else:
            picture = format_html('<span class="noimage" aria-hidden="true">{}</span>', title[:1])
        price = format_money(product.min_price, product.currency)
        if product.max_price > product.min_price:
            price_range = format_html(
                '<span class="muted"> – {}</span>', format_money(product.max_price, product.currency)
            )
        else:
            price_range = ""
        if not getattr(product, "has_stock", product.total_stock > 0):
            status = format_html('<span class="badge cancelled">{}</span>', sold_out)
        elif product.sold_count:
            count = product.sold_count
            status = format_html(
                '<span class="muted">{}</span>', ngettext("%(n)d sold", "%(n)d sold", count) % {"n": count}
            )
        else:
            status = ""
        cards.append(
            format_html(
                '<div class="card product-card" data-testid="product-card">'
                '<a href="{url}">{picture}</a><a class="title" href="{url}">{title}</a>'
                '<div><span class="price">{price}</span>{price_range}</div>'
                '<div class="card-meta"><a class="muted" href="/s/{shop_slug}/">{shop}</a> {status}</div></div>',
                url=url,
                picture=picture,
                title=title,
                price=price,
                price_range=price_range,
                shop_slug=product.vendor.slug,
                shop=product.vendor.name,
                status=status,
            )
        )
    return mark_safe("".join(cards))  # noqa: S308 - every part went through format_html


@register.simple_tag
def facet_items(values, toggles: bool = True) -> str:
    """The <li> entries of one facet: a link (a check box look when it toggles a filter) and
    the count. Rendered here for the same reason as the cards: a sidebar has dozens."""
    items = []
    for value in values:
        if toggles:
            link = format_html(
                '<a href="{}" class="facet-toggle{}" data-slug="{}"><span class="box" aria-hidden="true">{}</span> {}</a>',
                value.url,
                " selected" if value.selected else "",
                value.slug,
                "✓" if value.selected else "",
                value.label,
            )
        else:
            link = format_html('<a href="{}">{}</a>', value.url, value.label)
        items.append(format_html('<li>{} <span class="count">{}</span></li>', link, value.count))
    return mark_safe("".join(items))  # noqa: S308 - every part went through format_html
