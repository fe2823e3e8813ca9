/* chainrule's backprop explorer. The page holds one SVG (drawn by Graphviz) and, as
 * JSON, the frames: each frame lists only what it changes (texts of records, nodes
 * that appear or whose gradient becomes final, the operation it applies). Showing
 * frame k replays the changes of frames 0..k onto the SVG, and scrolls the graph so
 * that what the step applies is in view. The graph zooms (buttons, + - 0 1, ctrl +
 * wheel) and pans (drag, scroll). Nothing is fetched. */
(function () {
  "use strict";
  var script = document.currentScript;
  var root = script && script.parentElement;
  if (!root || !root.classList.contains("chainrule-explorer")) {
    var waiting = document.querySelectorAll(".chainrule-explorer:not([data-ready])");
    root = waiting[waiting.length - 1];
  }
  if (!root || root.getAttribute("data-ready")) { return; }
  root.setAttribute("data-ready", "1");

  var data = JSON.parse(root.querySelector("script.cre-data").textContent);
  var frames = data.frames;
  var count = frames.length;
  var graph = root.querySelector(".cre-graph");
  var svg = graph.querySelector("svg");
  var info = root.querySelector(".cre-info");
  var topRow = root.querySelector(".cre-top");
  var stepBox = root.querySelector(".cre-step");
  var stepTitle = root.querySelector(".cre-step-title");
  var stepLines = root.querySelector(".cre-lines");
  var slider = root.querySelector(".cre-slider");
  var playButton = root.querySelector(".cre-play");
  var current = 0;
  var shown = false;  // whether a frame has been shown yet
  var timer = null;
  var pinned = null;
  var STATE = ["cre-unborn", "cre-pending", "cre-final", "cre-active", "cre-computing"];

  // Elements by id, looked up inside this explorer only: a notebook may show several.
  var byId = {};
  Array.prototype.forEach.call(svg.querySelectorAll("g[id]"), function (g) { byId[g.id] = g; });
  var owner = {};  // element id of any part (op, edge) -> the record it belongs to
  Object.keys(data.parts).forEach(function (element) {
    data.parts[element].forEach(function (id) { owner[id] = element; });
  });
  var firstBackward = 0;
  while (firstBackward < count && frames[firstBackward].phase !== "backward") { firstBackward++; }

  function fieldText(element, field) {
    var fields = data.fields[element];
    var g = byId[element];
    if (!fields || fields[field] === undefined || !g) { return null; }
    return g.querySelectorAll("text")[fields[field]] || null;
  }

  // A text is a string, or a list of strings and names [shown, full dotted name]: a
  // name read from inside a module shows its full name on hover.
  function render(parent, text) {
    parent.textContent = "";
    (typeof text === "string" ? [text] : text).forEach(function (part) {
      if (typeof part === "string") {
        parent.appendChild(document.createTextNode(part));
      } else {
        var name = document.createElement("span");
        name.className = "cre-name";
        name.textContent = part[0];
        name.title = part[1];
        parent.appendChild(name);
      }
    });
    return parent;
  }

  function eachPart(element, fn) {
    (data.parts[element] || []).forEach(function (id) { if (byId[id]) { fn(byId[id]); } });
  }

  function show(k) {
    k = Math.max(0, Math.min(count - 1, k));
    // one step forward or back scrolls smoothly; a jump (or the first frame) at once
    var jump = k !== current + 1 && k !== current - 1 || !shown;
    current = k;
    shown = true;
    var born = {}, final = {}, texts = {}, changed = {};
    for (var i = 0; i <= k; i++) {
      var frame = frames[i];
      frame.born.forEach(function (e) { born[e] = true; });
      frame.final.forEach(function (e) { final[e] = true; });
      frame.set.forEach(function (change) {
        var key = change[0] + "\u0000" + change[1];
        texts[key] = change;
        if (i === k) { changed[key] = true; }
      });
    }
    var backward = frames[k].phase === "backward";
    Object.keys(byId).forEach(function (id) {
      STATE.forEach(function (c) { byId[id].classList.remove(c); });
    });
    data.valueElements.forEach(function (element) {
      if (!born[element]) { eachPart(element, function (g) { g.classList.add("cre-unborn"); }); }
      var hasGrad = data.fields[element] && data.fields[element].grad !== undefined;
      if (backward && hasGrad && byId[element]) {
        byId[element].classList.add(final[element] ? "cre-final" : "cre-pending");
      }
    });
    frames[k].active.forEach(function (element) {
      eachPart(element, function (g) { g.classList.add(backward ? "cre-active" : "cre-computing"); });
    });
    Object.keys(texts).forEach(function (key) {
      var change = texts[key];
      var text = fieldText(change[0], change[1]);
      if (text) {
        text.textContent = change[2];
        text.classList.toggle("cre-changed", !!changed[key]);
      }
    });
    root.classList.toggle("cre-backward", backward);
    root.classList.toggle("cre-forward", !backward);
    fillStep(k);
    slider.value = String(k);
    root.querySelector(".cre-position").textContent = (k + 1) + " / " + count;
    Array.prototype.forEach.call(root.querySelectorAll(".cre-phase"), function (b) {
      b.classList.toggle("cre-on", b.getAttribute("data-phase") === frames[k].phase);
    });
    follow(jump);
  }

  function fillStep(k) {
    render(stepTitle, data.titles[k]);
    stepLines.textContent = "";
    data.lines[k].forEach(function (line) {
      stepLines.appendChild(render(document.createElement("li"), line));
    });
  }

  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    playButton.textContent = "play";
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (current >= count - 1) { show(0); }
    playButton.textContent = "pause";
    timer = setInterval(function () {
      if (current >= count - 1) { stop(); } else { show(current + 1); }
    }, 900);
  }

  function go(k) { stop(); show(k); }

  // -- the node panel: value, grad, the op that made it, paths to the output ----------

  function clearPaths() {
    Object.keys(byId).forEach(function (id) {
      byId[id].classList.remove("cre-path");
      byId[id].classList.remove("cre-selected");
    });
  }

  // A path is [first node, then (next node, operand slot) pairs], as topological
  // indices: the records and edges along it, named as explore.py draws them.
  function pathParts(path) {
    var parts = [];
    var prev = path[0];
    if (data.elementOf[prev]) { parts.push(data.elementOf[prev]); }
    for (var j = 1; j < path.length; j += 2) {
      var node = path[j], slot = path[j + 1];
      if (!data.collapsed) {
        parts.push("e" + node + "_" + slot, "op" + node, "o" + node, "v" + node);
      } else {
        var a = data.elementOf[prev], b = data.elementOf[node];
        if (a && b && a !== b) { parts.push("c" + a + "--" + b); }
        if (b) { parts.push(b); }
      }
      prev = node;
    }
    return parts;
  }

  var repeated = {};
  data.repeated.forEach(function (i) { repeated[i] = true; });

  function pathText(path) {
    var names = [data.names[path[0]]];
    for (var j = 1; j < path.length; j += 2) {
      // x * x: say which operand the path enters by, as explain() does
      names.push(data.names[path[j]] + (repeated[path[j]] ? "[" + (path[j + 1] + 1) + "]" : ""));
    }
    if (names.length > 11) {
      names = names.slice(0, 5).concat(["\u2026(" + (names.length - 10) + " more)\u2026"],
        names.slice(-5));
    }
    return names.join(" \u2192 ");
  }

  function entersBySlot(item) {
    for (var j = 1; j < item.path.length; j += 2) { if (repeated[item.path[j]]) { return true; } }
    return false;
  }

  function highlight(items) {
    items.forEach(function (item) {
      pathParts(item.path).forEach(function (id) {
        if (byId[id]) { byId[id].classList.add("cre-path"); }
      });
    });
  }

  function add(parent, tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    parent.appendChild(node);
    return node;
  }

  function panel(element) {
    var p = data.panels[element];
    if (!p) { return; }
    clearPaths();
    if (byId[element]) { byId[element].classList.add("cre-selected"); }
    info.textContent = "";
    add(info, "h3", p.title);
    add(info, "div", p.kind, "cre-kind");
    var table = add(info, "table");
    p.rows.forEach(function (row) {
      var tr = add(table, "tr");
      add(tr, "td", row[0]);
      add(tr, "td", row[1], "cre-mono");
    });
    if (p.made) {
      add(info, "h4", "made by " + p.op);
      render(add(info, "div", null, "cre-mono"), p.made);
      if (p.locals.length) {
        add(info, "h4", "local derivatives (the factors on its in-edges)");
        var locals = add(info, "ul");
        p.locals.forEach(function (text) { render(add(locals, "li", null, "cre-mono"), text); });
      }
    }
    if (p.parameters) {
      add(info, "h4", "parameters (value, grad after the backward pass)");
      var params = add(info, "table");
      p.parameters.forEach(function (row) {
        var tr = add(params, "tr");
        add(tr, "td", row[0]);
        add(tr, "td", row[1], "cre-mono");
      });
    }
    var paths = p.paths;
    if (paths) {
      add(info, "h4", paths.rule ? "its uses" :
        "paths to the output (" + paths.count + "): products of the local derivatives");
      if (paths.rule) { add(info, "div", paths.rule); }
      var list = add(info, "ol");
      paths.items.forEach(function (item) {
        var li = add(list, "li", null, "cre-item");
        add(li, "div", pathText(item.path), "cre-mono");
        if (item.product) { add(li, "div", item.product, "cre-mono cre-product"); }
        li.addEventListener("mouseenter", function () { clearPaths(); highlight([item]); });
        li.addEventListener("mouseleave", function () {
          clearPaths(); highlight(paths.items);
          if (byId[element]) { byId[element].classList.add("cre-selected"); }
        });
      });
      if (paths.more) { add(info, "div", paths.more); }
      if (paths.items.some(entersBySlot)) {
        add(info, "div", "op[i]: the path enters op as its i-th operand", "cre-kind");
      }
      if (paths.sum) { add(info, "div", paths.sum, "cre-mono cre-product"); }
      highlight(paths.items);
      if (byId[element]) { byId[element].classList.add("cre-selected"); }
    }
    if (pinned === element) {
      add(info, "div", "pinned: click the node again, or press Esc, to let go", "cre-pin");
    }
  }

  function unpin() {
    pinned = null;
    clearPaths();
    info.textContent = "";
    add(info, "p", "Hover over or click a node to see its value, its gradient, the " +
      "operation that made it and every path from it to the output.", "cre-hint");
  }

  Object.keys(byId).forEach(function (id) {
    var g = byId[id];
    var element = owner[id];
    if (!element || !g.classList.contains("node")) { return; }
    g.addEventListener("mouseenter", function () { if (pinned === null) { panel(element); } });
    g.addEventListener("click", function (event) {
      event.stopPropagation();
      if (pinned === element) { unpin(); } else { pinned = element; panel(element); }
    });
  });
  graph.addEventListener("mouseleave", function () { if (pinned === null) { unpin(); } });
  svg.addEventListener("click", function () { if (pinned !== null) { unpin(); } });

  // -- controls ---------------------------------------------------------------------

  root.querySelector(".cre-first").addEventListener("click", function () { go(0); });
  root.querySelector(".cre-prev").addEventListener("click", function () { go(current - 1); });
  root.querySelector(".cre-next").addEventListener("click", function () { go(current + 1); });
  root.querySelector(".cre-last").addEventListener("click", function () { go(count - 1); });
  playButton.addEventListener("click", play);
  slider.addEventListener("input", function () { go(parseInt(slider.value, 10)); });
  Array.prototype.forEach.call(root.querySelectorAll(".cre-phase"), function (b) {
    b.addEventListener("click", function () {
      go(b.getAttribute("data-phase") === "backward" ? firstBackward : 0);
    });
  });

  // -- zoom and pan -------------------------------------------------------------------
  // The SVG's natural size is Graphviz's (points, 4/3 px each); ``scale`` draws it at
  // that size times scale. "fit" is the scale that fits the box's width (never above
  // 1); the graph keeps fitting as the box changes size until you zoom.

  var viewBox = svg.viewBox && svg.viewBox.baseVal;
  var naturalWidth = viewBox && viewBox.width ? viewBox.width * 4 / 3
    : svg.getBoundingClientRect().width;
  var naturalHeight = viewBox && viewBox.height ? viewBox.height * 4 / 3
    : svg.getBoundingClientRect().height;
  var zoomButton = root.querySelector(".cre-zoom");
  var zoomLevel = root.querySelector(".cre-zoom-level");
  var scale = 1;
  var fitting = true;
  var MIN_SCALE = 0.1, MAX_SCALE = 4, STEP = 1.25;

  function fitScale() {
    var width = graph.clientWidth - 2;
    return width > 0 ? Math.min(1, width / naturalWidth) : 1;
  }

  // Draw the graph at ``next``, keeping the graph point under (x, y) (relative to the
  // box; its centre by default) where it was.
  function setScale(next, x, y) {
    next = Math.max(MIN_SCALE, Math.min(MAX_SCALE, next));
    if (x === undefined) { x = graph.clientWidth / 2; y = graph.clientHeight / 2; }
    var before = svg.getBoundingClientRect(), frame = graph.getBoundingClientRect();
    var gx = (frame.left + graph.clientLeft + x - before.left) / scale;
    var gy = (frame.top + graph.clientTop + y - before.top) / scale;
    scale = next;
    svg.style.maxWidth = "none";
    svg.style.width = (naturalWidth * scale) + "px";
    svg.style.height = (naturalHeight * scale) + "px";
    var after = svg.getBoundingClientRect();
    graph.scrollLeft += after.left + gx * scale - (frame.left + graph.clientLeft + x);
    graph.scrollTop += after.top + gy * scale - (frame.top + graph.clientTop + y);
    zoomLevel.textContent = Math.round(scale * 100) + "%";
    zoomButton.textContent = fitting ? "100%" : "fit";
    root.setAttribute("data-scale", scale.toFixed(4));
  }

  function fit() { fitting = true; setScale(fitScale()); follow(true); }
  function actualSize() { fitting = false; setScale(1); follow(true); }
  function zoomBy(factor, x, y) { fitting = false; setScale(scale * factor, x, y); }

  zoomButton.addEventListener("click", function () { if (fitting) { actualSize(); } else { fit(); } });
  root.querySelector(".cre-zoom-in").addEventListener("click", function () { zoomBy(STEP); });
  root.querySelector(".cre-zoom-out").addEventListener("click", function () { zoomBy(1 / STEP); });
  graph.addEventListener("wheel", function (event) {
    if (!event.ctrlKey && !event.metaKey) { return; }  // a plain wheel scrolls
    event.preventDefault();
    var frame = graph.getBoundingClientRect();
    zoomBy(Math.pow(STEP, -event.deltaY / 100), event.clientX - frame.left - graph.clientLeft,
      event.clientY - frame.top - graph.clientTop);
  }, { passive: false });

  // Drag to pan; a drag does not count as a click on a node.
  var drag = null;
  graph.addEventListener("mousedown", function (event) {
    var frame = graph.getBoundingClientRect();
    var onScrollbar = event.clientX - frame.left - graph.clientLeft >= graph.clientWidth ||
      event.clientY - frame.top - graph.clientTop >= graph.clientHeight;
    if (event.button !== 0 || onScrollbar) { return; }
    drag = { x: event.clientX, y: event.clientY, left: graph.scrollLeft, top: graph.scrollTop,
      moved: false };
  });
  window.addEventListener("mousemove", function (event) {
    if (!drag) { return; }
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
    if (!drag.moved) { drag.moved = true; stopFollowing(); graph.classList.add("cre-panning"); }
    graph.scrollLeft = drag.left - dx;
    graph.scrollTop = drag.top - dy;
    event.preventDefault();
  });
  window.addEventListener("mouseup", function () {
    if (drag && drag.moved) {
      graph.classList.remove("cre-panning");
      // the click that ends a drag goes nowhere
      var swallow = function (event) { event.stopPropagation(); event.preventDefault(); };
      window.addEventListener("click", swallow, true);
      setTimeout(function () { window.removeEventListener("click", swallow, true); drag = null; }, 0);
    } else {
      drag = null;
    }
  });

  // -- follow the step ---------------------------------------------------------------
  // After each step, scroll the graph (and, if need be, the page) so that what the step
  // applies -- the elements marked cre-active or cre-computing -- is in view: with
  // the operands it updates when they fit too, else the marked nodes, else the first
  // of them. A step to the next or previous frame scrolls smoothly (a quarter second),
  // a jump and prefers-reduced-motion at once; either ends where the step says.

  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)");
  var animation = null;
  var MARGIN = 24;

  function union(elements) {
    var r = null;
    elements.forEach(function (e) {
      var b = e.getBoundingClientRect();
      if (!b.width && !b.height) { return; }
      r = r ? { left: Math.min(r.left, b.left), top: Math.min(r.top, b.top),
                right: Math.max(r.right, b.right), bottom: Math.max(r.bottom, b.bottom) }
        : { left: b.left, top: b.top, right: b.right, bottom: b.bottom };
    });
    return r;
  }

  function visibleBox() {
    var frame = graph.getBoundingClientRect();
    var left = frame.left + graph.clientLeft, top = frame.top + graph.clientTop;
    return { left: left, top: top, right: left + graph.clientWidth,
             bottom: top + graph.clientHeight };
  }

  function stopFollowing() {
    if (animation !== null) { cancelAnimationFrame(animation); animation = null; }
    root.removeAttribute("data-following");
  }

  // the scroll offset that brings [low, high] into [start, end] (centred if it was out
  // of view, unmoved if it is in view already)
  function offset(low, high, start, end, current) {
    if (low >= start + MARGIN && high <= end - MARGIN) { return current; }
    var room = end - start;
    if (high - low + 2 * MARGIN <= room) { return current + (low + high) / 2 - (start + end) / 2; }
    return current + low - start - MARGIN;
  }

  function follow(now) {
    stopFollowing();
    var marked = Array.prototype.slice.call(
      graph.querySelectorAll("g.node.cre-active, g.node.cre-computing"));
    if (!marked.length) { return; }
    var changed = [];
    Array.prototype.forEach.call(graph.querySelectorAll("text.cre-changed"), function (t) {
      var g = t.closest("g.node");
      if (g && marked.indexOf(g) < 0) { changed.push(g); }
    });
    var view = visibleBox();
    var width = view.right - view.left, height = view.bottom - view.top;
    var candidates = [marked.concat(changed), marked, [marked[0]]];
    var target = null;
    for (var i = 0; i < candidates.length && !target; i++) {
      var r = union(candidates[i]);
      if (r && (r.right - r.left + 2 * MARGIN <= width && r.bottom - r.top + 2 * MARGIN <= height
                || i === candidates.length - 1)) { target = r; }
    }
    if (!target) { return; }
    var maxLeft = graph.scrollWidth - graph.clientWidth, maxTop = graph.scrollHeight - graph.clientHeight;
    var left = Math.max(0, Math.min(maxLeft,
      offset(target.left, target.right, view.left, view.right, graph.scrollLeft)));
    var top = Math.max(0, Math.min(maxTop,
      offset(target.top, target.bottom, view.top, view.bottom, graph.scrollTop)));
    // where the target will be on the page, for the page's own scroll
    var pageTop = target.top - (top - graph.scrollTop), pageBottom = target.bottom - (top - graph.scrollTop);
    var startLeft = graph.scrollLeft, startTop = graph.scrollTop;
    function finish() {
      graph.scrollLeft = left;
      graph.scrollTop = top;
      if (root.getAttribute("data-standalone") === "1" || root.contains(document.activeElement)) {
        var by = 0;
        if (pageBottom > window.innerHeight) { by = pageBottom - window.innerHeight + MARGIN; }
        if (pageTop - by < 0) { by = pageTop - MARGIN; }
        if (by) { window.scrollBy(0, by); }
      }
      animation = null;
      root.removeAttribute("data-following");
    }
    if (now || (reduced && reduced.matches) || (left === startLeft && top === startTop)) {
      finish();
      return;
    }
    root.setAttribute("data-following", "1");
    var t0 = null, DURATION = 250;
    function frame(t) {
      if (t0 === null) { t0 = t; }
      var u = Math.min(1, (t - t0) / DURATION);
      var e = u < 0.5 ? 2 * u * u : 1 - Math.pow(-2 * u + 2, 2) / 2;  // ease in and out
      graph.scrollLeft = startLeft + (left - startLeft) * e;
      graph.scrollTop = startTop + (top - startTop) * e;
      if (u < 1) { animation = requestAnimationFrame(frame); } else { finish(); }
    }
    animation = requestAnimationFrame(frame);
  }

  // -- the step panel's height: the tallest step, up to a share of the window ---------

  function textLength(text) {
    return (typeof text === "string" ? [text] : text).reduce(function (n, part) {
      return n + (typeof part === "string" ? part : part[0]).length;
    }, 0);
  }
  // the frames with the most text (a dozen: measuring every frame of a large graph
  // would take a while), longest first
  var longest = frames.map(function (_, k) {
    return { k: k, n: data.lines[k].reduce(function (n, line) { return n + textLength(line) + 40; },
      textLength(data.titles[k])) };
  }).sort(function (a, b) { return b.n - a.n; }).slice(0, 12);

  function fitStepPanel() {
    var tallest = 0;
    longest.forEach(function (frame) {
      fillStep(frame.k);
      tallest = Math.max(tallest, stepBox.scrollHeight);
    });
    var share = root.getAttribute("data-standalone") === "1" ? 0.3 : 0.32;
    var least = 6 * parseFloat(getComputedStyle(root).fontSize);
    topRow.style.height = Math.max(least, Math.min(tallest + 2, share * window.innerHeight)) + "px";
  }

  function onKey(event) {
    if (event.target && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) &&
        event.target !== slider) { return; }
    var keys = {
      ArrowRight: function () { go(current + 1); },
      ArrowLeft: function () { go(current - 1); },
      Home: function () { go(0); },
      End: function () { go(count - 1); },
      " ": play,
      Escape: unpin,
      "+": function () { zoomBy(STEP); },
      "=": function () { zoomBy(STEP); },
      "-": function () { zoomBy(1 / STEP); },
      "0": fit,
      "1": actualSize
    };
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }  // the browser's own zoom
    var action = keys[event.key];
    if (action) { event.preventDefault(); action(); }
  }
  // In a notebook the arrow keys belong to the notebook unless the explorer has focus.
  if (root.getAttribute("data-standalone") === "1") {
    document.addEventListener("keydown", onKey);
    root.focus();
  } else {
    root.addEventListener("keydown", onKey);
    root.addEventListener("click", function () { root.focus({ preventScroll: true }); });
  }
  // Start fitted to the width, unless that makes the text too small to read: then at
  // a readable size, following the steps.
  fitStepPanel();
  if (fitScale() >= 0.6) { fitting = true; setScale(fitScale()); } else { fitting = false; setScale(0.75); }
  var resizing = null;
  function resized() {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      fitStepPanel();
      fillStep(current);
      if (fitting) { setScale(fitScale()); }
      follow(true);
    }, 100);
  }
  if (window.ResizeObserver) {
    var lastWidth = graph.clientWidth;
    new ResizeObserver(function () {
      if (graph.clientWidth !== lastWidth) { lastWidth = graph.clientWidth; resized(); }
    }).observe(graph);
  } else {
    window.addEventListener("resize", resized);
  }
  show(0);
})();
