// sora-uq explore: every assumption a slider; the intervals, distributions and tornado follow.
//
// The page keeps the user's changes as overrides of the loaded prior file ({NAME: table}), posts
// them to /api/summary (debounced), and draws the answer. The previous answer stays on screen
// until a newer one arrives; answers to superseded requests are dropped.

const DEBOUNCE_MS = 120;
const SVG = "http://www.w3.org/2000/svg";

const state = {
  info: null,         // /api/priors: the file's assumptions and the model's outputs
  overrides: {},      // NAME -> table, as in a prior file
  sent: 0,            // number of the latest request
  timer: null,
};

// --- numbers --------------------------------------------------------------------------------

const SUFFIXES = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]];

// Three significant digits, k/M/B/T for counts, scientific beyond 1e15 or below 1e-3
// (as the reports write them).
export function format(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(value)) return "n/a";
  const magnitude = Math.abs(value);
  if (magnitude === 0) return "0";
  if (magnitude >= 1e15 || magnitude < 1e-3) {
    const [mantissa, exponent] = value.toExponential(digits - 1).split("e");
    return `${mantissa}e${Number(exponent)}`;
  }
  for (const [scale, suffix] of SUFFIXES) {
    if (magnitude >= scale) return sig(value / scale, digits) + suffix;
  }
  return sig(value, digits);
}

function sig(value, digits) {
  return String(Number(value.toPrecision(digits)));
}

// A number as a field shows it: six significant digits, exponent form when long (8e+20).
function fieldText(value) {
  const short = Number(value.toPrecision(6));
  const magnitude = Math.abs(short);
  return magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)
    ? short.toExponential().replace("e+", "e") : String(short);
}

function withUnit(label, unit) {
  return unit && !label.includes(unit) ? `${label} (${unit})` : label;
}

function percent(fraction) {  // as the reports word it: 0.38 -> "38th"; "below 1st", "above 99th"
  if (fraction === null || fraction === undefined) return "n/a";
  const n = Math.round(100 * fraction);
  if (n <= 0) return "below 1st";
  if (n >= 100) return "above 99th";
  const suffix = (n % 100 >= 11 && n % 100 <= 13) ? "th" : ({1: "st", 2: "nd", 3: "rd"}[n % 10] || "th");
  return `${n}${suffix}`;
}

// The model's reference figure for an output: one value or a range (the article's 4.21k to
// 10.5k H100-months), as in the reports; none when the model marks none.
function marks(stats) {
  if (stats.article_range) return stats.article_range;
  return (stats.article_value === undefined || stats.article_value === null) ? [] : [stats.article_value];
}

function markWords(stats) {
  const values = marks(stats);
  if (values.length === 0) return ["", ""];
  const shares = stats.article_range ? stats.article_range_percentiles : [stats.article_percentile];
  return [values.map((v) => format(v)).join(" to "), shares.map(percent).join(" to ")];
}

// --- talking to the server ------------------------------------------------------------------

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) {
    const error = new Error(data.error || response.statusText);
    error.assumption = data.assumption;
    throw error;
  }
  return data;
}

function status(text, busy = false) {
  const line = document.getElementById("status");
  line.textContent = text;
  line.classList.toggle("busy", busy);
  return line;
}

function scheduleSummary() {
  clearTimeout(state.timer);
  state.timer = setTimeout(requestSummary, DEBOUNCE_MS);
}

async function requestSummary() {
  const number = ++state.sent;
  const started = performance.now();
  status("updating…", true);
  try {
    const answer = await api("/api/summary", {assumptions: state.overrides});
    if (number !== state.sent) return;  // a newer request is on its way
    clearErrors();
    drawAnswer(answer);
    status(`updated in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  } catch (error) {
    if (number !== state.sent) return;
    showError(error);
  }
}

// --- the assumptions ------------------------------------------------------------------------

function sliderScale(value, entry) {
  if (entry.kind === "share") return {log: false, lo: 0, hi: 1};
  if (value > 0 && (entry.kind === "positive" || entry.nonnegative)) {
    return {log: true, lo: value / 10, hi: value * 10};
  }
  const width = 2 * Math.max(Math.abs(value), 1);
  return {log: false, lo: value - width, hi: value + width};
}

function toPosition(value, scale) {
  const f = scale.log
    ? (Math.log(value) - Math.log(scale.lo)) / (Math.log(scale.hi) - Math.log(scale.lo))
    : (value - scale.lo) / (scale.hi - scale.lo);
  return Math.round(1000 * Math.min(Math.max(f, 0), 1));
}

function fromPosition(position, scale) {
  const f = position / 1000;
  const value = scale.log
    ? Math.exp(Math.log(scale.lo) + f * (Math.log(scale.hi) - Math.log(scale.lo)))
    : scale.lo + f * (scale.hi - scale.lo);
  return Number(value.toPrecision(4));
}

// The numbers of a table the page edits: [path, label, value] (path into the table).
function numbersOf(spec) {
  const rows = [];
  for (const [key, value] of Object.entries(spec)) {
    if (key === "dist") continue;
    if (typeof value === "number") {
      rows.push([[key], key, value]);
    } else if (Array.isArray(value) && key === "ci") {
      rows.push([[key, 0], "5%", value[0]], [[key, 1], "95%", value[1]]);
    } else if (Array.isArray(value) && key === "quantiles") {
      value.forEach((pair, i) => rows.push([[key, i, 1], `p = ${pair[0]}`, pair[1]]));
    } else if (Array.isArray(value) && value.every((v) => typeof v === "number")) {
      value.forEach((v, i) => rows.push([[key, i], `${key} ${i + 1}`, v]));
    }
  }
  return rows;
}

function setPath(table, path, value) {
  let target = table;
  for (const step of path.slice(0, -1)) target = target[step];
  target[path[path.length - 1]] = value;
}

function currentTable(name) {
  return structuredClone(state.overrides[name] || state.info.assumptions[name].spec);
}

function buildAssumption(name, entry) {
  const card = document.createElement("section");
  card.className = "assumption";
  card.dataset.name = name;
  const title = document.createElement("h3");
  title.textContent = withUnit(entry.label, entry.unit);
  const code = document.createElement("div");
  code.className = "name";
  code.textContent = name;
  const family = document.createElement("div");
  family.className = "family";
  family.textContent = `in the file: ${entry.family}`;
  card.append(title, code, family);

  const rows = numbersOf(entry.spec);
  if (rows.length === 0) {
    const note = document.createElement("div");
    note.className = "readonly";
    note.textContent = "Edit this one in the prior file (not a slider).";
    card.append(note);
  }
  for (const [path, label, value] of rows) card.append(buildField(name, entry, path, label, value));

  const error = document.createElement("div");
  error.className = "error";
  error.hidden = true;
  const source = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "source";
  source.append(summary, document.createTextNode(entry.source));
  card.append(error, source);
  return card;
}

function buildField(name, entry, path, label, value) {
  const row = document.createElement("div");
  row.className = "field";
  const id = `${name}-${path.join("-")}`;
  const caption = document.createElement("label");
  caption.htmlFor = id;
  caption.textContent = label;
  const slider = document.createElement("input");
  slider.type = "range";
  slider.min = "0";
  slider.max = "1000";
  slider.step = "1";
  slider.setAttribute("aria-label", `${name} ${label}`);
  const scale = sliderScale(value, entry);
  slider.value = String(toPosition(value, scale));
  const number = document.createElement("input");
  number.type = "number";
  number.id = id;
  number.step = "any";
  number.value = fieldText(value);

  const change = (newValue) => {
    const table = currentTable(name);
    setPath(table, path, newValue);
    state.overrides[name] = table;
    row.closest(".assumption").classList.add("changed");
    scheduleSummary();
  };
  slider.addEventListener("input", () => {
    const newValue = fromPosition(Number(slider.value), scale);
    number.value = fieldText(newValue);
    number.classList.remove("bad");
    change(newValue);
  });
  number.addEventListener("input", () => {
    const newValue = Number(number.value);
    if (number.value.trim() === "" || !Number.isFinite(newValue)) {
      number.classList.add("bad");
      showFieldError(name, "not a number");
      return;
    }
    number.classList.remove("bad");
    slider.value = String(toPosition(newValue, scale));
    change(newValue);
  });
  row.append(caption, slider, number);
  return row;
}

function buildAssumptions() {
  const uncertain = document.getElementById("assumptions");
  const fixed = document.getElementById("fixed");
  uncertain.replaceChildren();
  fixed.replaceChildren();
  for (const [name, entry] of Object.entries(state.info.assumptions)) {
    (entry.fixed ? fixed : uncertain).append(buildAssumption(name, entry));
  }
}

// --- errors ---------------------------------------------------------------------------------

function clearErrors() {
  for (const box of document.querySelectorAll(".assumption .error")) {
    box.hidden = true;
    box.textContent = "";
  }
  for (const field of document.querySelectorAll("input.bad")) field.classList.remove("bad");
}

function showFieldError(name, message) {
  const card = document.querySelector(`.assumption[data-name="${CSS.escape(name)}"]`);
  if (!card) return false;
  const box = card.querySelector(".error");
  box.textContent = message;
  box.hidden = false;
  return true;
}

function showError(error) {
  clearErrors();
  if (error.assumption && showFieldError(error.assumption, error.message)) {
    const card = document.querySelector(`.assumption[data-name="${CSS.escape(error.assumption)}"]`);
    for (const field of card.querySelectorAll("input[type=number]")) field.classList.add("bad");
    status(`not updated: ${error.assumption} needs a fix (the results shown are the last valid ones)`);
  } else {
    status(`not updated: ${error.message}`);
  }
}

// --- the answer -----------------------------------------------------------------------------

function drawAnswer(answer) {
  const outputs = state.info.outputs;
  const body = document.querySelector("#headline tbody");
  body.replaceChildren();
  // A model that marks no reference figure (a user's own) gets no empty figure columns.
  const marked = answer.headline.some((name) => marks(answer.outputs[name]).length > 0);
  document.getElementById("headline").classList.toggle("unmarked", !marked);
  for (const name of answer.headline) {
    const stats = answer.outputs[name];
    const row = document.createElement("tr");
    row.dataset.output = name;
    const cells = [
      withUnit(outputs[name].label, outputs[name].unit),
      format(stats.median),
      `${format(stats.eti_50[0])} to ${format(stats.eti_50[1])}`,
      `${format(stats.eti_90[0])} to ${format(stats.eti_90[1])}`,
      ...markWords(stats),
    ];
    cells.forEach((text, i) => {
      const cell = document.createElement("td");
      cell.textContent = text;
      if (i > 0) cell.className = "num";
      if (i === 1) cell.dataset.median = String(stats.median);
      row.append(cell);
    });
    body.append(row);
  }
  document.getElementById("mcse").textContent =
    `${answer.samples.toLocaleString("en")} draws with one fixed seed (${answer.seed}), so the ` +
    `numbers move only with the assumptions; Monte Carlo error of the 90% intervals' ends: ` +
    `at most ${(100 * answer.relative_mcse).toFixed(1)}% (relative).`;
  drawCharts(answer);
}

function drawCharts(answer) {
  const charts = document.getElementById("charts");
  charts.replaceChildren();
  for (const name of answer.headline) {
    const card = document.createElement("div");
    card.className = "chart";
    card.dataset.output = name;
    const title = document.createElement("h3");
    title.textContent = withUnit(state.info.outputs[name].label, state.info.outputs[name].unit);
    const legend = document.createElement("p");
    legend.className = "caption";
    const stats = answer.outputs[name];
    legend.textContent = `Distribution${answer.histograms[name].log10 ? " (log scale)" : ""}: ` +
      "median solid, 90% interval dashed" +
      (marks(stats).length ? `, ${state.info.marks_owner} figure orange.` : ".");
    card.append(title, distribution(answer, name), legend);
    if (answer.tornado[name]) {
      const note = document.createElement("p");
      note.className = "caption";
      note.textContent = "What moves it most: each assumption alone at its 5% (blue) and " +
        `95% (orange) points, the others at their medians (${format(answer.tornado[name].base)}).`;
      card.append(tornado(answer.tornado[name], name), note);
    }
    charts.append(card);
  }
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

// Ticks on a log10 axis at powers of ten (and 2, 5 between when the span is short).
function logTicks(lo, hi) {
  const ticks = [];
  const steps = hi - lo < 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of steps) {
      const t = e + Math.log10(m);
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks;
}

function linearTicks(lo, hi) {
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
  return ticks.slice(0, 8);
}

function distribution(answer, name) {
  const h = answer.histograms[name];
  const stats = answer.outputs[name];
  const W = 440, H = 150, left = 12, right = 12, top = 8, bottom = 22;
  const lo = h.edges[0], hi = h.edges[h.edges.length - 1];
  const x = (v) => left + (W - left - right) * (v - lo) / (hi - lo);
  const scaled = (v) => (h.log10 ? (v > 0 ? Math.log10(v) : lo) : v);
  const peak = Math.max(...h.density, 1e-12);
  const svg = element("svg", {viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
                              "aria-label": `distribution of ${name}`});
  h.density.forEach((d, i) => {
    const height = (H - top - bottom) * d / peak;
    svg.append(element("rect", {class: "bar", x: x(h.edges[i]), y: H - bottom - height,
                                width: Math.max(x(h.edges[i + 1]) - x(h.edges[i]) - 0.5, 0.5),
                                height}));
  });
  svg.append(element("line", {class: "axis", x1: left, x2: W - right, y1: H - bottom, y2: H - bottom}));
  const ticks = h.log10 ? logTicks(lo, hi) : linearTicks(lo, hi);
  for (const t of ticks) {
    svg.append(element("text", {x: x(t), y: H - bottom + 14, "text-anchor": "middle"},
                       format(h.log10 ? 10 ** t : t)));
  }
  const line = (value, cls) => {
    const at = x(Math.min(Math.max(scaled(value), lo), hi));
    svg.append(element("line", {class: cls, x1: at, x2: at, y1: top, y2: H - bottom}));
  };
  line(stats.eti_90[0], "interval");
  line(stats.eti_90[1], "interval");
  line(stats.median, "median");
  for (const value of marks(stats)) line(value, "mark");
  return svg;
}

function tornado(entry, name) {
  const bars = entry.bars;
  const W = 440, row = 20, top = 4, left = 160, right = 12;
  const H = top + row * bars.length + 22;
  const values = bars.flatMap((b) => [b.output_low, b.output_high]).concat([entry.base]);
  const log = values.every((v) => v > 0);
  const t = (v) => (log ? Math.log10(v) : v);
  let lo = Math.min(...values.map(t)), hi = Math.max(...values.map(t));
  if (hi - lo < 1e-12) { lo -= 0.5; hi += 0.5; }
  const x = (v) => left + (W - left - right) * (t(v) - lo) / (hi - lo);
  const svg = element("svg", {viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img",
                              "aria-label": `tornado of ${name}`});
  bars.forEach((bar, i) => {
    const y = top + i * row;
    const label = state.info.assumptions[bar.assumption]?.label || bar.assumption;
    const text = element("text", {x: left - 6, y: y + 13, "text-anchor": "end", class: "label"},
                         label.length > 26 ? `${label.slice(0, 25)}…` : label);
    text.append(element("title", {}, `${label} (${bar.assumption})`));
    svg.append(text);
    for (const [value, cls] of [[bar.output_low, "low"], [bar.output_high, "high"]]) {
      const a = x(entry.base), b = x(value);
      svg.append(element("rect", {class: cls, x: Math.min(a, b), y: y + 3,
                                  width: Math.max(Math.abs(b - a), 1), height: row - 6}));
    }
  });
  const base = x(entry.base);
  svg.append(element("line", {class: "median", x1: base, x2: base, y1: top, y2: H - 20}));
  svg.append(element("line", {class: "axis", x1: left, x2: W - right, y1: H - 20, y2: H - 20}));
  const ticks = log ? logTicks(lo, hi) : linearTicks(lo, hi);
  for (const tick of ticks) {
    const at = left + (W - left - right) * (tick - lo) / (hi - lo);
    svg.append(element("text", {x: at, y: H - 6, "text-anchor": "middle"},
                       format(log ? 10 ** tick : tick)));
  }
  return svg;
}

// --- buttons --------------------------------------------------------------------------------

function reset() {
  state.overrides = {};
  buildAssumptions();
  clearErrors();
  requestSummary();
}

async function save() {
  status("saving…", true);
  try {
    const answer = await api("/api/save", {assumptions: state.overrides});
    status(`saved as ${answer.path}`);
  } catch (error) {
    showError(error);
  }
}

async function report() {
  status("writing the full report (a few seconds)…", true);
  try {
    const answer = await api("/api/report", {assumptions: state.overrides});
    const line = status(`report written to ${answer.report} (priors: ${answer.path}) `);
    const link = document.createElement("a");
    link.href = answer.url;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "open it";
    line.append(link);
    window.open(answer.url, "_blank", "noopener");
  } catch (error) {
    showError(error);
  }
}

async function start() {
  state.info = await api("/api/priors");
  document.title = `${state.info.title}: explore ${state.info.priors}`;
  document.getElementById("title").textContent = `${state.info.title}: ${state.info.priors}`;
  document.getElementById("lede").textContent =
    `${state.info.description || ""} (${state.info.path})`.trim();
  document.getElementById("mark-head").textContent = `${state.info.marks_owner} figure`;
  buildAssumptions();
  document.getElementById("reset").addEventListener("click", reset);
  document.getElementById("save").addEventListener("click", save);
  document.getElementById("report").addEventListener("click", report);
  await requestSummary();
}

start().catch((error) => status(`could not load the page's data: ${error.message}`));
