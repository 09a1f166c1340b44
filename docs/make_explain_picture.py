"""Make the screenshots of docs/explain.md: the seed's explain page half way through the
backward pass, the MLP's page in its backward pass, and the MLP's training step.

Usage: python docs/make_explain_picture.py [FOLDER]   (default: docs/; needs agrad, Graphviz,
Playwright and Chromium). The tests run it into a scratch folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SEED = ["samples/seed.txt", "--at", "a=1", "b=2", "c=3", "d=4"]
MLP = ["samples/mlp.txt", "--at", "x=[0.5,-1]", "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]",
       "b1=[0,0.1,-0.1]", "W2=[0.7,-0.8,0.9]", "b2=0.05", "t=1"]  # fmt: skip
STEP = ["--step", "sgd", "--lr", "0.1", "--wrt", "W1,b1,W2,b2"]
SIZE = {"width": 1400, "height": 1000}  # a laptop screen


def write(args: list[str], page_file: Path) -> None:
    """One explain page, written by the command line."""
    subprocess.run([sys.executable, "-m", "autogradcli", "explain", *args, "-o", str(page_file)],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip


def shoot(browser, page_file: Path, out: Path, keys: list[str], box: str | None = None) -> None:
    """Open a page at laptop size, press `keys`, click the box titled `box`, screenshot."""
    page = browser.new_page(viewport=SIZE)
    page.goto(page_file.as_uri())
    for key in keys:
        if key.startswith("#"):
            page.click(key)
        else:
            page.keyboard.press(key)
    if box is not None:
        titles = [t.strip() for t in page.locator("#picture g.node title").all_text_contents()]
        page.locator("#picture g.node").nth(titles.index(box)).dispatch_event("click")
    page.screenshot(path=str(out))
    page.close()


def main(folder: Path) -> list[Path]:
    """Write the three pictures into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    made = [folder / "explain_page.png", folder / "explain_mlp.png", folder / "explain_step.png"]
    with tempfile.TemporaryDirectory() as tmp:
        seed, mlp, step = (Path(tmp) / n for n in ("seed.html", "mlp.html", "step.html"))
        write(SEED, seed)
        write(MLP, mlp)
        write([*MLP, *STEP], step)
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            shoot(browser, seed, made[0], ["#to-backward", *["ArrowRight"] * 7], box="n1")
            shoot(browser, mlp, made[1], ["#to-backward", *["ArrowRight"] * 11])
            shoot(browser, step, made[2], ["End", "ArrowLeft", "ArrowLeft"])
            browser.close()
    return made


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs")
