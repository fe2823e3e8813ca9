/* chainrule's network explorer (nn/network_explorer.py). Python rendered every step's
 * formula and tables; this script shows one step at a time, lights the layer it
 * computes in the network's SVG, and opens a clicked neuron's own chain-rule explorer
 * (a page stored as JSON, shown in an iframe). It computes nothing. */
(function () {
  "use strict";
  var script = document.currentScript;
  var root = script && script.parentElement;
  if (!root || !root.classList.contains("chainrule-netexplorer")) {
    var waiting = document.querySelectorAll(".chainrule-netexplorer:not([data-ready])");
    root = waiting[waiting.length - 1];
  }
  if (!root || root.getAttribute("data-ready")) { return; }
  root.setAttribute("data-ready", "1");

  var data = JSON.parse(root.querySelector("script.ne-data").textContent);
  var steps = root.querySelectorAll(".ne-step");
  var chips = root.querySelectorAll(".ne-chip");
  var panel = root.querySelector(".ne-panel");
  var pane = root.querySelector(".ne-network");
  var svg = pane.querySelector("svg");
  var position = root.querySelector(".ne-position");
  var overlay = root.querySelector(".ne-overlay");
  var frame = overlay.querySelector(".ne-frame");
  var buttons = {
    first: root.querySelector(".ne-first"), prev: root.querySelector(".ne-prev"),
    next: root.querySelector(".ne-next"), last: root.querySelector(".ne-last")
  };
  var current = 0;
  root.classList.add("ne-ready");

  function words(element, name) {
    return (element.getAttribute(name) || "").split(" ").filter(Boolean);
  }

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function light(step) {
    if (!svg) { return; }
    each(svg.querySelectorAll(".ne-lit"), function (e) { e.classList.remove("ne-lit"); });
    each(svg.querySelectorAll(".ne-em"), function (e) { e.classList.remove("ne-em"); });
    svg.classList.add("ne-dim");
    var columns = [];
    words(step, "data-columns").forEach(function (c) {
      var g = svg.querySelector('.nv-column[data-index="' + c + '"]');
      if (g) { g.classList.add("ne-lit"); columns.push(g); }
    });
    words(step, "data-edges").forEach(function (k) {
      each(svg.querySelectorAll('.nv-edge[data-layer="' + k + '"]'),
           function (g) { g.classList.add("ne-lit"); });
    });
    if (step.getAttribute("data-loss-edges") === "1") {
      each(svg.querySelectorAll(".nv-loss-edge"), function (g) { g.classList.add("ne-lit"); });
    }
    var focus = [];
    words(step, "data-emphasis").forEach(function (pair) {
      var parts = pair.split(":");
      var g = svg.querySelector('.nv-column[data-index="' + parts[0] + '"]');
      if (!g) { return; }
      each(g.querySelectorAll("text." + parts[1]), function (t) { t.classList.add("ne-em"); });
      if (focus.indexOf(g) < 0) { focus.push(g); }
    });
    reveal(columns, focus);
  }

  var CARDS = ".nv-neuron, .nv-input, .nv-loss, .nv-ellipsis";

  function union(elements) {
    var box = null;
    elements.forEach(function (e) {
      var r = e.getBoundingClientRect();
      box = box ? {left: Math.min(box.left, r.left), right: Math.max(box.right, r.right),
                   top: Math.min(box.top, r.top), bottom: Math.max(box.bottom, r.bottom)}
                : {left: r.left, right: r.right, top: r.top, bottom: r.bottom};
    });
    return box;
  }

  /* Scroll the network's pane (only it: not the notebook around the page) so that the
   * lit columns are in sight: across, centred when they fit; down, the cards of the
   * column the step computes -- all of them when they fit, else from the top. */
  function reveal(columns, focus) {
    if (!columns.length) { return; }
    var view = pane.getBoundingClientRect();
    var inner = {left: view.left, right: view.left + pane.clientWidth,
                 top: view.top, bottom: view.top + pane.clientHeight};
    var across = union(columns);
    if (across.left < inner.left || across.right > inner.right) {
      pane.scrollLeft += across.right - across.left <= inner.right - inner.left
        ? (across.left + across.right - inner.left - inner.right) / 2
        : across.left - inner.left - 8;
    }
    var cards = [];
    (focus.length ? focus : columns).forEach(function (g) {
      each(g.querySelectorAll(CARDS), function (card) { cards.push(card); });
    });
    var down = union(cards.length ? cards : columns);
    if (down.bottom - down.top <= inner.bottom - inner.top) {
      if (down.top < inner.top || down.bottom > inner.bottom) {
        pane.scrollTop += (down.top + down.bottom - inner.top - inner.bottom) / 2;
      }
    } else if (down.bottom < inner.top + 40 || down.top > inner.bottom - 40) {
      pane.scrollTop += down.top - inner.top - 8;
    }
  }

  function show(k) {
    if (!steps.length) { return; }
    current = Math.max(0, Math.min(steps.length - 1, k));
    var step = steps[current];
    each(steps, function (s, i) { s.classList.toggle("ne-current", i === current); });
    each(chips, function (c) {
      if (Number(c.getAttribute("data-step")) === current) {
        c.setAttribute("aria-current", "step");
      } else {
        c.removeAttribute("aria-current");
      }
    });
    position.textContent = "step " + (current + 1) + " / " + steps.length + " · " +
      step.getAttribute("data-phase");
    buttons.first.disabled = buttons.prev.disabled = current === 0;
    buttons.next.disabled = buttons.last.disabled = current === steps.length - 1;
    panel.scrollTop = 0;
    light(step);
  }

  // -- a neuron's own chain rule ----------------------------------------------------

  function expand(page) {
    Object.keys(data.assets).forEach(function (token) {
      page = page.split(token).join(data.assets[token]);
    });
    return page;
  }

  function open(id) {
    var neuron = data.neurons[id];
    if (!neuron) { return; }
    overlay.querySelector(".ne-overlay-title").textContent = neuron.heading;
    var note = neuron.note + (neuron.page ? "" : " Its graph is not in this page: " +
                              neuron.missing + ".");
    overlay.querySelector(".ne-overlay-note").textContent = note;
    overlay.setAttribute("data-neuron", id);
    if (neuron.page) {
      frame.hidden = false;
      frame.srcdoc = expand(neuron.page);
    } else {
      frame.hidden = true;
      frame.removeAttribute("srcdoc");
    }
    overlay.hidden = false;
    overlay.querySelector(".ne-close").focus();
  }

  function close() {
    overlay.hidden = true;
    overlay.removeAttribute("data-neuron");
    frame.removeAttribute("srcdoc");
    root.focus();
  }

  frame.addEventListener("load", function () {
    try {  // Esc closes the overlay from inside the explorer too
      frame.contentDocument.addEventListener("keydown", function (e) {
        if (e.key === "Escape") { close(); }
      });
    } catch (err) { /* a browser that isolates the frame: the close button remains */ }
  });

  // -- controls -----------------------------------------------------------------------

  buttons.first.addEventListener("click", function () { show(0); });
  buttons.prev.addEventListener("click", function () { show(current - 1); });
  buttons.next.addEventListener("click", function () { show(current + 1); });
  buttons.last.addEventListener("click", function () { show(steps.length - 1); });
  each(chips, function (c) {
    c.addEventListener("click", function () { show(Number(c.getAttribute("data-step"))); });
  });
  overlay.querySelector(".ne-close").addEventListener("click", close);
  if (svg) {
    svg.addEventListener("click", function (e) {
      var g = e.target.closest && e.target.closest(".nv-neuron");
      if (g) { open(g.id); }
    });
  }
  panel.addEventListener("mouseover", function (e) {
    var td = e.target.closest && e.target.closest(".ne-compact td[title]");
    if (!td) { return; }
    var readout = td.closest(".ne-step").querySelector(".ne-readout");
    if (readout) { readout.textContent = td.getAttribute("title"); }
  });

  function onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (!overlay.hidden) {
      if (e.key === "Escape") { e.preventDefault(); close(); }
      return;
    }
    var tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    var moves = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0,
                 End: steps.length - 1};
    if (e.key in moves) {
      e.preventDefault();
      show(moves[e.key]);
    }
  }
  if (root.getAttribute("data-standalone") === "1") {
    document.addEventListener("keydown", onKey);
  } else {
    root.addEventListener("keydown", onKey);
  }
  show(0);
})();
