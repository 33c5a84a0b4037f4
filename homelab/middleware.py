"""Request guards that hold for the whole site."""
from django.http import HttpResponseBadRequest


class RefuseNulInAdminQuery:
    """A NUL character in an admin page's query string (a list filter or search value) is a 400: PostgreSQL
    refuses NUL in text, so the list's query would fail with a DataError (a 500). The APIs refuse it in their own
    error dialects."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and any(
                "\x00" in value for _, values in request.GET.lists() for value in values):
            return HttpResponseBadRequest("A filter or search value contains a NUL character.")
        return self.get_response(request)
