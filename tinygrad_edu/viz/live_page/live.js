// Watch it learn: draws the frames of plain numbers the server sends (or the recording holds).
// The page computes nothing about the model: weights, gradients, the boundary and the losses all come
// from Python. Live, it polls /state and posts commands to /control; recorded, a slider picks a frame.
"use strict";

const DATA = JSON.parse(document.getElementById("data").textContent);
const META = DATA.meta;
const LIVE = DATA.mode === "live";
const WIDE = 24; // a layer with more neurons than this is drawn as a heat map of its matrix
const CLASS_COLOURS = [[224, 130, 20], [33, 102, 172], [27, 158, 119], [117, 112, 179], [231, 41, 138],
  [102, 166, 30], [230, 171, 2], [166, 118, 29], [102, 102, 102], [190, 30, 45]];
const POSITIVE = "#2166ac", NEGATIVE = "#e08214";

const $ = (id) => document.getElementById(id);
const svgNS = "http://www.w3.org/2000/svg";
const fmt = (v) => (v === null || v === undefined ? "" : Number(v).toPrecision(4));

let losses = []; // live: one per step from step 0; recorded: [step, loss] pairs
let points = [];
let frame = null;

// ---------------------------------------------------------------------- the network

let net = null; // the SVG elements of the drawn network, built once per shape

function svg(tag, attrs, parent) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

function tip(el, text) {
  let t = el.firstChild;
  if (!t || t.nodeName !== "title") t = el.insertBefore(document.createElementNS(svgNS, "title"), el.firstChild);
  t.textContent = text;
}

function buildNetwork(layers) {
  const root = $("network");
  root.replaceChildren();
  const sizes = [layers[0].w[0].length, ...layers.map((l) => l.w.length)];
  const W = 600, H = 400, pad = 30, side = 50; // side: room for the first and last columns' labels
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const xs = sizes.map((_, k) => side + (k * (W - 2 * side)) / (sizes.length - 1));
  const ys = sizes.map((n) => Array.from({ length: n }, (_, i) => (n === 1 ? H / 2 : pad + (i * (H - 2 * pad)) / (n - 1))));
  const edgeLayer = svg("g", {}, root), nodeLayer = svg("g", {}, root);
  const built = { sizes, edges: [], cells: [], neurons: [] };
  layers.forEach((layer, k) => {
    const nIn = sizes[k], nOut = sizes[k + 1];
    if (nIn > WIDE || nOut > WIDE) { // the matrix as a heat map between the two columns
      const x0 = xs[k] + 14, x1 = xs[k + 1] - 14, cw = (x1 - x0) / nIn, ch = (H - 2 * pad) / nOut;
      built.cells.push(layer.w.map((row, i) => row.map((_, j) =>
        svg("rect", { x: x0 + j * cw, y: pad + i * ch, width: cw + 0.2, height: ch + 0.2, class: "cell" }, edgeLayer))));
      built.edges.push(null);
    } else {
      built.edges.push(layer.w.map((row, i) => row.map((_, j) =>
        svg("line", { x1: xs[k], y1: ys[k][j], x2: xs[k + 1], y2: ys[k + 1][i], class: "edge" }, edgeLayer))));
      built.cells.push(null);
    }
  });
  sizes.forEach((n, k) => {
    if (n > WIDE) { // a column too tall for circles: one bar
      const bar = svg("rect", { x: xs[k] - 6, y: pad, width: 12, height: H - 2 * pad, fill: "#ddd", class: "neuron" }, nodeLayer);
      tip(bar, `${n} ${k === 0 ? "inputs" : "neurons"}`);
      built.neurons.push(null);
    } else {
      built.neurons.push(ys[k].map((y) => svg("circle", { cx: xs[k], cy: y, r: n > 12 ? 6 : 9, fill: "#fff", class: "neuron" }, nodeLayer)));
      if (k === 0) built.neurons[0].forEach((c, j) => tip(c, `input x${j + 1}`));
    }
    const label = k === 0 ? "input" : k === sizes.length - 1 ? "output" : `hidden ${k}`;
    const act = k > 0 && layers[k - 1].act ? ` (${layers[k - 1].act})` : "";
    svg("text", { x: xs[k], y: H - 6, "text-anchor": "middle" }, nodeLayer).textContent = label + act;
  });
  return built;
}

function weightColour(v, scale) {
  const t = Math.min(1, Math.abs(v) / scale);
  return { colour: v >= 0 ? POSITIVE : NEGATIVE, opacity: 0.15 + 0.85 * t, width: 0.4 + 4 * t };
}

function drawNetwork(layers) {
  if (!layers) {
    $("network-note").hidden = false;
    $("network-note").textContent = "This model is not a chain of dense layers, so only its boundary and loss are drawn.";
    return;
  }
  const shape = [layers[0].w[0].length, ...layers.map((l) => l.w.length)].join("-");
  if (!net || net.shape !== shape) { net = buildNetwork(layers); net.shape = shape; }
  layers.forEach((layer, k) => {
    const scale = Math.max(1e-12, ...layer.w.flat().map(Math.abs));
    const name = layer.name;
    const each = (els, draw) => els && els.forEach((row, i) => row.forEach((el, j) => draw(el, layer.w[i][j], layer.gw[i][j], i, j)));
    each(net.edges[k], (el, w, g, i, j) => {
      const c = weightColour(w, scale);
      el.setAttribute("stroke", c.colour);
      el.setAttribute("stroke-opacity", c.opacity.toFixed(2));
      el.setAttribute("stroke-width", c.width.toFixed(2));
      tip(el, `${name}.weight[${i}][${j}] = ${fmt(w)}\ngradient ${fmt(g)}`);
    });
    each(net.cells[k], (el, w, g, i, j) => {
      const c = weightColour(w, scale);
      el.setAttribute("fill", c.colour);
      el.setAttribute("fill-opacity", c.opacity.toFixed(2));
      tip(el, `${name}.weight[${i}][${j}] = ${fmt(w)}\ngradient ${fmt(g)}`);
    });
    const neurons = net.neurons[k + 1];
    if (neurons && layer.b.length) {
      const bscale = Math.max(1e-12, ...layer.b.map(Math.abs));
      neurons.forEach((el, i) => {
        const c = weightColour(layer.b[i], bscale);
        el.setAttribute("fill", c.colour);
        el.setAttribute("fill-opacity", (c.opacity * 0.8).toFixed(2));
        tip(el, `${name}.bias[${i}] = ${fmt(layer.b[i])}\ngradient ${fmt(layer.gb[i])}`);
      });
    }
  });
}

// ---------------------------------------------------------------------- the decision boundary

const boundary = $("boundary");
const heat = document.createElement("canvas");

function toPixel(x, y) {
  const b = META.box;
  return [((x - b[0]) / (b[1] - b[0])) * boundary.width, ((b[3] - y) / (b[3] - b[2])) * boundary.height];
}

function toData(px, py) {
  const b = META.box;
  return [b[0] + (px / boundary.width) * (b[1] - b[0]), b[3] - (py / boundary.height) * (b[3] - b[2])];
}

function drawBoundary(cells) {
  const ctx = boundary.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, boundary.width, boundary.height);
  if (cells) {
    const n = META.grid, bytes = atob(cells), levels = Math.floor(256 / Math.max(META.n_classes, 2));
    heat.width = heat.height = n;
    const hctx = heat.getContext("2d"), image = hctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const byte = bytes.charCodeAt(i), rgb = CLASS_COLOURS[Math.floor(byte / levels) % CLASS_COLOURS.length];
      const a = 0.12 + 0.6 * ((byte % levels) / (levels - 1));
      for (let c = 0; c < 3; c++) image.data[4 * i + c] = Math.round(255 * (1 - a) + rgb[c] * a);
      image.data[4 * i + 3] = 255;
    }
    hctx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heat, 0, 0, boundary.width, boundary.height);
  }
  for (const [x, y, cls] of points) {
    const [px, py] = toPixel(x, y), rgb = CLASS_COLOURS[cls % CLASS_COLOURS.length];
    ctx.beginPath();
    ctx.arc(px, py, 4.5, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${rgb.join(",")})`;
    ctx.fill();
    ctx.lineWidth = 1.2;
    ctx.strokeStyle = "#fff";
    ctx.stroke();
  }
}

// ---------------------------------------------------------------------- the loss curve

function drawLoss(pairs, upTo) {
  const canvas = $("loss-curve"), ctx = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  const left = 48, bottom = 22, top = 8, right = 8;
  ctx.clearRect(0, 0, W, H);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#444";
  ctx.strokeStyle = "#bbb";
  ctx.strokeRect(left, top, W - left - right, H - top - bottom);
  if (!pairs.length) return;
  const lastStep = Math.max(1, pairs[pairs.length - 1][0]);
  let high = 0;
  for (const [, v] of pairs) if (Number.isFinite(v)) high = Math.max(high, v);
  high = high || 1;
  const X = (s) => left + (s / lastStep) * (W - left - right), Y = (v) => top + (1 - v / high) * (H - top - bottom);
  ctx.fillText(fmt(high), 2, top + 10);
  ctx.fillText("0", 2, H - bottom);
  ctx.fillText("step " + lastStep, W - right - 70, H - 6);
  const stride = Math.max(1, Math.floor(pairs.length / 1000));
  const trace = (until, colour) => {
    ctx.beginPath();
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    let started = false;
    for (let k = 0; k < pairs.length; k += stride) {
      const [s, v] = pairs[Math.min(k, pairs.length - 1)];
      if (s > until) break;
      if (!Number.isFinite(v)) continue;
      started ? ctx.lineTo(X(s), Y(v)) : ctx.moveTo(X(s), Y(v));
      started = true;
    }
    const [s, v] = pairs[pairs.length - 1];
    if (s <= until && Number.isFinite(v)) ctx.lineTo(X(s), Y(v));
    ctx.stroke();
  };
  if (upTo < lastStep) trace(Infinity, "#ddd");
  trace(upTo, "#1f4e79");
}

// ---------------------------------------------------------------------- the page's state

function show(f) {
  frame = f;
  drawNetwork(f.network);
  if (META.box) drawBoundary(f.boundary);
  const body = document.body.dataset;
  body.step = String(f.step);
  body.epoch = String(f.epoch);
  body.loss = f.loss === null || f.loss === undefined ? "" : String(f.loss);
  body.points = String(points.length);
  $("counter").textContent = `step ${f.step} · epoch ${f.epoch} · loss ${fmt(f.loss)}`;
}

function say(text, error) {
  const el = $("message");
  el.textContent = text || "";
  el.classList.toggle("error", Boolean(error));
}

function setupPlot() {
  if (META.box) return;
  $("boundary").hidden = true;
  $("boundary-note").hidden = false;
  $("boundary-note").textContent = `The data has ${META.features} features, so there is no 2-D plot of the boundary.`;
}

// ---------------------------------------------------------------------- live: poll and steer

let pollTimer = null;

async function poll() {
  let wait = 100;
  try {
    const f = frame ? frame.id : -1;
    const response = await fetch(`/state?since=${losses.length}&frame=${f}&points=${pointsVersion}`, { cache: "no-store" });
    if (response.ok) {
      const state = await response.json();
      apply(state);
      if (state.stopped) {
        $("state").textContent = "(training has ended: the server has stopped)";
        return; // no more polls: the server is going away
      }
    } else wait = 1000;
  } catch (error) {
    wait = 1000; // the server stopped: try again, quietly
    $("state").textContent = "(the server is not answering)";
  }
  pollTimer = setTimeout(poll, wait);
}

let pointsVersion = -1;
const shown = { lr: undefined, speed: undefined }; // the server's values the controls last showed

function apply(state) {
  if (state.losses) {
    losses = losses.slice(0, state.since).concat(state.losses);
  }
  if (state.points) { points = state.points; pointsVersion = state.points_version; }
  const newFrame = state.frame || frame;
  if (newFrame) show(newFrame);
  const body = document.body.dataset;
  body.step = String(state.step);
  body.epoch = String(state.epoch);
  body.loss = String(state.loss);
  body.points = String(state.n_points);
  $("counter").textContent = `step ${state.step} · epoch ${state.epoch} · loss ${fmt(state.loss)}`;
  if (state.error) say(state.error, true);
  $("state").textContent = state.finished ? `(reached ${state.epoch} epochs: paused; add a point to go on)` : state.paused ? "(paused)" : "";
  $("pause").textContent = state.paused || state.finished ? "resume" : "pause";
  $("pause").dataset.paused = String(state.paused || state.finished);
  // the controls show the server's values when those change, never over what the learner is typing
  if (state.lr !== shown.lr) {
    shown.lr = state.lr;
    if (state.lr !== null && document.activeElement !== $("lr")) $("lr").value = String(state.lr);
  }
  if (state.speed !== shown.speed) {
    shown.speed = state.speed;
    const speed = $("speed"), value = String(state.speed);
    if (![...speed.options].some((o) => o.value === value)) speed.add(new Option(`${value} steps/s`, value));
    speed.value = value;
  }
  drawLoss(losses.map((v, s) => [s, v]), Infinity);
}

async function send(command) {
  try {
    const response = await fetch("/control", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(command) });
    const answer = await response.json();
    if (!response.ok) say(answer.error || `refused (${response.status})`, true);
    else say(answer.message || "", false);
    return response.ok;
  } catch (error) {
    say("the server is not answering", true);
    return false;
  }
}

function setupLive() {
  const classes = $("point-class");
  for (let c = 0; c < META.n_classes; c++) {
    const rgb = CLASS_COLOURS[c % CLASS_COLOURS.length];
    const option = new Option(`class ${c}`, String(c));
    option.style.color = `rgb(${rgb.join(",")})`;
    classes.add(option);
  }
  $("pause").addEventListener("click", () => send({ action: $("pause").dataset.paused === "true" ? "resume" : "pause" }));
  $("step-once").addEventListener("click", () => send({ action: "step" }));
  $("lr").addEventListener("change", () => {
    const text = $("lr").value; // "" while empty, or when what was typed is not a number
    if (text === "") say("type a learning rate: a number > 0", true);
    else {
      shown.lr = Number(text); // what the server will say back: no need to write it over the input
      send({ action: "lr", value: Number(text) });
    }
  });
  $("speed").addEventListener("change", () => {
    shown.speed = Number($("speed").value);
    send({ action: "speed", value: shown.speed });
  });
  boundary.addEventListener("click", (event) => {
    const px = (event.offsetX * boundary.width) / boundary.clientWidth, py = (event.offsetY * boundary.height) / boundary.clientHeight;
    const [x, y] = toData(px, py);
    if (event.shiftKey) send({ action: "delete", x, y });
    else send({ action: "add", x, y, cls: Number(classes.value) });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === " " && event.target === document.body) { event.preventDefault(); $("pause").click(); }
  });
  poll();
}

// ---------------------------------------------------------------------- recorded: a slider over the frames

function setupRecording() {
  document.querySelectorAll(".live-only").forEach((el) => (el.hidden = true));
  document.querySelector(".record-only").hidden = false;
  const frames = DATA.frames, slider = $("frame");
  losses = DATA.losses;
  slider.max = String(frames.length - 1);
  document.body.dataset.frames = String(frames.length);
  // each frame's points: the last ones recorded at or before it
  let current = [];
  const pointsAt = frames.map((f) => (current = f.points || current));
  const open = (k) => {
    k = Math.max(0, Math.min(frames.length - 1, k));
    slider.value = String(k);
    points = pointsAt[k];
    show(frames[k]);
    document.body.dataset.frame = String(k);
    $("state").textContent = `(frame ${k + 1} of ${frames.length})`;
    drawLoss(losses, frames[k].step);
  };
  const fromHash = () => {
    const match = /frame=(end|\d+)/.exec(location.hash);
    open(!match ? 0 : match[1] === "end" ? frames.length - 1 : Number(match[1]));
  };
  slider.addEventListener("input", () => open(Number(slider.value)));
  window.addEventListener("hashchange", fromHash);
  let playing = null;
  $("play").addEventListener("click", () => {
    if (playing) { clearInterval(playing); playing = null; $("play").textContent = "▶ play"; return; }
    if (Number(slider.value) >= frames.length - 1) open(0);
    $("play").textContent = "❚❚ pause";
    playing = setInterval(() => {
      if (Number(slider.value) >= frames.length - 1) { $("play").click(); return; }
      open(Number(slider.value) + 1);
    }, 50);
  });
  fromHash();
}

setupPlot();
if (LIVE) setupLive();
else setupRecording();
