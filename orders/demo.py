"""Demo data for `manage.py seed_demo`: shops of every kind, a three-level category tree,
bilingual products with variants, stock and generated images, buyers with addresses.

Everything is keyed on natural keys (e-mails, slugs, SKUs), so a second run creates nothing.
Products are generated from templates (brand x line x spec x extra) by their index with a
per-index random generator: product n is the same product on every run and every machine,
and the catalog can grow from 120 to 100,000 products by re-running with a larger --products.
Rows go in with bulk_create in batches, one transaction per batch, so a batch is never half
there: 100,000 products take minutes, not hours.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import translation
from django.utils.text import slugify

from catalog.categories import category_rebuild_paths
from catalog.models import Attribute, AttributeValue, Category, Product, ProductImage, ProductVariant
from catalog.search import search_document_for, search_refresh
from orders.models import Address
from vendors.models import LegalKind, Role, ShippingTemplate, ShopType, Vendor, VendorMember

DEMO_PASSWORD = "shequn-demo-2026"
ADMIN_EMAIL = "admin@shequn.test"
DEFAULT_VENDORS = 8
DEFAULT_PRODUCTS = 120
BATCH_SIZE = 5000
IMAGE_DIR = "demo/products"

Pair = tuple[str, str]  # (English, Simplified Chinese)


# --- Shops -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopSpec:
    slug: str
    name: Pair
    shop_type: str
    legal_kind: str
    description: Pair
    sells: tuple[str, ...]  # slugs of mid-level categories
    shipping: dict = field(default_factory=dict)
    phone: str = ""


SHOPS: tuple[ShopSpec, ...] = (
    ShopSpec(
        "tea-house",
        ("Tea House", "茶语轩"),
        ShopType.INDIVIDUAL,
        LegalKind.INDIVIDUAL,
        (
            "A family tea garden in Hangzhou: spring-picked green teas, oolongs and black teas, packed to order.",
            "杭州龙井村的家庭茶园：春季采摘的绿茶、乌龙与红茶，现包现发。",
        ),
        ("tea",),
        {"name": "标准快递 Standard", "base_fee": "8.00", "per_item_fee": "0.00", "free_over": "99.00"},
        "0571-8700 0001",
    ),
    ShopSpec(
        "grandma-pantry",
        ("Grandma's Pantry", "外婆的零食铺"),
        ShopType.INDIVIDUAL,
        LegalKind.INDIVIDUAL,
        (
            "Home-style snacks, nuts and pastries chosen by a Suzhou grandmother.",
            "苏州外婆亲选的家常零食、坚果和糕点。",
        ),
        ("snacks", "tea"),
        {"name": "韵达快递 Yunda", "base_fee": "6.00", "per_item_fee": "2.00", "free_over": "59.00"},
        "0512-6500 0002",
    ),
    ShopSpec(
        "panda-sports",
        ("Panda Sports Flagship", "熊猫运动旗舰店"),
        ShopType.BRAND,
        LegalKind.BUSINESS,
        ("Official flagship for running shoes, sneakers and training wear.", "跑鞋、休闲鞋和训练服饰官方旗舰店。"),
        ("shoes", "menswear"),
        {"name": "全场包邮 Free delivery", "base_fee": "0.00", "per_item_fee": "0.00", "free_over": None},
        "400-820 0003",
    ),
    ShopSpec(
        "bright-digital",
        ("Bright Digital Flagship", "明亮数码旗舰店"),
        ShopType.BRAND,
        LegalKind.BUSINESS,
        (
            "Phones, laptops and audio with national warranty and 7-day returns.",
            "手机、电脑、影音，全国联保，7天无理由退货。",
        ),
        ("phones", "computers", "audio"),
        {"name": "顺丰包邮 SF Express", "base_fee": "0.00", "per_item_fee": "0.00", "free_over": None},
        "400-880 0004",
    ),
    ShopSpec(
        "yiwu-wholesale",
        ("Yiwu Wholesale Hub", "义乌小商品批发"),
        ShopType.WHOLESALER,
        LegalKind.BUSINESS,
        (
            "Factory prices on homeware, storage and basics; mixed cartons welcome.",
            "家居、收纳、基础服饰工厂价批发，支持混批。",
        ),
        ("storage", "kitchen", "menswear"),
        {"name": "物流专线 Freight", "base_fee": "15.00", "per_item_fee": "1.00", "free_over": "299.00"},
        "0579-8500 0005",
    ),
    ShopSpec(
        "pearl-river-electronics",
        ("Pearl River Electronics", "珠江电子批发"),
        ShopType.WHOLESALER,
        LegalKind.BUSINESS,
        (
            "Shenzhen Huaqiangbei supplier of chargers, earphones and speakers.",
            "深圳华强北充电器、耳机、音箱源头供应商。",
        ),
        ("phones", "audio"),
        {"name": "中通快递 ZTO", "base_fee": "10.00", "per_item_fee": "0.00", "free_over": "199.00"},
        "0755-8300 0006",
    ),
    ShopSpec(
        "global-buy",
        ("Global Buy", "环球购"),
        ShopType.CROSS_BORDER,
        LegalKind.BUSINESS,
        (
            "Bonded-warehouse imports: skincare, infant formula and snacks from abroad.",
            "保税仓直发：海外护肤、婴幼儿奶粉和进口零食。",
        ),
        ("skincare", "baby", "snacks"),
        {
            "name": "保税仓发货 Bonded warehouse",
            "base_fee": "20.00",
            "per_item_fee": "0.00",
            "free_over": "399.00",
            "excluded_regions": ["西藏自治区", "新疆维吾尔自治区"],
        },
        "021-6800 0007",
    ),
    ShopSpec(
        "sakura-imports",
        ("Sakura Imports", "樱花海淘"),
        ShopType.CROSS_BORDER,
        LegalKind.BUSINESS,
        ("Direct mail from Japan: skincare, sunscreen and fashion.", "日本直邮：护肤、防晒与服饰。"),
        ("skincare", "womenswear"),
        {
            "name": "日本直邮 Direct mail",
            "base_fee": "25.00",
            "per_item_fee": "3.00",
            "free_over": "299.00",
            "excluded_regions": ["西藏自治区", "新疆维吾尔自治区", "青海省"],
        },
        "021-6900 0008",
    ),
)


def shop_specs(count: int) -> list[ShopSpec]:
    """The first `count` shops; past the eight above, numbered branches of the same kinds."""
    specs = list(SHOPS[:count])
    for number in range(len(SHOPS), count):
        base = SHOPS[number % len(SHOPS)]
        branch = number // len(SHOPS) + 1
        specs.append(
            ShopSpec(
                f"{base.slug}-{branch}",
                (f"{base.name[0]} {branch}", f"{base.name[1]}{branch}号店"),
                base.shop_type,
                base.legal_kind,
                base.description,
                base.sells,
                base.shipping,
                base.phone,
            )
        )
    return specs


def owner_email(slug: str) -> str:
    return f"owner@{slug}.shequn.test"


def manager_email(slug: str) -> str:
    return f"manager@{slug}.shequn.test"


def staff_email(slug: str) -> str:
    return f"staff@{slug}.shequn.test"


# --- Buyers ------------------------------------------------------------------------------

BUYERS: tuple[dict, ...] = (
    {
        "email": "buyer@shequn.test",
        "name": "李雷 Li Lei",
        "phone": "13800000001",
        "addresses": [
            ("李雷", "浙江省", "杭州市", "西湖区", "文三路90号东部软件园3幢501室", "310012"),
            ("李雷", "上海市", "上海市", "浦东新区", "世纪大道100号环球金融中心42楼", "200120"),
        ],
    },
    {
        "email": "buyer2@shequn.test",
        "name": "韩梅梅 Han Meimei",
        "phone": "13900000002",
        "addresses": [("韩梅梅", "北京市", "北京市", "海淀区", "中关村大街27号中关村大厦1008室", "100080")],
    },
    {
        "email": "buyer3@shequn.test",
        "name": "王芳 Wang Fang",
        "phone": "13700000003",
        "addresses": [
            ("王芳", "广东省", "深圳市", "南山区", "科技园南区高新南七道12号", "518057"),
            ("王建国", "湖南省", "长沙市", "岳麓区", "麓山南路932号", "410083"),
        ],
    },
    {
        "email": "buyer4@shequn.test",
        "name": "张伟 Zhang Wei",
        "phone": "13600000004",
        "addresses": [("张伟", "四川省", "成都市", "武侯区", "天府大道北段1700号环球中心W6区", "610041")],
    },
    {
        "email": "buyer5@shequn.test",
        "name": "阿依古丽 Ayigul",
        "phone": "13500000005",
        "addresses": [("阿依古丽", "新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放南路88号", "830002")],
    },
)


# --- Categories and attributes ----------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """A third-level category and the templates its product titles are made from."""

    slug: str
    name: Pair
    code: str  # SKU prefix
    noun: Pair
    brands: tuple[tuple[str, str, tuple], ...]  # (brand en, brand zh, product lines: str or Pair)
    specs: tuple[Pair, ...]
    extras: tuple[Pair, ...]
    axes: tuple[str, ...]  # attribute slugs the variants differ by
    price: tuple[int, int]  # CNY, whole yuan
    weight: tuple[int, int]  # grams
    blurb: Pair
    title_en: str = "{brand_en} {line_en} {noun} {spec} {extra}"
    title_zh: str = "{brand_zh} {line_zh} {noun} {spec} {extra}"


TEA_ZH = "{brand_zh}{line_zh} {brand_en} {line_en} {spec}{noun} {extra}"
TEA_EN = "{brand_en} {line_en} {noun} {spec} {extra}"
SNACK_ZH = "{brand_zh} {line_zh} {spec} {extra}"
SNACK_EN = "{brand_en} {line_en} {spec} {extra}"

TREE: tuple[tuple[str, Pair, tuple[tuple[str, Pair, tuple[Leaf, ...]], ...]], ...] = (
    (
        "electronics",
        ("Electronics", "数码"),
        (
            (
                "phones",
                ("Phones", "手机"),
                (
                    Leaf(
                        "smartphones",
                        ("Smartphones", "智能手机"),
                        "PH",
                        ("Smartphone", "智能手机"),
                        (
                            ("Xiaomi", "小米", ("Redmi Note 13 5G", "Redmi K70", "14 Pro", "Civi 4")),
                            ("Huawei", "华为", ("nova 12", "Mate 60", "Pura 70", ("Enjoy 70", "畅享 70"))),
                            ("Honor", "荣耀", ("Magic6", "X50", "90 GT")),
                            ("OPPO", "OPPO", ("Reno11", "Find X7", "A2 Pro")),
                            ("vivo", "vivo", ("X100", "S18", "iQOO Neo9")),
                        ),
                        (("5G Dual SIM", "5G全网通"), ("NFC", "NFC"), ("120Hz OLED", "120Hz高刷屏")),
                        (
                            ("Long Battery Life", "大电量"),
                            ("Camera Phone", "影像旗舰"),
                            ("Fast Charging", "超级快充"),
                            ("Gaming", "游戏电竞"),
                        ),
                        ("storage", "colour"),
                        (999, 6999),
                        (180, 230),
                        (
                            "A fast phone with a bright screen and a battery that lasts all day.",
                            "流畅快速，屏幕明亮，电池续航一整天。",
                        ),
                    ),
                    Leaf(
                        "phone-accessories",
                        ("Phone accessories", "手机配件"),
                        "AC",
                        ("Fast Charger", "快充充电器"),
                        (
                            ("Anker", "安克", ("Nano", "Prime")),
                            ("Ugreen", "绿联", ("Nexode", "Robot")),
                            ("Baseus", "倍思", ("GaN5 Pro", "Blade")),
                        ),
                        (("65W GaN", "65W氮化镓"), ("30W PD", "30W PD"), ("100W 3-Port", "100W三口")),
                        (
                            ("for iPhone and Android", "适用苹果安卓"),
                            ("Foldable Plug", "折叠插脚"),
                            ("Travel Size", "便携小巧"),
                        ),
                        ("colour",),
                        (39, 299),
                        (60, 200),
                        ("Charges a phone and a laptop at once, and stays cool.", "手机电脑同时快充，温控不发烫。"),
                    ),
                ),
            ),
            (
                "audio",
                ("Audio", "影音"),
                (
                    Leaf(
                        "earphones",
                        ("Earphones", "耳机"),
                        "EP",
                        ("Wireless Earbuds", "无线蓝牙耳机"),
                        (
                            ("Sony", "索尼", ("WF-1000XM5", "WF-C700N")),
                            ("Huawei", "华为", ("FreeBuds Pro 3", "FreeBuds 5i")),
                            ("Xiaomi", "小米", ("Buds 5", "Redmi Buds 6")),
                            ("Edifier", "漫步者", ("Lolli Pro 3", "W820NB")),
                        ),
                        (
                            ("Active Noise Cancelling", "主动降噪"),
                            ("Hi-Res Audio", "Hi-Res高解析"),
                            ("Low Latency", "低延迟"),
                        ),
                        (("Long Battery", "长续航"), ("Sports", "运动防水"), ("2024 Edition", "2024新款")),
                        ("colour",),
                        (99, 2499),
                        (40, 80),
                        (
                            "Clear sound, quiet commutes and a case that charges over USB-C.",
                            "音质清晰，通勤降噪，Type-C充电仓。",
                        ),
                    ),
                    Leaf(
                        "speakers",
                        ("Speakers", "音箱"),
                        "SP",
                        ("Bluetooth Speaker", "蓝牙音箱"),
                        (
                            ("JBL", "JBL", ("Flip 6", "Charge 5", "Go 3")),
                            ("Xiaomi", "小米", ("Sound Pro", ("Xiaoai Speaker Pro", "小爱音箱Pro"))),
                            ("Marshall", "马歇尔", ("Emberton II", "Stanmore III")),
                        ),
                        (("Waterproof IP67", "IP67防水"), ("Smart Voice", "智能语音"), ("360° Sound", "360°环绕")),
                        (("Outdoor", "户外便携"), ("Home", "家用"), ("Gift", "送礼")),
                        ("colour",),
                        (149, 3999),
                        (500, 4000),
                        (
                            "Room-filling sound with deep bass, in a body you can carry.",
                            "低音浑厚，声场饱满，方便携带。",
                        ),
                    ),
                ),
            ),
            (
                "computers",
                ("Computers", "电脑"),
                (
                    Leaf(
                        "laptops",
                        ("Laptops", "笔记本电脑"),
                        "LT",
                        ("Laptop", "笔记本电脑"),
                        (
                            (
                                "Lenovo",
                                "联想",
                                (
                                    "ThinkPad X1 Carbon",
                                    ("Xiaoxin Pro 14", "小新Pro14"),
                                    ("Legion Y7000P", "拯救者Y7000P"),
                                ),
                            ),
                            ("Huawei", "华为", ("MateBook 14", "MateBook X Pro")),
                            ("Apple", "苹果", ("MacBook Air 13 M3", "MacBook Pro 14 M3")),
                            ("Xiaomi", "小米", ("RedmiBook Pro 15", "Book Air 13")),
                        ),
                        (
                            ("16GB 512GB SSD", "16G 512G固态"),
                            ("32GB 1TB SSD", "32G 1T固态"),
                            ("2.8K OLED", "2.8K OLED屏"),
                        ),
                        (
                            ("Thin and Light", "轻薄本"),
                            ("Business", "商务办公"),
                            ("Gaming", "游戏本"),
                            ("For Students", "学生"),
                        ),
                        ("colour",),
                        (3499, 14999),
                        (1200, 2500),
                        (
                            "A light laptop with a sharp screen and a full day of battery.",
                            "轻薄机身，高清屏幕，续航一整天。",
                        ),
                    ),
                ),
            ),
        ),
    ),
    (
        "apparel",
        ("Apparel", "服饰"),
        (
            (
                "menswear",
                ("Menswear", "男装"),
                (
                    Leaf(
                        "mens-t-shirts",
                        ("Men's T-shirts", "男士T恤"),
                        "TS",
                        ("Men's Cotton T-shirt", "男士纯棉短袖T恤"),
                        (
                            ("Uniqlo", "优衣库", ("AIRism", ("U Series", "U系列"))),
                            ("Li-Ning", "李宁", (("Training", "训练系列"), ("China Li-Ning", "中国李宁"))),
                            ("Semir", "森马", (("Basics", "基础款"),)),
                            ("HLA", "海澜之家", (("Classic", "经典款"),)),
                        ),
                        (("Crew Neck", "圆领"), ("Loose Fit", "宽松版型"), ("Quick-Dry", "速干")),
                        (("Summer 2024", "2024夏季新款"), ("Plain", "纯色百搭"), ("Pack of 2", "两件装")),
                        ("size", "colour"),
                        (39, 199),
                        (150, 300),
                        ("Soft combed cotton that keeps its shape wash after wash.", "精梳棉柔软亲肤，久洗不变形。"),
                    ),
                    Leaf(
                        "mens-jackets",
                        ("Men's jackets", "男士夹克"),
                        "JK",
                        ("Men's Jacket", "男士夹克外套"),
                        (
                            ("The North Face", "北面", ("1996 Nuptse", "Triclimate")),
                            ("Anta", "安踏", (("Windbreaker", "风衣"),)),
                            ("Peacebird", "太平鸟", (("Workwear", "工装"),)),
                        ),
                        (("Windproof Waterproof", "防风防水"), ("Hooded", "连帽"), ("Stand Collar", "立领")),
                        (("Spring Autumn", "春秋款"), ("Outdoor", "户外"), ("Casual", "休闲")),
                        ("size", "colour"),
                        (199, 1999),
                        (400, 1200),
                        ("Keeps wind and drizzle out and packs into its own pocket.", "防风防小雨，可收纳进口袋。"),
                    ),
                ),
            ),
            (
                "womenswear",
                ("Womenswear", "女装"),
                (
                    Leaf(
                        "dresses",
                        ("Dresses", "连衣裙"),
                        "DR",
                        ("Dress", "连衣裙"),
                        (
                            ("UR", "UR", (("French Vintage", "法式复古"), ("Minimal", "简约"))),
                            ("ONLY", "ONLY", (("Chiffon", "雪纺"),)),
                            ("Peacebird", "太平鸟", (("Floral", "印花"),)),
                        ),
                        (("Midi", "中长款"), ("Slim Waist", "收腰显瘦"), ("Square Neck", "方领")),
                        (("Summer 2024", "2024夏季新款"), ("Office", "通勤"), ("Holiday", "度假风")),
                        ("size", "colour"),
                        (129, 899),
                        (200, 500),
                        ("A flowing cut that works at the office and on holiday.", "版型飘逸，通勤度假都适合。"),
                    ),
                ),
            ),
            (
                "shoes",
                ("Shoes", "鞋靴"),
                (
                    Leaf(
                        "running-shoes",
                        ("Running shoes", "跑步鞋"),
                        "RS",
                        ("Running Shoes", "跑步鞋"),
                        (
                            ("Nike", "Nike耐克", ("Air Zoom Pegasus 41", "Air Zoom Vomero 17")),
                            ("Adidas", "阿迪达斯", ("Ultraboost Light", "Adizero SL")),
                            ("Li-Ning", "李宁", (("Feidian 4", "飞电4"), ("Chitu 7", "赤兔7"))),
                            ("Anta", "安踏", ("C202 GT",)),
                            ("Xtep", "特步", ("160X 6.0",)),
                        ),
                        (("Men's", "男款"), ("Women's", "女款"), ("Unisex", "男女同款")),
                        (("Cushioned", "缓震"), ("Racing", "竞速"), ("Breathable", "透气")),
                        ("shoe-size", "colour"),
                        (299, 1499),
                        (500, 900),
                        (
                            "Light foam that gives back energy, for daily miles and race day.",
                            "轻量回弹中底，日常训练与比赛皆宜。",
                        ),
                    ),
                    Leaf(
                        "sneakers",
                        ("Sneakers", "休闲鞋"),
                        "SN",
                        ("Canvas Sneakers", "帆布鞋"),
                        (
                            ("Converse", "匡威", ("Chuck 70", "One Star")),
                            ("Vans", "范斯", ("Old Skool", "Authentic")),
                            ("Feiyue", "飞跃", (("Classic", "经典款"),)),
                            ("Warrior", "回力", (("Classic Canvas", "经典帆布"),)),
                        ),
                        (("Low Top", "低帮"), ("High Top", "高帮")),
                        (("Couple", "情侣款"), ("Student", "学生"), ("Retro", "复古")),
                        ("shoe-size", "colour"),
                        (59, 699),
                        (400, 800),
                        ("The everyday canvas shoe that goes with everything.", "百搭帆布鞋，日常穿着舒适。"),
                    ),
                ),
            ),
        ),
    ),
    (
        "food",
        ("Food", "食品"),
        (
            (
                "tea",
                ("Tea", "茶叶"),
                (
                    Leaf(
                        "green-tea",
                        ("Green tea", "绿茶"),
                        "GT",
                        ("Green Tea", "绿茶"),
                        (
                            ("West Lake", "西湖", (("Longjing", "龙井"),)),
                            ("Lion Peak", "狮峰", (("Longjing", "龙井"),)),
                            ("Huangshan", "黄山", (("Maofeng", "毛峰"),)),
                            ("Dongting", "洞庭", (("Biluochun", "碧螺春"),)),
                            ("Xinyang", "信阳", (("Maojian", "毛尖"),)),
                        ),
                        (
                            ("Pre-Qingming Premium", "明前特级"),
                            ("Before Grain Rain", "雨前一级"),
                            ("Spring 2024", "2024春茶"),
                        ),
                        (("Gift Box", "礼盒装"), ("Loose Leaf", "散装"), ("Tin", "罐装")),
                        ("weight",),
                        (38, 480),
                        (150, 1100),
                        (
                            "Hand-fried spring leaves with a chestnut aroma and a sweet finish.",
                            "手工炒制春茶，栗香浓郁，回甘持久。",
                        ),
                        TEA_EN,
                        TEA_ZH,
                    ),
                    Leaf(
                        "black-tea",
                        ("Black tea", "红茶"),
                        "BT",
                        ("Black Tea", "红茶"),
                        (
                            ("Wuyi", "武夷", (("Lapsang Souchong", "正山小种"), ("Jinjunmei", "金骏眉"))),
                            ("Qimen", "祁门", (("Keemun", "祁红"),)),
                            ("Yunnan", "云南", (("Dianhong", "滇红"),)),
                        ),
                        (("Premium", "特级"), ("First Grade", "一级"), ("Aged", "陈香")),
                        (("Gift Box", "礼盒装"), ("Loose Leaf", "散装"), ("Tea Bags", "袋泡茶")),
                        ("weight",),
                        (28, 360),
                        (150, 1100),
                        (
                            "Malty, honeyed black tea that stays smooth with milk or without.",
                            "蜜香醇厚，清饮调奶皆宜。",
                        ),
                        TEA_EN,
                        TEA_ZH,
                    ),
                    Leaf(
                        "oolong",
                        ("Oolong", "乌龙茶"),
                        "OL",
                        ("Oolong Tea", "乌龙茶"),
                        (
                            ("Anxi", "安溪", (("Tieguanyin", "铁观音"),)),
                            ("Wuyi", "武夷", (("Da Hong Pao", "大红袍"), ("Rougui", "肉桂"))),
                            ("Phoenix", "凤凰", (("Dancong", "单丛"),)),
                        ),
                        (("Strong Aroma", "浓香型"), ("Light Aroma", "清香型"), ("Rock Tea", "岩茶")),
                        (("Gift Box", "礼盒装"), ("Vacuum Pack", "真空小包"), ("Tin", "罐装")),
                        ("weight",),
                        (48, 580),
                        (150, 1100),
                        (
                            "Rolled oolong that opens over many infusions, floral then toasty.",
                            "可多次冲泡，花香与焙火香层层展开。",
                        ),
                        TEA_EN,
                        TEA_ZH,
                    ),
                ),
            ),
            (
                "snacks",
                ("Snacks", "零食"),
                (
                    Leaf(
                        "nuts",
                        ("Nuts", "坚果"),
                        "NT",
                        ("Nuts", "坚果"),
                        (
                            ("Three Squirrels", "三只松鼠", (("Daily Nuts", "每日坚果"), ("Macadamia", "夏威夷果"))),
                            ("Bestore", "良品铺子", (("Pecans", "碧根果"), ("Cashews", "腰果"))),
                            ("Qiaqia", "洽洽", (("Sunflower Seeds", "瓜子"), ("Daily Nuts", "每日坚果"))),
                        ),
                        (("Roasted", "烘焙"), ("Cream Flavour", "奶油味"), ("Lightly Salted", "淡盐")),
                        (("Gift Box", "礼盒"), ("Family Pack", "家庭装"), ("Office Snack", "办公室零食")),
                        ("weight",),
                        (19, 199),
                        (150, 1100),
                        (
                            "Crunchy, freshly roasted and sealed in small daily packs.",
                            "新鲜烘焙，香脆可口，独立小包装。",
                        ),
                        SNACK_EN,
                        SNACK_ZH,
                    ),
                    Leaf(
                        "pastries",
                        ("Biscuits and pastries", "饼干糕点"),
                        "BS",
                        ("Pastries", "糕点"),
                        (
                            (
                                "Daoxiangcun",
                                "稻香村",
                                (("Pastry Assortment", "糕点礼盒"), ("Beijing Eight Treasures", "京八件")),
                            ),
                            ("Orion", "好丽友", (("Choco Pie", "巧克力派"),)),
                            ("Want Want", "旺旺", (("Senbei Rice Crackers", "仙贝"),)),
                            ("Bestore", "良品铺子", (("Egg Rolls", "蛋卷"),)),
                        ),
                        (("Traditional", "传统糕点"), ("Breakfast", "早餐"), ("Sweet", "甜味")),
                        (("Gift Box", "礼盒装"), ("Family Pack", "家庭装"), ("Festival", "节日送礼")),
                        ("pack",),
                        (15, 168),
                        (200, 1500),
                        ("Baked the traditional way, flaky outside and soft inside.", "传统工艺烘焙，外酥里软。"),
                        SNACK_EN,
                        SNACK_ZH,
                    ),
                ),
            ),
        ),
    ),
    (
        "home",
        ("Home", "家居"),
        (
            (
                "kitchen",
                ("Kitchen", "厨房用品"),
                (
                    Leaf(
                        "cookware",
                        ("Cookware", "锅具"),
                        "CW",
                        ("Non-stick Wok", "不粘炒锅"),
                        (
                            ("Supor", "苏泊尔", (("Fire Red Dot", "火红点"), ("Iron Pro", "精铁"))),
                            ("Joyoung", "九阳", (("Ceramic", "陶瓷"),)),
                            ("Zwilling", "双立人", ("Nova",)),
                            ("Cooker King", "炊大皇", (("Classic", "经典"),)),
                        ),
                        (("32cm", "32cm"), ("30cm", "30cm"), ("28cm", "28cm")),
                        (("Induction Compatible", "电磁炉通用"), ("With Lid", "带锅盖"), ("Less Smoke", "少油烟")),
                        ("colour",),
                        (89, 899),
                        (1200, 2500),
                        (
                            "Heats evenly, releases eggs cleanly and works on gas and induction.",
                            "受热均匀，煎蛋不粘，燃气电磁炉通用。",
                        ),
                    ),
                    Leaf(
                        "drinkware",
                        ("Drinkware", "水杯"),
                        "DW",
                        ("Insulated Bottle", "保温杯"),
                        (
                            ("Thermos", "膳魔师", ("JNL", "JNR")),
                            ("Tiger", "虎牌", ("MMJ",)),
                            ("Xiaomi", "小米", (("Mijia", "米家"),)),
                            ("Zojirushi", "象印", ("SM-SA",)),
                        ),
                        (
                            ("316 Stainless Steel", "316不锈钢"),
                            ("Tea Infuser", "茶水分离"),
                            ("Smart Temperature", "智能测温"),
                        ),
                        (("Office", "办公室"), ("Gift", "送礼"), ("Portable", "便携")),
                        ("capacity", "colour"),
                        (49, 399),
                        (200, 450),
                        ("Keeps tea hot for twelve hours and fits a car cup holder.", "12小时保温，车载杯架可放。"),
                    ),
                ),
            ),
            (
                "storage",
                ("Storage", "收纳"),
                (
                    Leaf(
                        "storage-boxes",
                        ("Storage boxes", "收纳盒"),
                        "SB",
                        ("Storage Box", "收纳箱"),
                        (
                            ("Tenma", "天马", ("Fits",)),
                            ("Citylong", "禧天龙", (("Clear", "透明"),)),
                            ("Yiwu Select", "义乌优选", (("Foldable", "折叠"),)),
                        ),
                        (("Large", "大号"), ("Stackable", "可叠加"), ("With Wheels", "带滑轮")),
                        (("Wardrobe", "衣柜"), ("Dormitory", "宿舍"), ("Set of 3", "三个装")),
                        ("pack", "colour"),
                        (19, 159),
                        (500, 3000),
                        (
                            "Stackable boxes with lids that click shut, for wardrobes and dorms.",
                            "带盖可叠加，衣柜宿舍收纳好帮手。",
                        ),
                    ),
                ),
            ),
        ),
    ),
    (
        "beauty",
        ("Beauty", "美妆"),
        (
            (
                "skincare",
                ("Skincare", "护肤"),
                (
                    Leaf(
                        "face-cream",
                        ("Face cream", "面霜"),
                        "FC",
                        ("Face Cream", "面霜"),
                        (
                            ("Lancome", "兰蔻", (("Renergie", "塑颜"),)),
                            ("Shiseido", "资生堂", (("Benefiance", "盼丽风姿"),)),
                            ("Proya", "珀莱雅", (("Double Anti", "双抗"),)),
                            ("Winona", "薇诺娜", (("Soothing", "舒敏"),)),
                        ),
                        (("Moisturising", "保湿补水"), ("Anti-ageing", "抗皱紧致"), ("Sensitive Skin", "敏感肌")),
                        (("50ml", "50ml"), ("Travel Size", "旅行装"), ("Gift Set", "礼盒套装")),
                        ("pack",),
                        (99, 2999),
                        (100, 400),
                        ("A rich cream that calms dry skin overnight.", "滋润修护，一夜舒缓干燥肌肤。"),
                    ),
                    Leaf(
                        "sunscreen",
                        ("Sunscreen", "防晒"),
                        "SS",
                        ("Sunscreen SPF50+ PA++++", "防晒霜 SPF50+ PA++++"),
                        (
                            ("Anessa", "安热沙", (("Perfect UV", "金瓶"),)),
                            ("Biore", "碧柔", (("UV Aqua Rich", "水活"),)),
                            ("Shiseido", "资生堂", (("Blue Sunscreen", "蓝胖子"),)),
                            ("Mistine", "蜜丝婷", (("Aqua Base", "小黄帽"),)),
                        ),
                        (("Waterproof", "防水防汗"), ("Lightweight", "清爽不油腻"), ("Face and Body", "面部身体")),
                        (("60ml", "60ml"), ("Twin Pack", "两支装"), ("Summer", "夏季")),
                        ("pack",),
                        (59, 399),
                        (80, 300),
                        ("Light, sweat-proof protection for city days and the beach.", "轻薄防汗，通勤海边都能用。"),
                    ),
                ),
            ),
            (
                "baby",
                ("Mother and baby", "母婴"),
                (
                    Leaf(
                        "formula",
                        ("Infant formula", "奶粉"),
                        "BF",
                        ("Infant Formula", "婴幼儿配方奶粉"),
                        (
                            ("Aptamil", "爱他美", (("Profutura", "卓萃"),)),
                            ("a2", "a2", (("Platinum", "至初"),)),
                            ("Feihe", "飞鹤", (("Star Flying", "星飞帆"),)),
                            ("Friso", "美素佳儿", (("Gold", "金装"),)),
                        ),
                        (
                            ("Stage 1 (0-6 months)", "1段 0-6个月"),
                            ("Stage 2 (6-12 months)", "2段 6-12个月"),
                            ("Stage 3 (1-3 years)", "3段 1-3岁"),
                        ),
                        (("800g", "800g"), ("900g Can", "900g罐装"), ("Imported", "原装进口")),
                        ("pack",),
                        (198, 1588),
                        (900, 5500),
                        ("Gentle formula with milk from pasture-fed cows.", "温和配方，奶源来自草饲牧场。"),
                    ),
                ),
            ),
        ),
    ),
)

# slug: (name, values as (slug, English, Chinese), whether the price steps up with the value)
ATTRIBUTES: dict[str, tuple[Pair, tuple[tuple[str, str, str], ...], bool]] = {
    "colour": (
        ("Colour", "颜色"),
        (
            ("black", "Black", "黑色"),
            ("white", "White", "白色"),
            ("blue", "Blue", "蓝色"),
            ("green", "Green", "绿色"),
            ("pink", "Pink", "粉色"),
            ("grey", "Grey", "灰色"),
        ),
        False,
    ),
    "size": (
        ("Size", "尺码"),
        (("s", "S", "S"), ("m", "M", "M"), ("l", "L", "L"), ("xl", "XL", "XL"), ("xxl", "XXL", "XXL")),
        False,
    ),
    "shoe-size": (
        ("Shoe size", "鞋码"),
        tuple((str(size), f"EU {size}", f"{size}码") for size in range(38, 45)),
        False,
    ),
    "storage": (
        ("Storage", "存储容量"),
        (
            ("8-256", "8GB+256GB", "8GB+256GB"),
            ("12-256", "12GB+256GB", "12GB+256GB"),
            ("12-512", "12GB+512GB", "12GB+512GB"),
            ("16-1t", "16GB+1TB", "16GB+1TB"),
        ),
        True,
    ),
    "capacity": (
        ("Capacity", "容量"),
        (("350ml", "350 ml", "350毫升"), ("500ml", "500 ml", "500毫升"), ("750ml", "750 ml", "750毫升")),
        True,
    ),
    "weight": (
        ("Net weight", "净含量"),
        (("100g", "100 g", "100克"), ("250g", "250 g", "250克"), ("500g", "500 g", "500克"), ("1kg", "1 kg", "1千克")),
        True,
    ),
    "pack": (
        ("Pack", "规格"),
        (("single", "Single", "单件装"), ("2-pack", "Pack of 2", "两件装"), ("6-pack", "Pack of 6", "六件装")),
        True,
    ),
}
PRICE_STEPS = {
    "storage": Decimal("0.25"),
    "capacity": Decimal("0.15"),
    "weight": Decimal("0.9"),
    "pack": Decimal("0.8"),
}

IMAGE_COLOURS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "electronics": ((33, 97, 140), (52, 73, 94), (22, 160, 133), (41, 128, 185)),
    "apparel": ((192, 57, 43), (142, 68, 173), (211, 84, 0), (231, 76, 60)),
    "food": ((39, 174, 96), (120, 144, 48), (160, 110, 40), (46, 125, 50)),
    "home": ((127, 140, 141), (93, 109, 126), (176, 122, 80), (149, 165, 166)),
    "beauty": ((232, 67, 147), (253, 121, 168), (155, 89, 182), (214, 48, 49)),
}
IMAGE_LETTERS = {"electronics": "E", "apparel": "A", "food": "F", "home": "H", "beauty": "B"}


# --- The run ------------------------------------------------------------------------------


@dataclass
class SeedReport:
    logins: list[tuple[str, str]] = field(default_factory=list)  # (what, e-mail)
    created: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


Progress = Callable[[int], None]


def demo_seed(
    *,
    vendors: int = DEFAULT_VENDORS,
    products: int = DEFAULT_PRODUCTS,
    batch_size: int = BATCH_SIZE,
    progress_factory: Callable[[int], tuple[Progress, Callable[[], None]]] | None = None,
) -> SeedReport:
    """Create whatever of the demo data is missing. Idempotent: keyed on e-mails, slugs and
    SKUs; existing rows are left as they are. Each product batch is one transaction."""
    if vendors < 1 or products < 0:
        raise ValueError("need at least one shop and a non-negative number of products")
    with translation.override("en"):  # translated fields are given per language below
        return _seed(vendors=vendors, products=products, batch_size=batch_size, progress_factory=progress_factory)


def _seed(*, vendors: int, products: int, batch_size: int, progress_factory) -> SeedReport:
    report = SeedReport()
    started = time.monotonic()
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 per user would take seconds
    specs = shop_specs(vendors)

    with transaction.atomic():
        _users_ensure([(ADMIN_EMAIL, "管理员 Admin", "")], password_hash, report, is_staff=True, is_superuser=True)
        shops = _shops_ensure(specs, password_hash, report)
        leaves = _categories_ensure(report)
        attribute_values = _attributes_ensure(report)
        _buyers_ensure(password_hash, report)
    report.logins = _logins(specs)
    report.seconds["setup"] = time.monotonic() - started

    images = _image_pool_ensure()
    started = time.monotonic()
    _products_ensure(
        count=products,
        shops=shops,
        specs=specs,
        leaves=leaves,
        attribute_values=attribute_values,
        images=images,
        batch_size=batch_size,
        report=report,
        progress_factory=progress_factory,
    )
    report.seconds["products"] = time.monotonic() - started

    started = time.monotonic()
    if report.created.get("products") or _search_stale():
        search_refresh(product_ids=None)
        _statistics_refresh()
    report.seconds["search"] = time.monotonic() - started
    return report


def _logins(specs: list[ShopSpec]) -> list[tuple[str, str]]:
    first = specs[0]
    return [
        ("admin", ADMIN_EMAIL),
        *[(f"owner of {spec.name[0]} {spec.name[1]} ({spec.shop_type})", owner_email(spec.slug)) for spec in specs],
        (f"manager of {first.name[0]}", manager_email(first.slug)),
        (f"staff of {first.name[0]}", staff_email(first.slug)),
        *[(f"buyer {buyer['name']}", buyer["email"]) for buyer in BUYERS],
    ]


def _users_ensure(people, password_hash: str, report: SeedReport, **flags) -> dict:
    """people: (e-mail, display name, phone). Returns {e-mail: User}."""
    from allauth.account.models import EmailAddress

    user_model = get_user_model()
    emails = [email for email, _name, _phone in people]
    existing = {user.email: user for user in user_model.objects.filter(email__in=emails)}
    missing = [
        user_model(email=email, display_name=name, phone=phone, password=password_hash, **flags)
        for email, name, phone in people
        if email not in existing
    ]
    for user in missing:
        user.save()  # a handful of users; save() keeps the manager's normalisation simple
        existing[user.email] = user
    report.created["users"] = report.created.get("users", 0) + len(missing)
    # Demo log-ins work even where e-mail verification is mandatory.
    verified = set(EmailAddress.objects.filter(email__in=emails).values_list("email", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=existing[email], email=email, verified=True, primary=True)
            for email in emails
            if email not in verified
        ]
    )
    return existing


def _shops_ensure(specs: list[ShopSpec], password_hash: str, report: SeedReport) -> dict[str, Vendor]:
    existing = {vendor.slug: vendor for vendor in Vendor.objects.filter(slug__in=[spec.slug for spec in specs])}
    created = 0
    for spec in specs:
        if spec.slug in existing:
            continue
        existing[spec.slug] = Vendor.objects.create(
            slug=spec.slug,
            name_en=spec.name[0],
            name_zh_hans=spec.name[1],
            legal_kind=spec.legal_kind,
            shop_type=spec.shop_type,
            description_en=spec.description[0],
            description_zh_hans=spec.description[1],
            contact_email=f"hello@{spec.slug}.shequn.test",
            contact_phone=spec.phone,
            sells_wholesale=spec.shop_type == ShopType.WHOLESALER,
            sells_cross_border=spec.shop_type == ShopType.CROSS_BORDER,
        )
        created += 1
    report.created["shops"] = created

    people = [(owner_email(spec.slug), f"{spec.name[1]}店主", "") for spec in specs]
    first = specs[0].slug
    crew = [(manager_email(first), "店长 Manager", ""), (staff_email(first), "客服 Staff", "")]
    users = _users_ensure(people + crew, password_hash, report)

    wanted = [(existing[spec.slug], users[owner_email(spec.slug)], Role.OWNER) for spec in specs]
    wanted += [
        (existing[first], users[crew[0][0]], Role.MANAGER),
        (existing[first], users[crew[1][0]], Role.STAFF),
    ]
    have = set(VendorMember.objects.filter(vendor__in=existing.values()).values_list("vendor_id", "user_id"))
    VendorMember.objects.bulk_create(
        [VendorMember(vendor=v, user=u, role=role) for v, u, role in wanted if (v.pk, u.pk) not in have]
    )

    with_template = set(
        ShippingTemplate.objects.filter(vendor__in=existing.values(), is_default=True).values_list(
            "vendor_id", flat=True
        )
    )
    templates = []
    for spec in specs:
        vendor = existing[spec.slug]
        if vendor.pk in with_template:
            continue
        shipping = spec.shipping
        templates.append(
            ShippingTemplate(
                vendor=vendor,
                name=shipping["name"],
                base_fee=Decimal(shipping["base_fee"]),
                per_item_fee=Decimal(shipping["per_item_fee"]),
                free_over=Decimal(shipping["free_over"]) if shipping.get("free_over") else None,
                excluded_regions=list(shipping.get("excluded_regions", [])),
                is_default=True,
            )
        )
    ShippingTemplate.objects.bulk_create(templates)
    return existing


def _category_ensure(slug: str, name: Pair, parent: Category | None, position: int, report: SeedReport) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is not None:
        return category
    report.created["categories"] = report.created.get("categories", 0) + 1
    return Category.objects.create(
        slug=slug,
        name_en=name[0],
        name_zh_hans=name[1],
        parent=parent,
        position=position,
    )


def _categories_ensure(report: SeedReport) -> dict[str, tuple[Category, Leaf, str, str]]:
    """Returns {leaf slug: (category, leaf, root slug, mid slug)}."""
    leaves = {}
    root_offset = Category.objects.filter(parent=None).exclude(slug__in=[slug for slug, _n, _m in TREE]).count()
    for root_position, (root_slug, root_name, mids) in enumerate(TREE, start=1 + root_offset):
        root = _category_ensure(root_slug, root_name, None, root_position, report)
        for mid_position, (mid_slug, mid_name, leaf_specs) in enumerate(mids, start=1):
            mid = _category_ensure(mid_slug, mid_name, root, mid_position, report)
            for leaf_position, leaf in enumerate(leaf_specs, start=1):
                category = _category_ensure(leaf.slug, leaf.name, mid, leaf_position, report)
                leaves[leaf.slug] = (category, leaf, root_slug, mid_slug)
    if report.created.get("categories"):
        category_rebuild_paths()  # path and depth, by the catalog's own rule
    return leaves


def _attributes_ensure(report: SeedReport) -> dict[tuple[str, str], AttributeValue]:
    existing = {attribute.slug: attribute for attribute in Attribute.objects.filter(slug__in=ATTRIBUTES)}
    for slug, (name, _values, _steps) in ATTRIBUTES.items():
        if slug not in existing:
            existing[slug] = Attribute.objects.create(slug=slug, name_en=name[0], name_zh_hans=name[1])
    have = {(value.attribute.slug, value.slug): value for value in AttributeValue.objects.select_related("attribute")}
    missing = [
        AttributeValue(attribute=existing[slug], slug=value_slug, value_en=en, value_zh_hans=zh)
        for slug, (_name, values, _steps) in ATTRIBUTES.items()
        for value_slug, en, zh in values
        if (slug, value_slug) not in have
    ]
    AttributeValue.objects.bulk_create(missing)
    report.created["attribute_values"] = len(missing)
    return {(value.attribute.slug, value.slug): value for value in AttributeValue.objects.select_related("attribute")}


def _buyers_ensure(password_hash: str, report: SeedReport) -> None:
    users = _users_ensure([(b["email"], b["name"], b["phone"]) for b in BUYERS], password_hash, report)
    have = set(Address.objects.filter(user__in=users.values()).values_list("user_id", "street"))
    addresses = []
    for buyer in BUYERS:
        user = users[buyer["email"]]
        for number, (recipient, region, city, district, street, postal_code) in enumerate(buyer["addresses"]):
            if (user.pk, street) in have:
                continue
            addresses.append(
                Address(
                    user=user,
                    recipient=recipient,
                    phone=buyer["phone"],
                    country="CN",
                    region=region,
                    city=city,
                    district=district,
                    street=street,
                    postal_code=postal_code,
                    is_default=number == 0,
                )
            )
    Address.objects.bulk_create(addresses)
    report.created["addresses"] = len(addresses)


def _image_pool_ensure() -> dict[str, list[tuple[str, str]]]:
    """Twenty generated pictures (four per top category) with thumbnails, made once and shared
    by every product: {root slug: [(image name, thumbnail name)]}."""
    from PIL import Image, ImageDraw, ImageFont

    root = Path(settings.MEDIA_ROOT)
    pool: dict[str, list[tuple[str, str]]] = {}
    for category, colours in IMAGE_COLOURS.items():
        pool[category] = []
        for number, colour in enumerate(colours, start=1):
            name = f"{IMAGE_DIR}/{category}-{number}.jpg"
            thumb = f"{IMAGE_DIR}/thumbs/{category}-{number}.jpg"
            pool[category].append((name, thumb))
            if (root / name).exists() and (root / thumb).exists():
                continue
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / thumb).parent.mkdir(parents=True, exist_ok=True)
            picture = Image.new("RGB", (800, 800), colour)
            draw = ImageDraw.Draw(picture)
            light = tuple(min(255, c + 90) for c in colour)
            box = (180, 180, 620, 620)
            [draw.ellipse, draw.rectangle, draw.rounded_rectangle, draw.ellipse][number - 1](box, fill=light)
            try:
                font = ImageFont.load_default(size=220)
            except TypeError:  # Pillow without FreeType sizes
                font = ImageFont.load_default()
            draw.text((400, 400), IMAGE_LETTERS[category], fill=colour, font=font, anchor="mm")
            picture.save(root / name, "JPEG", quality=80)
            picture.thumbnail((300, 300))
            picture.save(root / thumb, "JPEG", quality=80)
    return pool


def _statistics_refresh() -> None:
    """After a bulk load the planner's row estimates are stale (and autovacuum may be off):
    without fresh statistics it picks plans made for empty tables."""
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in (Product, ProductVariant, ProductImage, Category, Vendor)]
    tables.append(ProductVariant.attribute_values.through._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(table) for table in tables))


def _search_stale() -> bool:
    if not settings.USES_POSTGRES:
        return False
    return Product.objects.filter(search_vector__isnull=True).exclude(search_document="").exists()


# --- Products -------------------------------------------------------------------------------


@dataclass
class _Planned:
    product: Product
    variants: list[tuple[ProductVariant, list[AttributeValue]]]
    images: list[tuple[str, str]]
    search_texts: dict[str, list[str]]

    def finish(self) -> Product:
        # Segmenting the text is most of the cost: done only for products that get inserted.
        self.product.search_document = search_document_for(**self.search_texts)
        return self.product


def _line(line: str | Pair) -> Pair:
    return (line, line) if isinstance(line, str) else line


def _retail(amount: Decimal) -> Decimal:
    """A price as shops here set it: ...9 yuan from 100 up, ....90 below."""
    yuan = int(amount)
    if yuan >= 100:
        return Decimal(yuan - yuan % 10 + 9)
    return Decimal(yuan) + Decimal("0.90")


def product_plan(
    index: int,
    *,
    shops_by_mid: dict[str, list[Vendor]],
    all_shops: list[Vendor],
    leaves: dict[str, tuple[Category, Leaf, str, str]],
    leaf_order: list[str],
    attribute_values: dict[tuple[str, str], AttributeValue],
    images: dict[str, list[tuple[str, str]]],
) -> _Planned:
    """Product number `index`, the same on every run: its category, shop, titles, variants."""
    rng = random.Random(index)
    category, leaf, root_slug, mid_slug = leaves[leaf_order[index % len(leaf_order)]]
    vendor = rng.choice(shops_by_mid.get(mid_slug) or all_shops)
    brand_en, brand_zh, lines = rng.choice(leaf.brands)
    line_en, line_zh = _line(rng.choice(lines))
    spec = rng.choice(leaf.specs)
    extra = rng.choice(leaf.extras)
    parts = {"brand_en": brand_en, "brand_zh": brand_zh, "line_en": line_en, "line_zh": line_zh}
    title_en = " ".join(leaf.title_en.format(**parts, noun=leaf.noun[0], spec=spec[0], extra=extra[0]).split())
    title_zh = " ".join(leaf.title_zh.format(**parts, noun=leaf.noun[1], spec=spec[1], extra=extra[1]).split())
    if vendor.shop_type == ShopType.CROSS_BORDER and rng.random() < 0.5:
        title_en, title_zh = f"[Imported] {title_en}", f"【跨境直邮】{title_zh}"
    title_en, title_zh = title_en[:200], title_zh[:200]
    slug = f"{slugify(title_en)[:80].strip('-')}-{index + 1}"
    if vendor.shop_type in (ShopType.INDIVIDUAL, ShopType.WHOLESALER):
        # Domestic sellers write one title, in Chinese with the brand names as they are
        # ("小米 Redmi Note 13 …"): English visitors see that same title.
        title_en = title_zh

    shop_en, shop_zh = vendor.name_en or vendor.name, vendor.name_zh_hans or vendor.name
    plain_en = f"{leaf.blurb[0]} {brand_en} {line_en}, {spec[0]}, {extra[0]}. Shipped by {shop_en}."
    plain_zh = f"{leaf.blurb[1]}{brand_zh}{line_zh}，{spec[1]}，{extra[1]}。{shop_zh}发货，正品保障。"
    description_en = (
        f"<p>{leaf.blurb[0]}</p><ul><li>Brand: {brand_en}</li><li>Line: {line_en}</li>"
        f"<li>{spec[0]}</li><li>{extra[0]}</li></ul><p>Shipped by {shop_en}. 7-day returns.</p>"
    )
    description_zh = (
        f"<p>{leaf.blurb[1]}</p><ul><li>品牌：{brand_zh}</li><li>系列：{line_zh}</li>"
        f"<li>{spec[1]}</li><li>{extra[1]}</li></ul><p>{shop_zh}发货，正品保障，7天无理由退换。</p>"
    )

    # Variants: 1-4 combinations of the leaf's axes.
    axes_values = [ATTRIBUTES[axis][1] for axis in leaf.axes]
    combos: list[tuple] = [()]
    for values in axes_values:
        chosen = rng.sample(values, k=min(len(values), rng.randint(1, 3)))
        chosen.sort(key=values.index)
        combos = [combo + (value,) for combo in combos for value in chosen]
    combos = combos[: rng.randint(1, 4)]
    base = _retail(Decimal(rng.randint(*leaf.price)))
    has_compare_at = rng.random() < 0.35
    weight = rng.randint(*leaf.weight)
    variants = []
    for position, combo in enumerate(combos):
        price = base
        for axis, value in zip(leaf.axes, combo, strict=True):
            step = PRICE_STEPS.get(axis)
            if step:
                price += base * step * ATTRIBUTES[axis][1].index(value)
        price = _retail(price)
        stock = 0 if rng.random() < 0.08 else rng.choice((5, 12, 30, 50, 88, 120, 200, 500, 999))
        variant = ProductVariant(
            vendor=vendor,
            sku=f"{leaf.code}-{index + 1:06d}-{position + 1}",
            name=" / ".join(f"{zh} {en}" if zh != en else en for _slug, en, zh in combo)[:120] or "默认 Default",
            price=price,
            compare_at_price=_retail(price * Decimal("1.25")) if has_compare_at else None,
            stock=stock,
            weight_grams=weight,
            position=position,
        )
        values = [attribute_values[(axis, value[0])] for axis, value in zip(leaf.axes, combo, strict=True)]
        variants.append((variant, values))

    roll = rng.random()
    status = Product.Status.DRAFT if roll < 0.03 else Product.Status.HIDDEN if roll < 0.05 else Product.Status.ACTIVE
    if index < 12:  # the first products of the demo are all on sale
        status = Product.Status.ACTIVE
    sold = rng.choice((0, 0, 0, 1, 3, 8, 15, 40, 120)) * rng.randint(1, 3)
    if rng.random() < 0.03:
        sold = rng.randint(1000, 20000)

    pool = images[root_slug]
    first = rng.randrange(len(pool))
    chosen_images = [pool[(first + k) % len(pool)] for k in range(rng.randint(1, 3))]
    prices = [variant.price for variant, _values in variants]
    product = Product(
        vendor=vendor,
        category=category,
        title_en=title_en,
        title_zh_hans=title_zh,
        slug=slug,
        description_en=description_en,
        description_zh_hans=description_zh,
        status=status,
        currency="CNY",
        min_price=min(prices),
        max_price=max(prices),
        total_stock=sum(variant.stock for variant, _values in variants),
        sold_count=sold,
        cover_thumbnail=settings.MEDIA_URL + chosen_images[0][1],
    )
    search_texts = {
        "titles": [title_en, title_zh],
        "descriptions": [plain_en, plain_zh],
        "vendor_names": [shop_en, shop_zh],
        "skus": [variant.sku for variant, _values in variants],
    }
    return _Planned(product, variants, chosen_images, search_texts)


def _products_ensure(
    *,
    count: int,
    shops: dict[str, Vendor],
    specs: list[ShopSpec],
    leaves,
    attribute_values,
    images,
    batch_size: int,
    report: SeedReport,
    progress_factory,
) -> None:
    all_shops = [shops[spec.slug] for spec in specs]
    shops_by_mid: dict[str, list[Vendor]] = {}
    for spec in specs:
        for mid in spec.sells:
            shops_by_mid.setdefault(mid, []).append(shops[spec.slug])
    leaf_order = list(leaves)
    through = ProductVariant.attribute_values.through
    advance, close = progress_factory(count) if progress_factory else (lambda n: None, lambda: None)
    created = {"products": 0, "variants": 0, "images": 0}
    try:
        for start in range(0, count, batch_size):
            indexes = range(start, min(count, start + batch_size))
            plans = [
                product_plan(
                    index,
                    shops_by_mid=shops_by_mid,
                    all_shops=all_shops,
                    leaves=leaves,
                    leaf_order=leaf_order,
                    attribute_values=attribute_values,
                    images=images,
                )
                for index in indexes
            ]
            existing = set(
                Product.objects.filter(slug__in=[plan.product.slug for plan in plans]).values_list("slug", flat=True)
            )
            plans = [plan for plan in plans if plan.product.slug not in existing]
            if plans:
                _batch_insert(plans, through)
                created["products"] += len(plans)
                created["variants"] += sum(len(plan.variants) for plan in plans)
                created["images"] += sum(len(plan.images) for plan in plans)
            advance(len(indexes))
    finally:
        close()
    report.created.update(created)


def _batch_insert(plans: list[_Planned], through) -> None:
    """One batch, all or nothing: products, then their variants, images and attribute links."""
    with transaction.atomic():
        Product.objects.bulk_create([plan.finish() for plan in plans])
        variants = []
        for plan in plans:
            for variant, _values in plan.variants:
                variant.product = plan.product
                variants.append(variant)
        ProductVariant.objects.bulk_create(variants)
        ProductImage.objects.bulk_create(
            [
                ProductImage(product=plan.product, image=image, thumbnail=thumb, alt=plan.product.title_en, position=k)
                for plan in plans
                for k, (image, thumb) in enumerate(plan.images)
            ]
        )
        through.objects.bulk_create(
            [
                through(productvariant_id=variant.pk, attributevalue_id=value.pk)
                for plan in plans
                for variant, values in plan.variants
                for value in values
            ]
        )


def logins_text(report: SeedReport) -> Iterable[str]:
    yield f"Demo log-ins (password for all: {DEMO_PASSWORD}):"
    width = max(len(email) for _what, email in report.logins)
    for what, email in report.logins:
        yield f"  {email:<{width}}  {what}"
