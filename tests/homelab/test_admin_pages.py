"""Every model registered in the admin has a list page and (where adding is allowed) an add page that render."""
import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_the_list_and_add_pages_render(client, admin_user, model):
    client.force_login(admin_user)
    opts = model._meta
    listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert listing.status_code == 200
    model_admin = admin.site._registry[model]
    request = listing.wsgi_request
    if model_admin.has_add_permission(request):
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200


def test_every_project_model_is_in_the_admin():
    from django.apps import apps

    ours = ("homelab", "integrations", "epg", "epg_remote", "channels", "previews", "invites")
    missing = [m._meta.label for m in apps.get_models() if m._meta.app_label in ours and m not in admin.site._registry]
    assert missing == []


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_a_nul_in_a_list_filter_is_a_400_not_a_500(client, admin_user, model):
    """PostgreSQL refuses NUL in text: a filter value with one (``?status__exact=%00``) failed the list's query."""
    client.force_login(admin_user)
    opts = model._meta
    model_admin = admin.site._registry[model]
    field = next((f for f in model_admin.list_filter if isinstance(f, str)), "q")
    param = "q" if field == "q" else f"{field}__exact"
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = client.get(url, {param: "a\x00b"})
    assert response.status_code == 400
