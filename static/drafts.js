/* Keep an unsent entry on this device until the server confirms it is saved.
 *
 * Progressive enhancement: without JavaScript the form posts as usual. With it,
 * every change is kept in localStorage under the form name and submission_id;
 * a submit that fails on the network or with a 5xx keeps the draft and lets
 * the RA try again with the same submission_id (the server never saves it
 * twice). The draft is removed only when the server answers with the
 * confirmation page for that submission_id.
 */
(function () {
  "use strict";
  var form = document.querySelector("form[data-draft-form]");
  if (!form || !window.fetch || !window.FormData || !storageWorks()) return;
  var prefix = "collector:draft:" + form.getAttribute("data-draft-form") + ":";
  var idInput = form.querySelector('input[name="submission_id"]');
  // The reference's signature proves it was issued to this browser (collector/web/references.py).
  var sigInput = form.querySelector('input[name="submission_sig"]');
  // Read the form's own attributes and controls, never form.action, form.elements
  // or form.dataset: a field with such a name shadows them (a form's named controls
  // override its properties).
  var action = form.getAttribute("action");
  function controls() { return form.querySelectorAll("input, select, textarea"); }
  var sending = false;
  var status = document.getElementById("draft-status");

  function storageWorks() {
    try { localStorage.setItem("collector:probe", "1"); localStorage.removeItem("collector:probe"); return true; }
    catch (error) { return false; }  // private mode or storage full: plain form posting still works
  }

  function currentValues() {
    var values = Object.create(null);  // no prototype: a field may be named `constructor`
    new FormData(form).forEach(function (value, name) {
      if (name === "csrf_token" || name === "submission_id" || name === "submission_sig") return;
      (values[name] = values[name] || []).push(value);
    });
    return values;
  }

  function keep() {
    try {
      localStorage.setItem(prefix + idInput.value,
        JSON.stringify({ values: currentValues(), savedAt: new Date().toISOString(),
                         sig: sigInput ? sigInput.value : "" }));
    } catch (error) { /* storage full: the server post is unaffected */ }
  }

  function fill(values) {
    Array.prototype.forEach.call(controls(), function (control) {
      if (!control.name || control.type === "hidden" || control.type === "submit") return;
      var chosen = Object.prototype.hasOwnProperty.call(values, control.name) ? values[control.name] : [];
      if (control.type === "radio" || control.type === "checkbox") {
        control.checked = chosen.indexOf(control.value) !== -1;
      } else {
        control.value = chosen[0] || "";
      }
    });
  }

  function say(message) {
    status.textContent = message;
    status.hidden = false;
  }

  function earlierDrafts() {
    var found = [];
    for (var i = 0; i < localStorage.length; i++) {
      var key = localStorage.key(i);
      if (key.indexOf(prefix) === 0 && key !== prefix + idInput.value) {
        try { found.push({ id: key.slice(prefix.length), draft: JSON.parse(localStorage.getItem(key)) }); }
        catch (error) { localStorage.removeItem(key); }
      }
    }
    return found.sort(function (a, b) { return a.draft.savedAt < b.draft.savedAt ? 1 : -1; });
  }

  function offerRestore() {
    var earlier = earlierDrafts()[0];
    var box = document.getElementById("draft-restore");
    if (!earlier || !box) return;
    box.querySelector("[data-saved-at]").textContent = new Date(earlier.draft.savedAt).toLocaleString();
    box.hidden = false;
    box.querySelector("[data-restore]").addEventListener("click", function () {
      idInput.value = earlier.id;  // same reference: a retry can never make a second row
      if (sigInput && earlier.draft.sig) sigInput.value = earlier.draft.sig;
      fill(earlier.draft.values);
      // Form logic (form_page.js) shows, hides and calculates again from the restored values.
      form.dispatchEvent(new CustomEvent("collector:filled"));
      box.hidden = true;
      say("Your unsent entry is back. Check it and press Submit.");
    });
    box.querySelector("[data-discard]").addEventListener("click", function () {
      localStorage.removeItem(prefix + earlier.id);
      box.hidden = true;
    });
  }

  function notSent(reason) {
    sending = false;
    say("Not saved yet: " + reason + " Your entry is kept on this device. " +
        "Press Submit to try again; it will never be saved twice.");
  }

  // After a 409 the server has settled the old reference; the values live on in
  // this page under a new one, so keep them there and never offer the old draft.
  var settled = form.getAttribute("data-settled-draft");
  if (settled) {
    localStorage.removeItem(prefix + settled);
    keep();
  }

  form.addEventListener("input", keep);
  form.addEventListener("change", keep);
  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return;  // inline_errors.js found a value to fix first
    event.preventDefault();
    if (sending) return;
    sending = true;
    keep();
    var id = idInput.value;
    say("Sending…");
    fetch(action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (response.ok && response.redirected && response.url.indexOf("/saved/" + id) !== -1) {
          localStorage.removeItem(prefix + id);
          window.location.assign(response.url);
        } else if (response.status >= 500) {
          notSent("the server could not save it right now (HTTP " + response.status + ").");
        } else {
          // The server has something to say about the values (or the session):
          // post the normal way so its page, with every value kept, is shown.
          HTMLFormElement.prototype.submit.call(form);
        }
      })
      .catch(function () { notSent("there is no connection."); });
  });
  offerRestore();
}());
