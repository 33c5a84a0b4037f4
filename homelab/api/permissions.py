from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsStaffOrReadOnly(BasePermission):
    """Anyone signed in reads; only staff create, change or delete (EPG sources, services: changing a service's
    URL points its stored credentials somewhere else, so it is an admin's act)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request.user.is_staff
