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

const KINDS = { forward, seed, backward };

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

const digits = (x, n) => (typeof x === "number" ? String(Number(x.toPrecision(n))) : x);
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
  const phase = !step ? "start" : step.kind === "forward" ? "forward pass" : "backward pass";
  $("counter").textContent = `step ${k} / ${steps.length} · ${k === steps.length && k > 0 ? "done" : phase}`;
  showStep(step);
  if (step && step !== shownStep) {
    const g = drawn[step.node] ? drawn[step.node].g : unitOf(step.node);
    if (g && g.scrollIntoView) g.scrollIntoView({ block: "nearest", inline: "nearest" });
  }
  shownStep = step;
  if (selected !== null) {
    showNode(selected);
    mark(selected, "selected");
  }
  updateHash(k);
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
  } else {
    $("step-title").textContent = `Backward through ${names[step.node]}`;
    line(text, `${names[step.node]}.grad = ${short(state.grad[step.node])}: each input gets it times a local derivative`, "note");
    for (const t of step.text) line(text, t, "note");
    for (const edge of step.edges) {
      line(text, edgeLine(step, edge));
      mark(edge.parent, "target");
    }
  }
  if (state.step === steps.length) line(text, "Done: every gradient of this backward pass is in place.", "note");
}

function line(parent, text, cls) {
  const div = document.createElement("div");
  div.textContent = text;
  if (cls) div.className = cls;
  parent.appendChild(div);
}


// ---------------------------------------------------------------- a node's chain rule

function select(i) {
  selected = i;
  render();
  const g = drawn[i] ? drawn[i].g : unitOf(i);
  if (g && g.scrollIntoView) g.scrollIntoView({ block: "nearest", inline: "nearest" });
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

function quizEdge() {
  const step = steps[state.step];
  if (!$("quiz-mode").checked || trace.engine !== "value" || !step || step.kind !== "backward") return null;
  return step.edges.find((e) => e.local !== undefined) || null;
}

function askQuiz(edge) {
  const step = steps[state.step];
  $("quiz").hidden = false;
  $("quiz-result").textContent = "";
  delete $("quiz-result").dataset.verdict;
  const [n, p] = [names[step.node], names[edge.parent]];
  const so_far = edge.before === null ? "" : ` It is ${short(edge.before)} so far (a running sum).`;
  $("quiz-question").textContent =
    `Backward through ${n}: ${n}.grad = ${short(state.grad[step.node])}.${so_far} ` +
    `What is ${p}.grad after this step? (${p}.grad += ∂${n}/∂${p} × ${n}.grad)`;
  $("quiz-answer").value = "";
  $("quiz-answer").focus();
}

function checkQuiz(typed) {
  const edge = quizEdge();
  if (!edge) return;
  const answer = edge.after;
  const tolerance = Math.max(5e-4 * Math.abs(answer), 1e-6);
  const given = Number(String(typed).trim().replace(",", "."));
  const right = String(typed).trim() !== "" && Math.abs(given - answer) <= tolerance;
  const result = $("quiz-result");
  goTo(state.step + 1); // show the arithmetic either way
  result.dataset.verdict = right ? "right" : "wrong";
  result.className = right ? "right" : "wrong";
  result.textContent = right
    ? `Right: ${names[edge.parent]}.grad = ${short(answer)} (within ±${tolerance.toPrecision(2)}).`
    : `Wrong: you typed ${typed || "nothing"}, but ${names[edge.parent]}.grad = ${short(answer)} ` +
      `(tolerance ±${tolerance.toPrecision(2)}). The arithmetic is above.`;
}

// ---------------------------------------------------------------- controls

let timer = null;
let askedAt = -1; // the step whose quiz question is showing

function next() {
  const edge = quizEdge();
  if (edge && askedAt !== state.step) {
    stop();
    askedAt = state.step;
    askQuiz(edge);
    return;
  }
  if (!edge) $("quiz").hidden = true;
  goTo(state.step + 1);
}

function prev() {
  $("quiz").hidden = true;
  askedAt = -1;
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
$("quiz-skip").addEventListener("click", () => checkQuiz(""));
$("fit").addEventListener("change", (e) => $("graph").classList.toggle("fit", e.target.checked));
$("quiz-mode").addEventListener("change", () => {
  $("quiz").hidden = true;
});
window.addEventListener("hashchange", () => goTo(fromHash()));
document.addEventListener("keydown", (e) => {
  const tag = e.target && e.target.tagName;
  if (tag === "INPUT" && e.target.type !== "range" && e.target.type !== "checkbox") return;
  const actions = { ArrowRight: next, ArrowLeft: prev, " ": play, Home: () => goTo(0), End: () => goTo(steps.length) };
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
