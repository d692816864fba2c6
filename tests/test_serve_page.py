"""The live view in a real browser: Debian's chromium, headless, driven by Playwright,
against the real service on a loopback port. It sees the stream list, the live image
changing, masks toggled off (the mask colours leave the picture), a stream added and
removed from the page, and trails turned on for a tracked stream.

YOLACT_STREAM_SCREENSHOT=docs/serve_page.png saves the page as the README shows it."""

import os
import shutil
import time

import cv2
import numpy as np
import pytest

from helpers.serve_process import ServeProcess
from pipeline.overlay.colors import class_color

playwright = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install playwright")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install chromium")

TOKEN = "page-token"
LIVE = "synthetic:320x240@30?frames=inf&live=1"


def mask_colour_share(png: bytes) -> float:
    """The share of pixels in the mask colours of the synthetic classes (opaque masks, no
    boxes or labels: only masks paint them)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).astype(np.int32)
    distance = np.min([np.linalg.norm(image - np.array(class_color(k)), axis=2) for k in range(4)], axis=0)
    return float((distance < 30).mean())


def eventually(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_live_view_in_a_browser():
    server = ServeProcess(token=TOKEN)
    try:
        first = server.client.post("/v1/streams", json={"source": LIVE}).json()["id"]
        # opaque masks and nothing else drawn: the mask colours show only while masks are on
        server.client.patch(
            f"/v1/streams/{first}", json={"render": {"alpha": 1.0, "boxes": False, "labels": False}}
        )
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 1100, "height": 720})
                page.goto(f"{server.url}/?token={TOKEN}")
                card = page.locator(f".stream[data-id='{first}']")
                card.wait_for(timeout=20_000)
                eventually(lambda: card.locator(".state").inner_text() == "running")
                video = card.locator("img.video")
                eventually(lambda: video.evaluate("image => image.naturalWidth") == 320)
                before = video.screenshot()
                time.sleep(2)
                after = video.screenshot()
                assert before != after  # the picture is live
                with_masks = [mask_colour_share(video.screenshot()) for _ in range(3)]
                card.locator("input[data-key=masks]").uncheck()
                eventually(
                    lambda: server.client.get(f"/v1/streams/{first}").json()["render"]["masks"] is False
                )
                time.sleep(1)  # a few frames drawn without masks reach the page
                without = [mask_colour_share(video.screenshot()) for _ in range(3)]
                assert min(with_masks) > 0.003 and max(without) < min(with_masks) / 5, (with_masks, without)
                if os.environ.get("YOLACT_STREAM_SCREENSHOT"):
                    look = {"alpha": 0.45, "boxes": True, "labels": True}
                    server.client.patch(f"/v1/streams/{first}", json={"render": look})
                    page.reload()
                    card.wait_for(timeout=20_000)
                    card.locator("input[data-key=masks]").check()
                    time.sleep(12)  # charts with a few seconds of numbers
                    page.screenshot(path=os.environ["YOLACT_STREAM_SCREENSHOT"])

                page.fill("#source", LIVE)
                page.click("#add-button")
                cards = page.locator(".stream")
                eventually(lambda: cards.count() == 2)
                second = [
                    s["id"] for s in server.client.get("/v1/streams").json()["streams"] if s["id"] != first
                ]
                assert len(second) == 1
                page.locator(f".stream[data-id='{second[0]}'] .remove").click()
                eventually(lambda: cards.count() == 1)
                assert [s["id"] for s in server.client.get("/v1/streams").json()["streams"]] == [first]

                # a tracked stream's card offers trails; an untracked one's does not
                tracked = server.client.post("/v1/streams", json={"source": LIVE, "options": {"track": True}})
                tracked_card = page.locator(f".stream[data-id='{tracked.json()['id']}']")
                toggle = tracked_card.locator(".trails-toggle")
                eventually(lambda: toggle.is_visible())
                assert not card.locator(".trails-toggle").is_visible()
                toggle.check()
                eventually(
                    lambda: (
                        server.client.get(f"/v1/streams/{tracked.json()['id']}").json()["render"][
                            "trail_length"
                        ]
                        > 0
                    )
                )
            finally:
                browser.close()
    finally:
        server.stop()
