/* Show the browser's checks as messages next to each field, in the server's words.
 *
 * Without JavaScript the browser shows its own bubbles and the server shows
 * its messages after a submit. With it, a refused value gets the same
 * message the server would give (the data-msg-* attributes), tied to the
 * input with aria-describedby, and focus moves to the first problem.
 * A calculated field (readonly, so never checked by the browser) carries its
 * problem in data-logic-error (form_page.js). window.collectorErrors lets
 * form_page.js check one page (Next) and show a rule's message at once;
 * a "collector:reveal" event asks it to open the page a control is on.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-form], form[data-edit-form]");
  if (!form) return;
  form.noValidate = true;  // we check on submit and show the messages ourselves
  var FLAGS = ["valueMissing", "typeMismatch", "badInput", "patternMismatch", "tooLong",
               "tooShort", "rangeUnderflow", "rangeOverflow", "stepMismatch"];

  function attributeName(flag) {
    return "data-msg-" + flag.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
  }

  function messageFor(control) {
    var holder = control.closest("fieldset") || control;
    for (var i = 0; i < FLAGS.length; i++) {
      if (control.validity[FLAGS[i]]) {
        return holder.getAttribute(attributeName(FLAGS[i])) || control.validationMessage;
      }
    }
    return control.validationMessage;
  }

  function showError(control, message) {
    var field = control.closest(".field");
    var target = control.closest("fieldset") || control;
    var id = target.id + "-error";
    var slot = document.getElementById(id);
    if (!slot) {
      slot = document.createElement("p");
      slot.className = "error";
      slot.id = id;
      var hint = document.getElementById(target.id + "-hint");
      var after = hint || field.querySelector("label, legend");
      after.parentNode.insertBefore(slot, after.nextSibling);
      var described = (target.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(id) === -1) described.push(id);
      target.setAttribute("aria-describedby", described.join(" "));
    }
    slot.textContent = message;
    field.classList.add("has-error");
    if (target === control) control.setAttribute("aria-invalid", "true");
  }

  function clearError(control) {
    var target = control.closest("fieldset") || control;
    var slot = document.getElementById(target.id + "-error");
    if (slot) slot.textContent = "";
    control.closest(".field").classList.remove("has-error");
    control.removeAttribute("aria-invalid");
  }

  /* The message a control would be refused with now, or null. A calculated field
   * (readonly, so never checked by the browser) carries its problem from form_page.js. */
  function problemOf(control) {
    if (control.hasAttribute("data-calculated")) return control.getAttribute("data-logic-error") || null;
    if (!control.willValidate) return null;
    return control.checkValidity() ? null : messageFor(control);
  }

  /* Show every problem inside `container` next to its field; return the first control with one. */
  function check(container) {
    var first = null;
    // Not form.elements: a field named "elements" would shadow it.
    Array.prototype.forEach.call(container.querySelectorAll("input, select, textarea"), function (control) {
      if (!control.closest(".field")) return;
      var problem = problemOf(control);
      if (problem === null) {
        var single = !(control.type === "radio" || control.type === "checkbox");
        if (single && (control.willValidate || control.hasAttribute("data-calculated"))) clearError(control);
        return;
      }
      showError(control, problem);
      if (!first) first = control;
    });
    return first;
  }

  /* Bring a control into view (form_page.js opens its page) and put the cursor there. */
  function reveal(control) {
    control.dispatchEvent(new CustomEvent("collector:reveal", { bubbles: true }));
    control.focus();
  }

  form.addEventListener("submit", function (event) {
    var first = check(form);
    if (first) {
      event.preventDefault();  // drafts.js sees this and sends nothing
      reveal(first);
    }
  });

  form.addEventListener("change", function (event) {
    var control = event.target;
    if (control.closest && control.closest(".field") && control.willValidate && control.checkValidity()) {
      clearError(control);
    }
  });

  window.collectorErrors = { check: check, problemOf: problemOf, show: showError, clear: clearError,
                             reveal: reveal };
}());
