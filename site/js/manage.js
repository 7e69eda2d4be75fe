/* Sightline: manage.html — sign in with an emailed link, then see, change, pause, export or
 * delete your registrations.
 *
 * The link's token arrives as #token=...; it is taken out of the address bar (and history) at
 * once and exchanged for a short-lived session, kept in sessionStorage for this tab only.
 */
(function () {
  "use strict";

  var Sightline = window.Sightline;
  var ui = Sightline.ui;
  var api = Sightline.api;

  var SESSION_KEY = "sightline.ownerSession";
  var EXPORT_FILENAME = "sightline-my-data.json";

  // ------------------------------------------------------------------ session storage

  function loadSession() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(SESSION_KEY) || "null");
      if (!saved || typeof saved.session !== "string") return null;
      if (saved.expires_at && Date.parse(saved.expires_at) <= Date.now()) {
        clearSession();
        return null;
      }
      return saved;
    } catch (e) {
      return null;
    }
  }

  function saveSession(answer) {
    var saved = { session: answer.session, expires_at: answer.expires_at || null };
    try {
      window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(saved));
    } catch (e) {
      /* storage refused (private mode): the session lives for this page only */
    }
    return saved;
  }

  function clearSession() {
    try {
      window.sessionStorage.removeItem(SESSION_KEY);
    } catch (e) {
      /* nothing to clear */
    }
  }


  // ------------------------------------------------------------------ formatting

  var STATUS_TEXT = {
    active: { tag: "Active", className: "tag--active", note: "Officers can see this registration." },
    paused: {
      tag: "Paused",
      className: "tag--paused",
      note: "Officers cannot see this registration until you resume it."
    },
    pending: {
      tag: "Waiting for you to confirm",
      className: "tag--pending",
      note: "Confirm your email address using the link we sent you. Until then, officers cannot see this registration."
    }
  };

  function formatDate(iso) {
    if (!iso) return null;
    var date = new Date(iso);
    if (isNaN(date.getTime())) return String(iso);
    return date.toLocaleString("en-GB", {
      day: "numeric",
      month: "long",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit"
    });
  }

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return null;
    return date.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  }

  function placeName(registration) {
    var address = registration.address || {};
    return [address.line1, address.postcode].filter(Boolean).join(", ") || "Your registration";
  }

  function addressLines(address) {
    address = address || {};
    return [address.line1, address.line2, address.town, address.postcode].filter(Boolean);
  }

  // ------------------------------------------------------------------ page

  Sightline.ready(function () {
    var session = null;
    var registrations = [];
    var editing = null; // registration being edited
    var deleting = null; // registration waiting for "Yes, delete permanently"
    var busy = false;

    var message = document.getElementById("manage-message");
    var problem = document.getElementById("manage-problem");
    var views = {
      loading: document.getElementById("view-loading"),
      request: document.getElementById("view-request"),
      sent: document.getElementById("view-sent"),
      list: document.getElementById("view-list"),
      edit: document.getElementById("view-edit"),
      remove: document.getElementById("view-delete")
    };
    var titles = {
      loading: "Manage your registration",
      request: "Get a link – Manage your registration",
      sent: "Check your email – Manage your registration",
      list: "Your registrations – Manage your registration",
      edit: "Change your registration",
      remove: "Delete this registration?"
    };

    var requestForm = document.getElementById("request-form");
    var requestErrors = document.getElementById("request-errors");
    var editForm = document.getElementById("edit-form");
    var editErrors = document.getElementById("edit-errors");
    var listEl = document.getElementById("registrations");
    var emptyEl = document.getElementById("no-registrations");

    var picker = Sightline.map.createPicker(document.getElementById("location-picker"));
    var details = Sightline.details.setupForm(editForm, { mode: "edit", picker: picker });

    // -------------------------------------------------------------- views and messages

    /**
     * show("list", {message: "...", problem: "...", focus: element})
     * Switches view, sets or clears the page messages, and moves focus (to `focus`, else the
     * problem or message, else the view's heading).
     */
    function show(name, options) {
      options = options || {};
      Object.keys(views).forEach(function (key) {
        views[key].hidden = key !== name;
      });
      if (name !== "edit") views.edit.querySelector("[data-edit-for]").textContent = "";
      if (name !== "remove") views.remove.querySelector("[data-delete-for]").textContent = "";
      setText(message, options.message);
      setText(problem, options.problem);
      document.title = titles[name] + " – Sightline";
      if (name === "edit") picker.refresh();
      if (options.focus) {
        options.focus.focus();
      } else if (options.problem) {
        problem.focus();
        window.scrollTo(0, 0);
      } else if (options.message) {
        message.focus();
        window.scrollTo(0, 0);
      } else {
        ui.focusHeading(views[name]);
      }
    }

    function setText(box, text) {
      ui.clear(box);
      if (text) {
        box.appendChild(ui.el("p", { text: text }));
        box.hidden = false;
      } else {
        box.hidden = true;
      }
    }

    function sessionEnded(text) {
      session = null;
      clearSession();
      registrations = [];
      show("request", {
        problem:
          text || "You have been signed out because your sign-in ended. To carry on, ask for a new link below."
      });
    }

    /** Common handling for failures once signed in. Returns true if it dealt with the error. */
    function handleCommonErrors(error) {
      if (error && error.status === 401) {
        sessionEnded();
        return true;
      }
      return false;
    }

    function problemText(error) {
      return (error && error.message) || "Something went wrong. Please try again.";
    }

    function authed(method, path, body) {
      return api.request(method, path, { session: session && session.session, body: body });
    }

    // -------------------------------------------------------------- ask for a link

    requestForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) return;
      var input = document.getElementById("email");
      var email = input.value.trim();
      var errors = {};
      if (!email) errors.email = "Enter your email address";
      else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = "Enter an email address in the correct format, like name@example.com";
      if (Object.keys(errors).length) {
        Sightline.errors.show(requestForm, requestErrors, errors);
        return;
      }
      Sightline.errors.clear(requestForm, requestErrors);
      busy = true;
      api
        .request("POST", "/owner/links", { body: { email: email } })
        .then(function () {
          show("sent");
        })
        .catch(function (error) {
          Sightline.errors.showApiError(requestForm, requestErrors, error);
        })
        .finally(function () {
          busy = false;
        });
    });

    document.getElementById("send-another").addEventListener("click", function () {
      show("request", { focus: document.getElementById("email") });
    });

    // -------------------------------------------------------------- sign in and list

    function signIn(token) {
      show("loading");
      api
        .request("POST", "/owner/sessions", { body: { token: token } })
        .then(function (answer) {
          if (!answer || !answer.session) throw new Sightline.ApiError(0, "error", "Something went wrong. Please try again.");
          session = saveSession(answer);
          loadList();
        })
        .catch(function (error) {
          clearSession();
          if (error && (error.status === 410 || error.status === 400 || error.status === 401 || error.status === 404)) {
            show("request", {
              problem:
                "That link has expired or has already been used. A link works once, for 30 minutes. Ask for a new one below."
            });
          } else {
            show("request", { problem: "We could not sign you in. " + problemText(error) + " You may need to ask for a new link." });
          }
        });
    }

    function loadList(options) {
      options = options || {};
      if (views.list.hidden) {
        views.loading.querySelector("[data-loading-text]").textContent = "Loading your registrations…";
        show("loading");
      }
      authed("GET", "/owner/registrations")
        .then(function (answer) {
          registrations = (answer && Array.isArray(answer.registrations) && answer.registrations) || [];
          renderList();
          show("list", options);
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          show("request", { problem: "We could not load your registrations. " + problemText(error) });
        });
    }

    function renderList() {
      ui.clear(listEl);
      var signedInAs = document.querySelector("[data-signed-in-as]");
      signedInAs.textContent = registrations.length ? registrations[0].email || "" : "";
      signedInAs.parentElement.hidden = !registrations.length;
      var note = views.list.querySelector(".secondary-text");
      var until = session && session.expires_at ? formatTime(session.expires_at) : null;
      note.textContent = until
        ? "For your security, you will be signed out at " + until + "."
        : "For your security, you will be signed out after a short time.";
      registrations.forEach(function (registration) {
        listEl.appendChild(card(registration));
      });
      emptyEl.hidden = registrations.length > 0;
    }

    function row(label, value) {
      var dd = ui.el("dd");
      if (Array.isArray(value)) {
        value.forEach(function (line, i) {
          if (i) dd.appendChild(ui.el("br"));
          dd.appendChild(document.createTextNode(line));
        });
      } else if (value && value.nodeType) {
        dd.appendChild(value);
      } else {
        dd.textContent = value === null || value === undefined || value === "" ? "Not given" : String(value);
      }
      return ui.el("div", null, [ui.el("dt", { text: label }), dd]);
    }

    function camerasValue(registration) {
      var count = registration.camera_count;
      var lines = [count === 1 ? "1 camera" : count + " cameras"];
      var list = null;
      (registration.cameras || []).forEach(function (camera, i) {
        var direction = Sightline.details.directionName(camera.direction_deg);
        if (!direction && !camera.description) return;
        var line = "Camera " + (i + 1);
        if (direction) line += " (points " + direction.toLowerCase() + ")";
        if (camera.description) line += ": " + camera.description;
        list = list || ui.el("ul");
        list.appendChild(ui.el("li", { text: line }));
      });
      var wrap = ui.el("div", { text: lines[0] });
      if (list) wrap.appendChild(list);
      return wrap;
    }

    function card(registration) {
      var id = String(registration.registration_id || "");
      var status = STATUS_TEXT[registration.status] || { tag: String(registration.status || ""), className: "", note: "" };
      var headingId = "reg-" + id.replace(/[^a-z0-9]/gi, "") + "-title";
      var location = registration.location || {};
      var rows = [
        row("Name", registration.name),
        row("Email address", registration.email),
        row("Phone number", registration.phone),
        registration.business_name ? row("Business name", registration.business_name) : null,
        row(
          "Location on the map",
          isFinite(location.lat) && isFinite(location.lon)
            ? Number(location.lat).toFixed(5) + ", " + Number(location.lon).toFixed(5)
            : null
        ),
        row("Cameras", camerasValue(registration)),
        row(
          "Recorder keeps footage for",
          registration.retention_days ? registration.retention_days + (registration.retention_days === 1 ? " day" : " days") : "Not given"
        ),
        row("Registered", formatDate(registration.created_at)),
        row("Confirmed", registration.verified_at ? formatDate(registration.verified_at) : "Not yet"),
        row("Last changed", formatDate(registration.updated_at))
      ];

      var buttons = ui.el("div", { className: "button-group" });
      var edit = ui.el("button", { type: "button", className: "button", text: "Edit", "data-act": "edit" });
      edit.addEventListener("click", function () {
        startEdit(id);
      });
      buttons.appendChild(edit);
      if (registration.status === "active" || registration.status === "paused") {
        var paused = registration.status === "paused";
        var toggle = ui.el("button", {
          type: "button",
          className: "button button--secondary",
          text: paused ? "Resume" : "Pause",
          "data-act": "toggle"
        });
        toggle.addEventListener("click", function () {
          setPaused(id, !paused);
        });
        buttons.appendChild(toggle);
      }
      var del = ui.el("button", { type: "button", className: "button button--warning", text: "Delete", "data-act": "delete" });
      del.addEventListener("click", function () {
        startDelete(id);
      });
      buttons.appendChild(del);

      return ui.el("article", { className: "registration", "aria-labelledby": headingId, "data-id": id }, [
        ui.el("h3", { id: headingId, text: addressLines(registration.address).join(", ") || "Your registration" }),
        ui.el("p", null, [
          ui.el("span", { className: "tag " + status.className, text: status.tag }),
          ui.el("br"),
          status.note
        ]),
        ui.el("dl", { className: "summary-list" }, rows.filter(Boolean)),
        buttons
      ]);
    }

    function find(id) {
      for (var i = 0; i < registrations.length; i++) if (registrations[i].registration_id === id) return registrations[i];
      return null;
    }

    function replace(updated) {
      for (var i = 0; i < registrations.length; i++) {
        if (registrations[i].registration_id === updated.registration_id) registrations[i] = updated;
      }
    }

    function buttonFor(id, act) {
      var cards = listEl.querySelectorAll("article[data-id]");
      for (var i = 0; i < cards.length; i++) {
        if (cards[i].getAttribute("data-id") === id) return cards[i].querySelector('[data-act="' + act + '"]');
      }
      return null;
    }

    // -------------------------------------------------------------- pause and resume

    function setPaused(id, pause) {
      if (busy) return;
      busy = true;
      authed("PATCH", "/owner/registrations/" + encodeURIComponent(id), { status: pause ? "paused" : "active" })
        .then(function (updated) {
          replace(updated);
          renderList();
          show("list", {
            message: pause
              ? "Your registration for " + placeName(updated) + " is paused. Officers cannot see it until you resume it."
              : "Your registration for " + placeName(updated) + " is active again. Officers can see it."
          });
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          show("list", { problem: problemText(error) });
        })
        .finally(function () {
          busy = false;
        });
    }

    // -------------------------------------------------------------- edit

    function startEdit(id) {
      var registration = find(id);
      if (!registration) return;
      editing = registration;
      Sightline.errors.clear(editForm, editErrors);
      views.edit.querySelector("[data-edit-for]").textContent = "For " + placeName(registration) + ".";
      show("edit");
      details.fill(registration);
      picker.refresh();
    }

    editForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy || !editing) return;
      busy = true;
      picker.settled().then(function () {
        busy = false;
        saveEdit();
      });
    });

    function saveEdit() {
      if (busy || !editing) return;
      var collected = details.collect();
      if (Object.keys(collected.errors).length) {
        Sightline.errors.show(editForm, editErrors, collected.errors);
        return;
      }
      Sightline.errors.clear(editForm, editErrors);
      busy = true;
      var id = editing.registration_id;
      authed("PATCH", "/owner/registrations/" + encodeURIComponent(id), collected.body)
        .then(function (updated) {
          replace(updated);
          editing = null;
          renderList();
          show("list", { message: "Your changes have been saved." });
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          if (error.status === 404) {
            editing = null;
            loadList({ problem: "That registration no longer exists. It may have been deleted." });
            return;
          }
          error.fields = details.mapServerFields(error.fields, collected.cameraIndex);
          Sightline.errors.showApiError(editForm, editErrors, error);
        })
        .finally(function () {
          busy = false;
        });
    }

    document.getElementById("edit-cancel").addEventListener("click", function () {
      var id = editing && editing.registration_id;
      editing = null;
      Sightline.errors.clear(editForm, editErrors);
      show("list", { focus: id ? buttonFor(id, "edit") : null });
    });

    // -------------------------------------------------------------- delete

    function startDelete(id) {
      var registration = find(id);
      if (!registration) return;
      deleting = registration;
      views.remove.querySelector("[data-delete-for]").textContent =
        "You are about to delete your registration for " + placeName(registration) + ".";
      show("remove");
    }

    document.getElementById("delete-cancel").addEventListener("click", function () {
      var id = deleting && deleting.registration_id;
      deleting = null;
      show("list", { focus: id ? buttonFor(id, "delete") : null });
    });

    document.getElementById("delete-confirm").addEventListener("click", function () {
      if (busy || !deleting) return;
      busy = true;
      var target = deleting;
      authed("DELETE", "/owner/registrations/" + encodeURIComponent(target.registration_id))
        .then(function () {
          deleting = null;
          registrations = registrations.filter(function (r) {
            return r.registration_id !== target.registration_id;
          });
          renderList();
          show("list", {
            message:
              "Your registration for " + placeName(target) + " has been deleted. We have emailed you to confirm."
          });
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          deleting = null;
          if (error.status === 404) {
            loadList({ problem: "That registration no longer exists. It may already have been deleted." });
            return;
          }
          show("list", { problem: "Your registration was not deleted. " + problemText(error) });
        })
        .finally(function () {
          busy = false;
        });
    });

    // -------------------------------------------------------------- export and sign out

    document.getElementById("export-data").addEventListener("click", function () {
      if (busy) return;
      busy = true;
      authed("GET", "/owner/export")
        .then(function (data) {
          var blob = new Blob([JSON.stringify(data, null, 2) + "\n"], { type: "application/json" });
          var url = URL.createObjectURL(blob);
          var link = ui.el("a", { href: url, download: EXPORT_FILENAME, hidden: true });
          document.body.appendChild(link);
          link.click();
          document.body.removeChild(link);
          window.setTimeout(function () {
            URL.revokeObjectURL(url);
          }, 60000);
          show("list", {
            message: "Your data has been downloaded as a file called " + EXPORT_FILENAME + "."
          });
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          show("list", { problem: "We could not export your data. " + problemText(error) });
        })
        .finally(function () {
          busy = false;
        });
    });

    document.getElementById("sign-out").addEventListener("click", function () {
      var ending = session;
      session = null;
      clearSession();
      registrations = [];
      renderList();
      var done = function () {
        show("request", { message: "You have signed out." });
      };
      if (!ending) return done();
      api.request("DELETE", "/owner/sessions", { session: ending.session }).then(done, done);
    });

    // -------------------------------------------------------------- start

    // A link pasted into this tab only changes the fragment: no page load happens.
    window.addEventListener("hashchange", function () {
      var next = Sightline.takeLinkToken();
      if (next) signIn(next);
    });

    var token = Sightline.takeLinkToken();
    if (token) {
      signIn(token);
    } else {
      session = loadSession();
      if (session) loadList();
      else show("request");
    }
  });
})();
