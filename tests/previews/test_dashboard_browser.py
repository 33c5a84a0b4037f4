"""The dashboard in headless Chromium (Debian's chromium + chromedriver through selenium, no browser downloads),
against the live web server (uvicorn: the page, the API and /previews/ws/jobs) and a real worker with real
ffmpeg on the fake Plex: sign in with the web token, start a job and watch its bar reach 100 %, start another
and cancel it while it runs; on a phone-sized window nothing is wider than the screen."""
import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.ui import WebDriverWait as _Wait

from previews.media import ffmpeg_path
from previews.models import Job, JobItem
from tests.previews.clips import make_clip

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def WebDriverWait(browser, timeout):
    """A wait that looks again when the page redrew the element it was reading (the script redraws lists)."""
    return _Wait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=390,844", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _library(plex, clip, key, title, names):
    library = plex.add_library(key, title, "movie")
    for n, name in enumerate(names):
        plex.add_video(library, name, f"/data/{title}/{name}.mkv", f"{abs(hash((title, n))):016x}")
        target = plex.local / title / f"{name}.mkv"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(clip.read_bytes())
    return library


def _start(browser, title):
    def chosen(b):
        select = Select(b.find_element(By.ID, "library"))
        label = next((o.text for o in select.options if o.text.startswith(title)), None)
        if label is None:
            return False
        select.select_by_visible_text(label)
        return select.first_selected_option.text == label
    WebDriverWait(browser, 20).until(chosen)
    before = set(Job.objects.values_list("pk", flat=True))
    browser.find_element(By.ID, "start-button").click()
    return WebDriverWait(browser, 20).until(
        lambda b: Job.objects.exclude(pk__in=before).filter(library_name=title).first())


def test_sign_in_start_a_job_watch_it_reach_100_and_cancel_another(stack_queue, browser, configured, web_token,
                                                                   tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser-clips")
    clip = make_clip(folder / "clip.mkv", ffmpeg=ffmpeg_path(), duration=3, gop=1)
    slow = make_clip(folder / "slow.mkv", ffmpeg=ffmpeg_path(), duration=20, gop=2)
    _library(configured, clip, "31", "Browser Movies", ["first", "second", "third"])
    _library(configured, slow, "32", "Slow Movies", ["slow-b"])
    url = stack_queue.web.url

    browser.get(f"{url}/previews/")
    assert browser.current_url == f"{url}/previews/login"
    browser.find_element(By.NAME, "token").send_keys(web_token)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda b: b.current_url == f"{url}/previews/")
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "live").text == "live")

    job = _start(browser, "Browser Movies")
    row = f"#job-{job.pk}"
    WebDriverWait(browser, 60).until(
        lambda b: b.find_element(By.CSS_SELECTOR, f"{row} .progress").text == "100 %")
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.CSS_SELECTOR, row).get_attribute("data-status") == "completed")
    assert browser.find_element(By.CSS_SELECTOR, f"{row} .fill").get_attribute("style") == "width: 100%;"
    assert "3 / 3 items" in browser.find_element(By.CSS_SELECTOR, f"{row} .meta").text
    job.refresh_from_db()
    assert (job.status, job.completed_items) == ("completed", 3)

    other = _start(browser, "Slow Movies")
    WebDriverWait(browser, 30).until(lambda b: "slow-b" in b.find_element(By.ID, "workers").text)
    assert JobItem.objects.get(job=other).status == "running"
    browser.find_element(By.CSS_SELECTOR, f"#job-{other.pk} button.cancel").click()
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.CSS_SELECTOR, f"#job-{other.pk}").get_attribute("data-status") == "cancelled")
    WebDriverWait(browser, 20).until(lambda b: "slow-b" not in b.find_element(By.ID, "workers").text)
    other.refresh_from_db()
    assert other.status == "cancelled"
    assert browser.find_element(By.ID, "error").get_attribute("hidden") is not None  # no error shown

    # a phone: nothing wider than the 390 px screen
    width = browser.execute_script("return document.documentElement.scrollWidth")
    viewport = browser.execute_script("return window.innerWidth")
    assert width <= viewport, (width, viewport)
