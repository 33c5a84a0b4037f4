"""JWT obtain / refresh at /api/accounts/token/ (Dispatcharr's contract)."""
from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

pytestmark = pytest.mark.django_db


def obtain(client, username="admin", password="s3cret-pass"):
    return client.post("/api/accounts/token/", {"username": username, "password": password}, format="json")


def test_it_returns_an_access_and_a_refresh_token(api_client, admin_user):
    response = obtain(api_client)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


def test_the_access_token_authenticates(api_client, admin_user):
    access = obtain(api_client).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = api_client.get("/api/accounts/me/")
    assert response.status_code == 200
    assert response.json() == {"id": admin_user.pk, "username": "admin", "is_staff": True, "credential": "jwt"}


def test_it_rejects_a_wrong_password(api_client, admin_user):
    response = obtain(api_client, password="wrong")
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found with the given credentials"}


def test_it_rejects_an_inactive_user(api_client, admin_user):
    admin_user.is_active = False
    admin_user.save()
    assert obtain(api_client).status_code == 401


def test_lifetimes_default_to_five_minutes_and_one_day():
    assert jwt_settings.ACCESS_TOKEN_LIFETIME == timedelta(minutes=5)
    assert jwt_settings.REFRESH_TOKEN_LIFETIME == timedelta(days=1)


def test_an_expired_access_token_is_refused_and_refresh_gives_a_new_one(api_client, admin_user, monkeypatch):
    tokens = obtain(api_client).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api_client.get("/api/accounts/me/").status_code == 200

    # a token whose life is over (issued with an expiry already past: no waiting for the clock)
    monkeypatch.setattr(AccessToken, "lifetime", timedelta(seconds=-1))
    expired = obtain(api_client).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {expired}")
    response = api_client.get("/api/accounts/me/")
    assert response.status_code == 401
    body = response.json()
    assert body["detail"] == "Given token not valid for any token type"
    assert body["code"] == "token_not_valid"

    api_client.credentials()
    monkeypatch.setattr(AccessToken, "lifetime", timedelta(minutes=5))
    refreshed = api_client.post("/api/accounts/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access"}
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert api_client.get("/api/accounts/me/").status_code == 200


def test_an_expired_refresh_token_is_refused(api_client, admin_user, monkeypatch):
    monkeypatch.setattr(RefreshToken, "lifetime", timedelta(seconds=-1))
    refresh = obtain(api_client).json()["refresh"]
    response = api_client.post("/api/accounts/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_tampered_token_is_refused(api_client, admin_user):
    access = obtain(api_client).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access[:-4]}AAAA")
    response = api_client.get("/api/accounts/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Given token not valid for any token type"


def test_login_is_throttled_per_client_ip(api_client, admin_user):
    for _ in range(20):
        assert obtain(api_client, password="wrong").status_code == 401
    response = obtain(api_client)
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
    assert int(response["Retry-After"]) > 0
    other_ip = api_client.post("/api/accounts/token/", {"username": "admin", "password": "s3cret-pass"},
                               format="json", REMOTE_ADDR="10.9.9.9")
    assert other_ip.status_code == 200
