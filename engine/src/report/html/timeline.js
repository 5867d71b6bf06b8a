/* ecs-autopsy --format html: draws the cause legend, the swimlane timeline and the task detail
 * panel from the JSON in #autopsy-data. Plain ES2017, no library, no network. Every string in
 * the data is untrusted: it reaches the page only through textContent and setAttribute. */
(function () {
  'use strict';

  var LANE_H = 16;   // one task lane
  var HEAD_H = 20;   // a group header row: "service · revision (N tasks)"
  var STRIP_H = 18;  // the row at the top for markers of every service (or of no lane's service)
  var AXIS_H = 32;   // the sticky time axis: date line, time line, ticks
  // Bar geometry inside a lane, [offset from the lane top, height]. Height and opacity (CSS)
  // tell the phases apart, stopping is an outlined box; the colour is the task's cause. (No
  // hatching: an SVG pattern needs a CSS-style reference, and the page is to hold none.)
  var PHASE_BOX = { provisioning: [5, 6], pull: [4, 8], running: [2, 12], stopping: [2, 12], other: [4, 8] };
  var PHASE_NAMES = ['provisioning', 'pull', 'running', 'stopping'];
  var MARKER_KINDS = { event: 'service event', deployment: 'deployment', 'target-health': 'target health' };
  var FALLBACK = { id: '?', label: 'unknown cause', kind: 'undiagnosed', color: '#8a8f96', count: 0 };
  var MAX_MS = 8.64e15;  // the largest time a Date holds
  // Nice tick steps in ms, from 1 ms to a year; days and weeks are multiples of UTC midnight.
  var STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5,
    6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 12096e5, 2592e6, 31536e6];

  var $ = function (id) { return document.getElementById(id); };
  var body = document.body;
  var axisSvg = $('timeline-axis'), svg = $('timeline'), box = $('timeline-box');
  // The SVG namespace, taken from the parsed <svg> so no URL-like string is in this file.
  var NS = svg ? svg.namespaceURI : null;
  var now = (window.performance && performance.now) ? function () { return performance.now(); } : Date.now;

  var model = null;      // the normalised data
  var selected = -1;     // index of the task in the detail panel
  var focusCause = -1;   // index of the cause highlighted from the legend
  var laneEls = [];      // g.lane elements in lane order
  var drawnWidth = 0;

  // ---- small helpers ------------------------------------------------------------------------
  function num(x) { return typeof x === 'number' && isFinite(x) && Math.abs(x) <= MAX_MS ? x : null; }
  function str(x) { return x === null || x === undefined ? '' : String(x); }
  function strOrNull(x) { return x === null || x === undefined ? null : String(x); }
  function arr(x) { return Array.isArray(x) ? x : []; }
  function obj(x) { return x && typeof x === 'object' && !Array.isArray(x) ? x : {}; }
  function color(x) { return typeof x === 'string' && /^#[0-9a-fA-F]{6}$/.test(x) ? x : FALLBACK.color; }
  function fit(s, n) { n = Math.max(1, Math.floor(n)); return s.length > n ? s.slice(0, Math.max(0, n - 1)) + '…' : s; }
  // Lane states are attributes, not classes: a lane's class stays just "lane" (tests count it).
  function flag(e, name, on) { if (on) e.setAttribute(name, ''); else e.removeAttribute(name); }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function iso(ms) {  // "2026-11-24 09:41:57.000Z", "?" when unknown
    return num(ms) === null ? '?' : new Date(ms).toISOString().replace('T', ' ');
  }
  function dur(ms) {  // "850 ms", "8.0 s", "4 min 12 s", "3 h 5 min", "2 d 4 h"
    if (num(ms) === null || ms < 0) return '?';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 10000) return (ms / 1000).toFixed(1) + ' s';
    var s = Math.round(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60), r = s % 60;
    if (d) return d + ' d' + (h ? ' ' + h + ' h' : '');
    if (h) return h + ' h' + (m ? ' ' + m + ' min' : '');
    if (m) return m + ' min' + (r ? ' ' + r + ' s' : '');
    return r + ' s';
  }

  function el(tag, cls, text, parent) {  // an HTML element; text goes in as text only
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== null && text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function sv(tag, attrs, parent, text) {  // an SVG element
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== null && text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // ---- data -----------------------------------------------------------------------------------
  // Everything is checked once here, so drawing never meets a null, a bad index or a NaN.
  function normalise(raw) {
    var causes = arr(raw.causes).map(function (c) {
      c = obj(c);
      return { id: str(c.id) || '?', label: str(c.label), kind: str(c.kind) || 'problem',
        color: color(c.color), count: num(c.count) };
    });
    var tasks = arr(raw.tasks).map(function (t, i) {
      t = obj(t);
      var ci = t.cause;
      var phases = [];
      arr(t.phases).forEach(function (p) {
        p = obj(p);
        var s = num(p.start_ms), e = num(p.end_ms);
        if (s === null && e === null) return;
        if (s === null) s = e;
        if (e === null || e < s) e = s;  // clamp: a phase never runs backwards
        var name = PHASE_NAMES.indexOf(p.phase) >= 0 ? p.phase : 'other';
        phases.push({ phase: name, label: str(p.phase) || '?', start: s, end: e });
      });
      return {
        index: i,
        id: str(t.id) || str(t.arn) || '(task ' + (i + 1) + ')',
        arn: str(t.arn),
        service: strOrNull(t.service), revision: strOrNull(t.revision),
        cause: Number.isInteger(ci) && ci >= 0 && ci < causes.length ? ci : -1,
        message: strOrNull(t.message),  // not in the contract: the root cause finding's message
        last_status: strOrNull(t.last_status), stop_code: strOrNull(t.stop_code),
        stopped_reason: strOrNull(t.stopped_reason),
        phases: phases,
        stopped: num(t.stopped_ms),
        containers: arr(t.containers).map(obj),
        evidence: arr(t.evidence).map(obj),
        logs: arr(t.logs).map(obj)
      };
    });
    // Lanes follow the groups; a task in no group (or listed twice) still gets exactly one lane.
    var seen = new Uint8Array(tasks.length), groups = [];
    arr(raw.groups).forEach(function (g) {
      g = obj(g);
      var idx = arr(g.tasks).filter(function (i) {
        if (!Number.isInteger(i) || i < 0 || i >= tasks.length || seen[i]) return false;
        seen[i] = 1;
        return true;
      });
      if (idx.length) groups.push({ service: strOrNull(g.service), revision: strOrNull(g.revision), tasks: idx });
    });
    var rest = [];
    for (var i = 0; i < tasks.length; i++) if (!seen[i]) rest.push(i);
    if (rest.length) groups.push({ service: null, revision: null, tasks: rest, ungrouped: true });
    var markers = [];
    arr(raw.markers).forEach(function (m) {
      m = obj(m);
      var at = num(m.at_ms);
      if (at === null) return;
      var kind = MARKER_KINDS.hasOwnProperty(m.kind) ? m.kind : 'other';
      markers.push({ kind: kind, kindLabel: MARKER_KINDS[kind] || str(m.kind) || 'marker', at: at,
        atText: str(m.at) || iso(at), service: strOrNull(m.service), text: str(m.text) });
    });
    return { title: str(raw.title), causes: causes, tasks: tasks, groups: groups, markers: markers,
      left_out: num(raw.markers_left_out), range: timeRange(raw, tasks, markers) };
  }

  function causeOf(t) { return t.cause >= 0 ? model.causes[t.cause] : FALLBACK; }

  // The drawn window: the data's start_ms..end_ms widened to every time actually present
  // (0/0 means "no times"), at least a minute long, with a little room on both sides.
  function timeRange(raw, tasks, markers) {
    var lo = Infinity, hi = -Infinity;
    function see(v) { if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; } }
    tasks.forEach(function (t) {
      t.phases.forEach(function (p) { see(p.start); see(p.end); });
      see(t.stopped);
    });
    markers.forEach(function (m) { see(m.at); });
    var s = num(raw.start_ms), e = num(raw.end_ms);
    if (s !== null && e !== null && e >= s && !(s === 0 && e === 0)) { see(s); see(e); }
    if (lo > hi) return null;
    var span = hi - lo;
    if (span < 60000) { lo -= (60000 - span) / 2; hi = lo + 60000; span = 60000; }
    return { lo: lo - span * 0.01, hi: hi + span * 0.01 };
  }

  // ---- time axis --------------------------------------------------------------------------
  // The smallest nice step whose ticks are far enough apart for their labels.
  function ticks(lo, hi, width) {
    var px = width / (hi - lo), step = 0;
    function room(st) { return st * px >= (st < 1e3 ? 100 : st < 6e4 ? 80 : 70); }
    for (var i = 0; i < STEPS.length && !step; i++) if (room(STEPS[i])) step = STEPS[i];
    if (!step) { step = STEPS[STEPS.length - 1]; while (!room(step)) step *= 2; }  // beyond a year
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi && out.length < 500; t += step) out.push(t);
    return { step: step, list: out };
  }
  function tickLabel(t, step) {  // the time line of a tick; the date line is drawn apart
    var s = iso(t);
    if (step < 1000) return s.slice(11, 23);
    if (step < 6e4) return s.slice(11, 19);
    if (step < 864e5) return s.slice(11, 16);
    return s.slice(5, 10);
  }

  // ---- legends ------------------------------------------------------------------------------
  function drawLegend() {
    var host = $('legend');
    host.textContent = '';
    if (!model.causes.length) { el('p', 'empty', 'No causes: no stopped task in this report.', host); return; }
    var t = el('table', 'causes', null, host), hr = el('tr', null, null, el('thead', null, null, t));
    ['Cause (click to highlight its lanes)', 'Rule id', 'Kind', 'Tasks'].forEach(function (h) { el('th', null, h, hr); });
    var tb = el('tbody', null, null, t);
    model.causes.forEach(function (c, i) {
      var tr = el('tr', null, null, tb), b = el('button', 'cause', null, el('td', null, null, tr));
      b.type = 'button';
      b.setAttribute('aria-pressed', 'false');
      b.setAttribute('data-cause', String(i));
      el('span', 'swatch', null, b).style.backgroundColor = c.color;
      el('span', 'label', c.label || c.id, b);
      el('code', null, c.id, el('td', null, null, tr));
      el('td', 'kind kind-' + (c.kind === 'problem' ? 'problem' : 'other'), c.kind, tr);
      el('td', 'count', c.count === null ? '' : String(c.count), tr);
    });
    host.addEventListener('click', function (ev) {
      var b = ev.target.closest && ev.target.closest('button.cause');
      if (!b) return;
      var i = +b.getAttribute('data-cause');
      focusCause = focusCause === i ? -1 : i;
      host.querySelectorAll('button.cause').forEach(function (x) {
        var on = +x.getAttribute('data-cause') === focusCause;
        x.setAttribute('aria-pressed', on ? 'true' : 'false');
        x.closest('tr').classList.toggle('on', on);
      });
      applyFocus();
    });
  }

  function applyFocus() {
    for (var i = 0; i < laneEls.length; i++) {
      var c = +laneEls[i].getAttribute('data-cause');
      flag(laneEls[i], 'data-dim', focusCause >= 0 && c !== focusCause);
    }
  }

  function markerShape(kind, x, y, parent, cls) {  // a shape per marker kind, centred on x, y
    var a = { 'class': cls };
    if (kind === 'event') { a.cx = x; a.cy = y; a.r = 3.6; return sv('circle', a, parent); }
    if (kind === 'deployment') a.d = 'M' + x + ' ' + (y - 5) + 'l5 5-5 5-5-5z';
    else if (kind === 'target-health') a.d = 'M' + (x - 4.5) + ' ' + (y - 4) + 'h9l-4.5 8z';
    else a.d = 'M' + (x - 3.5) + ' ' + (y - 3.5) + 'h7v7h-7z';
    return sv('path', a, parent);
  }

  function drawKeys() {
    var host = $('timeline-keys');
    host.textContent = '';
    function key(label, draw) {
      var k = el('span', 'key', null, host), s = sv('svg', { width: 30, height: 14, 'aria-hidden': 'true' }, k);
      draw(s);
      el('span', null, label, k);
    }
    PHASE_NAMES.forEach(function (p) {
      key(p, function (s) {
        var b = PHASE_BOX[p];
        sv('rect', { 'class': 'phase-key pk-' + p, x: 1.5, y: b[0] - 1, width: 27, height: b[1],
          fill: '#55606b', stroke: '#55606b' }, s);
      });
    });
    var counts = Object.create(null);
    model.markers.forEach(function (m) { counts[m.kind] = (counts[m.kind] || 0) + 1; });
    Object.keys(MARKER_KINDS).concat(counts.other ? ['other'] : []).forEach(function (k) {
      key((MARKER_KINDS[k] || 'other marker') + ' (' + (counts[k] || 0) + ')', function (s) {
        markerShape(k, 15, 7, s, 'key-' + k);
      });
    });
    if (model.left_out) el('span', 'key', plural(model.left_out, 'marker') + ' outside the window not drawn', host);
  }

  // ---- the timeline -----------------------------------------------------------------------
  function boxWidth() { return Math.max(600, Math.floor(box.clientWidth) || 1000); }
  function draw(width) {  // width: forced (for print), else the scroll box's
    var W = width || boxWidth();
    drawnWidth = W;
    var tasks = model.tasks, range = model.range;
    // Gutter: task id (monospace) then swatch and cause id; at most 45 % of the width.
    var maxId = 8, maxCause = 6;
    tasks.forEach(function (t) {
      maxId = Math.max(maxId, Math.min(t.id.length, 36));
      maxCause = Math.max(maxCause, Math.min(causeOf(t).id.length, 32));
    });
    var idW = maxId * 6.7 + 16, causeW = maxCause * 6.2 + 26, gut = idW + causeW;
    if (gut > W * 0.45) { idW *= W * 0.45 / gut; causeW *= W * 0.45 / gut; gut = idW + causeW; }
    if (gut < 190) { causeW += 190 - gut; gut = 190; }  // room for the axis notes and group headers
    var idChars = (idW - 16) / 6.7 + 0.01, causeChars = (causeW - 26) / 6.2 + 0.01;
    var x0 = Math.round(gut) + 8, x1 = W - 14, plotW = x1 - x0;
    var X = range ? function (ms) { return x0 + (ms - range.lo) / (range.hi - range.lo) * plotW; } : null;
    var tk = range ? ticks(range.lo, range.hi, plotW) : { step: 1, list: [] };

    // Rows: the marker strip, then per group a header row and its lanes.
    var y = 2, stripY = -1, laneY = new Array(tasks.length), heads = [];
    // Keyed by service name, which may be any string ("__proto__", "constructor"): no prototype.
    var runs = Object.create(null), lanesOf = Object.create(null);
    model.groups.forEach(function (g) { if (!g.ungrouped && g.service !== null) lanesOf[g.service] = 1; });
    // The top strip only when a marker belongs there: no service, or a service without lanes.
    if (model.markers.some(function (m) { return m.service === null || !(m.service in lanesOf); })) {
      stripY = y;
      y += STRIP_H;
    }
    model.groups.forEach(function (g) {
      var top = y;
      y += HEAD_H;
      g.tasks.forEach(function (i) { laneY[i] = y; y += LANE_H; });
      heads.push({ g: g, y: top });
      // Runs of adjacent lanes of one service, for the markers of that service.
      if (g.service !== null && !g.ungrouped) {
        var list = runs[g.service] || (runs[g.service] = []), last = list[list.length - 1];
        if (last && last.bottom === top) last.bottom = y; else list.push({ top: top, bottom: y });
      }
    });
    var noteY = y;
    if (!tasks.length) y += LANE_H + 4;  // a row for "no stopped tasks"
    var H = y + 4;

    // -- axis (its own sticky svg)
    axisSvg.textContent = '';
    axisSvg.setAttribute('width', W);
    axisSvg.setAttribute('height', AXIS_H);
    axisSvg.setAttribute('viewBox', '0 0 ' + W + ' ' + AXIS_H);
    var af = document.createDocumentFragment();
    sv('rect', { 'class': 'axis-bg', x: 0, y: 0, width: W, height: AXIS_H }, af);
    sv('line', { 'class': 'axis-rule', x1: 0, x2: W, y1: AXIS_H - 0.5, y2: AXIS_H - 0.5 }, af);
    var notes = range ? ['UTC · ' + iso(range.lo).slice(0, 10), dur(range.hi - range.lo) + ' · ' +
      plural(tasks.length, 'task')] : ['No times recorded:', 'lanes only'];
    notes.forEach(function (n, k) { sv('text', { 'class': 'axis-note', x: 8, y: 12 + 13 * k }, af, n); });
    // Tick labels may reach into the gutter, up to the notes.
    var prevDay = '', lastRight = 8 + 6.2 * Math.max(notes[0].length, notes[1].length);
    tk.list.forEach(function (t) {
      var x = X(t), day = iso(t).slice(0, 10);
      sv('line', { 'class': 'tick', x1: x, x2: x, y1: AXIS_H - 6, y2: AXIS_H }, af);
      // A label is centred on its tick, pulled in at the right end, left out where it would
      // run into the previous one or into the gutter.
      var label = tickLabel(t, tk.step), w = label.length * 6.4, lx = Math.min(x + w / 2, W - 3);
      if (lx - w < lastRight + 8) return;
      lastRight = lx;
      sv('text', { x: lx, y: 23, 'text-anchor': 'end' }, af, label);
      // The date above the first labelled tick and wherever the UTC day changes.
      if (tk.step < 864e5 && day !== prevDay) sv('text', { 'class': 'date', x: lx - w / 2, y: 11, 'text-anchor': 'middle' }, af, day.slice(5));
      prevDay = day;
    });
    axisSvg.appendChild(af);

    // -- main svg
    svg.textContent = '';
    svg.setAttribute('width', W);
    svg.setAttribute('height', H);
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var f = document.createDocumentFragment();
    var bg = sv('g', { 'class': 'backdrop' }, f);
    tk.list.forEach(function (t) { var x = X(t); sv('line', { 'class': 'grid', x1: x, x2: x, y1: 0, y2: H }, bg); });
    if (stripY >= 0) {
      sv('rect', { 'class': 'band', x: 0, y: stripY, width: W, height: STRIP_H - 2 }, bg);
      sv('text', { 'class': 'strip-text', x: 8, y: stripY + 12 }, bg, 'markers of all services');
    }
    heads.forEach(function (h) {
      var g = h.g, n = g.tasks.length;
      var label = g.ungrouped ? 'tasks in no group' : (g.service === null ? '(no service)' : g.service) +
        ' · ' + (g.revision === null ? '(no revision)' : g.revision);
      sv('rect', { 'class': 'band', x: 0, y: h.y + 2, width: W, height: HEAD_H - 2 }, bg);
      sv('text', { 'class': 'head-text', x: 8, y: h.y + 15 }, bg,
        fit(label, (Math.max(gut, 300) - 60) / 7) + ' (' + plural(n, 'task') + ')');
      for (var k = 1; k < n; k += 2) sv('rect', { 'class': 'zebra', x: 0, y: laneY[g.tasks[k]], width: W, height: LANE_H }, bg);
    });
    if (!tasks.length) sv('text', { 'class': 'note', x: 8, y: noteY + 14 }, bg, 'No stopped tasks in this report.');

    // Markers first, so their lines run behind the bars (their shapes sit in header rows).
    var mg = sv('g', { 'class': 'markers' }, f);
    // Lanes, in group order. One g.lane per task; its <title> is the tooltip.
    var lanes = sv('g', { 'class': 'lanes' }, f);
    laneEls = [];
    model.groups.forEach(function (g) {
      g.tasks.forEach(function (i) {
        var t = tasks[i], c = causeOf(t), ly = laneY[i];
        var lane = sv('g', { 'class': 'lane', 'data-task-id': t.id, 'data-index': i, 'data-cause': t.cause,
          tabindex: 0, role: 'button', 'aria-label': 'task ' + t.id + ': ' + (c.label || c.id) }, lanes);
        sv('title', {}, lane, t.id + '\n' + (c.label || c.id) + ' (' + c.id + ')' +
          (t.stopped_reason ? '\nstopped: ' + t.stopped_reason : ''));
        sv('rect', { 'class': 'lane-bg', x: 0.75, y: ly + 0.75, width: W - 1.5, height: LANE_H - 1.5 }, lane);
        sv('text', { 'class': 'tid', x: 8, y: ly + 12 }, lane, fit(t.id, idChars));
        sv('rect', { 'class': 'sw', x: idW, y: ly + 3, width: 10, height: 10, rx: 1.5, fill: c.color }, lane);
        sv('text', { 'class': 'cid', x: idW + 15, y: ly + 12 }, lane, fit(c.id, causeChars));
        if (X && t.phases.length) {
          t.phases.forEach(function (p) {
            var a = X(p.start), b = PHASE_BOX[p.phase];
            sv('rect', { 'class': 'phase phase-' + p.phase, x: a, y: ly + b[0],
              width: Math.max(1, X(p.end) - a), height: b[1],  // at least 1px, so a short phase shows
              fill: c.color, stroke: c.color }, lane);  // the stroke shows only on stopping (CSS)
          });
        } else if (X && t.stopped !== null) {  // no phases: a cross where the task stopped
          var sx = X(t.stopped);
          sv('path', { 'class': 'stop-mark', stroke: c.color,
            d: 'M' + (sx - 4) + ' ' + (ly + 4) + 'l8 8m0-8l-8 8' }, lane);
          var right = sx + 150 < x1;  // the note on whichever side has room
          sv('text', { 'class': 'no-times', x: right ? sx + 8 : sx - 8, y: ly + 12,
            'text-anchor': right ? 'start' : 'end' }, lane, 'stopped (no phase times)');
        } else {
          sv('text', { 'class': 'no-times', x: x0, y: ly + 12 }, lane, 'no times recorded');
        }
        if (i === selected) flag(lane, 'data-selected', true);
        laneEls.push(lane);
      });
    });

    // Markers: one g.marker each, with its <title>. A service's marker spans that service's
    // lanes (a line per run of adjacent groups, the shape in the group header); one with no
    // service spans all lanes; one whose service has no lane sits in the top strip, faded.
    if (X) model.markers.forEach(function (m) {
      var x = X(m.at), list = m.service === null ? null : runs[m.service];
      var orphan = m.service !== null && !list;
      var g = sv('g', { 'class': 'marker marker-' + m.kind + (orphan ? ' orphan' : ''), 'data-kind': m.kind }, mg);
      sv('title', {}, g, m.atText + ' · ' + m.kindLabel + ' · ' +
        (m.service === null ? 'all services' : m.service + (orphan ? ' (no stopped task)' : '')) + '\n' + m.text);
      if (list) {
        list.forEach(function (r) {
          sv('line', { x1: x, x2: x, y1: r.top + HEAD_H, y2: r.bottom }, g);
          markerShape(m.kind, x, r.top + 2 + (HEAD_H - 2) / 2, g, 'm-shape');
        });
      } else {
        if (!orphan) sv('line', { x1: x, x2: x, y1: stripY + STRIP_H - 2, y2: H }, g);
        markerShape(m.kind, x, stripY + (STRIP_H - 2) / 2, g, 'm-shape');
      }
    });
    svg.appendChild(f);
    applyFocus();
    return tasks.length;
  }

  // ---- detail panel -----------------------------------------------------------------------
  // A titled table; `classes` style each column (th and td), `wide` spans the panel's width.
  function table(parent, caption, heads, rows, classes, wide) {
    el('h3', null, caption + ' (' + rows.length + ')', parent);
    if (!rows.length) { el('p', 'empty', 'none recorded', parent); return; }
    var t = el('table', wide ? 'dt wide' : 'dt', null, parent), hr = el('tr', null, null, el('thead', null, null, t));
    heads.forEach(function (h, j) { el('th', classes[j] === 'num' ? 'num' : null, h, hr); });
    var tb = el('tbody', null, null, t);
    rows.forEach(function (r) {
      var tr = el('tr', null, null, tb);
      r.forEach(function (cell, j) { el('td', classes[j], cell, tr); });
    });
  }

  // Shows task i in the panel; `remember` puts it in the address (#task=ID) to share or reload.
  function showDetail(i, remember) {
    var t = model.tasks[i], host = $('detail');
    if (!t) return;
    var c = causeOf(t);
    selected = i;
    if (remember) {
      try { history.replaceState(null, '', '#task=' + encodeURIComponent(t.id)); } catch (e) { /* file:// may refuse */ }
    }
    $('detail-section').classList.remove('none-selected');
    laneEls.forEach(function (l) { flag(l, 'data-selected', +l.getAttribute('data-index') === i); });
    host.textContent = '';
    el('h3', 'task', t.id, host);
    var dl = el('dl', 'facts', null, host);
    function fact(k, v) { el('dt', null, k, dl); return el('dd', null, v === null || v === '' ? '—' : v, dl); }
    fact('ARN', t.arn).className = 'mono';
    fact('Service', t.service);
    fact('Revision', t.revision);
    fact('Last status', t.last_status);
    fact('Stop code', t.stop_code);
    fact('Stopped reason', t.stopped_reason);
    fact('Stopped at', t.stopped === null ? null : iso(t.stopped));
    var dd = fact('Cause', null);
    dd.textContent = '';
    el('span', 'swatch', null, dd).style.backgroundColor = c.color;
    el('span', null, (c.label || c.id) + ' ', dd);
    el('code', null, c.id, dd);
    el('span', 'kind', ' · ' + c.kind, dd);
    if (t.message !== null) fact('Finding', t.message);
    table(host, 'Phases', ['Phase', 'Start (UTC)', 'End (UTC)', 'Duration'], t.phases.map(function (p) {
      return [p.label, iso(p.start), iso(p.end), dur(p.end - p.start)];
    }), [null, 'time', 'time', 'num']);
    table(host, 'Containers', ['Name', 'Exit code', 'Reason'], t.containers.map(function (k) {
      return [str(k.name), k.exit_code === null || k.exit_code === undefined ? '—' : str(k.exit_code), str(k.reason) || '—'];
    }), ['mono', 'num', null]);
    table(host, 'Evidence', ['Label', 'Path', 'Value'], t.evidence.map(function (e) {
      return [str(e.label), str(e.path), str(e.value)];
    }), [null, 'mono', 'mono'], true);
    table(host, 'Log lines', ['Time', 'Container', 'Text'], t.logs.map(function (l) {
      return [str(l.at) || '—', str(l.container) || '—', str(l.text)];
    }), ['time', 'mono', 'log'], true);
  }

  // A link to a task, #task=ID (the task id or its ARN): opens it, its lane in view.
  function openFromHash() {
    var m = /^#task=(.+)$/.exec(location.hash), want;
    if (!m) return;
    try { want = decodeURIComponent(m[1]); } catch (e) { want = m[1]; }
    var t = model.tasks.filter(function (x) { return x.id === want || x.arn === want; })[0];
    if (!t) return;
    showDetail(t.index, false);
    var lane = laneEls.filter(function (l) { return +l.getAttribute('data-index') === t.index; })[0];
    if (lane) box.scrollTop = Math.max(0, lane.getBBox().y - box.clientHeight / 3);
    $('detail-section').scrollIntoView({ block: 'start' });
  }

  // ---- events -------------------------------------------------------------------------------
  function laneOf(target) { return target && target.closest ? target.closest('g.lane') : null; }
  function wire() {
    svg.addEventListener('click', function (ev) {
      var lane = laneOf(ev.target);
      if (!lane) return;
      showDetail(+lane.getAttribute('data-index'), true);
      var d = $('detail-section');
      if (d.getBoundingClientRect().top > window.innerHeight - 80) d.scrollIntoView({ block: 'nearest' });
    });
    svg.addEventListener('keydown', function (ev) {
      var lane = laneOf(ev.target);
      if (!lane) return;
      var pos = laneEls.indexOf(lane);
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        showDetail(+lane.getAttribute('data-index'), true);
      } else if ((ev.key === 'ArrowDown' || ev.key === 'ArrowUp') && pos >= 0) {
        var next = laneEls[pos + (ev.key === 'ArrowDown' ? 1 : -1)];
        if (next) { ev.preventDefault(); next.focus(); }
      }
    });
    window.addEventListener('hashchange', function () { safe(openFromHash); });
    var timer = 0;
    window.addEventListener('resize', function () {  // redraw to the new width, at most every 200 ms
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (Math.abs(boxWidth() - drawnWidth) > 2) safe(draw);
      }, 200);
    });
    // Print: the full text report unfolded, and the timeline drawn 960 px wide, which a page
    // (about 720 CSS px on A4 or Letter) shrinks to 3/4 rather than to half; undone afterwards.
    var rep = $('report-details'), wasOpen = false;
    window.addEventListener('beforeprint', function () { wasOpen = rep.open; rep.open = true; safe(function () { draw(960); }); });
    window.addEventListener('afterprint', function () { rep.open = wasOpen; safe(function () { draw(); }); });
  }

  function fail(message) {
    box.hidden = true;
    $('timeline-keys').hidden = true;
    var p = el('p', 'error', message);
    p.setAttribute('role', 'alert');
    box.parentNode.insertBefore(p, box);
    body.setAttribute('data-rendered', 'error');
    body.setAttribute('data-lanes', '0');
  }
  function safe(fn) {
    try { fn(); } catch (e) { fail('The timeline could not be drawn (' + str(e && e.message) + '). The summary and the full text report are still here.'); }
  }

  function main() {
    var t0 = now(), raw;
    if (!svg || !box || !NS) { body.setAttribute('data-rendered', 'error'); return; }
    try {
      var node = $('autopsy-data');
      if (!node) throw new Error('the data element is missing');
      raw = JSON.parse(node.textContent);
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('the data is not a JSON object');
    } catch (e) {
      fail('The timeline cannot be drawn: its data is missing or malformed (' + str(e && e.message) +
        '). The summary and the full text report are still here.');
      return;
    }
    safe(function () {
      model = normalise(raw);
      if (model.title) document.title = model.title;
      else document.title = $('title').textContent || document.title;
      $('legend-section').hidden = false;
      $('timeline-keys').hidden = false;
      $('detail-section').hidden = false;
      $('detail-section').classList.add('none-selected');  // not printed until a task is chosen
      box.hidden = false;  // before drawing: the width is read from it
      drawLegend();
      drawKeys();
      var lanes = draw();
      // Where the scroll box got a scrollbar only once filled (no scrollbar-gutter), fit again.
      if (boxWidth() < drawnWidth - 2) draw();
      wire();
      openFromHash();
      svg.getBoundingClientRect();  // include the layout in the measured time
      body.setAttribute('data-lanes', String(lanes));
      body.setAttribute('data-render-ms', (now() - t0).toFixed(1));
      body.setAttribute('data-rendered', 'true');
    });
  }

  main();
})();
