/* Form logic on the page: show and hide, live calculations, rule messages, one page per section.
 *
 * Runs the program in <script type="application/json" id="form-logic">
 * (collector/web/logic_json.py) with static/form_logic.js after every change:
 * - a field that is not relevant is hidden, disabled (so it is neither sent nor
 *   checked) and emptied; `required` holds only while it is shown;
 * - a calculated field shows its value as the server will store it;
 * - a broken constraint, a calculated value outside its field's rules, or a
 *   value the server would refuse that the browser itself lets through, becomes
 *   the control's custom validity in the server's words, so inline_errors.js
 *   shows it and Submit (or Next) stops there;
 * - with section_pages, one section at a time with Back and Next; Next checks
 *   only the page shown, and a problem anywhere opens its page.
 * Without this script (or without BigInt) every field and section is shown and
 * the server applies the same rules on submit.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-form], form[data-edit-form]");
  var source = document.getElementById("form-logic");
  if (!form || !source || !window.collectorLogic) return;
  var program = JSON.parse(source.textContent);
  var errors = window.collectorErrors;
  var fields = Object.create(null);  // no prototype: a field may be named `constructor`

  Array.prototype.forEach.call(form.querySelectorAll(".field[data-field]"), function (box) {
    var calculated = box.querySelector("[data-calculated]");
    fields[box.getAttribute("data-field")] = {
      box: box, calculated: calculated,
      controls: calculated ? [] : Array.prototype.slice.call(box.querySelectorAll("input, select, textarea"))
    };
  });
  program.fields.forEach(function (f) { if (fields[f.name]) fields[f.name].spec = f; });

  function rawValues() {
    var raw = Object.create(null);
    Object.keys(fields).forEach(function (name) {
      var field = fields[name], controls = field.controls;
      if (!controls.length) return;
      if (controls[0].type === "checkbox" || controls[0].type === "radio") {
        var ticked = controls.filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
        raw[name] = controls[0].type === "checkbox" ? ticked : (ticked[0] || "");
      } else {
        raw[name] = controls[0].value;
      }
    });
    return raw;
  }

  function empty(control) {
    if (control.type === "checkbox" || control.type === "radio") control.checked = false;
    else if (control.tagName === "SELECT") control.selectedIndex = 0;
    else control.value = "";
  }

  // The control that carries a field's message (radios and check boxes: each option).
  function setValidity(field, message, kind) {
    field.controls.forEach(function (control) {
      control.setCustomValidity("");
      // The browser's own check speaks first; add ours where it lets through what the server refuses.
      if (message && (kind !== "value" || control.validity.valid)) control.setCustomValidity(message);
    });
  }

  function display(field, value) {
    if (value === null || value === undefined) return "";
    if (field.spec.type === "boolean") return value === "true" ? "Yes" : "No";
    if (field.spec.type === "datetime") return localMinute(value);
    return value;
  }

  function localMinute(isoUtc) {  // "YYYY-MM-DD HH:MM" in the form's zone, as widgets.calculated_text
    var parts = {};
    new Intl.DateTimeFormat("en-US", { timeZone: program.timezone, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" })
      .formatToParts(new Date(isoUtc)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
  }

  function setShown(field, shown) {
    field.box.hidden = !shown;
    field.controls.forEach(function (control) {
      control.disabled = !shown;
      if (!shown) {
        empty(control);  // a hidden answer is never kept: it was not asked
        if (errors) errors.clear(control);
      }
      if (control.type !== "checkbox") control.required = shown && field.spec.required;
    });
  }

  /* Run the logic on what the page holds now; `live` is the control just changed, if any. */
  function refresh(live) {
    var result = window.collectorLogic.evaluate(program, rawValues());
    Object.keys(fields).forEach(function (name) {
      var field = fields[name];
      if (!field.spec) return;
      var shown = result.shown[name], message = shown ? result.errors[name] || "" : "";
      setShown(field, shown);
      if (field.calculated) {
        field.calculated.value = display(field, result.values[name]);
        if (message) field.calculated.setAttribute("data-logic-error", message);
        else field.calculated.removeAttribute("data-logic-error");
      }
      setValidity(field, message, result.kinds[name]);
      if (errors && live !== undefined) showLive(field, message, result.kinds[name], live);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-section]"), function (section) {
      var anyShown = Array.prototype.some.call(section.querySelectorAll(".field[data-field]"),
                                               function (box) { return !box.hidden; });
      section.hidden = result.sections[section.getAttribute("data-section")] === false || !anyShown;
    });
    if (pages) pages.update();
  }

  /* A rule across fields is shown as soon as it breaks (on change, not mid-typing) and
   * goes away as soon as it holds; the browser's own checks wait for Submit or Next. */
  function showLive(field, message, kind, live) {
    var target = field.calculated || field.controls[0];
    if (!target || field.box.hidden) return;
    var acrossFields = kind === "constraint" || kind === "calculation";
    if (acrossFields && live !== null) errors.show(target, message);
    else if (field.box.classList.contains("has-error") && errors.problemOf(target) === null) errors.clear(target);
  }

  // ---- one section per page -------------------------------------------------------

  var pages = form.hasAttribute("data-section-pages") ? paging() : null;

  function paging() {
    var sections = Array.prototype.slice.call(form.querySelectorAll("[data-section]"));
    var pager = form.querySelector(".pager"), submit = form.querySelector("button[type=submit]");
    if (!sections.length || !pager) return null;
    var back = pager.querySelector("[data-page-back]"), next = pager.querySelector("[data-page-next]");
    var status = pager.querySelector("[data-page-status]");
    var current = sections[0];
    form.classList.add("paged");
    pager.hidden = false;

    function open() { return sections.filter(function (s) { return !s.hidden; }); }

    function show(section, focus) {
      current = section;
      update();
      if (focus) {
        var title = section.querySelector("h2");
        if (title) title.focus();
        section.scrollIntoView();
      }
    }

    function update() {
      var visible = open();
      if (visible.indexOf(current) === -1) {  // its section was hidden: the nearest open one
        var after = sections.slice(sections.indexOf(current)).filter(function (s) { return !s.hidden; });
        current = after[0] || visible[visible.length - 1] || current;
      }
      sections.forEach(function (s) { s.classList.toggle("current", s === current); });
      var at = visible.indexOf(current);
      back.hidden = at <= 0;
      next.hidden = at === visible.length - 1;
      submit.hidden = !next.hidden;
      status.textContent = "Page " + (at + 1) + " of " + visible.length;
    }

    back.addEventListener("click", function () {
      var visible = open();
      show(visible[Math.max(visible.indexOf(current) - 1, 0)], true);
    });

    next.addEventListener("click", function () {
      var first = errors && errors.check(current);
      if (first) return first.focus();
      var visible = open();
      show(visible[Math.min(visible.indexOf(current) + 1, visible.length - 1)], true);
    });

    // Enter in a one-line input on an earlier page means Next, not a submit of half a form.
    form.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key === "Enter" && !next.hidden && target.tagName === "INPUT" &&
          ["submit", "button", "checkbox", "radio"].indexOf(target.type) === -1) {
        event.preventDefault();
        next.click();
      }
    });

    form.addEventListener("collector:reveal", function (event) {
      var section = event.target.closest("[data-section]");
      if (section && section !== current) show(section, false);
    });

    return { update: update, show: show, current: function () { return current; } };
  }

  // ---- wiring ------------------------------------------------------------------------

  form.addEventListener("input", function (event) { refresh(null); });
  form.addEventListener("change", function (event) { refresh(event.target); });
  // drafts.js after putting a kept entry back: every page, then the logic again.
  form.addEventListener("collector:filled", function () { refresh(); });
  refresh();
  // After the server refused the entry: the page with its first message, the cursor there.
  var refused = form.querySelector(".field.has-error");
  if (refused) {
    var target = refused.querySelector("[data-calculated], input, select, textarea");
    if (target && errors) errors.reveal(target);
  }
  // The links in the server's list of problems open the page the field is on.
  Array.prototype.forEach.call(document.querySelectorAll(".error-summary a[href^='#f-']"), function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      var control = target && (target.matches("input, select, textarea") ? target : target.querySelector("input"));
      if (control && errors) {
        event.preventDefault();
        errors.reveal(control);
      }
    });
  });
}());
