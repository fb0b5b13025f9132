"""Simplified Chinese is complete: every marked string has a checked translation in the
committed .po, the committed .mo matches it, no page string escapes translation, and every
page a shopper or a seller opens reads in Chinese, chosen by the browser or by the switcher."""

import ast
import gettext as gettext_module
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from catalog.tests.factories import make_category, make_product
from orders.tests.factories import AddressFactory
from orders.tests.fulfilment_factories import order_for

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO_FILE = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
# What `makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=.data` scans.
SCANNED_EXTENSIONS = {".py", ".html", ".txt"}
IGNORED_DIRS = {".venv", "bench", ".data", "locale", "node_modules", "__pycache__"}


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """LocaleMiddleware leaves the last request's language active in the thread; the next
    test (which may call a service directly and expect English) must not inherit Chinese."""
    yield
    translation.deactivate()


# --- A small .po reader: gettext's own format, no third-party library --------------------


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def read_po(path: Path) -> list[dict]:
    """Entries as dicts: ctx, id, plural, strs ({None: s} or {0: s, ...}), flags, line."""
    entries: list[dict] = []
    entry: dict | None = None
    field = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            if entry is not None and entry["id"] is not None:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"ctx": None, "id": None, "plural": None, "strs": {}, "flags": set(), "line": number}
        if line.startswith("#~"):
            raise AssertionError(f"{path}:{number}: obsolete entry left in the catalog")
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith("msgctxt "):
            entry["ctx"], field = _unquote(line[8:]), ("ctx",)
        elif line.startswith("msgid_plural "):
            entry["plural"], field = _unquote(line[13:]), ("plural",)
        elif line.startswith("msgid "):
            entry["id"], field = _unquote(line[6:]), ("id",)
        elif line.startswith("msgstr["):
            index, text = re.match(r"msgstr\[(\d+)\] (.*)", line).groups()
            entry["strs"][int(index)], field = _unquote(text), ("strs", int(index))
        elif line.startswith("msgstr "):
            entry["strs"][None], field = _unquote(line[7:]), ("strs", None)
        elif line.startswith('"'):
            if field[0] == "strs":
                entry["strs"][field[1]] += _unquote(line)
            else:
                entry[field[0]] += _unquote(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot read {line!r}")
    if entry is not None and entry["id"] is not None:
        entries.append(entry)
    return entries


def untranslated(entries: list[dict]) -> list[str]:
    """The msgids (with their line) that have an empty translation or a fuzzy flag."""
    problems = []
    for entry in entries:
        if entry["id"] == "":
            continue
        label = f"line {entry['line']}: {entry['id']!r}"
        if "fuzzy" in entry["flags"]:
            problems.append(f"{label} is fuzzy")
        elif not entry["strs"] or any(not text for text in entry["strs"].values()):
            problems.append(f"{label} has no translation")
    return problems


def entry_key(entry: dict) -> tuple:
    return (entry["ctx"], entry["id"])


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w+\}")


def test_po_has_a_checked_translation_for_every_entry():
    entries = read_po(PO_FILE)
    header = entries[0]
    assert header["id"] == "", "the .po must start with its header"
    assert "fuzzy" not in header["flags"]
    assert "Plural-Forms: nplurals=1; plural=0;" in header["strs"][None]
    assert "Language: zh_Hans" in header["strs"][None]
    assert len(entries) > 600, "the catalog lost its entries"
    assert untranslated(entries) == []
    mismatched = []
    for entry in entries[1:]:
        expected = set(PLACEHOLDER.findall(entry["id"] + (entry["plural"] or "")))
        if entry["plural"] is not None:
            assert set(entry["strs"]) == {0}, f"{entry['id']!r}: zh has one plural form, msgstr[0] only"
        for text in entry["strs"].values():
            if set(PLACEHOLDER.findall(text)) != expected:
                mismatched.append(f"{entry['id']!r} -> {text!r}")
    assert mismatched == [], "placeholders must survive translation"


def test_translations_are_chinese():
    """A msgstr copied from its msgid would pass the emptiness check and still show English."""
    copied = []
    for entry in read_po(PO_FILE)[1:]:
        text = "".join(entry["strs"].values())
        words = PLACEHOLDER.sub("", text)
        if re.search(r"[A-Za-z]{3,}", words) and not re.search(r"[\u4e00-\u9fff]", words):
            copied.append(entry["id"])
    # Names that stay the same in Chinese: a placeholder only, the API abbreviations.
    assert set(copied) <= {"SKU", "{reason}"}, copied


def _copy_scanned_tree(destination: Path) -> None:
    base = Path(settings.BASE_DIR)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [name for name in dirnames if name not in IGNORED_DIRS and not name.startswith(".")]
        for filename in filenames:
            if Path(filename).suffix in SCANNED_EXTENSIONS:
                source = Path(dirpath) / filename
                target = destination / source.relative_to(base)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    shutil.copytree(LOCALE_DIR, destination / "locale")


def test_po_lists_every_string_marked_in_the_code(tmp_path, monkeypatch, settings):
    """makemessages, run on a copy of the sources with a copy of the catalog, finds nothing new:
    a string marked for translation anywhere but missing from the committed .po fails here."""
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext (xgettext, msgmerge) is not installed: apt-get install gettext")
    work = tmp_path / "src"
    _copy_scanned_tree(work)
    settings.LOCALE_PATHS = [work / "locale"]
    monkeypatch.chdir(work)
    call_command(
        "makemessages",
        locale=["zh_Hans"],
        ignore_patterns=[".venv", "bench", ".data"],
        no_obsolete=True,
        verbosity=0,
    )
    fresh = read_po(work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    committed = {entry_key(entry) for entry in read_po(PO_FILE)}
    new = sorted(f"{entry['id']!r}" for entry in fresh if entry_key(entry) not in committed)
    assert new == [], (
        "strings marked in the code are missing from locale/zh_Hans/LC_MESSAGES/django.po: run "
        "`manage.py makemessages -l zh_Hans --ignore=.venv --ignore=bench --ignore=.data --no-obsolete`, "
        "translate them and run compilemessages"
    )
    assert untranslated(fresh) == []
    assert (work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").exists()
    assert not (LOCALE_DIR / "django.pot").exists()


def test_committed_mo_matches_the_po():
    """The .mo the server loads holds exactly the .po's translations (compilemessages was run)."""
    assert MO_FILE.exists(), "run `manage.py compilemessages --ignore=.venv`"
    with MO_FILE.open("rb") as handle:
        catalog = gettext_module.GNUTranslations(handle)
    expected = {}
    for entry in read_po(PO_FILE)[1:]:
        key = entry["id"] if entry["ctx"] is None else f"{entry['ctx']}\x04{entry['id']}"
        if entry["plural"] is None:
            expected[key] = entry["strs"][None]
        else:
            for index, text in entry["strs"].items():
                expected[(key, index)] = text
    loaded = {key: value for key, value in catalog._catalog.items() if key != ""}
    assert loaded == expected
    # And through the public API, as Django reads it (aliases, so that xgettext does not
    # list this test as a place where these strings are used).
    single, contextual, plural = catalog.gettext, catalog.pgettext, catalog.ngettext
    assert single("Add to cart") == "加入购物车"
    assert contextual("shop status", "Active") == "营业中"
    assert plural("%(counter)s product", "%(counter)s products", 5) == "%(counter)s 件商品"


# --- Pages in Chinese --------------------------------------------------------------------


class VisibleText(HTMLParser):
    """The text a person reads: element text outside script/style, plus the attributes that
    are read out or shown (placeholder, title, alt, aria-label, button values)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        for name in ("placeholder", "title", "alt", "aria-label"):
            if values.get(name):
                self.parts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(response) -> str:
    parser = VisibleText()
    parser.feed(response.content.decode())
    return "\n".join(parser.parts)


# English interface words that must never show on a Chinese page, checked on every page,
# with each multi-word English msgid of the catalog (none of them is test data).
ENGLISH_UI = [
    "Add to cart",
    "Log in",
    "Log out",
    "Sign up",
    "Sign In",
    "My orders",
    "Check out",
    "Seller centre",
    "Cart",
    "Search",
    "Messages",
    "Open a shop",
    "Market",
    "Password",
]


def _catalog_english_phrases() -> list[str]:
    phrases = []
    for entry in read_po(PO_FILE)[1:]:
        text = entry["id"]
        if " " in text and not PLACEHOLDER.search(text) and re.fullmatch(r"[A-Za-z ,.'’:;!?()/-]+", text):
            phrases.append(text)
    return phrases


def english_left(text: str) -> list[str]:
    return [
        phrase
        for phrase in ENGLISH_UI + _catalog_english_phrases()
        if re.search(r"(?<![A-Za-z])" + re.escape(phrase) + r"(?![A-Za-z])", text)
    ]


@pytest.fixture
def market(shop_a, buyer):
    """A category, a product and an order, so listings, the product, shop, order and
    dashboard pages all have rows to show."""
    category = make_category("Tea ware", slug="tea-ware")
    product = make_product(vendor=shop_a, category=category, title="Clay teapot", title_zh_hans="紫砂壶")
    order_for(buyer=buyer, vendors=[shop_a])
    AddressFactory(user=buyer)
    return {"product": product.slug, "variant": product.variants.first().pk, "category": category.slug}


# (url, who, Chinese words that must show, English words of this page that must not)
PAGES = [
    (
        "/",
        None,
        ["购物车", "登录", "注册", "搜索", "店铺", "会员", "新品上架"],
        ["New arrivals", "Browse all products"],
    ),
    ("/products/", None, ["全部商品", "排序", "仅看有货", "价格从低到高"], ["All products", "Sort by", "Newest"]),
    ("/search/?q=x", None, ["搜索结果", "没有符合条件的商品"], ["Results for", "No products match"]),
    ("/c/{category}/", None, ["首页", "仅看有货", "店铺"], ["Home", "Availability"]),
    ("/p/{product}/", None, ["加入购物车", "数量", "商品详情"], ["Quantity", "Description"]),
    ("/s/tea-house/", None, ["本店分类", "品牌商"], ["Categories in this shop"]),
    ("/cart/", None, ["我的购物车", "去逛逛"], ["Your cart", "Go shopping"]),
    ("/accounts/login/", None, ["登录", "密码"], ["Forgot"]),
    ("/accounts/signup/", None, ["注册", "密码"], []),
    ("/orders/", "buyer", ["我的订单", "待付款", "立即支付"], ["Awaiting payment", "Pay now"]),
    ("/checkout/", "buyer", ["确认订单", "收货地址", "运费", "提交订单并付款"], ["Checkout", "Delivery address"]),
    ("/addresses/", "buyer", ["收货地址", "新增收货地址", "默认"], ["Address book", "Edit"]),
    ("/sell/apply/", "buyer", ["在社群开店", "店铺名称", "提交申请"], ["Send application"]),
    ("/dashboard/", "owner_a", ["卖家中心", "概况", "待发货", "运输中"], ["Overview", "To ship", "Revenue"]),
    ("/dashboard/orders/", "owner_a", ["订单状态", "待发货", "待付款"], ["Order status", "To ship"]),
    ("/dashboard/products/", "owner_a", ["发布商品", "在售", "库存"], ["New product", "Stock"]),
    ("/dashboard/shipping/", "owner_a", ["运费模板", "满额包邮", "每单运费"], ["Shipping templates", "Fee per order"]),
    ("/dashboard/staff/", "owner_a", ["员工", "店主", "添加员工"], ["Staff", "Owner", "Add a staff member"]),
]


@pytest.mark.parametrize("chosen_by", ["accept-language", "cookie"])
@pytest.mark.parametrize(("url", "who", "chinese", "english"), PAGES, ids=[page[0] for page in PAGES])
def test_page_reads_in_chinese(client, market, buyer, owner_a, url, who, chinese, english, chosen_by):
    headers = {}
    if chosen_by == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    else:
        headers["HTTP_ACCEPT_LANGUAGE"] = "zh-Hans"
    if who == "buyer":
        client.force_login(buyer)
        client.post("/cart/add/", {"variant": market["variant"], "quantity": "1"}, **headers)
    elif who == "owner_a":
        client.force_login(owner_a)

    response = client.get(url.format(**market), **headers)

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "zh-hans"
    text = visible_text(response)
    assert [word for word in chinese if word not in text] == []
    assert english_left(text) == []
    assert [word for word in english if re.search(r"(?<![A-Za-z])" + re.escape(word) + r"(?![A-Za-z])", text)] == []


def test_header_speaks_chinese_to_a_signed_in_member(client, buyer):
    client.force_login(buyer)
    text = visible_text(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-Hans"))
    for word in ("购物车", "我的订单", "卖家中心", "消息", "退出登录", "搜索", "店铺", "会员"):
        assert word in text
    assert english_left(text) == []


def test_language_switcher_keeps_the_choice(client, db):
    english = client.get("/")
    assert english.headers["Content-Language"] == "en"
    assert {"Cart", "Log in", "Sign up", "Search"} <= set(english_left(visible_text(english)))

    switched = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/products/"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/products/"
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert int(switched.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"]) == settings.LANGUAGE_COOKIE_AGE

    chinese = client.get("/products/")
    text = visible_text(chinese)
    assert chinese.headers["Content-Language"] == "zh-hans"
    assert "购物车" in text and "全部商品" in text
    assert english_left(text) == []
    # The choice outlives the browser's own preference.
    assert "购物车" in visible_text(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))

    back = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert back.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    text = visible_text(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-Hans"))
    assert "Cart" in text and "Log in" in text
    assert "购物车" not in text


def test_domain_errors_reach_the_shopper_in_chinese(client, db):
    """A message built by a service (not a template) is translated too."""
    response = client.post(
        "/cart/add/", {"variant": "999999", "quantity": "1"}, HTTP_ACCEPT_LANGUAGE="zh-Hans", follow=True
    )
    assert "未找到该商品。" in visible_text(response)
    assert "Product not found." not in response.content.decode()


def test_page_cache_keeps_one_copy_per_language(client, market, settings):
    """The shared catalog page cache must never serve a page rendered in the other language."""
    from django.core.cache import cache

    settings.PAGE_CACHE_ENABLED = True
    cache.clear()
    url = f"/p/{market['product']}/"
    for _ in range(3):  # the first sight of a version starts it; the next render is stored
        chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert chinese.headers["X-Page-Cache"] == "hit"
    assert "加入购物车" in visible_text(chinese)

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert english.headers["X-Page-Cache"] == "miss"
    assert "Add to cart" in visible_text(english) and "加入购物车" not in visible_text(english)
    assert english.headers["Content-Language"] == "en"
    again = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans")
    assert again.headers["X-Page-Cache"] == "hit" and again.headers["Content-Language"] == "zh-hans"
