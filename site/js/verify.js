/* Sightline: verify.html — confirm a registration from the emailed link (#token=...). */
(function () {
  "use strict";

  var Sightline = window.Sightline;


  Sightline.ready(function () {
    var checking = document.getElementById("verify-checking");
    var views = {
      done: document.getElementById("verify-done"),
      expired: document.getElementById("verify-expired"),
      missing: document.getElementById("verify-missing"),
      failed: document.getElementById("verify-failed")
    };
    var retry = document.getElementById("verify-retry");
    var token = Sightline.takeLinkToken();
    var busy = false;

    function show(name) {
      checking.hidden = true;
      Object.keys(views).forEach(function (key) {
        views[key].hidden = key !== name;
      });
      var titles = {
        done: "Registration confirmed",
        expired: "Link expired",
        missing: "Link does not work",
        failed: "Could not confirm"
      };
      document.title = titles[name] + " – Sightline";
      Sightline.ui.focusHeading(views[name]);
    }

    function verify() {
      if (busy) return;
      busy = true;
      Sightline.api
        .request("POST", "/registrations/verify", { body: { token: token } })
        .then(function () {
          show("done");
        })
        .catch(function (error) {
          var status = error && error.status;
          if (status === 410 || status === 404 || status === 400) {
            show(status === 400 ? "missing" : "expired");
          } else {
            var text = (error && error.message) || "Something went wrong. Please try again.";
            views.failed.querySelector("[data-failed-message]").textContent = text;
            show("failed");
          }
        })
        .finally(function () {
          busy = false;
        });
    }

    retry.addEventListener("click", verify);

    // A second link pasted into this tab only changes the fragment: no page load happens.
    window.addEventListener("hashchange", function () {
      var next = Sightline.takeLinkToken();
      if (next) {
        token = next;
        verify();
      }
    });

    if (!token) show("missing");
    else verify();
  });
})();
