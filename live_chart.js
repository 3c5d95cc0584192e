// The live charts, drawn by Streamlit's own Vega and updated in place: each call brings new
// datasets, which replace the old ones in the existing views (no re-embed, no React work).
const STATES = new WeakMap();
const PANELS = new Map();  // panel name -> its state, for the live poller to update

async function loadVega(url) {
  const module = await import(new URL(url, document.baseURI).href);
  const load = Object.values(module).find(v => typeof v === 'function');
  return load();  // {embed, expressionInterpreter}
}

function px(value, fallback) {
  const n = parseFloat(value);
  return Number.isFinite(n) ? n : fallback;
}

// Streamlit's Vega theme (CustomTheme in its frontend), from the theme CSS variables that
// components receive; a chart's own config still wins, as in st.vega_lite_chart.
function theme(el) {
  const css = getComputedStyle(el);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const base = px(v('--st-base-font-size', '16px'), 16);
  const rem = r => r * base;
  const label = '#808495', grid = '#e6eaf1';
  return {
    font: v('--st-font', '"Source Sans", sans-serif'),
    background: v('--st-background-color', '#ffffff'),
    fieldTitle: 'verbal',
    autosize: {type: 'fit', contains: 'padding'},
    title: {align: 'left', anchor: 'start', color: v('--st-heading-color', '#31333F'),
            titleFontStyle: 'normal', fontWeight: 600, fontSize: rem(1), orient: 'top',
            offset: 26},
    axis: {labelFontSize: rem(0.75), labelFontWeight: 400, labelColor: label,
           labelFontStyle: 'normal', titleFontWeight: 400, titleFontSize: rem(0.875),
           titleColor: label, titleFontStyle: 'normal', ticks: false, gridColor: grid,
           domain: false, domainWidth: 1, domainColor: grid, labelFlush: true,
           labelFlushOffset: 1, labelBound: false, labelLimit: 100, titlePadding: rem(1),
           labelPadding: rem(1), labelSeparation: rem(0.25), labelOverlap: true},
    legend: {labelFontSize: rem(0.875), labelFontWeight: 400, labelColor: label,
             titleFontSize: rem(0.875), titleFontWeight: 400, titleFontStyle: 'normal',
             titleColor: label, titlePadding: rem(0.5), labelPadding: rem(1),
             columnPadding: rem(0.5), rowPadding: rem(0.25), padding: rem(0.5),
             symbolStrokeWidth: rem(0.25)},
    view: {columns: 1, strokeWidth: 0, stroke: 'transparent', continuousHeight: 350,
           continuousWidth: 400},
    mark: {tooltip: {content: 'encoding'}},
    axisDiscrete: {grid: false}, axisXPoint: {grid: false}, axisTemporal: {grid: false},
    axisXBand: {grid: false},
  };
}

function merge(a, b) {
  const out = {...a};
  for (const [k, v] of Object.entries(b ?? {})) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object'
      ? merge(a[k], v) : v;
  }
  return out;
}

function rows(columns) {
  const names = Object.keys(columns);
  const n = names.length ? columns[names[0]].length : 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const row = {};
    for (const name of names) row[name] = columns[name][i];
    out[i] = row;
  }
  return out;
}

async function setup(state, parent, data) {
  const {embed, expressionInterpreter} = await loadVega(data.vega);
  const root = document.createElement('div');
  root.className = 'gan-live';
  root.style.cssText = 'display:flex;gap:1rem;width:100%;flex-wrap:wrap';
  parent.appendChild(root);
  state.root = root;
  if (data.poll) {
    state.caption = document.createElement('div');
    state.caption.className = 'gan-caption';
    root.appendChild(state.caption);
  }
  if (data.readouts) {
    state.readouts = document.createElement('div');
    state.readouts.className = 'gan-readouts';
    root.appendChild(state.readouts);
    readouts(state, data.readouts);
  }
  const config = theme(root);
  for (const [name, chart] of Object.entries(data.charts)) {
    const box = document.createElement('div');
    box.style.cssText = `flex:${chart.weight} 1 0;min-width:min(100%, 12rem)`;
    root.appendChild(box);
    const spec = JSON.parse(chart.spec);
    spec.config = merge(config, spec.config);
    spec.padding = {bottom: 20, ...(spec.padding ?? {})};
    spec.width = Math.max(box.clientWidth, 50);
    spec.datasets = {...(spec.datasets ?? {}),  // the spec's own inline data stays
      ...Object.fromEntries(Object.entries(chart.datasets).map(([k, c]) => [k, rows(c)]))};
    const {view} = await embed(box, spec, {ast: true, expr: expressionInterpreter,
      tooltip: {disableDefaultStyle: true}, defaultStyle: false, actions: false,
      renderer: 'canvas'});
    const seen = Object.fromEntries(Object.entries(chart.datasets).map(
      ([k, c]) => [k, JSON.stringify(c)]));
    state.charts[name] = {view, box, seen, spec: chart.spec};
    new ResizeObserver(() => {
      const width = box.clientWidth;
      if (width > 0 && width !== view.width()) view.width(width).resize().runAsync();
    }).observe(box);
  }
  state.applied = data;
}

function specsOf(data) {
  return Object.entries(data.charts).map(([name, chart]) => name + '\n' + chart.spec).join('\n');
}

// Live refreshes fetched from the server's route while playing, at the period it says.
function poll(state, parent) {
  if (state.polling) return;
  state.polling = true;
  const next = async () => {
    const cfg = state.latest.poll;
    if (!cfg?.playing) { state.polling = false; return; }
    const started = performance.now();
    let period = cfg.period;
    try {
      const response = await fetch(new URL(cfg.url, document.baseURI));
      const fresh = await response.json();
      await state.ready;
      if (fresh.charts) applyData(state, fresh);
      for (const [where, charts] of Object.entries(fresh.panels ?? {})) {
        const panel = PANELS.get(where);
        if (panel) panel.ready.then(() => applyData(panel, {charts}));
      }
      period = fresh.period ?? period;
      if (!fresh.playing) {
        state.polling = false;
        state.trigger?.('stopped', Date.now());  // rerun the page: its controls must change
        return;
      }
    } catch (error) {
      console.warn('live refresh failed', error);
    }
    setTimeout(next, Math.max(0, 1000 * period - (performance.now() - started)));
  };
  next();
}

function applyData(state, fresh) {
  if (fresh.readouts && state.readouts) readouts(state, fresh.readouts);
  if (fresh.caption && state.caption) state.caption.textContent = fresh.caption;
  for (const [name, chart] of Object.entries(fresh.charts)) {
    const live = state.charts[name];
    if (!live) continue;
    let changed = false;
    for (const [set, columns] of Object.entries(chart.datasets)) {
      const text = JSON.stringify(columns);
      if (live.seen[set] === text) continue;
      live.seen[set] = text;
      live.view.data(set, rows(columns));
      changed = true;
    }
    if (changed) live.view.resize().runAsync();
  }
}

async function update(state, parent) {
  const data = state.latest;
  if (state.applied === data) return;
  if (specsOf(data) !== specsOf(state.applied)) {  // another target or loss: draw anew
    for (const live of Object.values(state.charts)) live.view.finalize();
    state.charts = {};
    state.root?.remove();
    state.applied = null;
    state.ready = setup(state, parent, data);
    return;
  }
  state.applied = data;
  if (data.readouts) readouts(state, data.readouts);
  for (const [name, chart] of Object.entries(data.charts)) {
    const live = state.charts[name];
    if (!live) continue;
    let changed = false;
    for (const [set, columns] of Object.entries(chart.datasets)) {
      const text = JSON.stringify(columns);
      if (live.seen[set] === text) continue;  // same bytes: leave Vega's data alone
      live.seen[set] = text;
      live.view.data(set, rows(columns));
      changed = true;
    }
    if (changed) await live.view.resize().runAsync();
  }
}

// The readouts as a row of metrics, in the look of st.metric (label over a large value).
function readouts(state, items) {
  const box = state.readouts;
  if (!box.childElementCount) {
    for (const item of items) {
      const cell = document.createElement('div');
      cell.className = 'gan-metric';
      cell.title = item.help;
      const label = document.createElement('div');
      label.className = 'gan-metric-label';
      label.textContent = item.label;
      const value = document.createElement('div');
      value.className = 'gan-metric-value';
      cell.append(label, value);
      box.appendChild(cell);
    }
  }
  items.forEach((item, i) => {
    const value = box.children[i].lastChild;
    if (value.textContent !== item.value) value.textContent = item.value;
  });
}

export default function ({data, parentElement, setTriggerValue}) {
  let state = STATES.get(parentElement);
  if (!state) {
    state = {latest: null, applied: null, ready: null, charts: {}};
    STATES.set(parentElement, state);
  }
  state.latest = data;
  state.trigger = setTriggerValue;
  if (data.panel) PANELS.set(data.panel, state);
  state.ready ??= setup(state, parentElement, data);
  state.ready.then(() => update(state, parentElement));
  if (data.poll?.playing) poll(state, parentElement);
}
