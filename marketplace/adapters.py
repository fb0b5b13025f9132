from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Merges the anonymous cart into the account at log-in (and at sign-up, which logs in)."""

    def login(self, request, user):
        from orders.services.cart import cart_merge_on_login

        session_key = request.session.session_key
        super().login(request, user)
        cart_merge_on_login(user=user, session_key=session_key)
