"""/admin/login/ is throttled per client IP and per user name (ADMIN_LOGIN_RATE), with a clear message on the form."""
import pytest

pytestmark = pytest.mark.django_db

MESSAGE = "Too many login attempts. Try again in"


@pytest.fixture
def users(django_user_model):
    django_user_model.objects.create_superuser("admin", "admin@example.com", "s3cret-pass")
    django_user_model.objects.create_superuser("other", "other@example.com", "other-pass-1")


def admin_login(client, username, password, ip="192.0.2.1"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                       REMOTE_ADDR=ip)


def test_thirty_wrong_passwords_then_the_right_one_is_refused(client, users):
    statuses = [admin_login(client, "admin", f"guess-{n}").status_code for n in range(30)]
    assert statuses[:20] == [200] * 20  # the form again, "Please enter the correct username and password"
    assert statuses[20:] == [429] * 10
    response = admin_login(client, "admin", "s3cret-pass")
    assert response.status_code == 429
    assert MESSAGE in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_a_user_name_is_protected_from_every_address(client, users):
    for n in range(20):
        assert admin_login(client, "admin", "wrong", ip=f"198.51.100.{n}").status_code == 200
    response = admin_login(client, "admin", "s3cret-pass", ip="203.0.113.5")
    assert response.status_code == 429 and MESSAGE in response.content.decode()
    # another user from another address is not locked out
    response = admin_login(client, "other", "other-pass-1", ip="203.0.113.6")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_an_address_is_limited_whatever_user_name_it_tries(client, users):
    for n in range(20):
        assert admin_login(client, f"user-{n}", "wrong").status_code == 200
    assert admin_login(client, "other", "other-pass-1").status_code == 429
    assert admin_login(client, "other", "other-pass-1", ip="192.0.2.2").status_code == 302


def test_the_limit_ends_when_its_window_has_passed(client, users, clock):
    for n in range(21):
        admin_login(client, "admin", "wrong")
    assert admin_login(client, "admin", "s3cret-pass").status_code == 429
    clock.travel(61)
    response = admin_login(client, "admin", "s3cret-pass")
    assert response.status_code == 302


def test_the_forwarded_for_header_of_an_untrusted_client_does_not_reset_the_limit(client, users):
    for n in range(20):
        client.post("/admin/login/", {"username": f"u{n}", "password": "x"}, REMOTE_ADDR="192.0.2.9",
                    HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert client.post("/admin/login/", {"username": "admin", "password": "s3cret-pass"}, REMOTE_ADDR="192.0.2.9",
                       HTTP_X_FORWARDED_FOR="10.0.0.99").status_code == 429
