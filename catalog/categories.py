"""The category tree's materialised path.

Each category's `path` is its ancestors' segments plus its own, where a segment is
`<position:04d><id:08d>/`: ordering by path gives the tree in display order, and a
subtree is one `path LIKE 'prefix%'` query. Whoever saves a category (admin, seed data)
calls `category_save` or, after bulk inserts, `category_rebuild_paths`.
"""

from django.db import transaction

from catalog.cache import catalog_changed
from catalog.models import Category

MAX_DEPTH = 12


def _segment(category: Category) -> str:
    return f"{min(category.position, 9999):04d}{category.pk:08d}/"


def category_save(*, category: Category) -> Category:
    """Save the category, then recompute the paths of the tree (a few hundred rows at most, and
    only changed rows are written). Refuses a parent that would make a cycle (ValueError)."""
    with transaction.atomic():
        if category.parent_id is not None:
            ancestor = category.parent
            seen = 0
            while ancestor is not None:
                if category.pk is not None and ancestor.pk == category.pk:
                    raise ValueError("A category cannot be its own ancestor.")
                seen += 1
                if seen > MAX_DEPTH:
                    raise ValueError("The category tree is too deep.")
                ancestor = ancestor.parent
        category.save()
        category_rebuild_paths()  # also invalidates cached listings
        category.refresh_from_db(fields=["path", "depth"])
    return category


def category_rebuild_paths() -> int:
    """Recompute every category's path and depth (after bulk inserts); returns rows changed."""
    with transaction.atomic():
        nodes = list(Category.objects.only("id", "parent_id", "position", "path", "depth"))
        by_parent: dict[int | None, list[Category]] = {}
        for node in nodes:
            by_parent.setdefault(node.parent_id, []).append(node)
        changed: list[Category] = []
        stack = [(node, "", 0) for node in by_parent.get(None, [])]
        while stack:
            node, prefix, depth = stack.pop()
            path = prefix + _segment(node)
            if node.path != path or node.depth != depth:
                node.path, node.depth = path, depth
                changed.append(node)
            stack.extend((child, path, depth + 1) for child in by_parent.get(node.pk, []))
        Category.objects.bulk_update(changed, ["path", "depth"], batch_size=500)
        catalog_changed()
    return len(changed)
