#!/usr/bin/python3
# render-check.py OUTDIR FILE.html...: opens each HTML part in headless
# Chromium at 375 px and 800 px wide (the CSS viewport, set through the
# DevTools protocol), saves a full-page screenshot OUTDIR/NAME-WIDTH.png,
# and prints one line per file and width: "ok" when nothing is wider than
# the viewport (the document's scrollWidth, and every element's right
# edge), else "overflow" with the widest element.
import os, sys
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

out = sys.argv[1]
opts = Options()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
          "--disable-dev-shm-usage", "--hide-scrollbars",
          "--blink-settings=imagesEnabled=true"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
WIDEST = """
let w = 0, what = '';
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.width > 0 && r.right > w) { w = r.right; what = e.tagName; }
}
return [document.documentElement.scrollWidth, document.body.scrollWidth,
        Math.ceil(w), what, window.innerWidth];
"""
try:
    for f in sys.argv[2:]:
        name = os.path.splitext(os.path.basename(f))[0]
        for width in (375, 800):
            drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 800, "deviceScaleFactor": 1,
                "mobile": width < 600})
            drv.get("file://" + os.path.abspath(f))
            doc, body, right, what, inner = drv.execute_script(WIDEST)
            h = drv.execute_script(
                "return document.documentElement.scrollHeight")
            drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": min(h, 8000),
                "deviceScaleFactor": 1, "mobile": width < 600})
            drv.save_screenshot(os.path.join(out, f"{name}-{width}.png"))
            fits = doc <= width and body <= width and right <= width
            print(f"{name} {width}: " + ("ok" if fits else
                  f"overflow (scrollWidth {doc}, body {body}, {what} "
                  f"ends at {right}, viewport {inner})"))
finally:
    drv.quit()
