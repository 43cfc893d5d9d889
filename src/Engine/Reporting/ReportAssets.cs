namespace NeuralBuild.Engine.Reporting;

/// <summary>
/// The report's style sheet and script, inlined into every report (no file beside it, no network,
/// only the system's fonts). The script only moves and reads what the report drew: zoom and pan of
/// the graph, and the side panel of a clicked layer, which it fills with text nodes, never markup.
/// </summary>
internal static class ReportAssets
{
    public const string Css = """
        :root { --ink: #1d2330; --muted: #5b6475; --line: #c9d0dc; --accent: #d9531e; --after: #2b5fab; }
        * { box-sizing: border-box; }
        body { margin: 0; padding: 0 24px 24px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fbfcfd; }
        header { padding: 14px 0 6px; }
        h1 { margin: 0; font-size: 22px; }
        h2 { font-size: 17px; margin: 22px 0 6px; border-bottom: 1px solid var(--line); padding-bottom: 3px; }
        h3 { font-size: 15px; margin: 16px 0 6px; }
        .meta, .hint, footer { color: var(--muted); font-size: 12.5px; margin: 4px 0; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 8px; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 150px; }
        .card .label { color: var(--muted); font-size: 12px; }
        .card .value { font-size: 19px; font-weight: 600; }
        .card .after { color: var(--after); font-size: 12px; }
        .card .note { color: var(--muted); font-size: 11.5px; }
        .toolbar { margin: 4px 0; }
        .toolbar button { font: inherit; font-size: 12px; margin-right: 4px; padding: 2px 10px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
        .graph-wrap { display: flex; gap: 10px; height: 640px; }
        #graph { flex: 1; min-width: 0; height: 100%; background: #fff; border: 1px solid var(--line); border-radius: 6px; cursor: grab; user-select: none; touch-action: none; }
        #graph.dragging { cursor: grabbing; }
        #details { width: 330px; flex: none; overflow: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; font-size: 12.5px; }
        #details h3 { margin: 2px 0 4px; word-break: break-all; }
        #details table { width: 100%; }
        #details td { padding: 1px 4px; vertical-align: top; overflow-wrap: anywhere; }
        #details td:first-child { white-space: nowrap; color: var(--muted); }
        #details ul { padding-left: 16px; margin: 4px 0; }
        .edge { fill: none; stroke: #8c96a8; stroke-width: 1.3; }
        .edge.hot { stroke: var(--accent); stroke-width: 2.4; }
        .arrowhead { fill: #8c96a8; }
        .layer { cursor: pointer; }
        .layer .box { stroke: #7d889c; stroke-width: 1; }
        .layer.peak .box { stroke: #c0182b; stroke-width: 2.5; }
        .layer.removed .box { stroke-dasharray: 5 3; opacity: 0.7; }
        .layer.selected .box { stroke: #111; stroke-width: 3; }
        .layer .share { fill: var(--accent); }
        .layer text { font-size: 11.5px; fill: var(--ink); pointer-events: none; }
        .layer text.kind { font-weight: 600; }
        .layer text.shape { fill: var(--muted); font-size: 10.5px; }
        figure { margin: 6px 0 12px; }
        figcaption { font-weight: 600; font-size: 13px; }
        .chart { width: 100%; max-width: 1200px; height: auto; display: block; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
        .chart .bar { fill: #f0a27e; cursor: pointer; }
        .chart .bar.after { fill: var(--after); }
        .chart .bar.selected { fill: #111; }
        .chart .axis { stroke: #7d889c; }
        .chart .tick { font-size: 10px; fill: var(--muted); }
        .chart .peak-mark { stroke: #c0182b; stroke-dasharray: 4 3; stroke-width: 1.5; }
        .chart .peak-label { font-size: 11px; fill: #c0182b; }
        .time-chart { width: 100%; max-width: 1200px; height: auto; display: block; margin-bottom: 10px; }
        .time-chart .tick { font-size: 12px; fill: var(--ink); }
        table { border-collapse: collapse; font-size: 12.5px; }
        th, td { border-bottom: 1px solid #e3e7ee; padding: 3px 8px; text-align: left; }
        th { background: #f1f3f7; }
        td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tr.fail td { background: #fde4e4; }
        tr.warn td { background: #fff4d6; }
        tr.ok td:first-child { border-left: 3px solid #3b9b5a; }
        tr.removed td { color: var(--muted); }
        tr.total td { font-weight: 600; }
        footer { margin-top: 24px; }
        """;

    public const string Script = """
        (function () {
          'use strict';
          var data = JSON.parse(document.getElementById('layer-data').textContent);
          var byIndex = {};
          data.layers.forEach(function (l) { byIndex[l.index] = l; });
          var svg = document.getElementById('graph');
          var viewport = document.getElementById('viewport');
          var details = document.getElementById('details');
          var width = parseFloat(svg.getAttribute('data-width'));
          var height = parseFloat(svg.getAttribute('data-height'));
          var view = { x: 0, y: 0, k: 1 };

          function apply() {
            viewport.setAttribute('transform', 'translate(' + view.x + ',' + view.y + ') scale(' + view.k + ')');
          }

          // The drawing's origin is the SVG's content box, inside its border: measure from there, or
          // a zoom would pivot a border's width away from the cursor.
          function area() {
            var r = svg.getBoundingClientRect();
            return { left: r.left + svg.clientLeft, top: r.top + svg.clientTop, width: svg.clientWidth, height: svg.clientHeight };
          }

          function fit() {
            var r = area();
            view.k = Math.min(r.width / width, r.height / height, 1.5);
            view.x = (r.width - width * view.k) / 2;
            view.y = (r.height - height * view.k) / 2;
            apply();
          }

          function centreOn(index, keepScale) {
            var g = document.getElementById('layer-' + index);
            if (!g) { return; }
            var r = area();
            var box = g.transform.baseVal.consolidate().matrix;
            if (!keepScale) { view.k = Math.max(view.k, 0.8); }
            view.x = r.width / 2 - (box.e + 95) * view.k;
            view.y = r.height / 3 - (box.f + 26) * view.k;
            apply();
          }

          // A small graph is shown whole; a large one from its first layer at a readable scale.
          function start() {
            var r = area();
            if (width * 0.6 <= r.width && height * 0.6 <= r.height) { fit(); return; }
            view.k = Math.max(0.6, Math.min(1, r.width / width));
            var first = data.layers.length ? data.layers[0].index : null;
            var g = first === null ? null : document.getElementById('layer-' + first);
            var box = g ? g.transform.baseVal.consolidate().matrix : { e: 0, f: 0 };
            view.x = r.width / 2 - (box.e + 95) * view.k;
            view.y = 12 - box.f * view.k;
            apply();
          }

          svg.addEventListener('wheel', function (e) {
            e.preventDefault();
            var r = area();
            var px = e.clientX - r.left, py = e.clientY - r.top;
            // A mouse notch is ~100 px in Chromium but 3 lines in Firefox (deltaMode 1), a page in some setups.
            var pixels = e.deltaY * (e.deltaMode === 1 ? 33 : e.deltaMode === 2 ? r.height : 1);
            var factor = Math.exp(-pixels * 0.0015);
            var k = Math.min(4, Math.max(0.03, view.k * factor));
            factor = k / view.k;
            view.x = px - (px - view.x) * factor;
            view.y = py - (py - view.y) * factor;
            view.k = k;
            apply();
          }, { passive: false });

          var drag = null;
          svg.addEventListener('pointerdown', function (e) {
            if (e.button !== 0) { return; }
            drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false };
            // Capture keeps the drag when the pointer leaves the graph; a pointer the browser no longer
            // tracks cannot be captured, and the drag still works inside the graph.
            try { svg.setPointerCapture(e.pointerId); } catch (ignored) { }
          });
          svg.addEventListener('pointercancel', function () {
            drag = null;
            svg.classList.remove('dragging');
          });
          svg.addEventListener('pointermove', function (e) {
            if (!drag) { return; }
            // The button was released where no pointerup reached us: the drag is over.
            if (e.buttons === 0) { drag = null; svg.classList.remove('dragging'); return; }
            var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
            if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; svg.classList.add('dragging'); }
            view.x = drag.vx + dx;
            view.y = drag.vy + dy;
            apply();
          });
          svg.addEventListener('pointerup', function (e) {
            var wasClick = drag && !drag.moved;
            drag = null;
            svg.classList.remove('dragging');
            if (!wasClick) { return; }
            var hit = document.elementFromPoint(e.clientX, e.clientY);
            var g = hit && hit.closest ? hit.closest('g.layer') : null;
            if (g) { select(parseInt(g.getAttribute('data-index'), 10), false); }
          });

          function cell(row, text, tag) {
            var c = document.createElement(tag || 'td');
            c.textContent = text;
            row.appendChild(c);
          }

          function select(index, centre) {
            var layer = byIndex[index];
            if (!layer) { return; }
            document.querySelectorAll('.selected').forEach(function (n) { n.classList.remove('selected'); });
            document.querySelectorAll('.edge.hot').forEach(function (n) { n.classList.remove('hot'); });
            var g = document.getElementById('layer-' + index);
            if (g) { g.classList.add('selected'); }
            document.querySelectorAll('.bar[data-index="' + index + '"]').forEach(function (n) { n.classList.add('selected'); });
            document.querySelectorAll('.edge[data-from="' + index + '"], .edge[data-to="' + index + '"]').forEach(function (n) { n.classList.add('hot'); });
            if (centre) { centreOn(index, false); }

            details.textContent = '';
            var h = document.createElement('h3');
            // Darknet names a layer by its index: no need to say it twice.
            var named = layer.name && layer.name !== String(layer.index);
            h.textContent = '#' + layer.index + ' ' + layer.kind + (named ? ' ' + layer.name : '');
            details.appendChild(h);
            var table = document.createElement('table');
            function row(label, value) {
              var tr = document.createElement('tr');
              cell(tr, label);
              cell(tr, value);
              table.appendChild(tr);
            }
            row('output', layer.outputShape);
            row('where', layer.file + (layer.line > 0 ? ':' + layer.line : ''));
            row('ops', layer.ops);
            row('reads', layer.inputs || 'the model input');
            row('MACC share', layer.maccShare);
            layer.figures.forEach(function (f, i) {
              row(f[0], f[1]);
              if (layer.after) { row('  after ' + data.operation, layer.after[i][1]); }
            });
            if (layer.after === null) { row('after ' + data.operation, 'removed'); }
            details.appendChild(table);
            if (layer.passes.length) {
              var p = document.createElement('p');
              p.textContent = 'Passes:';
              details.appendChild(p);
              var ul = document.createElement('ul');
              layer.passes.forEach(function (text) {
                var li = document.createElement('li');
                li.textContent = text;
                ul.appendChild(li);
              });
              details.appendChild(ul);
            }
          }

          document.querySelectorAll('.chart .bar').forEach(function (bar) {
            bar.addEventListener('click', function () {
              select(parseInt(bar.getAttribute('data-index'), 10), true);
              svg.scrollIntoView({ behavior: 'smooth', block: 'center' });
            });
          });
          document.getElementById('fit').addEventListener('click', fit);
          document.getElementById('actual').addEventListener('click', function () { view.k = 1; apply(); });
          document.getElementById('top').addEventListener('click', start);

          start();
          // report.html#layer=12 opens with that layer selected (not #layer-12: the browser would scroll to the box itself).
          var linked = /^#layer=(\d+)$/.exec(location.hash);
          if (linked) { select(parseInt(linked[1], 10), true); }
          if (location.hash === '#fit') { fit(); }
          document.body.setAttribute('data-layers', String(document.querySelectorAll('#graph g.layer').length));
          document.body.setAttribute('data-ready', 'true');
        }());
        """;
}
