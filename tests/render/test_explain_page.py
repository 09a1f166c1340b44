"""`agrad explain --format html`: a self-contained page, clicked through in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import agrad

from autogradcli.render.explain_page import DRAW_LIMIT

ROOT = Path(__file__).resolve().parents[2]
SEED_AT = ["--at", "a=1", "b=2", "c=3", "d=4"]
MLP_AT = ["--at", "x=[0.5,-1]", "W1=[[0.1,0.2],[-0.3,0.4],[0.5,-0.6]]", "b1=[0,0.1,-0.1]",
          "W2=[0.7,-0.8,0.9]", "b2=0.05", "t=1"]  # fmt: skip


def write_page(tmp_path: Path, *args: str, name: str = "page.html") -> Path:
    out = tmp_path / name
    result = agrad("explain", *args, "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def data_of(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="agrad-data">(.*?)</script>', text, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_page_is_self_contained(tmp_path):
    text = write_page(tmp_path, "samples/seed.txt", *SEED_AT).read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script src" not in text and "<link" not in text and "@import" not in text
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    data = data_of(text)
    forward = [s for s in data["steps"] if s["phase"] == "forward"]
    backward = [s for s in data["steps"] if s["phase"] == "backward"]
    assert len(forward) == 7 and len(backward) == 15
    assert {r["name"]: r["fd"] for r in data["inputs"]} == pytest.approx(
        {"a": 4.0, "b": 16.0, "c": 16.0, "d": -24.0}, rel=1e-6
    )


def test_a_hostile_file_name_stays_text(tmp_path):
    name = tmp_path / '"><img src=x onerror=alert(1)><script>.txt'
    name.write_text("f = x * 2\n", encoding="utf-8")
    text = write_page(tmp_path, str(name), "--at", "x=1").read_text(encoding="utf-8")
    assert text.count("<script>") == 1 and "<img" not in text  # only the page's own script
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;" in text
    assert data_of(text)["steps"][0]["where"].endswith("<script>.txt:1:5")


def test_without_graphviz_the_page_draws_its_own_layout(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    text = write_page(tmp_path, "samples/seed.txt", *SEED_AT).read_text(encoding="utf-8")
    titles = re.findall(r'<g class="node [a-z]+"><title>n(\d+)</title>', text)
    assert len(titles) == len(data_of(text)["nodes"]) == 11
    assert text.count('<g class="edge">') == 12


def test_a_long_file_is_collapsed_and_not_drawn(tmp_path):
    lines = ["y0 = x * 0.5", *(f"y{k} = sin(y{k - 1}) * 0.9 + x" for k in range(1, 500))]
    path = tmp_path / "chain.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "chain.html"
    result = agrad("explain", str(path), "--at", "x=0.3", "-o", str(out))
    assert result.exit_code == 0
    assert "1,498 operations: one step per named line (--expand for all)" in result.stderr
    text = out.read_text(encoding="utf-8")
    data = data_of(text)
    assert "<svg" not in text and "it is not drawn" in text
    assert not data["open"] and len(data["nodes"]) == 501 > DRAW_LIMIT


def test_the_limit_in_the_help_is_the_limit():
    from autogradcli.render.explained import LONG

    source = (ROOT / "autogradcli" / "cli" / "explain.py").read_text(encoding="utf-8")
    assert f"collapsed beyond {LONG} operations" in source


# ---- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system's packages, driven by Playwright."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if exe is None or sync_playwright is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (apt) and playwright (the test extra)")
        pytest.skip("needs chromium and playwright")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """Open a file in a new tab; the test fails on any console error or page error."""
    opened = []

    def open_(path: Path):
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        opened.append((page, errors))
        return page

    yield open_
    for page, errors in opened:
        assert errors == []
        page.close()


def test_every_step_of_the_seed_in_the_browser(tmp_path, open_page):
    path = write_page(tmp_path, "samples/seed.txt", *SEED_AT)
    steps = data_of(path.read_text(encoding="utf-8"))["steps"]
    page = open_page(path)
    assert page.text_content("#step-title") == "Start"
    for k, step in enumerate(steps):
        page.keyboard.press("ArrowRight")
        assert page.text_content("#step-text") == f"{step['text']}    [{step['where']}]"
        assert page.locator("#steps li.current").get_attribute("data-k") == str(k)
        active = page.locator("#picture g.node.active title").all_text_contents()
        assert active == [f"n{step['node']}"]
        if step["kind"] == "chain":
            edge = page.locator("#picture g.edge.active title").all_text_contents()
            assert set(edge) == {f"n{step['edge'][0]}->n{step['edge'][1]}"}
            numbers = page.inner_text("#step-numbers")
            assert step["contribution"] in numbers and step["partial"] in numbers
    assert page.text_content("#step-title") == "Backward pass, step 15 of 15"
    rows = page.locator("#check-table tbody tr")
    assert rows.count() == 4
    for k in range(4):
        cells = rows.nth(k).locator("td").all_text_contents()
        assert cells[1] == cells[2] == cells[3] and cells[4] == "✓ matches", cells
    page.keyboard.press("ArrowLeft")
    assert page.text_content("#step-title") == "Backward pass, step 14 of 15"
    page.keyboard.press("Home")
    assert page.text_content("#step-title") == "Start"
    page.click("#to-backward")
    assert page.text_content("#step-title") == "Backward pass, step 1 of 15"
    assert "… not yet" in page.inner_text("#check-table")


def test_a_click_on_a_box_shows_its_chain_rule_sum(tmp_path, open_page):
    page = open_page(write_page(tmp_path, "samples/seed.txt", *SEED_AT))
    boxes = page.locator("#picture g.node")
    titles = [t.strip() for t in page.locator("#picture g.node title").all_text_contents()]
    b = boxes.nth(titles.index("n1"))  # the input b
    b.click()
    assert page.text_content("#node-title") == "b"
    assert "16" in page.inner_text("#node-numbers")
    drawn = " ".join(page.locator("#picture g.node text").all_text_contents())
    assert "t1 = +" in drawn and "t2 = ^2" in drawn  # boxes named as the steps name them
    assert page.locator("#node-sum li").all_text_contents() == [
        "∂f/∂b += ∂f/∂t2 · ∂t2/∂b = 3 · 4 = 12",
        "∂f/∂b += ∂f/∂t1 · ∂t1/∂b = 4 · 1 = 4",
        "∂f/∂b = 12 + 4 = 16",
    ]


def test_the_quiz_checks_typed_answers(tmp_path, open_page):
    quiz = agrad("explain", "samples/seed.txt", *SEED_AT, "--quiz", "3", "--seed", "1")
    answers = dict(
        line.strip().split(" = ") for line in quiz.stdout.split("\nAnswers\n")[1].splitlines()
    )
    page = open_page(write_page(tmp_path, "samples/seed.txt", *SEED_AT, "--quiz", "3",
                                "--seed", "1"))  # fmt: skip
    assert page.is_visible("#quiz")
    for blank, value in answers.items():
        n = blank.strip("[?]")
        page.fill(f'input.blank[data-n="{n}"]', value)
    page.click("#check-answers")
    n = len(answers)
    assert n >= 3 and page.text_content("#quiz-result") == f"{n} of {n} right"
    page.fill('input.blank[data-n="1"]', "12345")
    page.click("#check-answers")
    assert page.text_content("#quiz-result") == f"{n - 1} of {n} right"
    assert page.locator('input.blank.wrong[data-n="1"]').count() >= 1


@pytest.mark.parametrize("graphviz", [True, False])
def test_arrays_and_the_built_in_layout_in_the_browser(tmp_path, open_page, monkeypatch, graphviz):
    if not graphviz:
        monkeypatch.setattr(shutil, "which", lambda name: None)
    path = write_page(tmp_path, "samples/mlp.txt", *MLP_AT)
    steps = data_of(path.read_text(encoding="utf-8"))["steps"]
    page = open_page(path)
    page.keyboard.press("End")
    assert page.text_content("#step-text").startswith(steps[-1]["text"])
    cells = page.locator("#check-table tbody td.ok").all_text_contents()
    assert len(cells) == 6 and set(cells) == {"✓ matches"}


def test_a_long_file_still_steps(tmp_path, open_page):
    lines = ["y0 = x * 0.5", *(f"y{k} = sin(y{k - 1}) * 0.9 + x" for k in range(1, 3334))]
    path = tmp_path / "chain.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page = open_page(write_page(tmp_path, str(path), "--at", "x=0.3"))
    assert page.locator("#steps li").count() > 10_000
    assert not page.locator("#forward-steps").get_attribute("open")
    page.keyboard.press("End")
    last = page.text_content("#step-text")
    assert last.endswith(f"(3,334 terms) = 1.68184    [{path}:1:6]")
    assert page.inner_text("#check-table").count("✓ matches") == 1


# ---- readable at any size, quizzes that keep their answers -------------------------------

BATCHED_MLP = """# a 2-layer network over a batch of 4 points, sum of squares loss
H = tanh(X @ W1 + b1)     # (4, 3)
Y = H @ W2 + b2           # (4,)
loss = sum((Y - T)^2)
"""
BATCHED_AT = ["--at", "X=[[0.5,-1],[1,0.2],[-0.3,0.8],[0,1]]",
              "W1=[[0.1,-0.3,0.5],[0.2,0.4,-0.6]]", "b1=[0,0.1,-0.1]", "W2=[0.7,-0.8,0.9]",
              "b2=0.05", "T=[1,0,0.5,-1]"]  # fmt: skip
ACTIVE_TEXT = """() => {
  const pane = document.getElementById("canvas").getBoundingClientRect();
  const out = [];
  document.querySelectorAll("#picture g.node.active text").forEach((t) => {
    if (!t.textContent.trim() || getComputedStyle(t).visibility === "hidden") return;
    const r = t.getBoundingClientRect();
    const seen = r.left >= pane.left - 1 && r.right <= pane.right + 1 &&
      r.top >= pane.top - 1 && r.bottom <= pane.bottom + 1;
    out.push([t.textContent, r.height, seen, [r.top, r.bottom, pane.top, pane.bottom]]);
  });
  return out;
}"""


def chain_file(tmp_path: Path) -> Path:
    """A chain of 300 boxes: x and 299 sines."""
    lines = ["y1 = sin(x)", *(f"y{k} = sin(y{k - 1})" for k in range(2, 300))]
    path = tmp_path / "chain300.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def legible_everywhere(page, every: int = 1) -> int:
    """Step to each backward edge (every `every`-th), before and after "fit": the active boxes'
    text is on screen and at least 11 px tall. Returns how many edges were measured."""
    steps = page.evaluate("JSON.parse(document.getElementById('agrad-data').textContent).steps")
    edges = [k for k, s in enumerate(steps) if s["edge"]][::every]
    for k in edges:
        page.evaluate(f"document.querySelector('#steps li[data-k=\"{k}\"]').click()")
        for fitted in (False, True):
            if fitted:
                page.click("#fit")
            texts = page.evaluate(ACTIVE_TEXT)
            assert texts, (k, fitted)
            for text, height, seen, *where in texts:
                assert height >= 11 and seen, (k, fitted, text, height, where)
    return len(edges)


@pytest.mark.parametrize("which", ["seed", "mlp", "batched", "chain"])
def test_active_boxes_are_legible_at_a_laptop_size(tmp_path, browser, which):
    files = {
        "seed": ("samples/seed.txt", SEED_AT),
        "mlp": ("samples/mlp.txt", MLP_AT),
        "batched": (str(write_file(tmp_path, "batched.txt", BATCHED_MLP)), BATCHED_AT),
        "chain": (str(chain_file(tmp_path)), ["--at", "x=0.3"]),
    }
    source, at = files[which]
    path = write_page(tmp_path, source, *at)
    if which == "chain":
        assert len(data_of(path.read_text(encoding="utf-8"))["nodes"]) == 300
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(path.as_uri())
    page.click("#fit")
    measured = legible_everywhere(page, every=25 if which == "chain" else 1)
    assert measured >= (12 if which == "chain" else 6)
    page.close()


def write_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_call_groups_are_drawn_as_one_box(tmp_path):
    """A graph that records calls (Graph.groups) draws each outermost call as one box."""
    import autogradcli as ag

    src = tmp_path / "calls.txt"
    src.write_text("poly(x, y) = (x + y) * y^2\nu = poly(a, b)\nv = (c - d) * d**2\nf = u + v\n")
    graph = ag.parse_file(str(src))
    (group,) = graph.groups
    first, last = group.first, group.last
    assert group.name == "poly" and last == graph.lookup("u")
    text = ag.explain(graph, a=1, b=2, c=3, d=4).render("html")
    data = data_of(text)
    titles = {v["title"] for v in data["nodes"].values()}
    assert "poly(…)" in titles and not any(t.startswith("t1") for t in titles)
    assert {data["box"][str(i)] for i in range(first, last)} == {last}
    assert f"<title>n{first}</title>" not in text


ODD_AT = ["--at", "a=1.1", "b=2.3", "c=3.7", "d=4.9"]  # no two numbers of the steps alike


def test_a_quiz_page_hides_its_answers_until_answered(tmp_path, open_page):
    quiz = agrad("explain", "samples/seed.txt", *ODD_AT, "--quiz", "6")
    answers = dict(
        line.strip().split(" = ") for line in quiz.stdout.split("\nAnswers\n")[1].splitlines()
    )
    assert len(answers) == 6
    page = open_page(write_page(tmp_path, "samples/seed.txt", *ODD_AT, "--quiz", "6"))

    def exposed() -> list[str]:
        dom = page.evaluate("document.documentElement.outerHTML")
        return [v for v in answers.values()
                if re.search(r"(?<![\d.])" + re.escape(v) + r"(?![1-9])", dom)]  # fmt: skip

    assert exposed() == []
    for k in range(len(data_of(page.content())["steps"])):  # step through every step
        page.keyboard.press("ArrowRight")
        assert exposed() == [], k
    for box in page.locator("#picture g.node").all():
        box.dispatch_event("click")  # boxes panned out of the picture too
        assert exposed() == []
    for blank, value in answers.items():
        page.fill(f'input.blank[data-n="{blank.strip("[?]")}"]', value)
    page.click("#check-answers")
    assert page.text_content("#quiz-result") == "6 of 6 right"
    drawn = " ".join(page.locator("#picture text").all_text_contents())
    assert "grad 20.93" in drawn and "∂ 4.6" in drawn  # the drawing shows them now
    assert page.inner_text("#check-table").count("✓ matches") == 4


def test_reveal_shows_the_answers(tmp_path, open_page):
    page = open_page(write_page(tmp_path, "samples/seed.txt", *ODD_AT, "--quiz", "3"))
    assert "-35.77" not in page.inner_text("#check-table")
    page.click("#reveal")
    page.keyboard.press("End")
    assert page.inner_text("#check-table").count("✓ matches") == 4
    assert page.locator("input.blank.revealed").count() >= 3


def test_the_training_step_page_shows_minimizes_first_step(tmp_path, open_page):
    """The page steps through the update: each new weight in the side panel and in its box,
    equal to `agrad minimize --steps 1`, then the loss after the step."""
    trace = tmp_path / "trace.csv"
    params = ["W1", "b1", "W2", "b2"]
    done = agrad("minimize", "samples/mlp.txt", *MLP_AT, "--optimizer", "sgd", "--lr", "0.1",
                 *[w for p in params for w in ("--wrt", p)], "--steps", "1", "--trace",
                 str(trace))  # fmt: skip
    assert done.exit_code == 0, done.output
    header, _, after = trace.read_text(encoding="utf-8").splitlines()[:3]
    columns = dict(zip(re.split(r",(?![^\[]*\])", header), map(float, after.split(",")),
                       strict=True))  # fmt: skip
    page = open_page(write_page(tmp_path, "samples/mlp.txt", *MLP_AT, "--step", "sgd", "--lr",
                                "0.1", "--wrt", ",".join(params)))  # fmt: skip
    steps = data_of(page.content())["steps"]
    updates = [k for k, s in enumerate(steps) if s["phase"] == "update"]
    assert len(updates) == 5 and page.is_visible("#update-steps")
    for k, name in zip(updates, [*params, "loss"], strict=True):
        page.evaluate(f"document.querySelector('#steps li[data-k=\"{k}\"]').click()")
        assert page.text_content("#step-title").startswith("Training step")
        rows = dict(
            zip(
                page.locator("#step-numbers dt").all_text_contents(),
                page.locator("#step-numbers dd").all_text_contents(),
                strict=True,
            )
        )
        got = [float(v) for v in re.findall(r"-?[\d.]+(?:e[-+]?\d+)?", rows["after"])]
        want = [v for c, v in columns.items() if c.split("[")[0] == name]
        assert got == pytest.approx(want, rel=1e-5), name
        active = " ".join(page.locator("#picture g.node.active text").all_text_contents())
        assert "value " + steps[k]["short"] in active  # the box shows the new value
    page.keyboard.press("Home")
    drawn = " ".join(page.locator("#picture g.node text").all_text_contents())
    assert "value 0.05" in drawn and steps[updates[3]]["short"] not in drawn  # back to before


def test_the_pictures_in_the_docs_are_made_by_their_script(tmp_path, browser):
    """docs/make_explain_picture.py writes the three laptop-sized screenshots explain.md shows."""
    import struct
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(ROOT / "docs" / "make_explain_picture.py"),
                    str(tmp_path)], check=True, env=env, timeout=300)  # fmt: skip
    text = (ROOT / "docs" / "explain.md").read_text(encoding="utf-8")
    for name in ("explain_page.png", "explain_mlp.png", "explain_step.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
        assert struct.unpack(">II", data[16:24]) == (1400, 1000)
        assert f"]({name})" in text and (ROOT / "docs" / name).exists()


def test_pan_and_zoom(tmp_path, open_page):
    page = open_page(write_page(tmp_path, "samples/mlp.txt", *MLP_AT))
    page.set_viewport_size({"width": 1400, "height": 1000})

    def box() -> list[float]:
        return [float(v) for v in page.get_attribute("#canvas svg", "viewBox").split()]

    page.click("#actual")
    assert page.text_content("#zoom-level") == "100%"
    page.click("#zoom-in")
    assert page.text_content("#zoom-level") == "125%"
    page.click("#zoom-out")
    page.click("#zoom-out")
    assert page.text_content("#zoom-level") == "80%"
    x, y, w, h = box()
    pane = page.locator("#canvas").bounding_box()
    cx, cy = pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 60, steps=4)
    page.mouse.up()
    x2, y2, w2, h2 = box()
    scale = pane["width"] / w
    assert (w2, h2) == (w, h) and x2 == pytest.approx(x - 120 / scale, abs=0.5)
    assert y2 == pytest.approx(y - 60 / scale, abs=0.5)
    assert page.locator("#node").is_hidden()  # a drag is not a click on a box
    page.mouse.move(cx, cy)
    page.mouse.wheel(0, -300)
    assert box()[2] < w2  # zoomed in around the pointer
