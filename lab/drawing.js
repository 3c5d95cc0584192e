// The drawing pad of your data (lab/drawing.py): a band's lower and upper curve, or a few
// curves, drawn on the curve chart's grid with a mouse, a pen or a finger.
//
// Each curve has one value per point of the grid. Pressing picks the curve nearest the
// pointer at that point; dragging sets that curve's value at every point the pointer passes,
// joined by straight lines, so a quick stroke leaves no point out. Values snap to the grid of
// values a link carries (`step` from `lowest`). The drawing goes to Python when a stroke ends
// or a button changes it, as the state value `drawing` = {version, edit, curves}; Python's
// `version` says which drawing it sent, and a newer one (another number of points, a link, a
// resumed run) replaces what is on the pad, while a drawing Python has not seen yet stays.
const PADS = new WeakMap();
const SVG = 'http://www.w3.org/2000/svg';
const MARGIN = {left: 44, right: 12, top: 12, bottom: 30};
const PALETTE = ['#2f9e44', '#c2185b', '#6f5cf2', '#f08c00', '#1c7ed6', '#8e7cc3'];

export default function ({data, parentElement, setStateValue}) {
  let pad = PADS.get(parentElement);
  if (!pad) {
    pad = new Pad(parentElement);
    PADS.set(parentElement, pad);
  }
  pad.receive(data, setStateValue);
  return () => {
    pad.close();
    PADS.delete(parentElement);
  };
}

function niceTicks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const decade = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(m => m * decade).find(s => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
    ticks.push(Math.abs(t) < 1e-12 ? 0 : +t.toFixed(10));
  }
  return ticks;
}

function element(tag, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (parent) parent.appendChild(node);
  return node;
}

class Pad {
  constructor(root) {
    this.root = root;
    this.el = document.createElement('div');
    this.el.className = 'lab-pad';
    this.el.dataset.testid = 'labDrawing';
    this.svg = element('svg', {class: 'lab-pad-svg', 'data-testid': 'labDrawingPad',
                               role: 'img'});
    this.el.appendChild(this.svg);
    this.buttons = document.createElement('div');
    this.buttons.className = 'lab-pad-buttons';
    this.el.appendChild(this.buttons);
    this.button('reset', 'Start again', () => this.reset());
    this.button('add', 'Add a curve', () => this.add());
    this.button('remove', 'Remove a curve', () => this.remove());
    root.appendChild(this.el);
    this.version = null;
    this.curves = [];
    this.active = null;
    this.edits = 0;
    this.stroke = null;
    this.width = 0;
    this.svg.addEventListener('pointerdown', e => this.down(e));
    this.svg.addEventListener('pointermove', e => this.move(e));
    this.svg.addEventListener('pointerup', e => this.up(e));
    this.svg.addEventListener('pointercancel', e => this.up(e));
    // A finger on the pad draws; the page must not scroll or zoom under it.
    this.svg.addEventListener('touchstart', e => e.preventDefault(), {passive: false});
    this.svg.addEventListener('touchmove', e => e.preventDefault(), {passive: false});
    this.resize = new ResizeObserver(() => this.render());
    this.resize.observe(this.el);
  }

  button(name, label, action) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'lab-pad-button';
    b.dataset.action = name;
    b.textContent = label;
    b.addEventListener('click', action);
    this.buttons.appendChild(b);
  }

  receive(data, send) {
    this.send = send;
    this.data = data;
    if (data.version !== this.version) {
      this.version = data.version;
      this.curves = data.curves.map(c => c.slice());
      this.active = null;
      this.stroke = null;
    }
    this.el.dataset.mode = data.mode;
    this.el.dataset.version = String(data.version);
    this.el.dataset.points = String(data.x.length);
    this.render();
  }

  // -- geometry ------------------------------------------------------------------------------

  box() {
    const width = Math.max(this.el.clientWidth || 0, 240);
    const height = this.data.height;
    return {width, height, plotW: width - MARGIN.left - MARGIN.right,
            plotH: height - MARGIN.top - MARGIN.bottom};
  }

  px(x, box) {
    const [x0, x1] = [this.data.x[0], this.data.x[this.data.x.length - 1]];
    return MARGIN.left + (x - x0) / (x1 - x0) * box.plotW;
  }

  py(y, box) {
    const [lo, hi] = this.data.y_range;
    return MARGIN.top + (hi - y) / (hi - lo) * box.plotH;
  }

  // The pointer as a point index (fractional) and a value, from its place on the pad.
  at(event) {
    const rect = this.svg.getBoundingClientRect();
    const box = this.box();
    const sx = (event.clientX - rect.left) * box.width / rect.width;
    const sy = (event.clientY - rect.top) * box.height / rect.height;
    const [lo, hi] = this.data.y_range;
    const n = this.data.x.length;
    const fraction = (sx - MARGIN.left) / box.plotW;
    const index = Math.min(Math.max(fraction * (n - 1), 0), n - 1);
    const y = hi - (sy - MARGIN.top) / box.plotH * (hi - lo);
    return {index, y: Math.min(Math.max(y, lo), hi)};
  }

  snap(y) {
    const {lowest, step} = this.data;
    return lowest + step * Math.round((y - lowest) / step);
  }

  // -- drawing ------------------------------------------------------------------------------

  down(event) {
    if (event.button !== undefined && event.button > 0) return;
    event.preventDefault();
    const point = this.at(event);
    const i = Math.round(point.index);
    let best = 0;
    this.curves.forEach((curve, k) => {
      if (Math.abs(curve[i] - point.y) < Math.abs(this.curves[best][i] - point.y)) best = k;
    });
    this.active = best;
    this.stroke = {pointer: event.pointerId, last: point};
    this.svg.setPointerCapture?.(event.pointerId);
    this.set(point, point);
    this.el.dataset.drawing = 'true';
    this.render();
  }

  move(event) {
    if (!this.stroke || event.pointerId !== this.stroke.pointer) return;
    event.preventDefault();
    const point = this.at(event);
    this.set(this.stroke.last, point);
    this.stroke.last = point;
    this.render();
  }

  up(event) {
    if (!this.stroke || event.pointerId !== this.stroke.pointer) return;
    if (event.type === 'pointerup') {
      const point = this.at(event);
      this.set(this.stroke.last, point);
    }
    this.stroke = null;
    this.el.dataset.drawing = 'false';
    this.render();
    this.publish();
  }

  // The active curve's values at every point from `a` to `b`, on the straight line between.
  set(a, b) {
    const curve = this.curves[this.active];
    const [from, to] = a.index <= b.index ? [a, b] : [b, a];
    const first = Math.ceil(from.index - 1e-9), last = Math.floor(to.index + 1e-9);
    if (last < first) {  // both between two points: the nearer one
      curve[Math.round(b.index)] = this.snap(b.y);
      return;
    }
    for (let i = first; i <= last; i++) {
      const t = to.index === from.index ? 1 : (i - from.index) / (to.index - from.index);
      curve[i] = this.snap(from.y + t * (to.y - from.y));
    }
  }

  reset() {
    this.curves = this.data.defaults.map(c => c.slice());
    this.active = null;
    this.render();
    this.publish();
  }

  add() {
    if (this.curves.length >= this.data.max_curves) return;
    const [lo, hi] = this.data.y_range;
    const base = this.curves[this.active ?? this.curves.length - 1];
    const shift = base.some(v => v + 0.75 > hi) ? -0.75 : 0.75;
    this.curves.push(base.map(v => this.snap(Math.min(Math.max(v + shift, lo), hi))));
    this.active = this.curves.length - 1;
    this.render();
    this.publish();
  }

  remove() {
    if (this.curves.length <= 1) return;
    this.curves.splice(this.active ?? this.curves.length - 1, 1);
    this.active = null;
    this.render();
    this.publish();
  }

  publish() {
    this.edits += 1;
    this.el.dataset.edits = String(this.edits);
    this.send('drawing', {version: this.version, edit: this.edits,
                          curves: this.curves.map(c => c.slice())});
  }

  // -- showing --------------------------------------------------------------------------------

  render() {
    if (!this.data) return;
    const box = this.box();
    if (box.width !== this.width) {
      this.width = box.width;
      this.svg.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
      this.svg.setAttribute('height', String(box.height));
    }
    const band = this.data.mode === 'band';
    this.svg.setAttribute('aria-label', band
      ? 'Drawing pad: drag to redraw the lower or the upper curve of the band'
      : 'Drawing pad: drag to redraw the curve nearest where you press');
    this.svg.replaceChildren();
    const g = element('g', {}, this.svg);
    const [lo, hi] = this.data.y_range;
    for (const t of niceTicks(lo, hi, 6)) {
      const y = this.py(t, box);
      element('line', {x1: MARGIN.left, x2: box.width - MARGIN.right, y1: y, y2: y,
                       class: 'lab-pad-grid'}, g);
      element('text', {x: MARGIN.left - 6, y: y + 4, class: 'lab-pad-label',
                       'text-anchor': 'end'}, g).textContent = String(t);
    }
    const x = this.data.x;
    x.forEach((v, i) => {
      const px = this.px(v, box);
      element('line', {x1: px, x2: px, y1: MARGIN.top, y2: box.height - MARGIN.bottom,
                       class: 'lab-pad-grid lab-pad-column'}, g);
      if (i === 0 || i === x.length - 1 || x.length <= 9 || i === (x.length - 1) / 2) {
        element('text', {x: px, y: box.height - MARGIN.bottom + 16, class: 'lab-pad-label',
                         'text-anchor': 'middle'}, g).textContent = String(+v.toFixed(3));
      }
    });
    const path = curve => curve.map((v, i) =>
      `${i ? 'L' : 'M'}${this.px(x[i], box).toFixed(1)},${this.py(v, box).toFixed(1)}`).join('');
    if (band) {
      const [lower, upper] = this.curves;
      const area = path(lower) + upper.map((v, j) => {
        const i = upper.length - 1 - j;
        return `L${this.px(x[i], box).toFixed(1)},${this.py(upper[i], box).toFixed(1)}`;
      }).join('') + 'Z';
      element('path', {d: area, class: 'lab-pad-band'}, g);
    } else if (this.data.noise > 0) {
      this.curves.forEach((curve, k) => {
        const up = curve.map(v => v + 2 * this.data.noise);
        const down = curve.map(v => v - 2 * this.data.noise);
        const area = path(up) + down.map((v, j) => {
          const i = down.length - 1 - j;
          return `L${this.px(x[i], box).toFixed(1)},${this.py(down[i], box).toFixed(1)}`;
        }).join('') + 'Z';
        element('path', {d: area, fill: PALETTE[k % PALETTE.length],
                         class: 'lab-pad-noise'}, g);
      });
    }
    this.curves.forEach((curve, k) => {
      const colour = band ? this.data.colours[k] : PALETTE[k % PALETTE.length];
      const line = element('path', {d: path(curve), stroke: colour,
                                    class: 'lab-pad-line' +
                                      (k === this.active ? ' lab-pad-active' : ''),
                                    'data-curve': String(k)}, g);
      line.dataset.values = curve.join(',');
      curve.forEach((v, i) => element('circle', {cx: this.px(x[i], box), cy: this.py(v, box),
                                                 r: k === this.active ? 4.5 : 3.5, fill: colour,
                                                 class: 'lab-pad-point', 'data-curve': String(k),
                                                 'data-point': String(i)}, g));
    });
    const names = band ? this.data.names : this.curves.map((_, k) => `curve ${k + 1}`);
    const legend = element('g', {class: 'lab-pad-legend'}, g);
    let left = MARGIN.left + 8;
    names.forEach((name, k) => {
      const colour = band ? this.data.colours[k] : PALETTE[k % PALETTE.length];
      element('rect', {x: left, y: MARGIN.top + 4, width: 14, height: 3, fill: colour}, legend);
      const text = element('text', {x: left + 18, y: MARGIN.top + 9,
                                    class: 'lab-pad-label'}, legend);
      text.textContent = name;
      left += 26 + 7 * name.length;
    });
    const adding = this.buttons.querySelector('[data-action=add]');
    const removing = this.buttons.querySelector('[data-action=remove]');
    adding.hidden = removing.hidden = band;
    adding.disabled = this.curves.length >= this.data.max_curves;
    removing.disabled = this.curves.length <= 1;
  }

  close() {
    this.resize.disconnect();
    this.el.remove();
  }
}
