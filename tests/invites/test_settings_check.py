"""A wrong INVITES_EXPIRY_ACTION or INVITES_JOIN_RATE stops the start with a clear check error."""
from invites.apps import check_settings


def test_good_settings_pass(settings):
    assert check_settings() == []


def test_a_wrong_expiry_action_and_rate_are_errors(settings):
    settings.INVITES_EXPIRY_ACTION = "remove"
    settings.INVITES_JOIN_RATE = "lots"
    assert [e.id for e in check_settings()] == ["invites.E001", "invites.E002"]
