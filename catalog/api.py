"""The public catalog API: categories, shops and products (read-only, anyone may call it).

The product list takes the same filters, search and ordering as the pages (catalog/filters.py
parses them, `catalog.selectors.product_list` applies them).
"""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors
from catalog.filters import ProductFilterSet
from catalog.pagination import ProductPaginator
from catalog.serializers import (
    PublicCategoryOutput,
    PublicCategoryTreeOutput,
    PublicProductDetailOutput,
    PublicProductListOutput,
    PublicShopOutput,
)
from marketplace.api import PageNumberPagination


class PublicAPIView:
    permission_classes = [AllowAny]


class CategoryListView(PublicAPIView, generics.ListAPIView):
    """Every category, in tree order, each with its parent's id (null for a root)."""

    serializer_class = PublicCategoryOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.category_all_qs()


class CategoryTreeView(PublicAPIView, APIView):
    """The whole category tree, nested (one document, not paginated)."""

    @extend_schema(responses=PublicCategoryTreeOutput(many=True))
    def get(self, request):
        categories = selectors.category_all()
        children: dict[int | None, list] = {}
        for category in categories:
            children.setdefault(category.parent_id, []).append(category)
        context = {"request": request, "children": children}
        return Response(PublicCategoryTreeOutput(children.get(None, []), many=True, context=context).data)


class ShopListView(PublicAPIView, generics.ListAPIView):
    """Active shops."""

    serializer_class = PublicShopOutput
    filter_backends: list = []

    def get_queryset(self):
        return selectors.shop_list()


class ShopDetailView(PublicAPIView, generics.RetrieveAPIView):
    """One active shop by its slug (a suspended shop is not found)."""

    serializer_class = PublicShopOutput
    lookup_field = "slug"

    def get_object(self):
        return selectors.shop_get(slug=self.kwargs["slug"])


class ProductPagination(PageNumberPagination):
    django_paginator_class = ProductPaginator


class ProductListView(PublicAPIView, generics.ListAPIView):
    """Products on sale, filtered, searched and ordered like the market pages. `search` uses the
    same English and Chinese search as /search/ and orders by relevance unless `ordering` says
    otherwise."""

    serializer_class = PublicProductListOutput
    pagination_class = ProductPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilterSet

    def get_queryset(self):
        # The filter set replaces this with selectors.product_list(...); this is its base.
        return selectors.product_visible_qs()


class ProductDetailView(PublicAPIView, APIView):
    """One product on sale with its variants (price, stock), images, shop and category."""

    @extend_schema(
        responses={200: PublicProductDetailOutput},
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    def get(self, request, id: int):  # noqa: A002 - the URL's name
        product = selectors.product_detail_get(product_id=id)  # NotFound: 404 with a message
        return Response(PublicProductDetailOutput(product, context={"request": request}).data)
