"""Headless Chromium for the explore page: the browser test and the README screenshot.

``python -m ctrlinf.explore._screenshot figures/explore.png`` redraws the README
picture: the demo's slippery cliff, exact mode, mid-horizon, a cell hovered.
Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package.
"""
import shutil
import sys

#: Executables the driver needs, looked up on PATH.
BROWSER, DRIVER = "chromium", "chromedriver"


def missing_browser():
    """Names of the executables that are not on PATH (empty when the browser can run)."""
    return [name for name in (BROWSER, DRIVER) if shutil.which(name) is None]


def chromium_driver(width=1320, height=760, network_log=False):
    """A headless Chromium WebDriver that records the browser console (``get_log("browser")``).

    With ``network_log``, it also records DevTools network events, every request
    included (``get_log("performance")``).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which(BROWSER)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(flag)
    logs = {"browser": "ALL", "performance": "ALL"} if network_log else {"browser": "ALL"}
    options.set_capability("goog:loggingPrefs", logs)
    # An explicit driver path: selenium then never tries to download one.
    return webdriver.Chrome(service=Service(executable_path=shutil.which(DRIVER)),
                            options=options)


def main(png):
    import pathlib
    import tempfile

    from PIL import Image, ImageOps
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    import ctrlinf as ci
    from ctrlinf import demo

    world = demo.build_world()
    with tempfile.TemporaryDirectory() as folder:
        html = ci.explore.page(world, pathlib.Path(folder) / "explore.html",
                               title="the slippery cliff of ctrlinf demo")
        driver = chromium_driver()
        try:
            driver.get(html.resolve().as_uri())
            driver.execute_script(
                "const t = document.getElementById('t'); t.value = 8;"
                "t.dispatchEvent(new Event('input'));")
            canvas = driver.find_element(By.ID, "panel-2")
            cell = canvas.size["width"] / world.shape[1]
            # Hover the cell at row 2, column 4: on the optimistic path along the pits.
            ActionChains(driver).move_to_element_with_offset(
                canvas, int((4.5 - world.shape[1] / 2) * cell),
                int((2.5 - world.shape[0] / 2) * cell)).perform()
            driver.save_screenshot(str(png))
        finally:
            driver.quit()
    # Cropped to the drawn part plus a margin; a palette keeps the PNG small (few colours).
    image = Image.open(png).convert("RGB")
    left, top, right, bottom = ImageOps.invert(image).getbbox()
    image = image.crop((max(left - 12, 0), max(top - 12, 0), min(right + 12, image.width),
                        min(bottom + 12, image.height)))
    image.quantize(128).save(png, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "figures/explore.png")
