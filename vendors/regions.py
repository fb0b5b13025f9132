"""China's provincial-level regions, for shipping templates' excluded regions.

Addresses are typed by people ("新疆", "新疆维吾尔自治区", "Xinjiang"), so regions are compared by
a key: the region's code when the text names a known region in any usual spelling, else the
text itself, trimmed and case-folded.
"""

from django.utils.translation import gettext_lazy as _

# (code, full Chinese name, English name, extra spellings)
_REGIONS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("beijing", "北京市", "Beijing", ()),
    ("tianjin", "天津市", "Tianjin", ()),
    ("hebei", "河北省", "Hebei", ()),
    ("shanxi", "山西省", "Shanxi", ()),
    ("inner_mongolia", "内蒙古自治区", "Inner Mongolia", ("nei mongol", "neimenggu")),
    ("liaoning", "辽宁省", "Liaoning", ()),
    ("jilin", "吉林省", "Jilin", ()),
    ("heilongjiang", "黑龙江省", "Heilongjiang", ()),
    ("shanghai", "上海市", "Shanghai", ()),
    ("jiangsu", "江苏省", "Jiangsu", ()),
    ("zhejiang", "浙江省", "Zhejiang", ()),
    ("anhui", "安徽省", "Anhui", ()),
    ("fujian", "福建省", "Fujian", ()),
    ("jiangxi", "江西省", "Jiangxi", ()),
    ("shandong", "山东省", "Shandong", ()),
    ("henan", "河南省", "Henan", ()),
    ("hubei", "湖北省", "Hubei", ()),
    ("hunan", "湖南省", "Hunan", ()),
    ("guangdong", "广东省", "Guangdong", ()),
    ("guangxi", "广西壮族自治区", "Guangxi", ()),
    ("hainan", "海南省", "Hainan", ()),
    ("chongqing", "重庆市", "Chongqing", ()),
    ("sichuan", "四川省", "Sichuan", ()),
    ("guizhou", "贵州省", "Guizhou", ()),
    ("yunnan", "云南省", "Yunnan", ()),
    ("tibet", "西藏自治区", "Tibet", ("xizang",)),
    ("shaanxi", "陕西省", "Shaanxi", ()),
    ("gansu", "甘肃省", "Gansu", ()),
    ("qinghai", "青海省", "Qinghai", ()),
    ("ningxia", "宁夏回族自治区", "Ningxia", ()),
    ("xinjiang", "新疆维吾尔自治区", "Xinjiang", ()),
    ("taiwan", "台湾省", "Taiwan", ()),
    ("hong_kong", "香港特别行政区", "Hong Kong", ("hk", "hksar")),
    ("macau", "澳门特别行政区", "Macau", ("macao",)),
]

# Longest first, so "壮族自治区" is cut before "自治区".
_ZH_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")
_EN_SUFFIXES = ("province", "city", "municipality", "autonomousregion", "sar")

# The value stored in ShippingTemplate.excluded_regions is the full Chinese name.
REGION_CHOICES = [(zh, f"{zh} {en}") for _code, zh, en, _extra in _REGIONS]
REGION_NAMES = {zh for _code, zh, _en, _extra in _REGIONS}
OTHER_REGIONS_HELP = _("Other places not served, separated by commas (for example: 海外, overseas).")


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for code, zh, en, extra in _REGIONS:
        short = zh
        for suffix in _ZH_SUFFIXES:
            if short.endswith(suffix):
                short = short[: -len(suffix)]
                break
        for alias in (code, zh, short, en, *extra):
            aliases[_squash(alias).replace("_", "")] = code
    return aliases


_ALIASES = _build_aliases()
_NAME_BY_CODE = {code: zh for code, zh, _en, _extra in _REGIONS}


def region_key(text: str) -> str:
    """A comparable key for a region typed in any usual way; "" for blank text."""
    squashed = _squash(text or "")
    if not squashed:
        return ""
    if squashed in _ALIASES:
        return _ALIASES[squashed]
    for suffix in _ZH_SUFFIXES + _EN_SUFFIXES:
        if squashed.endswith(suffix) and squashed[: -len(suffix)] in _ALIASES:
            return _ALIASES[squashed[: -len(suffix)]]
    return squashed


def region_canonical(text: str) -> str:
    """The full Chinese name for a known region, else the text trimmed (kept as typed)."""
    key = region_key(text)
    return _NAME_BY_CODE.get(key, " ".join((text or "").split()))


def region_is_excluded(*, region: str, excluded: list[str]) -> bool:
    key = region_key(region)
    return bool(key) and any(region_key(item) == key for item in excluded or [])
