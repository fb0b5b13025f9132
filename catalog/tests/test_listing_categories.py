"""The category tree's materialised path: subtree listings, tree order, moves."""

import pytest

from catalog.categories import category_rebuild_paths, category_save
from catalog.models import Category
from catalog.selectors import product_list
from catalog.tests.factories import CategoryFactory, make_category, make_product

pytestmark = pytest.mark.django_db


def test_paths_nest_and_order_by_position():
    home = make_category("Home", position=2)
    food = make_category("Food", position=1)
    tea = make_category("Tea", parent=food)
    assert tea.path.startswith(food.path) and tea.depth == 1
    assert [c.slug for c in Category.objects.order_by("path")] == ["food", "tea", "home"]
    assert home.depth == 0


def test_moving_a_category_moves_its_subtree():
    food = make_category("Food")
    drinks = make_category("Drinks")
    tea = make_category("Tea", parent=food)
    green = make_category("Green tea", parent=tea)
    tea.parent = drinks
    category_save(category=tea)
    green.refresh_from_db()
    assert green.path.startswith(drinks.path) and green.depth == 2
    make_product(category=green, title="Longjing")
    assert [p.title for p in product_list(category=drinks)] == ["Longjing"]
    assert list(product_list(category=food)) == []


def test_a_category_cannot_become_its_own_ancestor():
    food = make_category("Food")
    tea = make_category("Tea", parent=food)
    food.parent = tea
    with pytest.raises(ValueError):
        category_save(category=food)


def test_rebuild_after_bulk_insert_fixes_every_path():
    root = CategoryFactory(slug="root", position=0)
    child = CategoryFactory(slug="child", parent=root)
    assert root.path == "" and child.path == ""
    assert category_rebuild_paths() == 2
    child.refresh_from_db()
    assert child.path.startswith(Category.objects.get(slug="root").path) and child.depth == 1
    assert category_rebuild_paths() == 0


def test_a_category_not_yet_in_the_tree_lists_its_own_products():
    loose = CategoryFactory(slug="loose")
    make_product(category=loose, title="Mug")
    make_product(title="Elsewhere")
    assert [p.title for p in product_list(category=loose)] == ["Mug"]
