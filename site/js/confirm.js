/* Sightline: confirm.html — the yearly re-confirmation, from the emailed link (#token=...).
 *
 * Opening the page changes nothing (mail scanners open links): it only shows the registration
 * (POST /owner/confirmations/preview). "Yes, this is still right" posts the confirmation;
 * "Change my details" emails the owner a manage link (the confirm link itself opens no session).
 */
(function () {
  "use strict";

  var Sightline = window.Sightline;
  var ui = Sightline.ui;

  function formatDate(iso) {
    if (!iso) return null;
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    return date.toLocaleString("en-GB", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  function row(label, value) {
    var dd = ui.el("dd");
    if (Array.isArray(value)) {
      value.forEach(function (line, i) {
        if (i) dd.appendChild(ui.el("br"));
        dd.appendChild(document.createTextNode(line));
      });
    } else {
      dd.textContent = value === null || value === undefined || value === "" ? "Not given" : String(value);
    }
    return ui.el("div", null, [ui.el("dt", { text: label }), dd]);
  }

  function cameraLines(registration) {
    var count = registration.camera_count;
    var lines = [count === 1 ? "1 camera" : count + " cameras"];
    (registration.cameras || []).forEach(function (camera, i) {
      var direction = Sightline.details.directionName(camera.direction_deg);
      if (!direction && !camera.description) return;
      var line = "Camera " + (i + 1);
      if (direction) line += " (points " + direction.toLowerCase() + ")";
      if (camera.description) line += ": " + camera.description;
      lines.push(line);
    });
    return lines;
  }

  function addressLines(address) {
    address = address || {};
    return [address.line1, address.line2, address.town, address.postcode].filter(Boolean);
  }

  Sightline.ready(function () {
    var checking = document.getElementById("confirm-checking");
    var views = {
      ask: document.getElementById("confirm-ask"),
      done: document.getElementById("confirm-done"),
      sent: document.getElementById("confirm-sent"),
      expired: document.getElementById("confirm-expired"),
      missing: document.getElementById("confirm-missing"),
      failed: document.getElementById("confirm-failed")
    };
    var titles = {
      ask: "Is your registration still right?",
      done: "Registration confirmed",
      sent: "Check your email",
      expired: "Link expired",
      missing: "Link does not work",
      failed: "Something went wrong"
    };
    var yes = document.getElementById("confirm-yes");
    var change = document.getElementById("confirm-change");
    var token = Sightline.takeLinkToken();
    var registration = null;
    var retryWith = null;
    var busy = false;

    function show(name) {
      checking.hidden = true;
      Object.keys(views).forEach(function (key) {
        views[key].hidden = key !== name;
      });
      document.title = titles[name] + " – Sightline";
      Sightline.ui.focusHeading(views[name]);
    }

    function failed(error, again) {
      var status = error && error.status;
      if (status === 410 || status === 404 || status === 400) {
        show(status === 400 ? "missing" : "expired");
        return;
      }
      retryWith = again;
      var text = (error && error.message) || "Something went wrong. Please try again.";
      views.failed.querySelector("[data-failed-message]").textContent = text;
      show("failed");
    }

    function render(answer) {
      registration = answer.registration;
      var details = document.getElementById("confirm-details");
      ui.clear(details);
      [
        row("Address", addressLines(registration.address)),
        row("Name", registration.name),
        row("Email address", registration.email),
        row("Phone number", registration.phone),
        registration.business_name ? row("Business name", registration.business_name) : null,
        row("Cameras", cameraLines(registration)),
        row(
          "Recorder keeps footage for",
          registration.retention_days ? registration.retention_days + (registration.retention_days === 1 ? " day" : " days") : null
        ),
        row("Last confirmed", formatDate(registration.confirmed_at))
      ].forEach(function (node) {
        if (node) details.appendChild(node);
      });
      document.getElementById("confirm-paused-note").hidden = !answer.paused_for_reconfirmation;
      views.ask.querySelector("[data-link-expires]").textContent =
        "This link works once, until " + formatDate(answer.link_expires_at) + ".";
    }

    function load() {
      Sightline.api
        .request("POST", "/owner/confirmations/preview", { body: { token: token } })
        .then(function (answer) {
          render(answer);
          show("ask");
        })
        .catch(function (error) {
          failed(error, load);
        });
    }

    function confirm() {
      if (busy) return;
      busy = true;
      yes.disabled = true;
      Sightline.api
        .request("POST", "/owner/confirmations", { body: { token: token } })
        .then(function (answer) {
          views.done.querySelector("[data-done-text]").textContent =
            answer.status === "active"
              ? "Officers can see your registration. We will ask you again in a year."
              : "Your registration stays paused, as you chose. We will ask you again in a year.";
          show("done");
        })
        .catch(function (error) {
          failed(error, confirm);
        })
        .finally(function () {
          busy = false;
          yes.disabled = false;
        });
    }

    function askForManageLink() {
      if (busy || !registration) return;
      busy = true;
      change.disabled = true;
      Sightline.api
        .request("POST", "/owner/links", { body: { email: registration.email } })
        .then(function () {
          show("sent");
        })
        .catch(function (error) {
          failed(error, askForManageLink);
        })
        .finally(function () {
          busy = false;
          change.disabled = false;
        });
    }

    yes.addEventListener("click", confirm);
    change.addEventListener("click", askForManageLink);
    document.getElementById("confirm-retry").addEventListener("click", function () {
      if (retryWith) retryWith();
    });

    // A second link pasted into this tab only changes the fragment: no page load happens.
    window.addEventListener("hashchange", function () {
      var next = Sightline.takeLinkToken();
      if (next) {
        token = next;
        load();
      }
    });

    if (!token) show("missing");
    else load();
  });
})();
