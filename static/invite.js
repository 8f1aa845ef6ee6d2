// Sign in from an invite link (/invite#CODE). The code sits in the URL fragment,
// which browsers never send to the server, so no router or access log sees it.
// Move it into the form, drop it from the address bar and history, and post it;
// but a browser already signed in as someone else only switches when the RA
// presses the button (another site could open such a link in a popup).
(function () {
  "use strict";
  var form = document.getElementById("invite-form");
  var code = location.hash.slice(1);
  if (!form || !code) {
    return;
  }
  history.replaceState(null, "", location.pathname + location.search);
  form.querySelector('input[name="code"]').value = code;
  if (!form.hasAttribute("data-signed-in")) {
    HTMLFormElement.prototype.submit.call(form);
  }
})();
