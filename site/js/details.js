/* Sightline: the registration details form, shared by index.html (register) and manage.html
 * (edit). Reads the fields, checks them lightly before sending (the API checks everything
 * again and its messages are shown the same way), builds the JSON body, and fills the form
 * from a saved registration.
 *
 * Form fields are found by id inside the form (the same ids on both pages):
 *   name, email (register only), phone, business-name, address-line1, address-line2,
 *   address-town, address-postcode, camera-count, retention-days, consent (register only)
 * and the camera list lives in [data-cameras].
 */
(function () {
  "use strict";

  var Sightline = (window.Sightline = window.Sightline || {});
  var ui = Sightline.ui;

  var MAX_CAMERAS = 50;

  var DIRECTIONS = [
    { value: "", label: "Not sure" },
    { value: "0", label: "North" },
    { value: "45", label: "North-east" },
    { value: "90", label: "East" },
    { value: "135", label: "South-east" },
    { value: "180", label: "South" },
    { value: "225", label: "South-west" },
    { value: "270", label: "West" },
    { value: "315", label: "North-west" }
  ];

  // The API's phone rule, so people hear about a typo before sending.
  var PHONE = /^\+?[0-9][0-9 ()-]{5,24}[0-9]$/;
  var EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

  function text(form, id) {
    var input = form.querySelector("#" + id);
    return input ? input.value.trim() : "";
  }

  function wholeNumber(value) {
    return /^[0-9]{1,4}$/.test(value) ? parseInt(value, 10) : NaN;
  }

  function setupForm(form, options) {
    options = options || {};
    var mode = options.mode || "create";
    var picker = options.picker;
    var countInput = form.querySelector("#camera-count");
    var camerasEl = form.querySelector("[data-cameras]");
    var camerasIntro = form.querySelector("[data-cameras-intro]");
    // What the resident has typed for each camera, kept while the count changes.
    var cameras = [];

    function readCameras() {
      var boxes = camerasEl.querySelectorAll("[data-camera]");
      for (var i = 0; i < boxes.length; i++) {
        var index = Number(boxes[i].getAttribute("data-camera"));
        var state = cameras[index] || (cameras[index] = {});
        state.direction = boxes[i].querySelector("select").value;
        state.description = boxes[i].querySelector("textarea").value;
      }
    }

    function cameraSlots() {
      var count = wholeNumber(countInput.value.trim());
      if (!(count >= 1)) count = 1;
      return Math.min(count, MAX_CAMERAS);
    }

    function renderCameras() {
      readCameras();
      var slots = cameraSlots();
      var existing = camerasEl.querySelectorAll("[data-camera]");
      if (existing.length === slots) return;
      // Keep the boxes already shown (so focus and errors stay put); add or remove at the end.
      for (var r = existing.length - 1; r >= slots; r--) camerasEl.removeChild(existing[r]);
      for (var i = existing.length; i < slots; i++) camerasEl.appendChild(cameraBox(i, cameras[i] || {}));
      if (camerasIntro) {
        camerasIntro.textContent =
          slots === 1
            ? "Describe your camera below. You can leave anything you are not sure about."
            : "Describe each camera below. You can leave anything you are not sure about.";
      }
    }

    function cameraBox(index, state) {
      var n = index + 1;
      var prefix = "camera-" + index;
      var select = ui.el("select", { id: prefix + "-direction", name: prefix + "-direction" });
      DIRECTIONS.forEach(function (d) {
        select.appendChild(ui.el("option", { value: d.value, text: d.label }));
      });
      if (state.extraDeg !== undefined && state.extraDeg !== null) {
        // A saved direction that is not one of the eight on the list.
        select.appendChild(
          ui.el("option", { value: String(state.extraDeg), text: "As saved (" + state.extraDeg + " degrees from north)" })
        );
      }
      select.value = state.direction || "";
      if (select.value !== (state.direction || "")) select.value = "";

      var textarea = ui.el("textarea", {
        id: prefix + "-description",
        name: prefix + "-description",
        rows: "2",
        "aria-describedby": prefix + "-description-hint"
      });
      textarea.value = state.description || "";

      var directionGroup = ui.el(
        "div",
        { className: "form-group", "data-field": "cameras." + index + ".direction_deg", "data-label": "Camera " + n + " direction" },
        [
          ui.el("label", { for: prefix + "-direction", text: "Which way does camera " + n + " point?" }),
          ui.el("p", { className: "error-message", id: prefix + "-direction-error", "data-error": true, hidden: true }),
          select
        ]
      );
      var descriptionGroup = ui.el(
        "div",
        { className: "form-group", "data-field": "cameras." + index + ".description", "data-label": "Camera " + n + " description" },
        [
          ui.el("label", { for: prefix + "-description", text: "Short description of camera " + n + " (optional)" }),
          ui.el("p", {
            className: "hint",
            id: prefix + "-description-hint",
            text: "For example: above the front door, looking at the driveway."
          }),
          ui.el("p", { className: "error-message", id: prefix + "-description-error", "data-error": true, hidden: true }),
          textarea
        ]
      );
      var box = ui.el(
        "fieldset",
        { className: "camera", "data-camera": String(index), "data-field": "cameras." + index, "data-label": "Camera " + n, id: prefix },
        [
          ui.el("legend", { className: "legend-small", text: "Camera " + n }),
          ui.el("p", { className: "error-message", id: prefix + "-error", "data-error": true, hidden: true }),
          directionGroup,
          descriptionGroup
        ]
      );
      // The fieldset's own errors (say, "cameras.0.location") need a focus target.
      select.setAttribute("data-focus-target", "");
      return box;
    }

    countInput.addEventListener("input", renderCameras);
    countInput.addEventListener("change", renderCameras);
    renderCameras();

    /**
     * Returns {body, errors, cameraIndex}: the JSON to send, client-side problems by field
     * path, and which on-screen camera each sent camera is (to place server errors).
     */
    function collect() {
      readCameras();
      var errors = {};
      var body = {};

      var name = text(form, "name");
      if (!name) errors.name = "Enter your full name";
      else if (name.length > 200) errors.name = "Full name must be 200 characters or fewer";
      body.name = name;

      if (mode === "create") {
        var email = text(form, "email");
        if (!email) errors.email = "Enter your email address";
        else if (!EMAIL.test(email) || email.length > 254) errors.email = "Enter an email address in the correct format, like name@example.com";
        body.email = email;
      }

      var phone = text(form, "phone");
      if (phone && !PHONE.test(phone)) errors.phone = "Enter a phone number using digits, like 0121 496 0000";
      if (phone) body.phone = phone;
      else if (mode === "edit") body.phone = null;

      var business = text(form, "business-name");
      if (business.length > 200) errors.business_name = "Business name must be 200 characters or fewer";
      if (business) body.business_name = business;
      else if (mode === "edit") body.business_name = null;

      var address = {
        line1: text(form, "address-line1"),
        town: text(form, "address-town"),
        postcode: text(form, "address-postcode")
      };
      var line2 = text(form, "address-line2");
      if (line2) address.line2 = line2;
      if (!address.line1) errors["address.line1"] = "Enter the first line of the address";
      else if (address.line1.length > 200) errors["address.line1"] = "Address line 1 must be 200 characters or fewer";
      if (line2.length > 200) errors["address.line2"] = "Address line 2 must be 200 characters or fewer";
      if (!address.town) errors["address.town"] = "Enter the town or city";
      else if (address.town.length > 100) errors["address.town"] = "Town or city must be 100 characters or fewer";
      if (!address.postcode) errors["address.postcode"] = "Enter the postcode";
      else if (address.postcode.length > 16) errors["address.postcode"] = "Enter a real postcode, like B1 1AA";
      body.address = {
        line1: address.line1,
        line2: address.line2,
        town: address.town,
        postcode: address.postcode
      };
      if (!address.line2) delete body.address.line2;

      var point = picker.get();
      if (!point) errors.location = "Set where your cameras are: use your current location, or place the pin on the map";
      else body.location = { lat: point.lat, lon: point.lon };

      var countText = text(form, "camera-count");
      var count = wholeNumber(countText);
      if (!countText) errors.camera_count = "Enter how many cameras you have";
      else if (isNaN(count)) errors.camera_count = "Enter the number of cameras as a whole number, like 2";
      else if (count < 1 || count > MAX_CAMERAS) errors.camera_count = "Enter a number of cameras between 1 and 50";
      body.camera_count = isNaN(count) ? countText : count;

      var daysText = text(form, "retention-days");
      var days = wholeNumber(daysText);
      if (daysText && isNaN(days)) errors.retention_days = "Enter the number of days as a whole number, like 30, or leave it empty";
      else if (daysText && (days < 1 || days > 90)) errors.retention_days = "Enter a number of days between 1 and 90, or leave it empty if you do not know";
      if (daysText && !isNaN(days)) body.retention_days = days;
      else if (mode === "edit") body.retention_days = null;

      // Cameras: only the ones with something said about them, in on-screen order.
      var sent = [];
      var cameraIndex = [];
      var slots = isNaN(count) ? 0 : Math.min(Math.max(count, 0), MAX_CAMERAS);
      for (var i = 0; i < slots; i++) {
        var state = cameras[i] || {};
        var camera = {};
        if (state.direction !== undefined && state.direction !== "") camera.direction_deg = parseInt(state.direction, 10);
        var description = (state.description || "").trim();
        if (description.length > 500) errors["cameras." + i + ".description"] = "Camera " + (i + 1) + " description must be 500 characters or fewer";
        if (description) camera.description = description;
        if (state.location) camera.location = state.location;
        if (Object.keys(camera).length) {
          sent.push(camera);
          cameraIndex.push(i);
        }
      }
      if (sent.length || mode === "edit") body.cameras = sent;

      if (mode === "create") {
        var consent = form.querySelector("#consent");
        if (!consent.checked) errors.consent = "Tick the box to agree to us holding your details";
        body.consent = consent.checked;
      }

      return { body: body, errors: errors, cameraIndex: cameraIndex };
    }

    /** Server paths name cameras by their place in what was sent; map them to the screen. */
    function mapServerFields(fields, cameraIndex) {
      var out = {};
      Object.keys(fields || {}).forEach(function (path) {
        var match = /^cameras\.(\d+)(\..*)?$/.exec(path);
        if (match && cameraIndex[Number(match[1])] !== undefined) {
          out["cameras." + cameraIndex[Number(match[1])] + (match[2] || "")] = fields[path];
        } else {
          out[path] = fields[path];
        }
      });
      return out;
    }

    /** Fill the form from a registration as the API returns it (edit mode). */
    function fill(registration) {
      function set(id, value) {
        var input = form.querySelector("#" + id);
        if (input) input.value = value === null || value === undefined ? "" : String(value);
      }
      var address = registration.address || {};
      set("name", registration.name);
      set("phone", registration.phone);
      set("business-name", registration.business_name);
      set("address-line1", address.line1);
      set("address-line2", address.line2);
      set("address-town", address.town);
      set("address-postcode", address.postcode);
      set("camera-count", registration.camera_count);
      set("retention-days", registration.retention_days);
      cameras = (registration.cameras || []).map(function (camera) {
        var deg = camera.direction_deg;
        var known = deg !== null && deg !== undefined && deg % 45 === 0;
        return {
          direction: deg === null || deg === undefined ? "" : String(deg),
          extraDeg: deg !== null && deg !== undefined && !known ? deg : null,
          description: camera.description || "",
          location: camera.location || null
        };
      });
      ui.clear(camerasEl);
      var saved = cameras;
      cameras = [];
      saved.forEach(function (state, i) {
        cameras[i] = state;
      });
      // readCameras() in renderCameras would read the (now empty) list; rebuild directly.
      var slots = cameraSlots();
      for (var i = 0; i < slots; i++) camerasEl.appendChild(cameraBox(i, cameras[i] || {}));
      var details = form.querySelector("details[data-cameras-details]");
      if (details) details.open = saved.length > 0;
      picker.show(registration.location);
    }

    return { collect: collect, mapServerFields: mapServerFields, fill: fill };
  }

  Sightline.details = {
    setupForm: setupForm,
    directionName: function (deg) {
      if (deg === null || deg === undefined) return null;
      for (var i = 0; i < DIRECTIONS.length; i++) if (DIRECTIONS[i].value === String(deg)) return DIRECTIONS[i].label;
      return deg + " degrees from north";
    }
  };
})();
