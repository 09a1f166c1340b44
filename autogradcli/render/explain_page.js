// agrad explain --format html: steps through the passes on the drawing. Every number shown
// comes from the page's data (the engine's own numbers); the script only adds up the
// contributions that reach each input so far, for the gradient check.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("agrad-data").textContent);
  const steps = data.steps;
  const firstBackward = steps.findIndex((s) => s.phase === "backward");
  const boxes = new Map();
  const edges = new Map();
  document.querySelectorAll("#picture g.node").forEach((g) => {
    const title = g.querySelector("title");
    if (title) boxes.set(title.textContent.trim().slice(1), g);
  });
  document.querySelectorAll("#picture g.edge").forEach((g) => {
    const title = g.querySelector("title");
    if (!title) return;
    const key = title.textContent.trim().replace(/n/g, "");
    if (!edges.has(key)) edges.set(key, []);
    edges.get(key).push(g);
  });
  let at = -1;

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  // A step's text, with quiz blanks [?n] as input fields.
  function fill(target, text) {
    const pieces = text.split(/(\[\?\d+\])/);
    for (const piece of pieces) {
      const m = /^\[\?(\d+)\]$/.exec(piece);
      if (m) {
        const box = el("input", undefined, "blank");
        box.dataset.n = m[1];
        box.size = 9;
        box.setAttribute("aria-label", "blank " + m[1]);
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

  function zeros(like) {
    return Array.isArray(like) ? like.map(zeros) : 0;
  }

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
    if (s.phase === "forward") return "Forward pass, step " + (k + 1) + " of " + firstForwardCount();
    const n = firstBackward < 0 ? 0 : steps.length - firstBackward;
    return "Backward pass, step " + (k - firstBackward + 1) + " of " + n;
  }

  function firstForwardCount() {
    return firstBackward < 0 ? steps.length : firstBackward;
  }

  function render() {
    boxes.forEach((g) => g.classList.remove("computed", "active", "reached"));
    edges.forEach((list) => list.forEach((g) => g.classList.remove("flowed", "active")));
    for (let k = 0; k <= at; k++) {
      const s = steps[k];
      const box = boxes.get(String(s.node));
      if (s.phase === "forward" && box) box.classList.add("computed");
      if (s.phase === "backward") {
        if (box) box.classList.add("reached");
        if (s.edge) (edges.get(s.edge[0] + "->" + s.edge[1]) || []).forEach((g) => g.classList.add("flowed"));
      }
    }
    if (at >= 0 && firstBackward >= 0 && at >= firstBackward) {
      boxes.forEach((g) => g.classList.add("computed"));
    }
    const title = document.getElementById("step-title");
    const text = document.getElementById("step-text");
    const numbers = document.getElementById("step-numbers");
    title.textContent = stepTitle(at);
    text.textContent = "";
    numbers.textContent = "";
    if (at >= 0) {
      const s = steps[at];
      text.textContent = s.text + "    [" + s.where + "]";
      const box = boxes.get(String(s.node));
      if (box) box.classList.add("active");
      if (s.edge) (edges.get(s.edge[0] + "->" + s.edge[1]) || []).forEach((g) => g.classList.add("active"));
      const rows = [];
      if (s.kind === "chain") {
        rows.push(["adjoint of the consumer", s.adjoint]);
        if (s.partial !== null && s.partial !== undefined) rows.push(["local partial", s.partial]);
        rows.push(["contribution", s.contribution]);
      }
      for (const [name, value] of rows) {
        numbers.appendChild(el("dt", name));
        numbers.appendChild(el("dd", value));
      }
    } else {
      text.textContent = "Press ▶ or → to compute the first node.";
    }
    document.querySelectorAll("#steps li").forEach((li) => {
      li.classList.toggle("current", Number(li.dataset.k) === at);
    });
    renderCheck();
  }

  function renderCheck() {
    const body = document.querySelector("#check-table tbody");
    body.textContent = "";
    for (const input of data.inputs) {
      let sofar = zeros(input.grad);
      for (let k = Math.max(firstBackward, 0); k <= at && firstBackward >= 0; k++) {
        const s = steps[k];
        if (s.kind === "chain" && s.node === input.node && s.add !== undefined) {
          sofar = add(sofar, s.add);
        }
      }
      const row = el("tr");
      row.dataset.input = input.name;
      row.appendChild(el("td", input.name));
      row.appendChild(el("td", show(sofar), "sofar"));
      row.appendChild(el("td", input.shown, "engine"));
      row.appendChild(el("td", input.fd === null ? "not estimated" : show(input.fd), "fd"));
      const verdict = input.fd === null ? null : close(sofar, input.fd);
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
    const rows = [["source", info.source + (info.where ? " (" + info.where + ")" : "")],
      ["value", info.value === null ? "not computed" : info.value],
      ["adjoint ∂" + data.output + "/∂ this", info.adjoint === null ? "none (no path to the output)" : info.adjoint]];
    for (const [name, value] of rows) {
      numbers.appendChild(el("dt", name));
      numbers.appendChild(el("dd", value));
    }
    const sum = document.getElementById("node-sum");
    sum.textContent = "";
    for (const s of steps) {
      if (s.phase === "backward" && s.node === Number(id) && s.kind !== "seed") {
        const li = el("li");
        fill(li, s.text);
        sum.appendChild(li);
      }
    }
  }

  function list() {
    const forward = document.querySelector("#forward-steps ol");
    const backward = document.querySelector("#backward-steps ol");
    steps.forEach((s, k) => {
      const li = el("li");
      li.dataset.k = k;
      fill(li, s.text);
      li.appendChild(el("span", "  [" + s.where + "]", "where"));
      li.addEventListener("click", (ev) => {
        if (ev.target.tagName !== "INPUT") go(k);
      });
      (s.phase === "forward" ? forward : backward).appendChild(li);
    });
    if (data.open) {
      document.getElementById("forward-steps").open = true;
      document.getElementById("backward-steps").open = true;
    }
  }

  function quiz() {
    if (!data.answers.length) return;
    document.getElementById("quiz").hidden = false;
    document.getElementById("backward-steps").open = true;
    document.getElementById("check-answers").addEventListener("click", () => {
      let right = 0;
      for (const a of data.answers) {
        const want = Number(a.value);
        document.querySelectorAll('input.blank[data-n="' + a.n + '"]').forEach((box) => {
          const got = Number(box.value.trim());
          const ok = box.value.trim() !== "" && Math.abs(got - want) <= 1e-3 * Math.max(1, Math.abs(want));
          box.classList.toggle("right", ok);
          box.classList.toggle("wrong", !ok);
          if (ok) right += 1;
        });
      }
      document.getElementById("quiz-result").textContent = right + " of " + data.answers.length + " right";
    });
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
  render();
})();
