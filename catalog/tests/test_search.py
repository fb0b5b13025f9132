"""Search in English and Chinese over titles, descriptions, shop names and SKU codes."""

import pytest
from django.db import connection

from catalog.search import query_terms, search_document_for
from catalog.selectors import product_search
from catalog.tests.factories import make_product

pytestmark = pytest.mark.django_db

PHONE_TITLE = "小米 Redmi Note 13 5G 智能手机 大电量"


@pytest.fixture
def phone(shop_a):
    return make_product(
        vendor=shop_a,
        title="Redmi Note 13 smartphone",
        title_zh_hans=PHONE_TITLE,
        description="A phone with a big battery.",
        variants=[{"sku": "RM-N13-5G-BLK", "price": "1299.00"}],
    )


@pytest.fixture
def teapot(shop_b):
    return make_product(
        vendor=shop_b,
        title="Yixing clay teapot",
        title_zh_hans="宜兴紫砂壶 手工 茶具",
        description="Brews oolong and pu'er.",
        variants=[{"sku": "TEA-POT-01", "price": "299.00"}],
    )


def titles(queryset) -> list[str]:
    return [p.title_en for p in queryset]


def test_english_word_finds_english_title(phone, teapot):
    assert titles(product_search(query="teapot")) == ["Yixing clay teapot"]


def test_english_prefix_and_case_are_ignored(phone, teapot):
    assert titles(product_search(query="SMARTPH")) == ["Redmi Note 13 smartphone"]


def test_several_words_must_all_match(phone, teapot):
    assert titles(product_search(query="redmi teapot")) == []
    assert titles(product_search(query="redmi note")) == ["Redmi Note 13 smartphone"]


@pytest.mark.parametrize("query", ["手机", "电量", "小米", "智能手机", "小米手机", "能手", "机"])
def test_chinese_query_finds_words_inside_a_chinese_sentence(phone, teapot, query):
    assert titles(product_search(query=query)) == ["Redmi Note 13 smartphone"]


def test_chinese_query_that_does_not_occur_finds_nothing(phone, teapot):
    assert titles(product_search(query="电脑")) == []
    assert titles(product_search(query="手电")) == []


def test_mixed_chinese_and_english_query(phone, teapot):
    assert titles(product_search(query="Redmi 手机")) == ["Redmi Note 13 smartphone"]
    assert titles(product_search(query="Redmi 茶具")) == []


def test_description_words_are_found(phone, teapot):
    assert titles(product_search(query="oolong")) == ["Yixing clay teapot"]


def test_shop_name_is_found(phone, teapot):
    assert titles(product_search(query="panda sports")) == ["Yixing clay teapot"]


def test_whole_sku_code_is_found(phone, teapot):
    assert titles(product_search(query="RM-N13-5G-BLK")) == ["Redmi Note 13 smartphone"]


def test_part_of_a_sku_code_is_found(phone, teapot):
    assert titles(product_search(query="N13-5G")) == ["Redmi Note 13 smartphone"]
    assert titles(product_search(query="13-5G-B")) == ["Redmi Note 13 smartphone"]


def test_title_match_ranks_above_description_match(shop_a):
    in_description = make_product(vendor=shop_a, title="Kettle", description="Pairs well with a teapot.")
    in_title = make_product(vendor=shop_a, title="Teapot", description="Cast iron.")
    make_product(vendor=shop_a, title="Mug", description="Ceramic.")
    found = list(product_search(query="teapot"))
    assert [p.pk for p in found] == [in_title.pk, in_description.pk]
    assert found[0].search_rank > found[1].search_rank


def test_chinese_title_match_ranks_above_chinese_description_match(shop_a):
    in_description = make_product(vendor=shop_a, title="Cup", title_zh_hans="杯子", description="适合配茶壶使用")
    in_title = make_product(vendor=shop_a, title="Pot", title_zh_hans="紫砂茶壶", description="手工制作")
    assert [p.pk for p in product_search(query="茶壶")] == [in_title.pk, in_description.pk]


def test_punctuation_only_query_finds_nothing_and_does_not_fail(phone):
    assert list(product_search(query="!!! ''' :* & | ( )")) == []


def test_tsquery_syntax_in_the_query_is_plain_text(phone):
    assert titles(product_search(query="redmi & !note | (5g")) == ["Redmi Note 13 smartphone"]


def test_hidden_banned_and_suspended_products_are_never_found(phone, shop_b):
    from catalog.models import Product
    from vendors.models import Vendor

    make_product(vendor=shop_b, title="Redmi hidden", status=Product.Status.HIDDEN)
    make_product(vendor=shop_b, title="Redmi draft", status=Product.Status.DRAFT)
    make_product(vendor=shop_b, title="Redmi banned", is_banned=True, ban_reason="fake")
    suspended = make_product(title="Redmi suspended shop")
    Vendor.objects.filter(pk=suspended.vendor_id).update(status=Vendor.Status.SUSPENDED)
    assert titles(product_search(query="redmi")) == ["Redmi Note 13 smartphone"]


def test_search_document_holds_bigrams_and_sections():
    document = search_document_for(
        titles=["智能手机 Phone"], descriptions=["<p>Big &amp; bright</p>"], vendor_names=["Tea House"], skus=["AB-12"]
    )
    title_line, shop_line, description_line = document.split("\n")
    assert {"智能", "能手", "手机", "智", "phone"} <= set(title_line.split())
    assert {"tea", "house", "ab", "12"} <= set(shop_line.split())
    assert description_line.split() == ["big", "bright"]


def test_query_terms_use_prefixes_for_words_and_bigrams_for_chinese():
    assert query_terms("Phone 手机") == [["'phone':*"], ["'手机'"]]
    assert query_terms("智能手机") in ([["'智能'"], ["'手机'"]], [["'智能'", "'能手'", "'手机'"]])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="tsvector is PostgreSQL's")
def test_vectors_follow_the_document_in_the_same_write(shop_a):
    from catalog.models import Product
    from catalog.tests.factories import ProductFactory

    product = ProductFactory(vendor=shop_a, title="Unindexed")
    document = search_document_for(titles=["紫砂壶 Yixing"], descriptions=[], vendor_names=[], skus=[])
    Product.objects.filter(pk=product.pk).update(search_document=document)  # no search_refresh
    assert [p.pk for p in product_search(query="紫砂")] == [product.pk]
    assert [p.pk for p in product_search(query="yixing")] == [product.pk]
