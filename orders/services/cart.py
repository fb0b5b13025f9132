"""The cart across shops: lines, quantities, price changes, merge at log-in."""


def cart_merge_on_login(*, user, session_key) -> None:
    """Filled in by the cart work."""
