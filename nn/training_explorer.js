/* chainrule's training explorer: a replay of the frames fit(..., record=True) kept.
 * Every number shown was computed and formatted in Python; this script only picks
 * the frame, colours the maps (stored as bytes 0..255), sizes the edges, moves the
 * markers, and fills the precomputed pass of a clicked point into its SVG.
 *
 * mountTrainingExplorer(root, data, hooks) draws one explorer; the static page boots it
 * with bootTrainingExplorer (below), the live widget (nn.Playground, training_widget.js)
 * mounts it with hooks and appends each frame as the kernel sends it. */
function mountTrainingExplorer(root, data, hooks) {
  "use strict";
  hooks = hooks || {};
  var live = !!hooks.live;  // frames still arriving; a click asks the kernel for the pass
  var frames = data.frames;
  var count = frames.counter.length;
  var net = data.network;
  var passes = data.passes;
  var WHITE = [255, 255, 255];
  var BLUE = rgb(data.weights[0]), ORANGE = rgb(data.weights[1]), GREY = "#999999";
  var classColours = data.colours.map(rgb);

  function one(selector) { return root.querySelector(selector); }
  function all(selector) { return Array.prototype.slice.call(root.querySelectorAll(selector)); }
  function rgb(hex) {
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16),
            parseInt(hex.slice(5, 7), 16)];
  }
  function mix(a, b, t) { return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t,
                                  a[2] + (b[2] - a[2]) * t]; }
  function diverging(t) {  // 0 orange, 0.5 white, 1 blue (Playground's scale)
    return t < 0.5 ? mix(ORANGE, WHITE, t * 2) : mix(WHITE, BLUE, t * 2 - 1);
  }
  function decode(text) {
    var s = atob(text), out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }

  // A map of n x n cells as an image (row 0 of the data is the plane's bottom).
  var canvas = document.createElement("canvas");
  function image(n, colour) {
    canvas.width = n; canvas.height = n;
    var context = canvas.getContext("2d");
    var picture = context.createImageData(n, n);
    for (var r = 0; r < n; r++) {
      for (var c = 0; c < n; c++) {
        var value = colour(r * n + c), o = ((n - 1 - r) * n + c) * 4;
        picture.data[o] = value[0]; picture.data[o + 1] = value[1];
        picture.data[o + 2] = value[2]; picture.data[o + 3] = 255;
      }
    }
    context.putImageData(picture, 0, 0);
    return canvas.toDataURL();
  }

  var surfaceBytes = {}, neuronBytes = {}, urls = {};
  function surfaceAt(k) {
    if (!surfaceBytes[k]) { surfaceBytes[k] = decode(data.surface.maps[k]); }
    return surfaceBytes[k];
  }
  function neuronsAt(k, layer) {
    var key = k + ":" + layer;
    if (!neuronBytes[key]) { neuronBytes[key] = decode(net.neurons[layer].maps[k]); }
    return neuronBytes[key];
  }
  var inputBytes = decode(net.inputs);

  function surfaceColour(bytes, outputs) {
    return function (cell) {
      if (outputs === 1) { return mix(WHITE, diverging(bytes[cell] / 255), 0.7); }
      var sum = [0, 0, 0], top = 0;
      for (var c = 0; c < outputs; c++) {
        var p = bytes[cell * outputs + c] / 255;
        top = Math.max(top, p);
        sum = [sum[0] + p * classColours[c][0], sum[1] + p * classColours[c][1],
               sum[2] + p * classColours[c][2]];
      }
      var sure = (top - 1 / outputs) / (1 - 1 / outputs);  // 0 undecided .. 1 certain
      return mix(WHITE, sum, 0.15 + 0.55 * sure);
    };
  }

  function mapUrl(k, spec) {
    var key = spec[0] === "input" ? spec.join(":") : k + ":" + spec.join(":");
    if (urls[key]) { return urls[key]; }
    var n = net.neuron_grid, url;
    if (spec[0] === "input") {
      url = image(n, function (cell) { return diverging(inputBytes[spec[1] * n * n + cell] / 255); });
    } else if (spec[0] === "hidden") {
      var bytes = neuronsAt(k, spec[1]);
      url = image(n, function (cell) { return diverging(bytes[spec[2] * n * n + cell] / 255); });
    } else {
      var m = data.surface.grid, outputs = data.surface.outputs, s = surfaceAt(k);
      url = outputs === 1
        ? image(m, function (cell) { return diverging(s[cell] / 255); })
        : image(m, function (cell) {
          return mix(WHITE, classColours[spec[1]], s[cell * outputs + spec[1]] / 255);
        });
    }
    urls[key] = url;
    return url;
  }

  // -- the elements ---------------------------------------------------------------
  var slider = one(".ctx-slider"), counter = one(".ctx-counter"), play = one(".ctx-play");
  var surfaceImage = one(".ctx-surface-image");
  var nodes = all(".ctx-node").map(function (g) {
    return {spec: net.nodes[+g.getAttribute("data-node")], image: g.querySelector("image"),
            title: g.querySelector("title")};
  });
  var edges = all(".ctx-edge").map(function (path) {
    return {path: path, title: path.querySelector("title"),
            parameter: net.edges[+path.getAttribute("data-edge")]};
  });
  var scales = all(".ctx-col-scale[data-layer]");
  var curves = all(".ctx-curve");
  var classes = one(".ctx-classes");
  data.classes.forEach(function (name, c) {
    var item = document.createElement("span");
    item.className = "ctx-class";
    var swatch = document.createElement("span");
    swatch.className = "ctx-swatch";
    swatch.style.background = data.colours[c];
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(name));
    classes.appendChild(item);
  });

  var current = 0, timer = null;
  function show(k) {
    k = Math.max(0, Math.min(count - 1, k));
    current = k;
    slider.value = String(k);
    counter.textContent = frames.counter[k];
    surfaceImage.setAttribute("href", surfaceUrl(k));
    var parameters = data.parameters[k], gradients = data.gradients[k];
    nodes.forEach(function (node) {
      var spec = node.spec;
      if (spec.map) { node.image.setAttribute("href", mapUrl(k, spec.map)); }
      var peak = spec.map && spec.map[0] === "hidden"
        ? "\nlargest |h| over the plane: " + net.neurons[spec.map[1]].largest[k][spec.map[2]] : "";
      node.title.textContent = spec.title + peak +
        (spec.bias === null ? "" : "\nb = " + parameters[spec.bias] + " at this frame");
    });
    var widths = net.edge_widths, largest = net.largest || 1;
    edges.forEach(function (edge) {
      var text = parameters[edge.parameter], w = parseFloat(text);
      edge.path.style.stroke = w > 0 ? data.weights[0] : w < 0 ? data.weights[1] : GREY;
      edge.path.style.strokeWidth = widths[0] + (widths[1] - widths[0]) * Math.abs(w) / largest;
      edge.title.textContent = data.names[edge.parameter] + ": w = " + text +
        "\nmean training dL/dw = " + gradients[edge.parameter];
    });
    scales.forEach(function (text) {
      text.textContent = net.neurons[+text.getAttribute("data-layer")].scale[k];
    });
    curves.forEach(function (svg) {
      var x = data.curves.x[k], panel = svg.getAttribute("data-panel");
      var line = svg.querySelector(".ctx-now");
      line.setAttribute("x1", x); line.setAttribute("x2", x);
      Array.prototype.forEach.call(svg.querySelectorAll(".ctx-dot"), function (dot) {
        var y = data.curves.series[dot.getAttribute("data-series")][k];
        dot.setAttribute("cx", y === null ? -10 : x);
        dot.setAttribute("cy", y === null ? -10 : y);
      });
      var train = frames[panel][k], test = frames["val_" + panel];
      svg.querySelector(".ctx-curve-now").textContent =
        "training " + (train === null ? "–" : train) +
        (test ? " · test " + (test[k] === null ? "–" : test[k]) : "");
    });
    if (open !== null) { showPass(open); }
  }
  function surfaceUrl(k) {
    var key = "surface:" + k;
    if (!urls[key]) {
      urls[key] = image(data.surface.grid, surfaceColour(surfaceAt(k), data.surface.outputs));
    }
    return urls[key];
  }

  // -- playing ----------------------------------------------------------------------
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "play";
  }
  function start() {
    if (current >= count - 1) { show(0); }
    play.textContent = "pause";
    timer = setInterval(function () {
      if (current >= count - 1) { stop(); return; }
      show(current + 1);
    }, 180);
  }
  function toggle() { if (timer === null) { start(); } else { stop(); } }
  play.addEventListener("click", toggle);
  one(".ctx-first").addEventListener("click", function () { stop(); show(0); });
  one(".ctx-last").addEventListener("click", function () { stop(); show(count - 1); });
  one(".ctx-prev").addEventListener("click", function () { stop(); show(current - 1); });
  one(".ctx-next").addEventListener("click", function () { stop(); show(current + 1); });
  slider.addEventListener("input", function () { stop(); show(+slider.value); });

  // -- a point's pass ---------------------------------------------------------------
  var panel = one(".ctx-pass"), body = one(".ctx-pass-body");
  var open = null, shownKey = null, shownPoint = null;
  var stored = {};
  if (!live) { passes.points.forEach(function (point, n) { stored[point] = n; }); }
  var selected = one(".ctx-selected");
  all(".ctx-point").forEach(function (circle) {
    circle.addEventListener("click", function (event) {
      event.stopPropagation();
      showPass(+circle.getAttribute("data-point"));
      selected.setAttribute("cx", circle.getAttribute("cx"));
      selected.setAttribute("cy", circle.getAttribute("cy"));
    });
  });
  function nearestKey(k) {
    var best = 0;
    passes.frames.forEach(function (frame, n) {
      if (Math.abs(frame - k) < Math.abs(passes.frames[best] - k)) { best = n; }
    });
    return best;
  }
  // Each key frame's passes are packed (gzip, base64); unpacked once, on the first click.
  var unpacked = {};
  function unpack(key) {
    if (!unpacked[key]) {
      var stream = new Blob([decode(passes.packed[key])]).stream()
        .pipeThrough(new DecompressionStream("gzip"));
      unpacked[key] = new Response(stream).text().then(JSON.parse);
    }
    return unpacked[key];
  }
  function message(text) {
    body.innerHTML = "";
    var p = document.createElement("p");
    p.className = "ctx-pass-empty";
    p.textContent = text;
    body.appendChild(p);
    shownKey = shownPoint = null;
  }
  function showPass(point) {
    open = point;
    var bar = one(".ctx-bar");
    panel.style.top = (bar.offsetTop + bar.offsetHeight + 6) + "px";  // below the controls
    panel.hidden = false;
    one(".ctx-pass-title").textContent = data.points.label[point];
    if (live) { askPass(point); return; }
    var key = nearestKey(current);
    keys(key);
    var n = stored[point];
    if (n === undefined) {
      one(".ctx-pass-note").textContent = "";
      message("No pass stored for this sample: to keep the page small, passes are kept " +
        "for " + passes.points.length + " of the " + passes.of + " samples, evenly chosen. " +
        "Pick another point, or explore with a larger pass_budget.");
      return;
    }
    var epoch = passes.epochs[key];
    one(".ctx-pass-note").textContent = passes.frames[key] === current
      ? "The forward and backward pass at epoch " + epoch + " (this frame), computed by the engine."
      : "The forward and backward pass at epoch " + epoch + ", the nearest precomputed frame" +
        " (the page is at epoch " + frames.epoch[current] + "), computed by the engine.";
    if (shownKey === key && shownPoint === point) { return; }
    if (typeof DecompressionStream === "undefined") {
      message("This browser cannot unpack the stored passes (it has no " +
              "DecompressionStream); a current Chrome, Firefox or Safari can.");
      return;
    }
    unpack(key).then(function (pack) {
      if (open !== point || nearestKey(current) !== key) { return; }  // moved on meanwhile
      if (shownKey !== key || !body.querySelector("svg")) { body.innerHTML = pack.template; }
      var values = pack.values[n];
      Array.prototype.forEach.call(body.querySelectorAll("[data-slot]"), function (element) {
        var s = +element.getAttribute("data-slot");
        element.textContent = pack.slots[s][0] + values[s] + pack.slots[s][1];
      });
      shownKey = key; shownPoint = point;
      body.setAttribute("data-shown", point + ":" + key);
    });
  }
  // Live: the kernel computes the pass at exactly this frame. One request at a time; when
  // its answer comes and the page has moved on (another frame, another point), ask again.
  var asked = null;
  function askPass(point) {
    keys(null);
    var wanted = point + ":" + current;
    if (body.getAttribute("data-shown") === wanted) { return; }
    one(".ctx-pass-note").textContent = "Computing the forward and backward pass at epoch " +
      frames.epoch[current] + " in the kernel…";
    if (asked === null) { asked = wanted; hooks.requestPass(point, current); }
  }
  function passArrived(point, k, svg, note) {
    asked = null;
    if (open === null) { return; }
    if (open !== point || current !== k) { askPass(open); return; }
    if (svg === null) { message(note); return; }
    body.innerHTML = svg;
    one(".ctx-pass-note").textContent = note;
    body.setAttribute("data-shown", point + ":" + k);
  }
  function keys(key) {
    var box = one(".ctx-pass-keys");
    box.textContent = live ? "" : "passes kept at epoch: ";
    (live ? [] : passes.frames).forEach(function (frame, n) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = passes.epochs[n];
      button.title = "go to epoch " + passes.epochs[n];
      if (n === key) { button.className = "ctx-on"; }
      button.addEventListener("click", function () { stop(); show(frame); });
      box.appendChild(button);
    });
    var zoom = document.createElement("button");
    zoom.type = "button";
    zoom.textContent = body.classList.contains("ctx-actual") ? "fit the width" : "actual size";
    zoom.addEventListener("click", function () {
      body.classList.toggle("ctx-actual");
      keys(key);
    });
    box.appendChild(zoom);
  }
  function closePass() {
    panel.hidden = true;
    open = null;
    body.removeAttribute("data-shown");
    selected.setAttribute("cx", -20);
    selected.setAttribute("cy", -20);
  }
  one(".ctx-close").addEventListener("click", closePass);

  // -- keys ---------------------------------------------------------------------------
  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var key = event.key, target = event.target;
    if (target && target.tagName === "BUTTON" && (key === " " || key === "Enter")) { return; }
    if (key === " " || key === "Spacebar") { (live ? hooks.toggle : toggle)(); }
    else if (key === "ArrowRight") { stop(); show(current + 1); }
    else if (key === "ArrowLeft") { stop(); show(current - 1); }
    else if (key === "Home") { stop(); show(0); }
    else if (key === "End") { stop(); show(count - 1); }
    else if (key === "Escape" && open !== null) { closePass(); }
    else { return; }
    event.preventDefault();
  }
  if (root.getAttribute("data-standalone") === "1") {
    document.addEventListener("keydown", onKey);
  } else {
    root.addEventListener("keydown", onKey);
  }
  // -- live: frames appended as they arrive --------------------------------------------
  // entry: one frame's columns (FrameCoder.entry in Python); curves: the curves redrawn
  // with it (their axes grow with the run), {svg, data}
  function append(entry, redrawn) {
    var following = current === count - 1;
    ["counter", "epoch", "step", "loss", "accuracy", "val_loss", "val_accuracy"].forEach(
      function (name) { if (frames[name]) { frames[name].push(entry[name]); } });
    data.parameters.push(entry.parameters);
    data.gradients.push(entry.gradients);
    data.surface.maps.push(entry.surface);
    entry.neurons.forEach(function (layer, n) {
      net.neurons[n].scale.push(layer.scale);
      net.neurons[n].largest.push(layer.largest);
      net.neurons[n].maps.push(layer.map);
    });
    net.largest = Math.max(net.largest, entry.largest);
    if (redrawn) {
      one(".ctx-curves").innerHTML = redrawn.svg;
      data.curves = redrawn.data;
      curves = all(".ctx-curve");
    }
    count = frames.counter.length;
    slider.max = String(count - 1);
    show(following ? count - 1 : current);
  }

  if (live) { root.classList.add("ctx-live"); }
  show(live ? count - 1 : 0);
  return {append: append, passArrived: passArrived, show: show,
          count: function () { return count; }, current: function () { return current; }};
}

/* The static page: its script sits inside the explorer's <div> (else, as inserted by
 * some notebook front ends, it mounts the last explorer not mounted yet). */
function bootTrainingExplorer(script) {
  var root = script && script.parentElement;
  if (!root || !root.classList.contains("chainrule-training")) {
    var waiting = document.querySelectorAll(".chainrule-training:not([data-ready])");
    root = waiting[waiting.length - 1];
  }
  if (!root || root.getAttribute("data-ready")) { return; }
  root.setAttribute("data-ready", "1");
  mountTrainingExplorer(root, JSON.parse(root.querySelector("script.ctx-data").textContent));
}
