// agrad explain --format html: steps through the passes on the drawing. Every number shown
// comes from the page's data (the engine's own numbers); the script only adds up the
// contributions that reach each input so far, for the gradient check. A quiz's hidden numbers
// are in the data as secrets, decoded when their blanks are answered or revealed.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("agrad-data").textContent);
  const steps = data.steps;
  const firstBackward = steps.findIndex((s) => s.phase === "backward");
  const firstUpdate = steps.findIndex((s) => s.phase === "update");
  const LEGIBLE = 12; // px: the smallest box text the page zooms out to
  const BOX_FONT = 11; // the drawing's font size, in its own units
  const boxes = new Map();
  const edges = new Map();
  const lines = new Map(); // box id -> {value, grad} text elements and their drawn text
  document.querySelectorAll("#picture g.node").forEach((g) => {
    const title = g.querySelector("title");
    if (!title) return;
    const id = title.textContent.trim().slice(1);
    boxes.set(id, g);
    const found = {};
    g.querySelectorAll("text").forEach((t) => {
      const text = t.textContent;
      if (text.startsWith("value ")) found.value = { el: t, text };
      if (text.startsWith("grad ")) {
        found.grad = { el: t, text };
        t.classList.add("grad-line");
      }
    });
    lines.set(id, found);
  });
  document.querySelectorAll("#picture g.edge").forEach((g) => {
    const title = g.querySelector("title");
    if (!title) return;
    const key = title.textContent.trim().replace(/n/g, "");
    if (!edges.has(key)) edges.set(key, []);
    edges.get(key).push(g);
  });
  const boxOf = (node) => String(data.box[String(node)] !== undefined ? data.box[String(node)] : node);
  const edgeOf = (e) => boxOf(e[0]) + "->" + boxOf(e[1]);
  let at = -1;

  // --- quiz secrets -----------------------------------------------------------------------
  function decode(code) {
    const bytes = Uint8Array.from(atob(code), (c) => c.charCodeAt(0) ^ 0x5a);
    return new TextDecoder().decode(bytes);
  }
  const key = new Map(data.answers.map((a) => [a.n, decode(a.code)]));
  const revealed = new Set();
  const secretOf = (row) => (row.code ? JSON.parse(decode(row.code)) : {});
  function open(node) {
    const blanks = data.hidden[String(node)];
    return Boolean(blanks) && blanks.some((n) => !revealed.has(n));
  }
  function shown(text) {
    return text.replace(/\[\?(\d+)\]/g, (m, n) => (revealed.has(Number(n)) ? key.get(Number(n)) : m));
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // A step's text, with quiz blanks [?n] as input fields.
  function fill(target, text) {
    for (const piece of text.split(/(\[\?\d+\])/)) {
      const m = /^\[\?(\d+)\]$/.exec(piece);
      if (m) {
        const box = el("input", undefined, "blank");
        box.dataset.n = m[1];
        box.size = 9;
        box.setAttribute("aria-label", "blank " + m[1]);
        box.addEventListener("input", () => {  // one blank in several steps: one answer
          document.querySelectorAll('input.blank[data-n="' + m[1] + '"]').forEach((other) => {
            if (other !== box) other.value = box.value;
          });
        });
        target.appendChild(box);
      } else {
        target.appendChild(document.createTextNode(piece));
      }
    }
  }

  function add(a, b) {
    if (a === null || b === null) return null;
    if (Array.isArray(a)) return a.map((x, k) => add(x, b[k]));
    return a + b;
  }
  const zeros = (like) => (Array.isArray(like) ? like.map(zeros) : 0);
  function close(a, b) {
    if (a === null || b === null) return null;
    if (Array.isArray(a)) {
      let all = true;
      for (let k = 0; k < a.length; k++) {
        const c = close(a[k], b[k]);
        if (c === null) return null;
        all = all && c;
      }
      return all;
    }
    return Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  function show(x) {
    if (x === null) return "not finite";
    if (Array.isArray(x)) return "[" + x.map(show).join(", ") + "]";
    return Number(x.toPrecision(6)).toString();
  }

  function stepTitle(k) {
    if (k < 0) return "Start";
    const s = steps[k];
    const forward = firstBackward < 0 ? steps.length : firstBackward;
    if (s.phase === "forward") return "Forward pass, step " + (k + 1) + " of " + forward;
    const end = firstUpdate < 0 ? steps.length : firstUpdate;
    if (s.phase === "backward") return "Backward pass, step " + (k - firstBackward + 1) + " of " + (end - firstBackward);
    return "Training step, step " + (k - firstUpdate + 1) + " of " + (steps.length - firstUpdate);
  }

  // --- the drawing: which boxes are computed, reached, updated --------------------------------
  const lastInto = new Map(); // box -> the last backward step that adds to its gradient
  steps.forEach((s, k) => {
    if (s.phase === "backward") lastInto.set(boxOf(s.node), k);
  });

  function paint() {
    boxes.forEach((g) => g.classList.remove("computed", "active", "reached", "updated"));
    edges.forEach((list) => list.forEach((g) => g.classList.remove("flowed", "active")));
    lines.forEach((found, id) => {
      if (found.value) found.value.el.textContent = found.value.text;
      if (found.grad) {
        const due = lastInto.get(id);
        found.grad.el.classList.toggle("pending", due === undefined || due > at);
        found.grad.el.textContent = found.grad.text;
      }
    });
    for (let k = 0; k <= at; k++) {
      const s = steps[k];
      const box = boxes.get(boxOf(s.node));
      if (s.phase === "forward" && box) box.classList.add("computed");
      if (s.phase === "backward") {
        if (box) box.classList.add("reached");
        if (s.edge) (edges.get(edgeOf(s.edge)) || []).forEach((g) => g.classList.add("flowed"));
      }
      if (s.phase === "update" && box) {
        box.classList.add("updated");
        const found = lines.get(boxOf(s.node));
        if (found && found.value && s.short) found.value.el.textContent = "value " + s.short;
      }
    }
    if (at >= 0 && firstBackward >= 0 && at >= firstBackward) boxes.forEach((g) => g.classList.add("computed"));
    paintSecrets();
  }

  // Gradients and edge partials a quiz hides, drawn once their blanks are answered.
  function paintSecrets() {
    for (const node of Object.keys(data.hidden)) {
      if (open(node)) continue;
      const found = lines.get(boxOf(node));
      const info = data.nodes[boxOf(node)];
      if (found && found.grad && info && info.code) found.grad.el.textContent = "grad " + secretOf(info).short;
      for (const s of steps) {
        if (s.code && s.node === Number(node) && s.edge) {
          const edge = secretOf(s).edge;
          (edges.get(edgeOf(s.edge)) || []).forEach((g) => {
            const t = g.querySelector("text");
            if (t) t.textContent = edge;
          });
        }
      }
    }
  }

  function render() {
    paint();
    const title = document.getElementById("step-title");
    const text = document.getElementById("step-text");
    const numbers = document.getElementById("step-numbers");
    title.textContent = stepTitle(at);
    text.textContent = "";
    numbers.textContent = "";
    const active = [];
    if (at >= 0) {
      const s = steps[at];
      text.textContent = shown(s.text) + (s.where ? "    [" + s.where + "]" : "");
      const box = boxes.get(boxOf(s.node));
      if (box) {
        box.classList.add("active");
        active.push(box);
      }
      if (s.edge) {
        (edges.get(edgeOf(s.edge)) || []).forEach((g) => {
          g.classList.add("active");
          active.push(g);
        });
        const from = boxes.get(boxOf(s.edge[1]));
        if (from) active.push(from);
      }
      for (const [name, value] of stepRows(s)) {
        numbers.appendChild(el("dt", name));
        numbers.appendChild(el("dd", shown(String(value))));
      }
    } else {
      text.textContent = "Press ▶ or → to compute the first node.";
    }
    document.querySelectorAll("#steps li").forEach((li) => {
      li.classList.toggle("current", Number(li.dataset.k) === at);
    });
    renderCheck();
    keepInView(active);
  }

  function stepRows(s) {
    if (s.kind === "chain") {
      const rows = [["adjoint of the consumer", s.adjoint]];
      if (s.partial !== null && s.partial !== undefined) rows.push(["local partial", s.partial]);
      rows.push(["contribution", s.contribution]);
      return rows;
    }
    if (s.phase === "update") return s.rows || [];
    return [];
  }

  function renderCheck() {
    const body = document.querySelector("#check-table tbody");
    body.textContent = "";
    const end = firstUpdate < 0 ? at : Math.min(at, firstUpdate - 1);
    for (const input of data.inputs) {
      const row = el("tr");
      row.dataset.input = input.name;
      row.appendChild(el("td", input.name));
      if (open(input.node)) {
        row.appendChild(el("td", "?", "sofar"));
        row.appendChild(el("td", "?", "engine"));
        row.appendChild(el("td", "?", "fd"));
        row.appendChild(el("td", "answer its blanks", "pending"));
        body.appendChild(row);
        continue;
      }
      const known = input.code ? secretOf(input) : input;
      let sofar = zeros(known.grad);
      for (let k = Math.max(firstBackward, 0); k <= end && firstBackward >= 0; k++) {
        const s = steps[k];
        const more = s.code ? secretOf(s).add : s.add;
        if (s.kind === "chain" && s.node === input.node && more !== undefined) sofar = add(sofar, more);
      }
      row.appendChild(el("td", show(sofar), "sofar"));
      row.appendChild(el("td", known.shown, "engine"));
      row.appendChild(el("td", known.fd === null ? "not estimated" : show(known.fd), "fd"));
      const verdict = known.fd === null ? null : close(sofar, known.fd);
      const mark = verdict === null ? "" : verdict ? "✓ matches" : "… not yet";
      row.appendChild(el("td", mark, verdict ? "ok" : "pending"));
      body.appendChild(row);
    }
  }

  function go(k) {
    at = Math.max(-1, Math.min(steps.length - 1, k));
    render();
  }

  function nodeInfo(id) {
    const info = data.nodes[id];
    if (!info) return;
    document.getElementById("node").hidden = false;
    document.getElementById("node-title").textContent = info.title;
    const numbers = document.getElementById("node-numbers");
    numbers.textContent = "";
    let adjoint = info.adjoint;
    if (info.code && !open(id)) adjoint = secretOf(info).adjoint;
    const rows = [["source", info.source + (info.where ? " (" + info.where + ")" : "")],
      ["value", info.value === null ? "not computed" : info.value],
      ["adjoint ∂" + data.output + "/∂ this", adjoint === null ? "none (no path to the output)" : adjoint]];
    for (const [name, value] of rows) {
      numbers.appendChild(el("dt", name));
      numbers.appendChild(el("dd", value));
    }
    const sum = document.getElementById("node-sum");
    sum.textContent = "";
    for (const s of steps) {
      if (s.phase === "backward" && boxOf(s.node) === String(id) && s.kind !== "seed") sum.appendChild(el("li", shown(s.text)));
    }
  }

  function list() {
    const forward = document.querySelector("#forward-steps ol");
    const backward = document.querySelector("#backward-steps ol");
    const update = document.querySelector("#update-steps ol");
    steps.forEach((s, k) => {
      const li = el("li");
      li.dataset.k = k;
      fill(li, s.text);
      if (s.where) li.appendChild(el("span", "  [" + s.where + "]", "where"));
      li.addEventListener("click", (ev) => {
        if (ev.target.tagName !== "INPUT") go(k);
      });
      ({ forward, backward, update })[s.phase].appendChild(li);
    });
    if (firstUpdate >= 0) document.getElementById("update-steps").hidden = false;
    if (data.open) document.querySelectorAll("#steps details").forEach((d) => (d.open = true));
  }

  // --- the quiz -----------------------------------------------------------------------------
  function numbersIn(text) {
    return (text.match(/-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/gi) || []).map(Number);
  }
  function right(typed, want) {
    const a = numbersIn(typed);
    const b = numbersIn(want);
    return a.length === b.length && a.length > 0 && a.every((x, k) => Math.abs(x - b[k]) <= 1e-3 * Math.max(1, Math.abs(b[k])));
  }
  function quiz() {
    if (!data.answers.length) return;
    document.getElementById("quiz").hidden = false;
    document.getElementById("backward-steps").open = true;
    document.getElementById("check-answers").addEventListener("click", () => {
      let good = 0;
      for (const [n, want] of key) {
        let ok = false;
        document.querySelectorAll('input.blank[data-n="' + n + '"]').forEach((box) => {
          ok = box.value.trim() !== "" && right(box.value, want);
          box.classList.toggle("right", ok);
          box.classList.toggle("wrong", !ok);
        });
        if (ok) {
          good += 1;
          revealed.add(n);
        }
      }
      document.getElementById("quiz-result").textContent = good + " of " + key.size + " right";
      render();
    });
    document.getElementById("reveal").addEventListener("click", () => {
      for (const [n, want] of key) {
        revealed.add(n);
        document.querySelectorAll('input.blank[data-n="' + n + '"]').forEach((box) => {
          if (!box.classList.contains("right")) {
            box.value = want;
            box.classList.add("revealed");
          }
        });
      }
      render();
    });
  }

  // --- pan and zoom -------------------------------------------------------------------------
  const pane = document.getElementById("canvas");
  const svg = pane ? pane.querySelector("svg") : null;
  let full = null;
  const view = { x: 0, y: 0, s: 1 };
  const minimum = LEGIBLE / BOX_FONT;
  function apply() {
    const w = pane.clientWidth;
    const h = pane.clientHeight;
    svg.setAttribute("viewBox", view.x + " " + view.y + " " + w / view.s + " " + h / view.s);
    document.getElementById("zoom-level").textContent = Math.round((view.s * 72) / 96 * 100) + "%";
  }
  function zoomAt(s, px, py) {
    const ux = view.x + px / view.s;
    const uy = view.y + py / view.s;
    view.s = Math.max(0.05, Math.min(8, s));
    view.x = ux - px / view.s;
    view.y = uy - py / view.s;
    apply();
  }
  // Fit the width (the whole picture when that stays legible); past the legibility threshold
  // stay at the smallest legible zoom, on the current step.
  function fit() {
    const w = pane.clientWidth;
    const h = pane.clientHeight;
    const whole = Math.min(w / full.width, h / full.height);
    if (whole >= minimum) {
      view.s = Math.min(whole, 2);
      view.x = full.x - (w / view.s - full.width) / 2;
      view.y = full.y - (h / view.s - full.height) / 2;
      apply();
      return;
    }
    view.s = Math.min(Math.max(w / full.width, minimum), 1.5);
    view.x = full.x - Math.max(0, (w / view.s - full.width) / 2);
    view.y = full.y;
    apply();
    keepInView(current(), true);
  }
  function current() {
    if (at >= 0) {
      const s = steps[at];
      const box = boxes.get(boxOf(s.node));
      return box ? [box] : [];
    }
    const first = steps.length ? boxes.get(boxOf(steps[0].node)) : null;
    return first ? [first] : [];
  }
  // Pan (and zoom in to a legible size) so the active box and edge are on screen.
  function keepInView(elements, center) {
    if (!svg || !elements.length) return;
    apply(); // the pane may have changed size since: measure in its present shape
    if (view.s < minimum) zoomAt(minimum, pane.clientWidth / 2, pane.clientHeight / 2);
    const pr = pane.getBoundingClientRect();
    let rect = union(elements);
    if (rect.width > pr.width - 20 || rect.height > pr.height - 20) rect = union(elements.slice(0, 1));
    const inside = rect.left >= pr.left - 1 && rect.right <= pr.right + 1 &&
      rect.top >= pr.top - 1 && rect.bottom <= pr.bottom + 1;
    if (inside && !center) return;
    const dx = rect.left + rect.width / 2 - (pr.left + pr.width / 2);
    const dy = rect.top + rect.height / 2 - (pr.top + pr.height / 2);
    view.x += dx / view.s;
    view.y += dy / view.s;
    clamp();
    apply();
  }
  // Keep the picture on screen: centred along an axis it fits, else no further than its edge.
  function clamp() {
    const w = pane.clientWidth / view.s;
    const h = pane.clientHeight / view.s;
    const pad = 8 / view.s;
    view.x = full.width <= w ? full.x - (w - full.width) / 2
      : Math.min(Math.max(view.x, full.x - pad), full.x + full.width - w + pad);
    view.y = full.height <= h ? full.y - (h - full.height) / 2
      : Math.min(Math.max(view.y, full.y - pad), full.y + full.height - h + pad);
  }
  function union(elements) {
    let l = Infinity, t = Infinity, r = -Infinity, b = -Infinity;
    for (const e of elements) {
      const q = e.getBoundingClientRect();
      l = Math.min(l, q.left); t = Math.min(t, q.top); r = Math.max(r, q.right); b = Math.max(b, q.bottom);
    }
    return { left: l, top: t, right: r, bottom: b, width: r - l, height: b - t };
  }
  function panZoom() {
    if (!svg) return;
    const box = svg.viewBox.baseVal;
    full = { x: box.x, y: box.y, width: box.width, height: box.height };
    svg.setAttribute("width", "100%");
    svg.setAttribute("height", "100%");
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    document.getElementById("fit").addEventListener("click", fit);
    document.getElementById("actual").addEventListener("click", () => {
      zoomAt(96 / 72, pane.clientWidth / 2, pane.clientHeight / 2);
      keepInView(current(), true);
    });
    document.getElementById("zoom-in").addEventListener("click", () => zoomAt(view.s * 1.25, pane.clientWidth / 2, pane.clientHeight / 2));
    document.getElementById("zoom-out").addEventListener("click", () => zoomAt(view.s / 1.25, pane.clientWidth / 2, pane.clientHeight / 2));
    pane.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = pane.getBoundingClientRect();
      zoomAt(view.s * Math.exp(-ev.deltaY / 500), ev.clientX - r.left, ev.clientY - r.top);
    }, { passive: false });
    let drag = null;
    pane.addEventListener("pointerdown", (ev) => {
      drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false };
    });
    window.addEventListener("pointermove", (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x;
      const dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
      if (!drag.moved) return;
      view.x = drag.vx - dx / view.s;
      view.y = drag.vy - dy / view.s;
      apply();
    });
    window.addEventListener("pointerup", () => {
      if (drag && drag.moved) pane.dataset.dragged = "1";
      drag = null;
    });
    pane.addEventListener("click", (ev) => {
      if (pane.dataset.dragged) {
        delete pane.dataset.dragged;
        ev.stopPropagation();
      }
    }, true);
    window.addEventListener("resize", apply);
    if (window.ResizeObserver) new ResizeObserver(apply).observe(pane);
    fit();
  }

  document.getElementById("first").addEventListener("click", () => go(-1));
  document.getElementById("prev").addEventListener("click", () => go(at - 1));
  document.getElementById("next").addEventListener("click", () => go(at + 1));
  document.getElementById("last").addEventListener("click", () => go(steps.length - 1));
  document.getElementById("to-backward").addEventListener("click", () => go(firstBackward));
  document.addEventListener("keydown", (ev) => {
    if (ev.target.tagName === "INPUT") return;
    if (ev.key === "ArrowRight") go(at + 1);
    else if (ev.key === "ArrowLeft") go(at - 1);
    else if (ev.key === "Home") go(-1);
    else if (ev.key === "End") go(steps.length - 1);
    else return;
    ev.preventDefault();
  });
  boxes.forEach((g, id) => g.addEventListener("click", () => nodeInfo(id)));
  list();
  quiz();
  panZoom();
  render();
})();
