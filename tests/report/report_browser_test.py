"""The report page in a real browser: trains a model with `train --report` on learnable fake digits (5% of the
test labels wrong on purpose), opens report.html in headless Chromium, takes a screenshot and checks what a
person would see: the page is not blank, both curve charts and the learning-rate chart are drawn, the digit
grid is there, and the red labels in the picture are exactly as many as the misclassified digits on the page.
Also that the PNG files beside it are real images. Exit 77 (CTest: skipped) without Chromium or Pillow.

usage: report_browser_test.py   (environment: RINGTRAIN, RINGTRAIN_SOURCE_DIR)
"""
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

try:
    from PIL import Image
except ImportError:
    print("SKIPPED: python3-pil is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
if BROWSER is None:
    print("SKIPPED: chromium is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

BINARY = os.environ["RINGTRAIN"]
SOURCE = os.environ["RINGTRAIN_SOURCE_DIR"]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


class Figures(html.parser.HTMLParser):
    """The digits of the page: (true label, predicted label) of every figure."""

    def __init__(self):
        super().__init__()
        self.figures = []

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "figure" and "data-label" in attributes:
            self.figures.append((int(attributes["data-label"]), int(attributes["data-predicted"])))


def components(pixels):
    """Groups of pixels that touch (8-neighbours) after growing each by 2 pixels: one per label glyph."""
    grown = {(x + dx, y + dy) for x, y in pixels for dx in range(-2, 3) for dy in range(-2, 3)}
    seen, count = set(), 0
    for start in grown:
        if start in seen:
            continue
        count += 1
        stack = [start]
        seen.add(start)
        while stack:
            x, y = stack.pop()
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    neighbour = (x + dx, y + dy)
                    if neighbour in grown and neighbour not in seen:
                        seen.add(neighbour)
                        stack.append(neighbour)
    return count


def main():
    work = tempfile.mkdtemp(prefix="ringtrain-report-")
    try:
        data, run_dir = os.path.join(work, "mnist"), os.path.join(work, "run")
        subprocess.run([sys.executable, os.path.join(SOURCE, "tests", "launchers", "fake_mnist.py"), data, "2000",
                        "400", "--learnable"], check=True)
        trained = subprocess.run([BINARY, "train", "--config", os.path.join(SOURCE, "experiments", "01_dense_softmax.ini"),
                                  "--data", data, "--epochs", "3", "--lr", "0.05", "--batch-size", "50",
                                  "--run-dir", run_dir, "--report"], capture_output=True, text=True)
        check(trained.returncode == 0, "train --report failed: " + trained.stderr[-2000:])
        page = os.path.join(run_dir, "report.html")
        with open(page, encoding="utf-8") as f:
            text = f.read()
        parser = Figures()
        parser.feed(text)
        wrong = sum(1 for label, predicted in parser.figures if label != predicted)
        check(len(parser.figures) == 10 + 100, f"{len(parser.figures)} digits on the page, expected 10 + 100")
        check(0 < wrong < len(parser.figures), f"{wrong} misclassified digits: the check needs some, not all")
        for name in ("curves.png", "predictions.png"):
            with Image.open(os.path.join(run_dir, name)) as picture:
                check(picture.width > 500 and picture.height > 300, f"{name} is {picture.size}")

        shot = os.path.join(work, "shot.png")
        browser = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                  "--window-size=1600,2400", f"--screenshot={shot}", "file://" + page],
                                 capture_output=True, text=True, timeout=120)
        check(os.path.exists(shot), "Chromium took no screenshot: " + browser.stderr[-2000:])
        if not os.path.exists(shot):
            return
        picture = Image.open(shot).convert("RGB")
        width, height = picture.size
        pixels = picture.load()
        painted = blue = orange = green = dark = 0
        orange_left = orange_right = 0
        red = []
        for y in range(height):
            for x in range(width):
                r, g, b = pixels[x, y]
                if (r, g, b) != (255, 255, 255):
                    painted += 1
                if r > 150 and g < 70 and b < 70:
                    red.append((x, y))
                elif abs(r - 31) < 40 and abs(g - 119) < 40 and abs(b - 180) < 40:
                    blue += 1
                elif r > 200 and 90 < g < 160 and b < 60:
                    orange += 1
                    if x < width / 2 - 100:
                        orange_left += 1
                    else:
                        orange_right += 1
                elif r < 80 and g > 130 and b < 80:
                    green += 1
                elif r < 60 and g < 60 and b < 60:
                    dark += 1
        print(f"screenshot {width}x{height}: {painted} painted, training line {blue}, validation line {orange} "
              f"({orange_left} left, {orange_right} right), learning rate {green}, dark {dark}, red {len(red)}")
        check(painted > 0.03 * width * height, "the page is (nearly) blank")
        check(blue > 500, "no training curve drawn")
        check(orange_left > 300 and orange_right > 300, "the loss and the accuracy chart are not both drawn")
        check(green > 300, "no learning-rate chart drawn")
        check(dark > 20000, "no digit grid drawn")
        labels = components(red)
        print(f"red labels in the screenshot: {labels}; misclassified digits on the page: {wrong}")
        check(labels == wrong, f"{labels} red labels seen, but {wrong} digits are misclassified")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("report: the page shows its charts, grid and one red label per misclassified digit")


if __name__ == "__main__":
    main()
