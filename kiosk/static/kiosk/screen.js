/* Kiosk screen (kiosk/templates/kiosk/screen.html): when the server cannot be reached, say
 * "service temporarily unavailable" until a poll gets through again. htmx does the polling.
 * A file of its own: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  function banner() {
    return document.querySelector("[data-kiosk-offline]");
  }

  document.addEventListener("htmx:sendError", function () {
    var element = banner();
    if (element) {
      element.hidden = false;
    }
  });
  document.addEventListener("htmx:responseError", function () {
    var element = banner();
    if (element) {
      element.hidden = false;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var element = banner();
    if (element && event.detail && event.detail.successful) {
      element.hidden = true;
    }
  });
})();
