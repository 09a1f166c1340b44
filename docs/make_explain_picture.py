"""Make docs/explain_page.png: the seed's explain page half way through the backward pass.

Usage: python docs/make_explain_picture.py (needs agrad, Graphviz, Playwright and Chromium)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "seed.html"
        subprocess.run([sys.executable, "-m", "autogradcli", "explain", "samples/seed.txt",
                        "--at", "a=1", "b=2", "c=3", "d=4", "-o", str(page_file)],
                       cwd=ROOT, check=True)  # fmt: skip
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 620})
            page.goto(page_file.as_uri())
            page.click("#to-backward")
            for _ in range(7):
                page.keyboard.press("ArrowRight")
            titles = [t.strip() for t in page.locator("#picture g.node title").all_text_contents()]
            page.locator("#picture g.node").nth(titles.index("n1")).click()  # the input b
            page.screenshot(path=str(ROOT / "docs" / "explain_page.png"))
            browser.close()


if __name__ == "__main__":
    main()
