"""The join page driven in headless Chromium (Debian's chromium + chromedriver, no browser downloads): open
/j/<code>, fill the form, submit; the account exists on the fake Jellyfin with the right libraries and flags."""
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from invites import services
from invites.models import RemoteUser

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _fill(browser, values):
    for name, value in values.items():
        field = browser.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    browser.find_element(By.ID, "join-submit").click()


@pytest.mark.django_db(transaction=True)
def test_a_user_joins_in_a_real_browser(browser, live_server, jellyfin):
    server = services.create_server(name="Home Jellyfin", server_type="jellyfin", server_url=jellyfin.url,
                                    api_key=jellyfin.api_key)
    movies, shows = server.libraries.get(name="Movies"), server.libraries.get(name="Shows")
    inv = services.create_invitation(unlimited=False, duration=30, server_ids=[server.pk],
                                     library_ids=[movies.pk, shows.pk], allow_live_tv=True)
    browser.get(f"{live_server.url}/j/{inv.code.lower()}")
    assert "Join Home Jellyfin" in browser.find_element(By.TAG_NAME, "h1").text

    # a mistake first: the page says what is wrong and keeps what was typed
    _fill(browser, {"username": "browser.user", "email": "b@example.com", "password": "Secret123",
                    "password_confirm": "Secret124"})
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.ID, "join-form"), "The two passwords differ."))
    assert browser.find_element(By.NAME, "username").get_attribute("value") == "browser.user"
    assert jellyfin.user_named("browser.user") is None

    _fill(browser, {"password": "Secret123", "password_confirm": "Secret123"})
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "joined")))
    assert browser.find_element(By.ID, "joined").text == "Welcome, browser.user!"

    user = jellyfin.user_named("browser.user")
    assert jellyfin.passwords[user["Id"]] == "Secret123"
    policy = user["Policy"]
    assert policy["EnableAllFolders"] is False
    assert sorted(policy["EnabledFolders"]) == sorted([movies.external_id, shows.external_id])
    assert policy["EnableContentDownloading"] is False and policy["EnableLiveTvAccess"] is True
    assert RemoteUser.objects.get(username="browser.user").invitation_id == inv.pk

    browser.get(f"{live_server.url}/j/{inv.code}")
    assert "This invitation has already been used." in browser.find_element(By.ID, "message").text
