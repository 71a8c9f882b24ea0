/* Staff desk screen (card/templates/card/desk.html).
 *
 * - Camera: where the browser has BarcodeDetector (QR codes) and a camera, a button opens
 *   the camera, finds a phone pass QR code and sends its text through the same form as a
 *   typed card number. Elsewhere the button stays hidden and typing remains.
 * - After htmx swaps in the answer to a staff input: a check empties the form and puts the
 *   cursor back for the next person; a typing slip keeps the text and focuses the field.
 *
 * A file of its own: the Content-Security-Policy allows no inline script. */
(function () {
  "use strict";

  function ready(callback) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", callback);
    } else {
      callback();
    }
  }

  function cameraCanScanQr() {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
      return Promise.resolve(false);
    }
    if (typeof navigator.mediaDevices.getUserMedia !== "function") {
      return Promise.resolve(false);
    }
    return window.BarcodeDetector.getSupportedFormats()
      .then(function (formats) {
        if (formats.indexOf("qr_code") === -1) {
          return false;
        }
        if (typeof navigator.mediaDevices.enumerateDevices !== "function") {
          return true;
        }
        return navigator.mediaDevices.enumerateDevices().then(function (devices) {
          return devices.some(function (device) {
            return device.kind === "videoinput";
          });
        });
      })
      .catch(function () {
        return false;
      });
  }

  function setUpCamera(desk) {
    var form = desk.querySelector("form[data-desk-check]");
    var button = desk.querySelector("[data-desk-camera]");
    var panel = desk.querySelector("[data-desk-camera-panel]");
    var stop = desk.querySelector("[data-desk-camera-stop]");
    var status = desk.querySelector("[data-desk-camera-status]");
    var video = panel ? panel.querySelector("video") : null;
    var input = form ? form.querySelector("[name=credential]") : null;
    if (!form || !button || !panel || !stop || !video || !input) {
      return;
    }
    var detector = null;
    var stream = null;
    var timer = null;

    function say(text) {
      if (status) {
        status.textContent = text || "";
      }
    }

    function close() {
      if (timer !== null) {
        window.clearTimeout(timer);
        timer = null;
      }
      if (stream) {
        stream.getTracks().forEach(function (track) {
          track.stop();
        });
        stream = null;
      }
      video.srcObject = null;
      panel.hidden = true;
      button.hidden = false;
    }

    function send(text) {
      close();
      say("");
      input.value = text;
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit(); // goes through htmx like a typed number
      } else {
        form.submit();
      }
    }

    function scan() {
      timer = null;
      if (!stream) {
        return;
      }
      detector
        .detect(video)
        .then(function (codes) {
          var found = codes.find(function (code) {
            return code.rawValue;
          });
          if (found) {
            send(found.rawValue);
          } else if (stream) {
            timer = window.setTimeout(scan, 200);
          }
        })
        .catch(function () {
          if (stream) {
            timer = window.setTimeout(scan, 400);
          }
        });
    }

    button.addEventListener("click", function () {
      try {
        detector = detector || new window.BarcodeDetector({ formats: ["qr_code"] });
      } catch (error) {
        button.hidden = true;
        return;
      }
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (opened) {
          stream = opened;
          video.srcObject = opened;
          panel.hidden = false;
          button.hidden = true;
          say(button.getAttribute("data-scanning") || "");
          stop.focus();
          return video.play();
        })
        .then(scan)
        .catch(function () {
          close();
          say(button.getAttribute("data-unavailable") || "");
          input.focus();
        });
    });

    stop.addEventListener("click", function () {
      close();
      say("");
      button.focus();
    });

    document.addEventListener("visibilitychange", function () {
      if (document.hidden && stream) {
        close();
      }
    });

    cameraCanScanQr().then(function (available) {
      button.hidden = !available;
    });
  }

  function setUpForms() {
    document.body.addEventListener("htmx:afterSwap", function (event) {
      var config = event.detail && event.detail.requestConfig;
      var form = config ? config.elt : null;
      if (!form || !form.matches || !form.matches("form[data-desk-form]")) {
        return;
      }
      var slip = document.querySelector("#desk-decision [data-decision=slip]");
      if (slip) {
        var name = slip.getAttribute("data-error-field");
        var field = name ? form.querySelector("[name='" + name + "']") : null;
        (field || form.querySelector("input:not([type=hidden])")).focus();
        return;
      }
      form.querySelectorAll("input[type=text]").forEach(function (field) {
        field.value = "";
        field.removeAttribute("aria-invalid");
      });
      var first = document.getElementById("desk-credential");
      if (first) {
        first.focus();
      }
    });
  }

  ready(function () {
    var desk = document.querySelector("[data-desk]");
    if (!desk) {
      return;
    }
    setUpCamera(desk);
    setUpForms();
  });
})();
