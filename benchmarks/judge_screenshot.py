"""The README's pictures of the judge page (issue 25 item 8), taken in Debian's headless chromium via Selenium.

    python benchmarks/judge_screenshot.py RUN --n 50 --seed 0

Writes the page for RUN, then answers it by script, not by a person: ``--answered`` images in, it saves
docs/judge.png (an image on screen), answers every remaining image "real" and saves docs/judge-done.png (the
summary and the download link). The summary it prints is that scripted answerer's, a check of the page, not a
human result.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

import genlab

DOCS = Path(__file__).parents[1] / "docs"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=750,640"]


def screenshot(driver, path: Path) -> None:
    """The window's picture, cut 24 pixels below the lowest drawn row (the page's white margin)."""
    driver.save_screenshot(str(path))
    picture = Image.open(path)
    drawn = np.flatnonzero((np.asarray(picture.convert("L")) < 250).any(axis=1))
    picture.crop((0, 0, picture.width, min(picture.height, drawn[-1] + 24))).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a trained generator's run folder")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--answered", type=int, default=3, help="images answered before the first picture")
    args = parser.parse_args()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            page = genlab.judge(args.run, args.n, out=Path(tmp) / "judge.html", seed=args.seed)
            driver.get(page.as_uri())
            driver.find_element(By.ID, "start").click()
            for position in range(2 * args.n):
                if position == args.answered:
                    screenshot(driver, DOCS / "judge.png")
                driver.find_element(By.ID, "real").click()
            screenshot(driver, DOCS / "judge-done.png")
            print(driver.find_element(By.ID, "summary").text)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
