/* Sightline: the registration page (index.html). */
(function () {
  "use strict";

  var Sightline = window.Sightline;

  Sightline.ready(function () {
    var form = document.getElementById("register-form");
    var summary = document.getElementById("register-errors");
    var done = document.getElementById("register-done");
    var intro = document.getElementById("register-intro");
    var submit = document.getElementById("register-submit");

    var picker = Sightline.map.createPicker(document.getElementById("location-picker"));
    var details = Sightline.details.setupForm(form, { mode: "create", picker: picker });
    var sending = false;

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) return;
      sending = true;
      // If "Use my current location" is still working, wait for it rather than report "no location".
      picker.settled().then(function () {
        sending = false;
        send();
      });
    });

    function send() {
      if (sending) return;
      var collected = details.collect();
      if (Object.keys(collected.errors).length) {
        Sightline.errors.show(form, summary, collected.errors);
        return;
      }
      Sightline.errors.clear(form, summary);
      sending = true;
      submit.setAttribute("aria-disabled", "true");
      Sightline.api
        .request("POST", "/registrations", { body: collected.body })
        .then(function () {
          form.hidden = true;
          intro.hidden = true;
          done.hidden = false;
          document.title = "Check your email – Sightline";
          Sightline.ui.focusHeading(done);
        })
        .catch(function (error) {
          if (!(error instanceof Sightline.ApiError)) {
            error = new Sightline.ApiError(0, "error", "Something went wrong. Please try again.");
          }
          error.fields = details.mapServerFields(error.fields, collected.cameraIndex);
          Sightline.errors.showApiError(form, summary, error);
        })
        .finally(function () {
          sending = false;
          submit.removeAttribute("aria-disabled");
        });
    }

  });
})();
