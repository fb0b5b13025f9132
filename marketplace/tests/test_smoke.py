import pytest


@pytest.mark.django_db
def test_token_endpoint_refuses_wrong_password(client, buyer):
    response = client.post(
        "/api/v1/auth/token/", {"email": buyer.email, "password": "nope"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"


@pytest.mark.django_db
def test_token_endpoint_gives_a_token(client, buyer, password):
    response = client.post(
        "/api/v1/auth/token/", {"email": buyer.email, "password": password}, content_type="application/json"
    )
    assert response.status_code == 200
    assert len(response.json()["token"]) == 40
