/* nn.Playground's page: Playground's controls above the training explorer, which the
 * kernel feeds frame by frame (mountTrainingExplorer, from training_explorer.js, comes
 * first in this module). The controls only ask: every value is checked, and every run
 * trained, in Python; a refused value comes back as a message and the control shows the
 * value in force again. */

var LABELS = {
  dataset: {circle: "Circle", xor: "Exclusive or", gaussian: "Gaussian", spiral: "Spiral",
            moons: "Moons", iris: "Iris"},
  activation: {tanh: "Tanh", relu: "ReLU", sigmoid: "Sigmoid", linear: "Linear"},
  optimizer: {sgd: "SGD", adam: "Adam"},
  regularization: {none: "None", L2: "L2"}
};

function element(tag, className, text) {
  var made = document.createElement(tag);
  if (className) { made.className = className; }
  if (text !== undefined) { made.textContent = text; }
  return made;
}

function render(context) {
  var model = context.model, el = context.el;
  var choices = model.get("choices");
  var top = element("div", "cpg-top"), settings = element("div", "cpg-settings");
  var line = element("div", "cpg-line"), stage = element("div", "cpg-stage");
  el.classList.add("chainrule-playground");
  el.appendChild(top); el.appendChild(settings); el.appendChild(line); el.appendChild(stage);

  // -- Playground's buttons and epoch counter ------------------------------------------
  var reset = element("button", "cpg-reset", "↺");
  reset.title = "reset: the run again from its first weights, paused";
  var play = element("button", "cpg-play", "▶");
  var step = element("button", "cpg-step", "▶|");
  step.title = "step: train one epoch";
  [reset, play, step].forEach(function (button) {
    button.type = "button";
    top.appendChild(button);
  });
  var counter = element("div", "cpg-epoch");
  var epochLabel = element("span", "cpg-epoch-label", "Epoch");
  var epochValue = element("span", "cpg-epoch-value", "0");
  var epochOf = element("span", "cpg-epoch-of", "");
  epochValue.title = "epochs trained";
  counter.appendChild(epochLabel); counter.appendChild(epochValue); counter.appendChild(epochOf);
  top.appendChild(counter);
  var menus = element("div", "cpg-menus");
  top.appendChild(menus);

  // -- the controls: each one asks the kernel for its value ----------------------------
  var controls = {};
  function ask(name, value) { model.send({type: "set", name: name, value: value}); }
  function field(parent, name, label, input, shown) {
    var box = element("label", "cpg-field cpg-" + name.replace(/_/g, "-"));
    var head = element("span", "cpg-label", label);
    box.appendChild(head);
    var output = null;
    if (shown) { output = element("output", "cpg-value"); head.appendChild(output); }
    box.appendChild(input);
    parent.appendChild(box);
    controls[name] = {input: input, output: output, shown: shown};
    return input;
  }
  function menu(parent, name, label, values, words) {
    var select = element("select");
    values.forEach(function (value) {
      var option = element("option", "", words ? (words[value] || value) : String(value));
      option.value = String(value);
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      ask(name, typeof values[0] === "number" ? Number(select.value) : select.value);
    });
    return field(parent, name, label, select);
  }
  function slider(parent, name, label, low, high, step, scale, shown) {
    var range = element("input");
    range.type = "range"; range.min = low; range.max = high; range.step = step;
    range.addEventListener("input", function () {
      controls[name].output.textContent = shown(range.value / scale);
    });
    range.addEventListener("change", function () { ask(name, Number(range.value) / scale); });
    return field(parent, name, label, range, shown);
  }
  function box(parent, name, label, kind, hint) {
    var input = element("input");
    input.type = kind;
    if (hint) { input.title = hint; }
    input.addEventListener("change", function () { ask(name, input.value); });
    return field(parent, name, label, input);
  }

  menu(menus, "lr", "Learning rate", choices.lr);
  menu(menus, "activation", "Activation", choices.activation, LABELS.activation);
  menu(menus, "regularization", "Regularization", choices.regularization,
       LABELS.regularization);
  menu(menus, "regularization_rate", "Regularization rate", choices.regularization_rate);
  menu(menus, "optimizer", "Optimizer", choices.optimizer, LABELS.optimizer);

  menu(settings, "dataset", "Data", choices.dataset, LABELS.dataset);
  slider(settings, "train_ratio", "Ratio of training to test data: ", 10, 90, 10, 100,
         function (v) { return Math.round(v * 100) + "%"; });
  slider(settings, "noise", "Noise: ", 0, 50, 5, 100,
         function (v) { return String(Math.round(v * 100)); });
  slider(settings, "batch_size", "Batch size: ", choices.batch_size[0], choices.batch_size[1],
         1, 1, function (v) { return String(v); });
  box(settings, "hidden", "Hidden layers", "text",
      "the layers' sizes, e.g. 4, 2 (at most " + choices.layers + " layers of " +
      choices.width + "); none: no hidden layer");
  box(settings, "epochs", "Epochs", "number");
  box(settings, "seed", "Seed", "number");
  controls.epochs.input.min = choices.epochs[0]; controls.epochs.input.max = choices.epochs[1];
  controls.seed.input.min = 0;

  function refresh(name) {  // the control shows the value in force
    var control = controls[name], value = model.get(name);
    if (!control) { return; }
    var input = control.input;
    if (name === "hidden") { input.value = value.length ? value.join(", ") : "none"; return; }
    if (input.tagName === "SELECT") {
      var text = String(value);
      if (!Array.prototype.some.call(input.options, function (o) { return o.value === text; })) {
        var extra = element("option", "", text);  // a value set from Python, off the menu
        extra.value = text;
        input.appendChild(extra);
      }
      input.value = text;
    } else if (input.type === "range") {
      var scale = name === "batch_size" ? 1 : 100;
      input.value = String(value * scale);
      control.output.textContent = control.shown(value);
    } else {
      input.value = String(value);
    }
    controls.noise.input.disabled = model.get("dataset") === "iris";  // measured: no noise
    var rate = controls.regularization_rate.input;
    rate.disabled = model.get("regularization") === "none";
  }
  var watched = Object.keys(controls).map(function (name) {
    var changed = function () { refresh(name); };
    model.on("change:" + name, changed);
    refresh(name);
    return ["change:" + name, changed];
  });

  // -- the explorer, fed by the kernel -------------------------------------------------
  var view = null, shownRun = null, playing = false, asked = false;
  var hooks = {
    live: true,
    requestPass: function (point, frame) {
      model.send({type: "pass", run: shownRun, point: point, frame: frame});
    },
    toggle: function () { model.send({type: playing ? "pause" : "play"}); }
  };
  function mount(message) {
    stage.innerHTML = "";
    var root = element("div", "chainrule-training");
    root.tabIndex = 0;
    root.setAttribute("data-standalone", "0");
    root.innerHTML = message.body;
    stage.appendChild(root);
    view = mountTrainingExplorer(root, message.data, hooks);
    shownRun = message.run;
    asked = false;
    stage.classList.remove("cpg-stale");
  }
  function status(message) {
    if (shownRun !== null && message.run !== shownRun) { stage.classList.add("cpg-stale"); }
    playing = message.playing;
    play.textContent = playing ? "❚❚" : "▶";
    play.title = playing ? "pause (space)" : "train (space)";
    play.classList.toggle("cpg-on", playing);
    epochValue.textContent = String(message.epoch);
    epochOf.textContent = "of " + message.epochs + " · " + message.state;
    epochOf.setAttribute("data-state", message.state);
    if (message.message) { say(message.message, "cpg-problem"); }
    else if (line.getAttribute("data-kind") === "cpg-problem") { say("", ""); }
  }
  function say(text, kind) {
    line.textContent = text;
    line.setAttribute("data-kind", kind);
    line.hidden = !text;
  }
  function onMessage(message) {
    if (message.type === "run") {
      if (!(view && message.run === shownRun &&
            view.count() >= message.data.frames.counter.length)) { mount(message); }
    } else if (message.type === "frame") {
      if (!view || message.run !== shownRun) { return; }
      if (message.index === view.count()) {
        view.append(message.entry, message.curves);
      } else if (message.index > view.count() && !asked) {  // missed one: all again
        asked = true;
        model.send({type: "ready", again: true});
      }
    } else if (message.type === "status") {
      status(message);
    } else if (message.type === "pass") {
      if (view && message.run === shownRun) {
        view.passArrived(message.point, message.frame, message.svg, message.note);
      }
    } else if (message.type === "error") {
      say(message.message, message.message ? "cpg-error" : "");
      Object.keys(controls).forEach(refresh);
    }
  }
  model.on("msg:custom", onMessage);
  reset.addEventListener("click", function () { model.send({type: "reset"}); });
  play.addEventListener("click", function () { hooks.toggle(); });
  step.addEventListener("click", function () { model.send({type: "step"}); });
  say("", "");
  model.send({type: "ready"});

  return function () {
    model.send({type: "gone"});
    model.off("msg:custom", onMessage);
    watched.forEach(function (pair) { model.off(pair[0], pair[1]); });
  };
}

export default { render: render };
