"""The HTML page and its viewer: plain JavaScript drawing on canvases, nothing loaded from outside.

``%%TITLE%%``, ``%%CAPTION%%`` and ``%%DATA%%`` are filled in by :mod:`ctrlinf.explore._page`.
The script only draws the numbers in ``#ctrlinf-data``; it computes none of them.
"""

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ctrlinf explore">
<link rel="icon" href="data:,">
<title>ctrlinf explore: %%TITLE%%</title>
<style>
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 16px 20px;
         color: #222; background: #fff; }
  h1 { font-size: 18px; margin: 0 0 10px; font-weight: 600; }
  #controls { display: flex; flex-wrap: wrap; gap: 8px 28px; align-items: center;
              margin-bottom: 12px; }
  #controls label { white-space: nowrap; }
  #controls input[type=range] { width: 220px; vertical-align: middle; }
  output { display: inline-block; min-width: 9em; font-variant-numeric: tabular-nums; }
  #panels { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
  figure { margin: 0; }
  figcaption { font-weight: 600; min-height: 4.4em; }
  .note { font-weight: 400; color: #555; font-size: 12px; display: block; }
  canvas { display: block; cursor: crosshair; margin-top: 4px; }
  .scale { font-size: 12px; color: #444; margin-top: 3px; font-variant-numeric: tabular-nums; }
  #tooltip { position: fixed; pointer-events: none; background: rgba(255,255,255,0.96);
             border: 1px solid #888; border-radius: 4px; padding: 6px 8px; font-size: 12px;
             font-variant-numeric: tabular-nums; box-shadow: 0 2px 6px rgba(0,0,0,0.2);
             white-space: pre; z-index: 10; }
  #caption { max-width: 1250px; margin-top: 16px; color: #333; }
  #caption span { display: block; margin-bottom: 4px; }
</style>
</head>
<body>
<h1>Forward, backward and posterior messages: %%TITLE%%</h1>
<div id="controls">
  <span id="mode">mode:
    <label><input type="radio" name="mode" value="exact" checked> exact (inference)</label>
    <label><input type="radio" name="mode" value="soft"> soft (variational)</label>
    <label><input type="radio" name="mode" value="hard"> hard (DP)</label>
  </span>
  <label>time step t <input type="range" id="t" min="0" max="0" step="1" value="0">
    <output id="t-value"></output></label>
  <label>temperature <input type="range" id="temperature" min="0" max="0" step="1" value="0">
    <output id="temperature-value"></output></label>
  <label><input type="checkbox" id="log-scale"> log colour scale (8 decades)</label>
</div>
<div id="panels">
  <figure><figcaption id="title-0"></figcaption><canvas id="panel-0"></canvas>
    <div class="scale" id="scale-0"></div></figure>
  <figure><figcaption id="title-1"></figcaption><canvas id="panel-1"></canvas>
    <div class="scale" id="scale-1"></div></figure>
  <figure><figcaption id="title-2"></figcaption><canvas id="panel-2"></canvas>
    <div class="scale" id="scale-2"></div></figure>
  <figure><figcaption id="title-3"></figcaption><canvas id="panel-3"></canvas>
    <div class="scale" id="scale-3"></div></figure>
</div>
<div id="tooltip" hidden></div>
<p id="caption">
%%CAPTION%%
</p>
<script type="application/json" id="ctrlinf-data">%%DATA%%</script>
<script>
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("ctrlinf-data").textContent);
  const ROWS = D.shape[0], COLS = D.shape[1], S = D.n_states, T = D.horizon;
  const A = D.actions.length, CELLS = ROWS * COLS;
  const CELL = Math.max(6, Math.min(40, Math.floor(280 / Math.max(ROWS, COLS))));
  const WALLS = new Set(D.walls);
  const LETTERS = [["S", D.starts], ["G", D.goals], ["X", D.pits]];
  const BLUE = [8, 69, 148], ORANGE = [166, 54, 3], PURPLE = [63, 0, 125], GREEN = [0, 90, 50];
  const rollout = function (name, value) {
    return [
      {key: "occupancy", name: "occupancy d", color: BLUE,
       title: "forward = occupancy d_t(s) of the " + name + " policy",
       note: "ci.forward: the policy rolled out from the start"},
      {key: "V", name: "V", color: GREEN, signed: true,
       title: name + " value V_t(s)", note: value},
      {key: "occupancy", name: "marginal", color: PURPLE,
       title: "marginal p(s_t) = the same occupancy d_t(s)",
       note: "ci.marginals: nothing is conditioned on O"}];
  };
  const PANELS = {
    exact: [
      {key: "forward", name: "forward \u03b1_t", color: BLUE,
       title: "forward \u03b1_t(s) = p(s_t | O_0:t\u22121)",
       note: "where the agent can be if it was optimal so far"},
      {key: "backward", name: "backward \u03b2_t", color: ORANGE,
       title: "backward \u03b2_t(s) = p(O_t:T\u22121 | s_t)",
       note: "from where it can still be optimal (max 1 per step)"},
      {key: "posterior", name: "posterior", color: PURPLE,
       title: "posterior p(s_t | O_0:T\u22121) \u221d \u03b1_t \u03b2_t",
       note: "ci.marginals: the normalised product"}],
    soft: rollout("soft", "\u03c4 log \u03a3_a exp(Q_t/\u03c4), reward units"),
    hard: rollout("hard", "max_a Q_t, reward units"),
  };

  const modeInputs = document.querySelectorAll("input[name=mode]");
  const tSlider = document.getElementById("t");
  const aSlider = document.getElementById("temperature");
  const tip = document.getElementById("tooltip");
  const logBox = document.getElementById("log-scale");
  tSlider.max = String(T - 1);
  aSlider.max = String(D.temperatures.length - 1);
  aSlider.value = String(Math.floor((D.temperatures.length - 1) / 2));
  let hovered = null;

  function mode() {
    for (const input of modeInputs) { if (input.checked) { return input.value; } }
    return "exact";
  }
  function solution() {
    const m = mode();
    return m === "hard" ? D.modes.hard[0] : D.modes[m][Number(aSlider.value)];
  }
  function fmt(x) { return x === 0 ? "0" : Number(x).toPrecision(D.digits); }
  function fmtPolicy(k) { return (k / D.policy_scale).toFixed(3); }
  function visible(s) { return !WALLS.has(s); }
  function mix(color, f, alpha) {
    const c = color.map(function (v) { return Math.round(255 + (v - 255) * f); });
    return "rgba(" + c[0] + "," + c[1] + "," + c[2] + "," + alpha + ")";
  }

  function setup(canvas) {
    canvas.width = COLS * CELL;
    canvas.height = ROWS * CELL;
    canvas.addEventListener("mousemove", function (event) {
      const box = canvas.getBoundingClientRect();
      const col = Math.floor((event.clientX - box.left) / CELL);
      const row = Math.floor((event.clientY - box.top) / CELL);
      if (row < 0 || row >= ROWS || col < 0 || col >= COLS) { return hide(); }
      hovered = {row: row, col: col, x: event.clientX, y: event.clientY};
      draw();
    });
    canvas.addEventListener("mouseleave", hide);
  }
  function hide() {
    if (hovered) { hovered = null; tip.hidden = true; draw(); }
  }

  // Colour scale of one panel at one step: square root of x / max for probabilities
  // (small masses stay visible next to a point mass), linear min..max for values.
  function scaleOf(values, spec) {
    let lo = Infinity, hi = -Infinity;
    for (let s = 0; s < CELLS; s++) {
      if (visible(s)) { lo = Math.min(lo, values[s]); hi = Math.max(hi, values[s]); }
    }
    if (spec.signed) {
      const span = hi > lo ? hi - lo : 1;
      return {text: "min " + fmt(lo) + " \u00b7 max " + fmt(hi),
              f: function (x) { return (x - lo) / span; }};
    }
    const top = hi > 0 ? hi : 1;
    const log = logBox.checked;
    let text = "largest cell " + fmt(hi) + (log ? " (colour: log, 1e-8 of it = white)"
                                                : " (colour: square root)");
    if (S > CELLS && spec.key !== "backward") {
      let off = 0;
      for (let s = CELLS; s < S; s++) { off += values[s]; }
      text += " \u00b7 off the grid " + fmt(off);
    }
    if (log) {
      return {text: text, f: function (x) {
        return x > 0 ? Math.max(0, 1 + Math.log10(x / top) / 8) : 0; }};
    }
    return {text: text, f: function (x) { return Math.sqrt(Math.max(x, 0) / top); }};
  }

  function drawCells(ctx, values, color, f, alpha) {
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    for (let s = 0; s < CELLS; s++) {
      const row = Math.floor(s / COLS), col = s % COLS;
      ctx.fillStyle = visible(s) ? mix(color, f(values[s]), alpha) : "#3a3a3a";
      ctx.fillRect(col * CELL, row * CELL, CELL, CELL);
    }
    if (CELL >= 8) {
      ctx.strokeStyle = "#c8c8c8";
      ctx.lineWidth = 1;
      for (let r = 0; r <= ROWS; r++) { line(ctx, 0, r * CELL, COLS * CELL, r * CELL); }
      for (let c = 0; c <= COLS; c++) { line(ctx, c * CELL, 0, c * CELL, ROWS * CELL); }
    }
    ctx.font = "bold " + Math.max(7, Math.round(CELL * 0.4)) + "px sans-serif";
    ctx.textBaseline = "top";
    // Dark letters on a white halo read on every colour of the maps.
    ctx.lineWidth = 3;
    ctx.lineJoin = "round";
    ctx.strokeStyle = "rgba(255,255,255,0.9)";
    ctx.fillStyle = "#111";
    for (const [letter, cells] of LETTERS) {
      for (const s of cells) {
        const x = (s % COLS) * CELL + 2, y = Math.floor(s / COLS) * CELL + 2;
        ctx.strokeText(letter, x, y);
        ctx.fillText(letter, x, y);
      }
    }
    if (hovered) {
      ctx.strokeStyle = "#e6007e";
      ctx.lineWidth = 2;
      ctx.strokeRect(hovered.col * CELL + 1, hovered.row * CELL + 1, CELL - 2, CELL - 2);
    }
  }
  function line(ctx, x0, y0, x1, y1) {
    ctx.beginPath(); ctx.moveTo(x0 + 0.5, y0 + 0.5); ctx.lineTo(x1 + 0.5, y1 + 0.5); ctx.stroke();
  }

  // One arrow per move of length 0.45 * pi(a|s) cells, a dot for "stay"; as ci.plot.policy_arrows.
  function drawArrows(ctx, policy, t) {
    for (let s = 0; s < CELLS; s++) {
      if (!visible(s)) { continue; }
      const cx = (s % COLS + 0.5) * CELL, cy = (Math.floor(s / COLS) + 0.5) * CELL;
      for (let a = 0; a < A; a++) {
        const p = policy[(t * S + s) * A + a] / D.policy_scale;
        if (p < 0.01) { continue; }
        const d = D.actions[a].delta;
        const shade = "rgba(0,0,0," + (0.3 + 0.7 * p).toFixed(3) + ")";
        ctx.strokeStyle = shade;
        ctx.fillStyle = shade;
        if (d[0] === 0 && d[1] === 0) {
          ctx.beginPath();
          ctx.arc(cx, cy, Math.max(1, 0.22 * CELL * Math.sqrt(p)), 0, 2 * Math.PI);
          ctx.fill();
          continue;
        }
        const len = 0.45 * CELL * p, ux = d[1], uy = d[0];
        const x1 = cx + ux * len, y1 = cy + uy * len, head = Math.min(0.18 * CELL, 0.6 * len + 1);
        ctx.lineWidth = Math.max(1, CELL / 18);
        ctx.beginPath(); ctx.moveTo(cx, cy); ctx.lineTo(x1, y1); ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(x1 + ux * head * 0.6, y1 + uy * head * 0.6);
        ctx.lineTo(x1 - uy * head * 0.5, y1 + ux * head * 0.5);
        ctx.lineTo(x1 + uy * head * 0.5, y1 - ux * head * 0.5);
        ctx.closePath(); ctx.fill();
      }
    }
  }

  function draw() {
    const m = mode(), sol = solution(), t = Number(tSlider.value), specs = PANELS[m];
    document.getElementById("t-value").textContent = "t = " + t + " of 0.." + (T - 1);
    aSlider.disabled = m === "hard";
    document.getElementById("temperature-value").textContent = m === "hard"
      ? "hard mode has no temperature"
      : "\u03c4 = " + sol.temperature + " (" + (Number(aSlider.value) + 1) + " of " +
        D.temperatures.length + ")";
    let marginal = null;
    specs.forEach(function (spec, i) {
      const values = sol[spec.key].slice(t * S, (t + 1) * S);
      const scale = scaleOf(values, spec);
      const ctx = document.getElementById("panel-" + i).getContext("2d");
      drawCells(ctx, values, spec.color, scale.f, 1);
      setTitle(i, spec.title, spec.note);
      document.getElementById("scale-" + i).textContent = scale.text;
      if (i === 2) { marginal = {values: values, scale: scale, color: spec.color}; }
    });
    const ctx = document.getElementById("panel-3").getContext("2d");
    drawCells(ctx, marginal.values, marginal.color, marginal.scale.f, 0.45);
    drawArrows(ctx, sol.policy, t);
    setTitle(3, "policy \u03c0_t(a | s)", "arrow length \u221d probability, over the " +
             (m === "exact" ? "posterior" : "occupancy"));
    document.getElementById("scale-3").textContent = "dot: stay; moves below 0.01 not drawn";
    if (hovered) { showTip(); }
  }
  function setTitle(i, title, note) {
    const el = document.getElementById("title-" + i);
    el.textContent = title;
    const span = document.createElement("span");
    span.className = "note";
    span.textContent = note;
    el.appendChild(span);
  }

  function showTip() {
    const m = mode(), sol = solution(), t = Number(tSlider.value);
    const s = hovered.row * COLS + hovered.col;
    tip.dataset.state = String(s);
    tip.dataset.t = String(t);
    tip.dataset.mode = m;
    if (!visible(s)) {
      tip.textContent = "cell (" + hovered.row + ", " + hovered.col + "): wall";
      tip.dataset.marginal = "";
    } else {
      const lines = ["cell (" + hovered.row + ", " + hovered.col + "), state " + s + ", t = " + t +
                     ", " + m + (m === "hard" ? "" : ", temperature " + sol.temperature)];
      const seen = new Set();
      PANELS[m].forEach(function (spec, i) {
        const shown = fmt(sol[spec.key][t * S + s]);
        if (i === 2) { tip.dataset.marginal = shown; }
        if (!seen.has(spec.key)) { lines.push(spec.name + " = " + shown); seen.add(spec.key); }
        else { lines.push(spec.name + " = " + shown + " (the same)"); }
      });
      if (!seen.has("V")) { lines.push("V = " + fmt(sol.V[t * S + s])); }
      for (let a = 0; a < A; a++) {
        const k = sol.policy[(t * S + s) * A + a];
        lines.push("\u03c0(" + D.actions[a].name + ") = " + fmtPolicy(k));
      }
      tip.textContent = lines.join("\n");
    }
    tip.hidden = false;
    // Beside the pointer, flipped to the other side near the window's right or bottom edge.
    const x = hovered.x + 14 + tip.offsetWidth > window.innerWidth
      ? hovered.x - 14 - tip.offsetWidth : hovered.x + 14;
    const y = hovered.y + 14 + tip.offsetHeight > window.innerHeight
      ? hovered.y - 14 - tip.offsetHeight : hovered.y + 14;
    tip.style.left = Math.max(0, x) + "px";
    tip.style.top = Math.max(0, y) + "px";
  }

  document.querySelectorAll("canvas").forEach(setup);
  document.querySelectorAll("figcaption").forEach(function (el) {
    el.style.width = Math.max(COLS * CELL, 240) + "px";
  });
  tSlider.addEventListener("input", draw);
  aSlider.addEventListener("input", draw);
  logBox.addEventListener("change", draw);
  modeInputs.forEach(function (input) { input.addEventListener("change", draw); });
  draw();
})();
</script>
</body>
</html>
"""
