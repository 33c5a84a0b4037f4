"""Ids past int64 in /api/services/ URLs are unknown services (404 in the mount's dialect), never a 500 (review
defect 7: SQLite raised OverflowError)."""
import pytest

pytestmark = pytest.mark.django_db

NOT_FOUND = {"success": False, "error": "Not found."}
HUGE = ["9223372036854775808", "99999999999999999999999999", "18446744073709551616"]


@pytest.mark.parametrize("pk", HUGE)
@pytest.mark.parametrize("method, suffix", [("get", ""), ("patch", ""), ("delete", ""), ("get", "proxy/?path=/"),
                                            ("post", "proxy/?path=/"), ("post", "test/"), ("post", "detect/"),
                                            ("get", "docs/")])
def test_an_id_past_int64_is_404(admin_client_jwt, pk, method, suffix):
    response = getattr(admin_client_jwt, method)(f"/api/services/{pk}/{suffix}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_the_largest_int64_is_an_unknown_service(admin_client_jwt):
    response = admin_client_jwt.get("/api/services/9223372036854775807/proxy/?path=/")
    assert response.status_code == 404 and response.json() == NOT_FOUND


def test_the_int64_converter_refuses_what_the_database_cannot_hold():
    from homelab.converters import Int64Converter

    converter = Int64Converter()
    assert converter.to_python("9223372036854775807") == 2**63 - 1
    with pytest.raises(ValueError):
        converter.to_python("9223372036854775808")
    assert converter.to_url(12) == "12"
