"""Search over titles, descriptions, shop names and SKU codes, in English and Chinese.

Chinese has no spaces, and the database runs with a C locale, so neither PostgreSQL's parser
nor trigrams can find a word inside a Chinese sentence. We therefore segment on the way in:
`search_document` holds plain space-separated tokens (lower-cased Latin words, jieba's
search-mode words, and every CJK character and character bigram), in three lines weighted
A (titles), B (shop names and SKU codes) and C (descriptions). A database trigger (and
`search_refresh` for older rows) turns that into `search_vector`, indexed by GIN, and the
smaller `search_rank_vector` (titles, shops, SKUs) used to rank matches.

On the query side a Latin word becomes a prefix match (`word:*`), a CJK word the AND of its
bigrams (or the character itself): any Chinese substring of a title is found, since every
bigram and character of the title is in the document.

SQLite (the embedded demo mode) has no tsvector: it falls back to `icontains`.
"""

import html
import logging
import re
import unicodedata
from collections.abc import Iterable

from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils.html import strip_tags

_CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK_RANGES}]+)|(?P<word>[^\W_{_CJK_RANGES}]+)")
_LETTERS_DIGITS_RE = re.compile(r"[^\W\d_]+|\d+")
_SKU_LIKE_RE = re.compile(r"^(?=.*\d)[\w-]{3,64}$")
MAX_QUERY_TERMS = 12
MAX_QUERY_LENGTH = 200

_jieba = None


def _segmenter():
    """jieba, loaded once per process (it builds its dictionary on first use, about a second)."""
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return _jieba


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", html.unescape(strip_tags(text or ""))).lower()


def _cjk_bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def document_tokens(text: str) -> list[str]:
    """The tokens one piece of text contributes to a search document, in order, deduplicated."""
    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(_normalise(text)):
        if match.group("word"):
            word = match.group("word")
            tokens.append(word)
            parts = _LETTERS_DIGITS_RE.findall(word)
            if len(parts) > 1:  # "iphone15" is also "iphone" and "15"
                tokens.extend(parts)
        else:
            run = match.group("cjk")
            tokens.extend(run)
            tokens.extend(_cjk_bigrams(run))
            if len(run) > 2:
                tokens.extend(w for w in _segmenter().cut_for_search(run) if len(w) > 2)
    return list(dict.fromkeys(tokens))


def search_document_for(*, titles: list[str], descriptions: list[str], vendor_names: list[str], skus: list[str]) -> str:
    """The text indexed for one product (segmented so Chinese words can be found).

    Three lines: titles, then shop names and SKU codes, then descriptions; `search_refresh`
    weights them A, B and C so that a title match ranks above a description match."""
    sections = [titles, [*vendor_names, *skus], descriptions]
    lines = []
    for texts in sections:
        tokens: list[str] = []
        for text in texts:
            tokens.extend(document_tokens(text))
        lines.append(" ".join(dict.fromkeys(tokens)))
    return "\n".join(lines)


_REFRESH_SQL = """
UPDATE catalog_product SET
    search_vector = setweight(to_tsvector('simple', split_part(search_document, E'\\n', 1)), 'A')
        || setweight(to_tsvector('simple', split_part(search_document, E'\\n', 2)), 'B')
        || setweight(to_tsvector('simple', split_part(search_document, E'\\n', 3)), 'C'),
    search_rank_vector = setweight(to_tsvector('simple', split_part(search_document, E'\\n', 1)), 'A')
        || setweight(to_tsvector('simple', split_part(search_document, E'\\n', 2)), 'B')
WHERE (search_vector IS NULL OR search_rank_vector IS NULL)
"""


def search_refresh(*, product_ids: Iterable[int] | None = None) -> None:
    """Recompute the search vector from search_document, set-wise in SQL (all when None).

    PostgreSQL only (a no-op on SQLite, where search falls back to icontains). A trigger
    (migration 0005) already recomputes both vectors in the very write that changes
    search_document, so this only fills rows that have none: calling it after every write is
    cheap and never rewrites a product a second time."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if product_ids is None:
            cursor.execute(_REFRESH_SQL)
        else:
            ids = list(product_ids)
            if ids:
                cursor.execute(_REFRESH_SQL + " AND id = ANY(%s)", [ids])


# --- Query side ---------------------------------------------------------------------------


def query_words(text: str) -> list[str]:
    """The words of a query: Latin words as typed (lower-cased), Chinese runs cut by jieba
    into words (a run of one or two characters is one word). Query syntax is just text."""
    words: list[str] = []
    for match in _TOKEN_RE.finditer(_normalise(text[:MAX_QUERY_LENGTH])):
        if match.group("word"):
            words.append(match.group("word"))
            continue
        run = match.group("cjk")
        words.extend([run] if len(run) <= 2 else [w for w in _segmenter().cut(run) if w.strip()])
    return list(dict.fromkeys(words))[:MAX_QUERY_TERMS]


def query_terms(text: str) -> list[list[str]]:
    """The query as a list of terms; each term is a list of lexemes that must all match.
    A Latin word is one prefix lexeme (`"phone:*"`); a Chinese word is its bigrams."""
    terms: list[list[str]] = []
    for word in query_words(text):
        if _TOKEN_RE.fullmatch(word).group("word"):
            terms.append([f"'{word}':*"])
        else:
            terms.append([f"'{bigram}'" for bigram in _cjk_bigrams(word)] or [f"'{word}'"])
    return terms


def tsquery_for(text: str) -> str | None:
    """A to_tsquery() expression (simple config) for the text, or None when it has no words."""
    terms = query_terms(text)
    if not terms:
        return None
    return " & ".join(" & ".join(term) for term in terms)


def _looks_like_sku(text: str) -> bool:
    return bool(_SKU_LIKE_RE.match(text.strip()))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_filter(queryset: QuerySet, text: str) -> QuerySet:
    """Products of the queryset matching the text, annotated with `search_rank` (higher is
    better: title over shop name or SKU over description). An empty query (no words) matches
    nothing."""
    text = (text or "").strip()[:MAX_QUERY_LENGTH]
    if connection.vendor != "postgresql":
        return _search_filter_fallback(queryset, text)
    from django.contrib.postgres.search import SearchQuery, SearchRank

    expression = tsquery_for(text)
    if expression is None:
        return _nothing(queryset)
    query = SearchQuery(expression, config="simple", search_type="raw")
    if _looks_like_sku(text):
        # A piece from the middle of a SKU code ("13-5G") is no word prefix: match it by
        # substring too, through the trigram index on upper(sku). A UNION of the two index
        # scans, not an OR, so that neither side turns into a scan of every product.
        matched = RawSQL(
            "SELECT id FROM catalog_product WHERE search_vector @@ to_tsquery('simple', %s)"
            " UNION SELECT product_id FROM catalog_productvariant WHERE is_active AND upper(sku) LIKE upper(%s)",
            [expression, _like_pattern(text)],
        )
        queryset = queryset.filter(pk__in=matched)
    else:
        queryset = queryset.filter(search_vector=query)
    # Ranked on the small title/shop/SKU vector: decompressing every match's whole document
    # costs more than the rest of the search. A description-only match ranks 0.
    return queryset.annotate(search_rank=SearchRank(F("search_rank_vector"), query))


def _nothing(queryset: QuerySet) -> QuerySet:
    return queryset.none().annotate(search_rank=Value(0, output_field=IntegerField()))


def _search_filter_fallback(queryset: QuerySet, text: str) -> QuerySet:
    from catalog.models import ProductVariant

    words = query_words(text)  # the same words as on PostgreSQL, matched as substrings
    if not words:
        return _nothing(queryset)
    title_hit = Q()
    for word in words:
        in_title = Q(title_en__icontains=word) | Q(title_zh_hans__icontains=word)
        title_hit &= in_title
        queryset = queryset.filter(
            in_title
            | Q(description_en__icontains=word)
            | Q(description_zh_hans__icontains=word)
            | Q(vendor__name_en__icontains=word)
            | Q(vendor__name_zh_hans__icontains=word)
            | Q(Exists(ProductVariant.objects.filter(product=OuterRef("pk"), sku__icontains=word)))
        )
    return queryset.annotate(
        # A rank order, not a measure: title matches first.
        search_rank=Case(When(title_hit, then=Value(2)), default=Value(1), output_field=IntegerField())
    )
