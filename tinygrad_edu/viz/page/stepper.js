// Step through backprop: replays the timeline that tinygrad_edu.viz.trace read off a real graph.
//
// The page keeps what the engine keeps, one value and one grad per node, and changes them only in
// the three ways the engine does: forward (a result gets its value), seed (backward starts with
// root.grad = 1) and backward (through one node, `parent.grad += local * node.grad` on each edge:
// accumulate). Values and local derivatives come from the engine; the multiply-adds of backward are
// done here, in the engine's order and in float64, so the page's gradients equal `.grad` to the bit.
// (Tensor pages show the arrays the engine computed: their gradients arrive complete.)

const trace = JSON.parse(document.getElementById("trace").textContent);
const steps = trace.steps;
const names = trace.names;
const count = names.length;
const body = document.body;
const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- state: what the engine holds
// Scalars are numbers (the page computes the backward pass in float64, as the engine does);
// tensors are text the engine wrote (their values and gradients are arrays).

const state = { step: 0, data: [], shownData: [], grad: [], shownGrad: [] };

function reset() {
  state.step = 0;
  state.data = trace.value0.map(number);
  state.shownData = trace.shown0.slice();
  state.grad = new Array(count).fill(null);
  state.shownGrad = new Array(count).fill(null);
}

function forward(step) {
  state.data[step.node] = number(step.value);
  state.shownData[step.node] = step.shown;
  for (const [i, value, shown] of step.also || []) [state.data[i], state.shownData[i]] = [number(value), shown];
}

function seed(step) {
  state.grad[step.node] = number(step.grad);
  state.shownGrad[step.node] = step.shown;
}

function backward(step) {
  for (const edge of step.edges) accumulate(step.node, edge);
}

function accumulate(node, edge) {
  if (edge.local === undefined) {
    // a tensor: its gradient is shown once complete, as the engine left it
    if (edge.grad !== undefined) [state.grad[edge.parent], state.shownGrad[edge.parent]] = [edge.grad, edge.shown];
    return;
  }
  const before = state.grad[edge.parent] === null ? 0 : state.grad[edge.parent];
  state.grad[edge.parent] = before + Number(edge.local) * state.grad[node]; // parent.grad += local * node.grad
}

function update() {
  // p′ = p − lr · p.grad is written out, not applied: the drawing keeps this pass's values and gradients
}

const KINDS = { forward, seed, backward, update };

function goTo(target) {
  const k = Math.max(0, Math.min(steps.length, target));
  if (k < state.step) reset();
  while (state.step < k) {
    const step = steps[state.step];
    KINDS[step.kind](step);
    state.step += 1;
  }
  render();
}

// ---------------------------------------------------------------- numbers as text

function number(x) {
  return typeof x === "string" && trace.engine === "value" ? Number(x) : x; // "Infinity", "NaN" from JSON
}

function decimal(x) {
  // plain decimal, shortest round trip (as Python's repr): 1.5e-7 -> 0.00000015
  const text = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, head, tail = "", e] = m;
  const exp = Number(e);
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${head}${tail}`;
  return sign + head + tail + "0".repeat(Math.max(0, exp - tail.length));
}

// A number to n significant digits; a tensor's exact text ("[0.653752753055, ...]") element by element.
const digits = (x, n) => {
  if (typeof x === "number") return String(Number(x.toPrecision(n)));
  return typeof x === "string" ? x.replace(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g, (m) => digits(Number(m), n)) : x;
};
const short = (x) => digits(x, 6); // the arithmetic, as Python's %.6g
const onNode = (x) => digits(x, 4); // on the drawing, as `draw` writes it

// Replay every step once, keeping each edge's numbers, so that any step's arithmetic can be written out.
function record() {
  reset();
  const touched = new Array(count).fill(false);
  for (const step of steps) {
    if (step.kind === "seed") touched[step.node] = true;
    if (step.kind === "backward" && trace.engine === "value") {
      for (const edge of step.edges) {
        edge.g = state.grad[step.node];
        edge.before = touched[edge.parent] ? state.grad[edge.parent] : null;
        accumulate(step.node, edge);
        edge.after = state.grad[edge.parent];
        touched[edge.parent] = true;
      }
    } else {
      KINDS[step.kind](step);
    }
  }
  reset();
}

function edgeLine(step, edge) {
  if (edge.line !== undefined) return edge.line;
  const [p, n] = [names[edge.parent], names[step.node]];
  const local = Number(edge.local);
  let text = `${p}.grad += ${edge.symbol} × ${n}.grad = ${short(local)} × ${short(edge.g)} = ${short(local * edge.g)}`;
  if (edge.before !== null) text += `   (running sum: ${short(edge.before)} + ${short(local * edge.g)} = ${short(edge.after)})`;
  return text;
}

// ---------------------------------------------------------------- the drawing

const drawn = new Array(count).fill(null); // node -> {g, data, grad}: its <g> and its two text fields
const unitOf = (i) => document.querySelector(`g[data-unit="${trace.units[i]}"]`);

for (const g of document.querySelectorAll("g[data-node]")) {
  const entry = { g, data: null, grad: null, rendered: [undefined, undefined] };
  for (const text of g.querySelectorAll("text")) {
    // the last match wins: the fields come after the name, so a name like "data x" cannot take their place
    if (text.textContent.startsWith("data ")) entry.data = text;
    else if (text.textContent.startsWith("grad ")) entry.grad = text;
  }
  drawn[Number(g.dataset.node)] = entry;
  g.addEventListener("click", () => select(Number(g.dataset.node)));
}
for (const g of document.querySelectorAll("g[data-group]")) {
  g.addEventListener("click", () => {
    const members = trace.units.map((u, i) => (u === g.dataset.unit ? i : -1)).filter((i) => i >= 0);
    showGroup(g, members);
  });
}

const shownData = (i) => (typeof state.data[i] === "number" ? onNode(state.data[i]) : state.shownData[i]);
const shownGrad = (i) => (typeof state.grad[i] === "number" ? onNode(state.grad[i]) : state.shownGrad[i]);

let marked = [];
let shownStep = null; // the step whose node was last scrolled into view
let selected = null; // the node whose chain rule the side panel shows

function mark(i, cls) {
  const g = drawn[i] ? drawn[i].g : unitOf(i);
  if (!g) return;
  g.classList.add(cls);
  marked.push([g, cls]);
}

function render() {
  const k = state.step;
  body.dataset.step = String(k);
  $("slider").value = String(k);
  for (let i = 0; i < count; i++) {
    const entry = drawn[i];
    if (!entry) continue;
    const value = state.data[i] === null ? "" : typeof state.data[i] === "number" ? decimal(state.data[i]) : state.data[i];
    const grad = state.grad[i] === null ? "" : typeof state.grad[i] === "number" ? decimal(state.grad[i]) : state.grad[i];
    if (entry.rendered[0] !== value) {
      entry.g.dataset.value = value;
      if (entry.data) entry.data.textContent = "data " + (value === "" ? "?" : shownData(i));
      entry.g.classList.toggle("pending", value === "");
    }
    if (entry.rendered[1] !== grad) {
      entry.g.dataset.grad = grad;
      if (entry.grad) entry.grad.textContent = "grad " + (grad === "" ? "—" : shownGrad(i));
    }
    entry.rendered = [value, grad];
  }
  for (const [g, cls] of marked) g.classList.remove(cls);
  marked = [];
  const step = k > 0 ? steps[k - 1] : null;
  const phase = !step ? "start" : { forward: "forward pass", update: "update" }[step.kind] || "backward pass";
  $("counter").textContent = `step ${k} / ${steps.length} · ${k === steps.length && k > 0 ? "done" : phase}`;
  showStep(step);
  if (step && step !== shownStep) reveal(step.node);
  shownStep = step;
  if (selected !== null) {
    showNode(selected);
    mark(selected, "selected");
  }
  updateHash(k);
  syncQuiz();
}

function showStep(step) {
  const text = $("step-text");
  text.textContent = "";
  if (!step) {
    $("step-title").textContent = "Before the forward pass";
    line(text, "The leaves (inputs and parameters) have their values; every other node is still to be computed.");
    line(text, "Press → (or next) to compute the first result.");
    return;
  }
  mark(step.node, "current");
  if (step.kind === "forward") {
    $("step-title").textContent = `Forward: ${names[step.node]}`;
    for (const t of step.text) line(text, t);
    for (const p of step.parents) mark(p, "source");
  } else if (step.kind === "seed") {
    $("step-title").textContent = "Backward starts";
    for (const t of step.text) line(text, t);
  } else if (step.kind === "update") {
    $("step-title").textContent = `Update: p′ = p − α · ∂${names[trace.root]}/∂p, α = ${step.lr}`;
    line(text, "The step the article ends with: every parameter moves against its gradient.", "note");
    for (const t of step.text) line(text, t);
    for (const p of step.params) mark(p, "target");
  } else {
    $("step-title").textContent = `Backward through ${names[step.node]}`;
    line(text, `${names[step.node]}.grad = ${short(state.grad[step.node])}: each input gets it times a local derivative`, "note");
    for (const t of step.text) line(text, t, "note");
    for (const edge of step.edges) {
      line(text, edgeLine(step, edge));
      mark(edge.parent, "target");
    }
  }
  if (state.step === steps.length && step.kind !== "update") {
    line(text, "Done: every gradient of this backward pass is in place.", "note");
  }
}

function line(parent, text, cls) {
  const div = document.createElement("div");
  div.textContent = text;
  if (cls) div.className = cls;
  parent.appendChild(div);
}


// ---------------------------------------------------------------- zoom and pan
// The drawing opens as large as fits the pane but never below readable text (dot writes 10 pt =
// 13.3 px at 100%; 11 px is the floor); a bigger graph is panned by dragging or scrolling.

const svg = document.querySelector("#graph svg");
const natural = svg ? [svg.width.baseVal.value, svg.height.baseVal.value] : [1, 1];
const READABLE = 11 / 13.333;
let zoom = 1;

function setZoom(z) {
  if (!svg) return;
  zoom = Math.min(4, Math.max(0.05, z));
  svg.style.width = `${natural[0] * zoom}px`;
  svg.style.height = `${natural[1] * zoom}px`;
  $("zoom-level").textContent = `${Math.round(zoom * 100)}%`;
  body.dataset.zoom = zoom.toFixed(3);
}

function fitZoom() {
  const pane = $("graph");
  return Math.min((pane.clientWidth - 16) / natural[0], (pane.clientHeight - 16) / natural[1]);
}

function reveal(i) {
  // scroll the graph pane (only it, only if needed) so node i is in view
  const g = drawn[i] ? drawn[i].g : unitOf(i);
  if (!g) return;
  const pane = $("graph");
  const [box, view] = [g.getBoundingClientRect(), pane.getBoundingClientRect()];
  if (box.left < view.left) pane.scrollLeft -= view.left - box.left + 24;
  else if (box.right > view.right) pane.scrollLeft += Math.min(box.right - view.right + 24, box.left - view.left);
  if (box.top < view.top) pane.scrollTop -= view.top - box.top + 24;
  else if (box.bottom > view.bottom) pane.scrollTop += Math.min(box.bottom - view.bottom + 24, box.top - view.top);
}

const drag = { on: false, x: 0, y: 0, left: 0, top: 0 };
$("graph").addEventListener("pointerdown", (e) => {
  if (e.button !== 0 || e.target.closest("g.node")) return;
  Object.assign(drag, { on: true, x: e.clientX, y: e.clientY, left: $("graph").scrollLeft, top: $("graph").scrollTop });
  $("graph").classList.add("dragging");
});
window.addEventListener("pointermove", (e) => {
  if (!drag.on) return;
  $("graph").scrollLeft = drag.left - (e.clientX - drag.x);
  $("graph").scrollTop = drag.top - (e.clientY - drag.y);
});
window.addEventListener("pointerup", () => {
  drag.on = false;
  $("graph").classList.remove("dragging");
});
$("graph").addEventListener(
  "wheel",
  (e) => {
    if (!e.ctrlKey) return; // a plain wheel scrolls; ctrl + wheel (or a pinch) zooms
    e.preventDefault();
    setZoom(zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1));
  },
  { passive: false },
);
$("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
$("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
$("zoom-fit").addEventListener("click", () => setZoom(fitZoom()));
setZoom(Math.min(1, Math.max(READABLE, fitZoom())));

// ---------------------------------------------------------------- a node's chain rule

function select(i) {
  selected = i;
  render();
  reveal(i);
}

function showNode(i) {
  const panel = $("node-panel");
  panel.hidden = false;
  $("node-title").textContent = names[i] + (trace.ops[i] ? `  (${trace.ops[i]})` : "  (leaf)");
  const text = $("node-text");
  text.textContent = "";
  if (trace.notes[i]) line(text, trace.notes[i], "flag");
  line(text, `value: ${state.data[i] === null ? "not computed yet" : short(state.data[i])}`);
  line(text, `grad: ${state.grad[i] === null ? "not reached yet" : short(state.grad[i])}`);
  const parts = [];
  steps.forEach((step, k) => {
    if (step.kind !== "backward") return;
    for (const edge of step.edges) if (edge.parent === i) parts.push([k, edgeLine(step, edge)]);
  });
  if (parts.length) {
    line(text, `${names[i]}.grad is a sum over the ${parts.length} node(s) it feeds:`, "note");
    for (const [k, t] of parts) line(text, `step ${k + 1}: ${t}`, k < state.step ? "" : "future");
  }
  if (trace.explain[i]) {
    line(text, `The whole chain rule from ${names[trace.root]} down to ${names[i]} (explain):`, "note");
    const pre = document.createElement("pre");
    pre.textContent = trace.explain[i];
    text.appendChild(pre);
  }
}

function showGroup(g, members) {
  selected = null;
  $("node-panel").hidden = false;
  $("node-title").textContent = `${members.length} folded nodes`;
  const text = $("node-text");
  text.textContent = "";
  line(text, "This summary stands for these nodes (their steps light it up):", "note");
  line(text, members.slice(0, 40).map((i) => names[i]).join(", ") + (members.length > 40 ? ", …" : ""));
}

// ---------------------------------------------------------------- quiz: type the next gradient
// The question belongs to the position it was asked at. Every move (buttons, keys, slider, URL) goes
// through render(), which asks again for the new position or hides the question, so an answer is
// never graded against a question that is not on the screen.

const quiz = { step: -1, edge: null, asked: new Map(), keep: false };

function quizEdges(k) {
  const step = steps[k];
  if (trace.engine !== "value" || !step || step.kind !== "backward") return [];
  return step.edges.filter((e) => e.local !== undefined);
}

function pickEdge(k) {
  // running sums first (that is where backprop by hand slips), then every other edge in turn
  const edges = quizEdges(k);
  if (!edges.length) return null;
  const order = [...edges.filter((e) => e.before !== null), ...edges.filter((e) => e.before === null)];
  const times = quiz.asked.get(k) || 0;
  quiz.asked.set(k, times + 1);
  return order[times % order.length];
}

function syncQuiz() {
  if (!$("quiz-mode").checked) {
    [quiz.step, quiz.edge, quiz.keep] = [-1, null, false];
    $("quiz").hidden = true;
    return;
  }
  if (quiz.step === state.step) return; // still here: the same question stays
  quiz.step = state.step;
  quiz.edge = pickEdge(state.step);
  if (!quiz.keep) {
    $("quiz-result").textContent = "";
    $("quiz-result").className = "";
    delete $("quiz-result").dataset.verdict;
  }
  quiz.keep = false;
  $("quiz-answer").value = "";
  $("quiz-form").hidden = quiz.edge === null;
  $("quiz").hidden = quiz.edge === null && !$("quiz-result").textContent;
  if (quiz.edge === null) {
    $("quiz-question").textContent = "";
    return;
  }
  const step = steps[state.step];
  const [n, p] = [names[step.node], names[quiz.edge.parent]];
  const soFar = quiz.edge.before === null ? "" : ` ${p}.grad is ${short(quiz.edge.before)} so far (a running sum).`;
  $("quiz-question").textContent =
    `Backward through ${n}: ${n}.grad = ${short(state.grad[step.node])}.${soFar} ` +
    `What is ${p}.grad after this step? (${p}.grad += ∂${n}/∂${p} × ${n}.grad)`;
  if (document.activeElement !== $("slider")) $("quiz-answer").focus({ preventScroll: true });
}

function significant(text) {
  // significant digits of a typed number: 0.095 -> 2, 0.0951 -> 3, 0.10 -> 2, 95 -> 2; -1 if not a number
  const m = /^[-+]?(\d*)(?:\.(\d*))?(?:e[-+]?\d+)?$/i.exec(text);
  if (!m || (m[1] + (m[2] || "")).length === 0) return -1;
  return (m[1] + (m[2] || "")).replace(/^0+/, "").length;
}

function agrees(given, truth, digits) {
  // right to the digits given: the true value rounded, or cut, to that many significant digits
  if (truth === 0) return given === 0;
  const e = Math.floor(Math.log10(Math.abs(truth)));
  const unit = 10 ** (e - digits + 1);
  const rounded = Math.round(truth / unit) * unit;
  const cut = Math.trunc(truth / unit) * unit;
  return Math.abs(given - rounded) <= unit * 1e-6 || Math.abs(given - cut) <= unit * 1e-6;
}

function hint(given, digits, step, edge) {
  // which factor was off: the candidates a learner gets by leaving one out, or by taking another edge's
  const [n, p] = [names[step.node], names[edge.parent]];
  const [g, local, before] = [edge.g, Number(edge.local), edge.before === null ? 0 : edge.before];
  const factor = `∂${n}/∂${p} = ${edge.symbol} = ${short(local)}`;
  const slips = [];
  if (edge.before !== null) slips.push([local * g, `You left out the running sum: ${p}.grad was ${short(before)} before this step.`]);
  slips.push([before + g, `You multiplied ${n}.grad by 1; the local derivative is ${factor}.`]);
  slips.push([before + local, `You left out ${n}.grad = ${short(g)}; the chain rule multiplies ${factor} by it.`]);
  slips.push([before - local * g, `The sign is off: ${factor} and ${n}.grad = ${short(g)}.`]);
  for (const other of step.edges) {
    if (other === edge || other.local === undefined || Number(other.local) === local) continue;
    const wrong = `${other.symbol} (that is ∂${n}/∂${names[other.parent]})`;
    slips.push([before + Number(other.local) * g, `The local derivative is ${factor}, not ${wrong}.`]);
  }
  for (const [value, text] of slips) if (agrees(given, value, digits)) return text;
  const sum = edge.before === null ? "" : `${short(before)} + `;
  return `The factors: ${factor} and ${n}.grad = ${short(g)}, so ${p}.grad = ${sum}${short(local)} × ${short(g)}.`;
}

function checkQuiz(typed) {
  if (quiz.edge === null || quiz.step !== state.step) return;
  const [step, edge] = [steps[state.step], quiz.edge];
  const answer = edge.after;
  const text = String(typed).trim().replace(",", ".").replace("−", "-");
  const result = $("quiz-result");
  const p = names[edge.parent];
  const digits = significant(text);
  if (typed !== null && digits < 2) {
    result.className = "wrong";
    result.dataset.verdict = "retry";
    result.textContent = digits < 0
      ? `"${typed}" is not a number: type the gradient, e.g. 0.095, or press show me.`
      : `Give at least 2 significant digits (${text} could stand for many values).`;
    return;
  }
  const right = typed !== null && agrees(Number(text), answer, digits);
  let verdict;
  if (typed === null) verdict = ["shown", "", `The answer: ${p}.grad = ${short(answer)}. The arithmetic is above.`];
  else if (right) verdict = ["right", "right", `Right: ${p}.grad = ${short(answer)} (you gave ${digits} significant digits).`];
  else verdict = ["wrong", "wrong", `Not quite: ${p}.grad = ${short(answer)}. ${hint(Number(text), digits, step, edge)}`];
  [result.dataset.verdict, result.className, result.textContent] = verdict;
  quiz.keep = true;
  goTo(state.step + 1); // show the arithmetic; the next question (if any) is asked
}

// ---------------------------------------------------------------- controls

let timer = null;

function next() {
  goTo(state.step + 1);
}

function prev() {
  goTo(state.step - 1);
}

function stop() {
  if (timer !== null) clearInterval(timer);
  timer = null;
  $("play").textContent = "▶ play";
}

function play() {
  if (timer !== null) return stop();
  if (state.step >= steps.length) goTo(0);
  $("play").textContent = "⏸ pause";
  timer = setInterval(() => {
    if (state.step >= steps.length) return stop();
    next();
    if (quiz.edge !== null) stop(); // a question waits for its answer
  }, 700);
}

function updateHash(k) {
  const hash = `#step=${k === steps.length ? "end" : k}`;
  if (location.hash === hash) return;
  try {
    history.replaceState(null, "", hash);
  } catch (error) {
    // about:srcdoc (a notebook's iframe) has no URL to update; the page works the same.
  }
}

function fromHash() {
  const m = /step=(end|\d+)/.exec(location.hash);
  if (!m) return 0;
  return m[1] === "end" ? steps.length : Number(m[1]);
}

$("first").addEventListener("click", () => goTo(0));
$("prev").addEventListener("click", prev);
$("next").addEventListener("click", next);
$("last").addEventListener("click", () => goTo(steps.length));
$("play").addEventListener("click", play);
$("slider").addEventListener("input", (e) => goTo(Number(e.target.value)));
$("quiz-form").addEventListener("submit", (e) => {
  e.preventDefault();
  checkQuiz($("quiz-answer").value);
});
$("quiz-skip").addEventListener("click", () => checkQuiz(null));
$("quiz-mode").addEventListener("change", () => {
  quiz.step = -1;
  syncQuiz();
});
if (trace.engine !== "value") {
  // a tensor step moves whole arrays at once; there is no single number to ask for
  $("quiz-mode").disabled = true;
  $("quiz-mode").parentElement.title = "The quiz asks for one gradient at a time: scalar (Value) graphs only.";
  $("quiz-mode").parentElement.classList.add("off");
  $("quiz-mode").parentElement.lastChild.textContent = " quiz mode (Value graphs only)";
}
window.addEventListener("hashchange", () => goTo(fromHash()));
document.addEventListener("keydown", (e) => {
  const tag = e.target && e.target.tagName;
  if (tag === "INPUT" && e.target.type !== "range" && e.target.type !== "checkbox") return;
  const actions = {
    ArrowRight: next,
    ArrowLeft: prev,
    " ": play,
    Home: () => goTo(0),
    End: () => goTo(steps.length),
    "+": () => setZoom(zoom * 1.25),
    "=": () => setZoom(zoom * 1.25),
    "-": () => setZoom(zoom / 1.25),
  };
  const action = actions[e.key];
  if (!action) return;
  e.preventDefault();
  action();
});

const list = $("names");
const seen = new Set();
for (const name of names) {
  if (seen.has(name) || seen.size >= 2000) continue;
  seen.add(name);
  const option = document.createElement("option");
  option.value = name;
  list.appendChild(option);
}
$("search").addEventListener("change", (e) => {
  const wanted = e.target.value.trim();
  if (!wanted) return;
  let i = names.indexOf(wanted);
  if (i < 0) i = names.findIndex((n) => n.toLowerCase().startsWith(wanted.toLowerCase()));
  if (i >= 0) select(i);
  e.target.setCustomValidity(i >= 0 ? "" : `no node named ${wanted}`);
  e.target.reportValidity();
});

record();
goTo(fromHash());
