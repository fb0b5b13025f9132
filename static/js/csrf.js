/* Pages served from the shared page cache carry no CSRF token (it would be one visitor's).
   This fills every empty `csrfmiddlewaretoken` input and htmx's X-CSRFToken header from the
   `csrftoken` cookie, asking /csrf/ to set the cookie first when the visitor has none. */
(function () {
  "use strict";
  var COOKIE = "csrftoken";
  var pending = null;

  function readCookie() {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === COOKIE) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  function token() {
    var value = readCookie();
    if (value) return Promise.resolve(value);
    if (!pending) {
      pending = fetch("/csrf/", { credentials: "same-origin", cache: "no-store" })
        .then(function () { return readCookie(); })
        .catch(function () { return ""; });
    }
    return pending;
  }

  function emptyInputs(root) {
    return (root || document).querySelectorAll('input[name="csrfmiddlewaretoken"]:not([value]), input[name="csrfmiddlewaretoken"][value=""]');
  }

  function fill(root) {
    var inputs = emptyInputs(root);
    if (!inputs.length) return Promise.resolve();
    return token().then(function (value) {
      for (var i = 0; i < inputs.length; i++) inputs[i].value = value;
    });
  }

  document.addEventListener("DOMContentLoaded", function () { fill(document); });

  // A form submitted before the token arrived waits for it, then goes.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || (form.method || "").toLowerCase() !== "post" || !emptyInputs(form).length) return;
    event.preventDefault();
    fill(form).then(function () { form.submit(); });
  }, true);

  // htmx requests (POST/PUT/PATCH/DELETE) carry the token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var value = readCookie();
    if (value && !event.detail.headers["X-CSRFToken"]) event.detail.headers["X-CSRFToken"] = value;
  });
  // Content swapped in by htmx may hold forms too.
  document.addEventListener("htmx:afterSwap", function (event) { fill(event.target); });
})();
