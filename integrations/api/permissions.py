from rest_framework.permissions import SAFE_METHODS, BasePermission

USE_SERVICE_API = "integrations.use_service_api"


class CanUseServiceAPI(BasePermission):
    """Reads through a service's stored credentials for anyone signed in; anything that may change the service or
    spends its credentials on the caller's behalf (writes through the proxy, "test", "detect") only for staff or a
    user an admin granted ``integrations.use_service_api``."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return bool(user.is_staff or user.has_perm(USE_SERVICE_API))
