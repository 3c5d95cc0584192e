// The live view's player (lab/player.py): frames shown one a period, in place.
//
// Each run of the live view sends a batch: the charts' specs, the first frame's datasets and,
// for every frame, its readouts, its lines and the data columns that changed. The player keeps
// one Vega view per chart and a queue of frames; a timer shows the next frame each period by
// swapping its datasets into the views (view.data, no new embed) and rewriting the text.
// Mounted with data of kind "panels", it lays out blocks of headings, captions and charts
// (lab/blocks.py) and gives each run's data to the charts in place. Charts out of sight are
// not drawn until they come into sight (Sight).
const PLAYERS = new WeakMap();
const CHARTS = ['curves', 'distribution'];
let vegaLoading = null;
// Vega compiles a chart's expressions to JavaScript functions unless told to interpret them,
// as Streamlit's own charts do so that a page under a Content-Security-Policy without
// 'unsafe-eval' draws them. The player's two charts evaluate their expressions for every row
// of every frame, several times a second: compiled, that is a fraction of the work. Where a
// policy forbids it, the player interprets them too.
let compiles = true;
// The share of a tick interval showing one frame may take before the player leaves frames out.
const BUSY = 0.5;
// How long drawing the panels may take, in ms, before a run shows only its newest panels.
const PANELS_BUSY = 250;
// How near the visible part of the page a chart must be to be drawn (see Sight).
const SIGHT_MARGIN = '200px';
// Charts narrower than this (px) are drawn less tall (a phone's column).
const PHONE_WIDTH = 520;

export default function ({data: sent, parentElement, setTriggerValue}) {
  // The server sends its JSON as bytes (lab/player.py, _mount).
  const data = ArrayBuffer.isView(sent) || sent instanceof ArrayBuffer
    ? JSON.parse(new TextDecoder().decode(sent)) : sent;
  let player = PLAYERS.get(parentElement);
  if (!player) {
    const Kind = {panels: Panels, status: StatusLine}[data.kind] ?? Player;
    player = new Kind(parentElement);
    PLAYERS.set(parentElement, player);
  }
  player.tell = setTriggerValue;
  player.receive(data);
  return () => {
    player.close();
    PLAYERS.delete(parentElement);
  };
}

// -- the status line ----------------------------------------------------------------------------

// What the status line says: the status and note of the frame on show. The player writes it
// here and into every status line mounted (under the controls); a line mounted later starts
// with it.
const STATUS = {status: '', note: '', lines: new Set()};

function showStatus(status, note) {
  STATUS.status = status;
  STATUS.note = note;
  for (const line of STATUS.lines) line.write();
}

class StatusLine {
  constructor(parent) {
    this.root = element('div', 'lab-status', {'data-testid': 'labStatus'});
    this.line = element('div', 'lab-caption', {'data-testid': 'labStatusLine'});
    this.note = element('div', 'lab-caption lab-note', {'data-testid': 'labNote'});
    this.root.append(this.line, this.note);
    parent.appendChild(this.root);
    STATUS.lines.add(this);
    this.write();
  }

  receive() {}

  write() {
    setText(this.line, STATUS.status);
    setText(this.note, STATUS.note);
    this.note.hidden = !STATUS.note;
  }

  close() {
    STATUS.lines.delete(this);
    this.root.remove();
  }
}

// Streamlit's own chunk that loads Vega-Embed and the expression interpreter Streamlit draws
// its charts with, found beside Streamlit's own scripts.
function loadVega(name) {
  if (!vegaLoading) {
    const own = [...document.querySelectorAll('script[src]')]
      .find(s => /\/static\/js\/index\.[^/]+\.js$/.test(s.src));
    const url = new URL(name, own ? own.src : new URL('static/js/', document.baseURI));
    vegaLoading = import(url.href).then(module => {
      const load = Object.values(module).find(v => typeof v === 'function');
      if (!load) throw new Error(`${name} exports no loader`);
      return load();  // {embed, expressionInterpreter}
    });
  }
  return vegaLoading;
}

// -- Streamlit's chart theme ---------------------------------------------------------------

function size(text, base) {
  const n = parseFloat(text);
  if (!Number.isFinite(n)) return undefined;
  return text.trim().endsWith('rem') ? n * base : n;
}

function lightness(color) {
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = '#ffffff';
  probe.fillStyle = color;  // normalised to #rrggbb (or rgba(...) with alpha)
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(probe.fillStyle);
  const [r, g, b] = hex ? hex.slice(1).map(h => parseInt(h, 16))
    : (probe.fillStyle.match(/\d+(\.\d+)?/g) ?? [255, 255, 255]).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

// Streamlit's Vega theme (the frontend's CustomTheme, as st.vega_lite_chart applies it), from
// the theme variables a component receives; a chart's own config still wins.
function streamlitTheme(el) {
  const css = getComputedStyle(el);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const base = size(v('--st-base-font-size', '16px'), 16) ?? 16;
  const rem = r => r * base;
  const background = v('--st-background-color', '#ffffff');
  const light = lightness(background) > 0.5;
  const label = light ? '#808495' : '#e6eaf1';  // Streamlit's gray70 / gray30
  const grid = light ? '#e6eaf1' : '#31333F';  // gray30 / gray85
  const list = name => v(name, '').split(',').map(s => s.trim()).filter(Boolean);
  const [categorical, sequential, diverging] = ['--st-chart-categorical-colors',
    '--st-chart-sequential-colors', '--st-chart-diverging-colors'].map(list);
  const range = {};
  if (categorical.length) range.category = categorical;
  if (diverging.length) range.diverging = diverging;
  if (sequential.length) Object.assign(range, {ramp: sequential, heatmap: sequential});
  const config = {
    font: v('--st-font', '"Source Sans", sans-serif'),
    background,
    fieldTitle: 'verbal',
    autosize: {type: 'fit', contains: 'padding'},
    title: {align: 'left', anchor: 'start', color: v('--st-heading-color', '#31333F'),
            titleFontStyle: 'normal', fontWeight: 600, fontSize: rem(1), orient: 'top',
            offset: 26, subtitleColor: label},
    header: {titleFontWeight: 400, titleFontSize: rem(1), titleColor: label,
             titleFontStyle: 'normal', labelFontSize: rem(0.75), labelFontWeight: 400,
             labelColor: label, labelFontStyle: 'normal'},
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
    range,
    view: {columns: 1, strokeWidth: 0, stroke: 'transparent', continuousHeight: rem(21.875),
           continuousWidth: rem(25)},
    concat: {columns: 1},
    facet: {columns: 1},
    mark: {tooltip: {content: 'encoding'}},
    bar: {binSpacing: rem(0.25), discreteBandSize: {band: 0.85}},
    axisDiscrete: {grid: false}, axisXPoint: {grid: false}, axisTemporal: {grid: false},
    axisXBand: {grid: false},
  };
  if (categorical.length) config.mark.color = categorical[0];
  return config;
}

function merge(a, b) {
  const out = {...a};
  for (const [k, v] of Object.entries(b ?? {})) {
    const nested = v && typeof v === 'object' && !Array.isArray(v);
    out[k] = nested && a[k] && typeof a[k] === 'object' && !Array.isArray(a[k]) ? merge(a[k], v) : v;
  }
  return out;
}

// The spec as st.vega_lite_chart prepares it (theme, title, bottom padding, container width).
function prepare(text, config, width, datasets) {
  const spec = JSON.parse(text);
  spec.config = merge(config, spec.config);
  if (spec.title) {
    const title = typeof spec.title === 'string' ? {text: spec.title} : spec.title;
    title.limit ??= 0;
    spec.title = title;
  }
  if (typeof spec.padding !== 'number') {
    spec.padding = spec.padding ?? {};
    spec.padding.bottom ??= 20;
  }
  spec.width = Math.max(width, 50);
  // On a phone's narrow column a chart is drawn less tall, in proportion to its width.
  if (width > 0 && width < PHONE_WIDTH && typeof spec.height === 'number') {
    spec.height = Math.round(spec.height * Math.max(0.7, width / PHONE_WIDTH));
  }
  spec.datasets = {...spec.datasets,  // the spec's own inline data, and the named datasets
                   ...Object.fromEntries(Object.entries(datasets).map(([k, c]) => [k, rows(c)]))};
  return spec;
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

// -- charts -----------------------------------------------------------------------------------

const HELP_ICON = '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" '
  + 'viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" '
  + 'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">'
  + '<circle cx="12" cy="12" r="10"></circle><path d="M9.09 9a3 3 0 0 1 5.83 1c0 2-3 3-3 3">'
  + '</path><line x1="12" y1="17" x2="12.01" y2="17"></line></svg>';

function element(tag, className, attributes = {}) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  return el;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function chartSlot(name) {
  // st-key-<name>: the class Streamlit gives a keyed element, which the guided tour outlines.
  return element('div', `lab-chart st-key-${name}`,
                 {'data-testid': 'labChart', 'data-chart': name});
}

// Caption markdown as st.caption renders what the page writes: **bold** and :orange[...].
function markdown(el, text) {
  if (el.dataset.text === text) return;
  el.dataset.text = text;
  const nodes = [];
  const pattern = /:orange\[(.*?)\]|\*\*(.+?)\*\*/g;
  let at = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > at) nodes.push(document.createTextNode(text.slice(at, match.index)));
    if (match[1] !== undefined) {
      const span = element('span', 'lab-orange');
      markdown(span, match[1]);
      nodes.push(span);
    } else {
      const strong = element('strong');
      strong.textContent = match[2];
      nodes.push(strong);
    }
    at = match.index + match[0].length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  el.replaceChildren(...nodes);
}

// A chart shown in a slot: a new Vega view where the chart's look (its spec or the theme) is
// new, else its view with the datasets whose version changed swapped in (view.data). A new
// view is drawn out of sight over the one it replaces and shown in its place once drawn: the
// chart is never blank, and the page does not jump.
async function showChart(slot, chart, look, datasets, versions) {
  if (chart && chart.spec === look.spec && chart.theme === look.theme) {
    let changed = false;
    for (const [set, version] of Object.entries(versions)) {
      if (chart.shown[set] === version) continue;
      chart.shown[set] = version;
      chart.view.data(set, rows(datasets(set)));
      changed = true;
    }
    // Laid out again (autosize) as Streamlit does on each update, unless the spec says new data
    // never moves its axes (gan_core.views.charts.curves_spec).
    if (changed) await (chart.fixedLayout ? chart.view : chart.view.resize()).runAsync();
    return chart;
  }
  const box = element('div', 'lab-embed');
  if (chart) box.classList.add('lab-drawing');
  slot.appendChild(box);
  const {embed, expressionInterpreter} = await loadVega(look.vega);
  const all = Object.fromEntries(Object.keys(versions).map(set => [set, datasets(set)]));
  const prepared = prepare(look.spec, look.config, slot.clientWidth, all);
  const renderer = prepared.usermeta?.embedOptions?.renderer;
  const options = {tooltip: {disableDefaultStyle: true}, defaultStyle: false, actions: false,
                   ...(renderer ? {renderer} : {})};
  let result;
  if (compiles) {
    try {
      result = await embed(box, prepared, options);
    } catch (error) {
      if (!(error instanceof EvalError)) throw error;
      compiles = false;  // a Content-Security-Policy forbids compiled expressions
      box.replaceChildren();
    }
  }
  result ??= await embed(box, prepared, {...options, ast: true, expr: expressionInterpreter});
  const width = slot.clientWidth;
  if (width > 0 && width !== result.view.width()) {
    await result.view.width(width).resize().runAsync();
  }
  if (chart) {
    chart.finalize();
    chart.box.remove();
    box.classList.remove('lab-drawing');
  }
  return {slot, box, view: result.view, finalize: result.finalize, spec: look.spec,
          theme: look.theme, shown: {...versions},
          fixedLayout: Boolean(prepared.usermeta?.fixedLayout)};
}

// Which chart slots are in sight. A chart out of sight (scrolled away, or below the fold as
// the panels are when the page opens) is not drawn anew: it keeps what it last drew, and the
// newest data waiting for it is drawn as soon as it comes within SIGHT_MARGIN of the visible
// part of the page. Until the first report about a slot, it counts as in sight.
class Sight {
  constructor(onSight) {
    this.inSight = new WeakMap();
    this.observer = new IntersectionObserver(entries => {
      for (const entry of entries) {
        const before = this.inSight.get(entry.target);
        this.inSight.set(entry.target, entry.isIntersecting);
        if (entry.isIntersecting && before === false) onSight(entry.target);
      }
    }, {rootMargin: SIGHT_MARGIN});
  }

  observe(slot) {
    this.observer.observe(slot);
  }

  sees(slot) {
    return this.inSight.get(slot) !== false;
  }

  disconnect() {
    this.observer.disconnect();
  }

  // Does ``chart`` (in ``slot``) wait instead of drawing? Only where it is out of sight and
  // keeps its look (a new look is drawn at once); then ``redraw`` is kept for when it comes
  // into sight, the newest replacing any older. A chart that draws forgets what it kept.
  defers(slot, chart, look, redraw) {
    if (!chart) return false;
    const waits = !this.sees(slot) && chart.spec === look.spec && chart.theme === look.theme;
    chart.waiting = waits ? redraw : null;
    return waits;
  }

  // The charts in sight that kept a redraw while they were out of it.
  due(charts, slots) {
    return Object.entries(charts).filter(([name, chart]) => chart?.waiting
                                                            && this.sees(slots[name]));
  }

  // Draw what the charts in sight kept while they were out of it.
  async catchUp(charts, slots) {
    await Promise.all(this.due(charts, slots).map(([, chart]) => {
      const redraw = chart.waiting;
      chart.waiting = null;
      return redraw();
    }));
  }
}

// Keeps each chart's view as wide as its slot.
function widthKeeper(charts) {
  return new ResizeObserver(entries => {
    for (const entry of entries) {
      const chart = Object.values(charts()).find(c => c.slot === entry.target);
      const width = entry.target.clientWidth;
      if (chart && width > 0 && width !== chart.view.width()) {
        chart.view.width(width).resize().runAsync();
      }
    }
  });
}

class Player {
  constructor(parent) {
    this.parent = parent;
    this.queue = [];  // {batch, frame}, oldest first
    this.newest = -Infinity;  // serial of the newest frame received
    this.batchSeen = null;
    this.current = null;  // the entry on screen
    this.timer = null;
    this.busy = false;
    this.nextAt = 0;
    this.starved = true;
    this.replaced = 0;
    this.period = 250;
    this.perBatch = 1;
    this.cost = 0;  // ms a frame has taken to show in place, smoothed
    this.embedded = false;  // the frame on its way drew a chart anew
    this.charts = {};  // name -> {box, view, finalize, spec, theme, shown: {dataset: version}}
    this.theme = null;
    this.config = null;
    this.closed = false;
    this.build();
  }

  build() {
    // For tests and harnesses: whether the run played when its last batch was made, and
    // whether every frame received is shown.
    const root = element('div', 'lab-player', {'data-testid': 'labPlayer',
                                               'data-playing': 'false', 'data-settled': 'true'});
    this.readouts = element('div', 'lab-readouts st-key-readouts');
    this.tick = element('div', 'lab-caption', {'data-testid': 'labCaption'});
    const columns = element('div', 'lab-columns');
    const wide = element('div', 'lab-column lab-wide');
    const narrow = element('div', 'lab-column lab-narrow');
    this.heading = element('h5', 'lab-heading');
    this.notes = element('div', 'lab-notes');
    this.slots = Object.fromEntries(CHARTS.map(name => [name, chartSlot(name)]));
    wide.append(this.heading, this.slots.curves, this.notes);
    narrow.append(this.slots.distribution);
    columns.append(wide, narrow);
    this.tip = element('div', 'lab-tip', {role: 'tooltip'});
    root.append(this.readouts, this.tick, columns, this.tip);
    this.parent.appendChild(root);
    this.root = root;
    this.resized = widthKeeper(() => this.charts);
    this.sight = new Sight(() => this.catchUp());
    for (const slot of Object.values(this.slots)) {
      this.resized.observe(slot);
      this.sight.observe(slot);
    }
  }

  receive(data) {
    if (this.closed) return;
    const theme = JSON.stringify(streamlitTheme(this.root));
    if (theme !== this.theme) {
      this.theme = theme;
      this.config = JSON.parse(theme);
      if (this.current && data.batch === this.batchSeen && !this.queue.length) {
        this.queue.push(this.current);  // drawn again, in the new theme
        this.pump();
      }
    }
    if (data.batch === this.batchSeen) return;  // the same batch again: a re-render
    this.batchSeen = data.batch;
    const batch = {...data, frames: undefined};
    let fresh = data.frames.filter(f => f.n > this.newest);
    if (data.replace) {
      this.passed(this.queue);
      this.queue = [];
      clearTimeout(this.timer);
      this.timer = null;
      this.nextAt = 0;
      this.replaced += 1;
      if (!fresh.length) fresh = data.frames.slice(-1);
    }
    for (const frame of fresh) this.queue.push({batch, frame});
    if (fresh.length) this.newest = Math.max(this.newest, fresh.at(-1).n);
    this.period = 1000 * data.period;
    this.perBatch = data.every > 0 ? Math.max(1, Math.round(data.every / data.period)) : 1;
    // Never more than three runs' frames waiting (a hidden tab's timers are slowed): the
    // oldest go, the newest stay.
    const most = 3 * this.perBatch + 1;
    if (this.queue.length > most) this.passed(this.queue.splice(0, this.queue.length - most));
    this.root.dataset.playing = String(data.every > 0);
    this.settle();
    this.pump();
  }

  settle() {
    this.root.dataset.settled = String(!this.busy && !this.queue.length);
  }

  // Frames shown, or left out: the server waits to hear of those where the run changed its
  // own settings (lab/live.py), to make the page follow with the frame.
  passed(entries) {
    const synced = entries.filter(({frame}) => frame.sync).map(({frame}) => frame.n);
    if (synced.length && this.tell) this.tell('shown', Math.max(...synced));
  }

  // The next frame is due a period after the last one. A frame that was not there when due
  // is shown when it comes, and the frames after it keep that delay, so one late run makes
  // one pause, not one in every run; a frame the page was too busy to show on time (React
  // re-rendering the page for a run) comes sooner after it, to keep the beat. A page that
  // falls behind catches up by leaving frames out, never by playing faster: while more than a
  // run's frames and one wait, the oldest go; and where showing a frame takes more than
  // BUSY of a period (a slow machine, or one busy with other work), only every second,
  // third... frame is shown, so that the page keeps time and stays responsive to clicks.
  pump() {
    if (this.closed || this.timer !== null || this.busy) return;
    if (!this.queue.length) {
      this.starved = true;
      return;
    }
    const wait = Math.max(0, this.nextAt - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.next();
    }, wait);
  }

  async next() {
    if (this.busy) return;  // a chart catching up (catchUp): it calls pump() when done
    // Every stride-th frame, each at its own time: stride periods apart.
    const stride = this.stride();
    const behind = Math.max(0, this.queue.length - (this.perBatch + 1));
    this.passed(this.queue.splice(0, Math.min(this.queue.length - 1,
                                              Math.max(behind, stride - 1))));
    const entry = this.queue.shift();
    if (!entry) return;
    this.busy = true;
    const started = performance.now();
    const replaced = this.replaced;
    this.embedded = false;
    try {
      await this.show(entry);
      this.current = entry;
      this.passed([entry]);
    } finally {
      this.busy = false;
      this.settle();
    }
    this.catchUp();  // a chart that came into sight meanwhile
    // What an update in place costs: a chart embedded anew (loading Vega, a new look) is not.
    const took = performance.now() - started;
    if (!this.embedded) this.cost = this.cost ? 0.8 * this.cost + 0.2 * took : took;
    if (replaced === this.replaced) {  // else the frames to come start now
      const interval = this.period * this.stride();
      this.nextAt = this.starved ? started + interval
        : Math.max(this.nextAt + interval, started + interval / 2);
      this.starved = false;
    }
    this.pump();
  }

  // The charts that came into sight since they last drew: their newest frames, at once (or,
  // while a frame is being shown, once it is).
  async catchUp() {
    if (this.busy || this.closed) return;
    if (!this.sight.due(this.charts, this.slots).length) return;
    this.busy = true;
    try {
      await this.sight.catchUp(this.charts, this.slots);
    } finally {
      this.busy = false;
      this.settle();
    }
    this.pump();
  }

  // Show every how-many-th frame: 1 unless showing one takes more than BUSY of a period.
  stride() {
    return Math.max(1, Math.ceil(this.cost / (BUSY * this.period)));
  }

  // The frame's charts, then its text in the same task: text and curves change together. Text
  // laid out anew (the first frame, other readouts) is written at once, not left blank while
  // the charts are drawn.
  async show({batch, frame}) {
    if (this.layout(batch)) this.write(frame);
    await Promise.all(CHARTS.map(name => this.draw(name, batch, frame)));
    if (!this.closed) this.write(frame);
  }

  write(frame) {
    frame.values.forEach((value, i) => {
      const cell = this.readouts.children[i];
      if (cell) {
        setText(cell.value, value);
        const delta = frame.deltas?.[i] ?? '';
        setText(cell.delta, delta);
        cell.delta.hidden = !delta;
      }
    });
    showStatus(frame.status ?? '', frame.note ?? '');
    setText(this.tick, frame.tick);
    if (this.notes.dataset.text !== frame.notes.join('\n')) {
      this.notes.dataset.text = frame.notes.join('\n');
      this.notes.replaceChildren(...frame.notes.map(note => {
        const line = element('div', 'lab-caption', {'data-testid': 'labCaption'});
        line.textContent = note;
        return line;
      }));
    }
  }

  // The readouts' labels and help, and the curves' heading; true if laid out anew.
  layout(batch) {
    setText(this.heading, batch.heading);
    const labels = batch.readouts.map(r => `${r.label}\n${r.help}`).join('\n\n');
    if (this.readouts.dataset.labels === labels) return false;
    this.readouts.dataset.labels = labels;
    this.readouts.replaceChildren(...batch.readouts.map(readout => {
      const cell = element('div', 'lab-readout', {'data-testid': 'labReadout'});
      const label = element('div', 'lab-readout-label', {'data-testid': 'labReadoutLabel'});
      const name = element('span', 'lab-readout-name');
      name.textContent = readout.label;
      const help = element('button', 'lab-help', {type: 'button',
                                                  'aria-label': `Help for ${readout.label}`});
      help.innerHTML = HELP_ICON;
      const show = () => this.showTip(help, readout.help);
      const hide = () => { this.tip.style.display = 'none'; };
      help.addEventListener('pointerenter', show);
      help.addEventListener('focus', show);
      help.addEventListener('pointerleave', hide);
      help.addEventListener('blur', hide);
      label.append(name, help);
      cell.value = element('div', 'lab-readout-value', {'data-testid': 'labReadoutValue'});
      // How far the value moved since one network was trained alone (the step did not move).
      cell.delta = element('div', 'lab-readout-delta', {'data-testid': 'labReadoutDelta'});
      cell.delta.hidden = true;
      cell.append(label, cell.value, cell.delta);
      return cell;
    }));
    return true;
  }

  showTip(anchor, text) {
    const tip = this.tip;
    tip.textContent = text;
    tip.style.display = 'block';
    const at = anchor.getBoundingClientRect();
    const {width, height} = tip.getBoundingClientRect();
    const left = Math.min(Math.max(8, at.left), window.innerWidth - width - 8);
    const above = at.top - height - 6;
    tip.style.left = `${Math.max(8, left)}px`;
    tip.style.top = `${above >= 0 ? above : at.bottom + 6}px`;
  }

  // One chart at one frame: the batch's first datasets, with this frame's changed columns.
  async draw(name, batch, frame) {
    const {spec, base} = batch.charts[name];
    const diff = frame.data[name] ?? {};
    batch.baseVersions ??= {};
    batch.baseVersions[name] ??= Object.fromEntries(Object.keys(base).map(
      set => [set, `base ${JSON.stringify(base[set])}`]));
    const versions = {};
    for (const set of Object.keys(base)) {
      versions[set] = diff[set] ? `frame ${frame.n}` : batch.baseVersions[name][set];
    }
    const look = {vega: batch.vega, spec, theme: this.theme, config: this.config};
    const before = this.charts[name];
    if (this.sight.defers(this.slots[name], before, look, () => this.draw(name, batch, frame))) {
      return;
    }
    const chart = await showChart(this.slots[name], before, look,
                                  set => ({...base[set], ...(diff[set] ?? {})}), versions);
    if (chart !== before) this.embedded = true;
    if (this.closed) chart.finalize();
    else this.charts[name] = chart;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.resized.disconnect();
    this.sight.disconnect();
    for (const chart of Object.values(this.charts)) chart.finalize();
    this.charts = {};
    this.root.remove();
  }
}

// -- the panels ---------------------------------------------------------------------------------

// Blocks of headings, captions, charts and columns; laid out anew when their arrangement
// changes (a history panel filled in, an event came), the charts keeping their views.
class Panels {
  constructor(parent) {
    this.root = element('div', 'lab-blocks', {'data-testid': 'labPanels'});
    parent.appendChild(this.root);
    this.charts = {};
    this.slots = {};
    this.captions = [];
    this.arrangement = null;
    this.closed = false;
    this.work = Promise.resolve();
    this.timers = [];
    this.cost = 0;  // ms the panels have taken to draw, smoothed
    this.resized = widthKeeper(() => this.charts);
    this.sight = new Sight(() => this.then(() => this.sight.catchUp(this.charts, this.slots)));
  }

  // A run sends the panels it took, each with the seconds after its arrival at which to show
  // it (when the player shows the frame it was taken with). A new run's panels replace those
  // still waiting.
  receive(data) {
    this.timers.forEach(clearTimeout);
    this.timers = [];
    let spec = {};
    // A page for which drawing the panels takes more than PANELS_BUSY ms (a slow or busy
    // machine) shows only the newest of a run's panels.
    const last = data.snapshots.length - 1;
    data.snapshots.forEach((snapshot, i) => {
      for (const [name, chart] of Object.entries(snapshot.charts)) {
        if (chart.spec === null) chart.spec = spec[name];
        spec[name] = chart.spec;
      }
      if (i < last && this.cost > PANELS_BUSY) return;
      const show = () => this.queue({vega: data.vega, ...snapshot});
      if (snapshot.at > 0) this.timers.push(setTimeout(show, snapshot.at * 1000));
      else show();
    });
  }

  // Panels' work, one piece after another.
  then(work) {
    this.work = this.work.then(work).catch(error => {
      console.error('the panels could not be drawn', error);
    });
  }

  queue(data) {
    this.then(async () => {
      const started = performance.now();
      this.embedded = false;
      await this.update(data);
      // What an update in place costs: charts embedded anew (loading Vega) are not.
      const took = performance.now() - started;
      if (!this.embedded) this.cost = this.cost ? 0.7 * this.cost + 0.3 * took : took;
    });
  }

  async update(data) {
    if (this.closed) return;
    // For tests: the step of the panels last received (their captions); a chart's slot says
    // the step it shows.
    this.root.dataset.step = String(data.step);
    const arrangement = JSON.stringify(data.layout, (k, v) => (k === 'caption' ? '' : v));
    if (arrangement !== this.arrangement) {
      this.arrangement = arrangement;
      this.resized.disconnect();
      this.sight.disconnect();
      this.slots = {};
      this.captions = [];
      this.root.replaceChildren(...this.blocks(data.layout));
      for (const [name, chart] of Object.entries(this.charts)) {
        const slot = this.slots[name];
        if (slot) {
          slot.appendChild(chart.box);
          chart.slot = slot;
        } else {
          chart.finalize();
          delete this.charts[name];
        }
      }
      for (const slot of Object.values(this.slots)) {
        this.resized.observe(slot);
        this.sight.observe(slot);
      }
    }
    const texts = [];
    const gather = blocks => blocks.forEach(b => (b.columns ? b.columns.forEach(gather)
      : b.caption !== undefined && texts.push(b.caption)));
    gather(data.layout);
    texts.forEach((text, i) => markdown(this.captions[i], text));
    const theme = JSON.stringify(streamlitTheme(this.root));
    const config = JSON.parse(theme);
    await Promise.all(Object.entries(data.charts).map(([name, {spec, data: sets}]) => this.draw(
      name, {vega: data.vega, spec, theme, config}, sets, data.step)));
  }

  // One chart with its data, unless it is out of sight (then when it comes into sight).
  async draw(name, look, sets, step) {
    const before = this.charts[name];
    const slot = this.slots[name];
    if (this.sight.defers(slot, before, look, () => this.draw(name, look, sets, step))) return;
    const versions = Object.fromEntries(Object.entries(sets).map(
      ([set, columns]) => [set, JSON.stringify(columns)]));
    const chart = await showChart(slot, before, look, set => sets[set], versions);
    if (chart !== before) this.embedded = true;
    if (this.closed) {
      chart.finalize();
      return;
    }
    this.charts[name] = chart;
    // For tests: the step this chart shows, and how many of the run's changes it marks.
    slot.dataset.step = String(step);
    slot.dataset.changes = String(sets.changes?.step?.length ?? 0);
  }

  blocks(layout) {
    return layout.map(block => {
      if (block.columns) {
        const row = element('div', 'lab-columns');
        block.columns.forEach((inner, i) => {
          const column = element('div', 'lab-column');
          column.style.flex = `${block.weights[i]} 1 0`;
          column.append(...this.blocks(inner));
          row.appendChild(column);
        });
        return row;
      }
      if (block.heading !== undefined) {
        const heading = element(`h${block.level}`, `lab-heading lab-h${block.level}`);
        heading.textContent = block.heading;
        return heading;
      }
      if (block.caption !== undefined) {
        const caption = element('div', 'lab-caption', {'data-testid': 'labCaption'});
        this.captions.push(caption);
        return caption;
      }
      return (this.slots[block.chart] = chartSlot(block.chart));
    });
  }

  close() {
    this.closed = true;
    this.timers.forEach(clearTimeout);
    this.resized.disconnect();
    this.sight.disconnect();
    for (const chart of Object.values(this.charts)) chart.finalize();
    this.charts = {};
    this.root.remove();
  }
}
