"""Logins are rate-limited per e-mail and address (django-axes), with a cool-off."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _forget_attempts():
    cache.clear()  # allauth keeps its own failed-login counters in the cache
    yield
    cache.clear()


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_for_this_address(client, settings, buyer, password):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    statuses = [
        client.post("/accounts/login/", {"login": buyer.email, "password": "wrong"}).status_code for _ in range(5)
    ]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username=buyer.email).failures_since_start == 5
    locked = client.post("/accounts/login/", {"login": buyer.email, "password": password})
    assert "_auth_user_id" not in client.session
    assert locked.status_code == 429 or "Too many failed login attempts" in locked.content.decode()
    # The API's token log-in is locked too, with a JSON answer, not a crash.
    api = client.post(
        "/api/v1/auth/token/", {"email": buyer.email, "password": password}, content_type="application/json"
    )
    assert api.status_code in (403, 429), api.content
    assert "message" in api.json()


@pytest.mark.django_db
def test_a_right_password_under_the_limit_logs_in(client, settings, buyer, password):
    settings.AXES_ENABLED = True
    for _ in range(2):
        client.post("/accounts/login/", {"login": buyer.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": buyer.email, "password": password})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(buyer.pk)


@pytest.mark.django_db
def test_failures_are_counted_per_email_so_another_account_is_not_locked(
    client, settings, buyer, other_buyer, password
):
    from axes.models import AccessAttempt

    settings.AXES_ENABLED = True
    for _ in range(5):
        client.post("/accounts/login/", {"login": buyer.email.upper(), "password": "wrong"})
    assert AccessAttempt.objects.get().username == buyer.email
    response = client.post("/accounts/login/", {"login": other_buyer.email, "password": password})
    assert response.status_code == 302
