/* chainrule's backprop explorer. The page holds one SVG (drawn by Graphviz) and, as
 * JSON, the frames: each frame lists only what it changes (texts of records, nodes
 * that appear or whose gradient becomes final, the operation it applies). Showing
 * frame k replays the changes of frames 0..k onto the SVG. Nothing is fetched. */
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
  var slider = root.querySelector(".cre-slider");
  var playButton = root.querySelector(".cre-play");
  var current = 0;
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

  function eachPart(element, fn) {
    (data.parts[element] || []).forEach(function (id) { if (byId[id]) { fn(byId[id]); } });
  }

  function show(k) {
    k = Math.max(0, Math.min(count - 1, k));
    current = k;
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
    root.querySelector(".cre-step-title").textContent = data.titles[k];
    var list = root.querySelector(".cre-lines");
    list.textContent = "";
    data.lines[k].forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    slider.value = String(k);
    root.querySelector(".cre-position").textContent = (k + 1) + " / " + count;
    Array.prototype.forEach.call(root.querySelectorAll(".cre-phase"), function (b) {
      b.classList.toggle("cre-on", b.getAttribute("data-phase") === frames[k].phase);
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
      add(info, "div", p.made, "cre-mono");
      if (p.locals.length) {
        add(info, "h4", "local derivatives (the factors on its in-edges)");
        var locals = add(info, "ul");
        p.locals.forEach(function (text) { add(locals, "li", text, "cre-mono"); });
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
  var zoom = root.querySelector(".cre-zoom");
  function setFit(fit) {
    graph.classList.toggle("cre-fit", fit);
    zoom.textContent = fit ? "actual size" : "fit";
  }
  zoom.addEventListener("click", function () { setFit(!graph.classList.contains("cre-fit")); });

  function onKey(event) {
    if (event.target && /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) &&
        event.target !== slider) { return; }
    var keys = {
      ArrowRight: function () { go(current + 1); },
      ArrowLeft: function () { go(current - 1); },
      Home: function () { go(0); },
      End: function () { go(count - 1); },
      " ": play,
      Escape: unpin
    };
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
  // Fit the graph to the width unless that makes its text too small to read.
  var natural = parseFloat(svg.getAttribute("width")) * 4 / 3;  // Graphviz gives points
  setFit(!(natural > 0) || graph.clientWidth / natural >= 0.6);
  show(0);
})();
