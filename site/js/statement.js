/* Sightline: statement.js — "About your footage" on respond.html: the owner's statement and the
 * check of their recorder's clock, saved with PUT /owner/requests/{id}/statement.
 *
 * The true time is the API's clock (GET /time), corrected for the network: of three tries the
 * one with the shortest round trip gives this device's offset, server_now + rtt/2 minus the
 * device's time when the answer arrived, good to within rtt/2. The page shows that time ticking
 * in the force's time zone; "Note the time now" keeps the true instant (UTC, milliseconds) while
 * the owner reads their recorder, and the owner types what the recorder showed. The server works
 * out the offset (recorder minus true time) and the page says it in words.
 *
 *   var statement = Sightline.Statement({authed, requestPath, handleCommonErrors, onSaved})
 *   statement.render(request)           fill from GET /owner/requests/{id}; starts the clock
 *   statement.isSaved(), statement.hasUnsavedChanges(), statement.stop()
 *
 * The checks here mirror the server's; the server's own field errors are shown the same way.
 */
(function () {
  "use strict";

  var Sightline = window.Sightline;
  var ui = Sightline.ui;

  var LIMITS = { name: [2, 100], operator_name: 200, system: 200, cameras_note: 500, source_note: 500, gaps_note: 1000, reason: 500 };
  var TRIES = 3;
  var DEFAULT_ZONE = "Europe/London";
  var POINTS = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"];

  // ------------------------------------------------------------------ the true time

  /** Three looks at GET /time, one after another; the shortest round trip wins. */
  function measureClock() {
    var best = null;
    var failures = 0;
    function once() {
      var sent = performance.now();
      return Sightline.api.request("GET", "/time", { timeoutMs: 10000 }).then(
        function (answer) {
          var rtt = performance.now() - sent;
          var deviceAtReceipt = Date.now();
          var server = Date.parse(answer && answer.now);
          if (isNaN(server)) throw new Error("no time");
          if (!best || rtt < best.rttMs) best = { rttMs: rtt, offsetMs: server + rtt / 2 - deviceAtReceipt };
        },
        function () {
          failures++;
        }
      );
    }
    var chain = Promise.resolve();
    for (var i = 0; i < TRIES; i++) chain = chain.then(once);
    return chain.then(function () {
      if (!best) throw new Error("The true time could not be fetched (" + failures + " tries).");
      return best;
    });
  }

  function formatters(zone) {
    function make(options) {
      try {
        return new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: zone }, options));
      } catch (e) {
        return new Intl.DateTimeFormat("en-GB", options); // an unknown zone: the device's own
      }
    }
    return {
      time: make({ hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }),
      date: make({ weekday: "long", day: "numeric", month: "long", year: "numeric" }),
      iso: make({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }),
      zoneName: make({ timeZoneName: "long" })
    };
  }

  function partsOf(format, date) {
    var parts = {};
    format.formatToParts(date).forEach(function (part) {
      parts[part.type] = part.value;
    });
    return parts;
  }

  /** {date: "2026-12-02", time: "18:05:12"} as a wall clock in the force's zone shows it. */
  function wallClock(format, date) {
    var p = partsOf(format, date);
    var hour = p.hour === "24" ? "00" : p.hour;
    return { date: p.year + "-" + p.month + "-" + p.day, time: hour + ":" + p.minute + ":" + p.second };
  }

  /** 18.4 → "18 seconds fast"; -125 → "2 minutes 5 seconds slow"; 0.3 → null (right). */
  function offsetWords(seconds) {
    var total = Math.round(Math.abs(Number(seconds) || 0));
    if (!total) return null;
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var words = [];
    if (h) words.push(h + (h === 1 ? " hour" : " hours"));
    if (m) words.push(m + (m === 1 ? " minute" : " minutes"));
    if (s) words.push(s + (s === 1 ? " second" : " seconds"));
    return words.join(" ") + (seconds > 0 ? " fast" : " slow");
  }

  function offsetSentence(clock) {
    if (!clock) return "";
    if (clock.checked === false) return "You told us you cannot check the recorder's clock.";
    // The server's words where it gives them ("18 seconds fast"), else the same worked out here.
    if (typeof clock.offset_words === "string" && clock.offset_words) return "Your recorder's clock is " + clock.offset_words + ".";
    if (typeof clock.offset_seconds !== "number") return "";
    var words = offsetWords(clock.offset_seconds);
    return "Your recorder's clock is " + (words || "right to the second") + ".";
  }

  function cameraLabel(camera) {
    var text = "Camera " + camera.number;
    if (camera.description) text += ": " + camera.description;
    var deg = Number(camera.direction_deg);
    if (camera.direction_deg !== null && camera.direction_deg !== undefined && !isNaN(deg)) {
      text += " (points " + POINTS[Math.round((((deg % 360) + 360) % 360) / 45) % 8] + ")";
    }
    return text;
  }

  // ------------------------------------------------------------------ the form

  Sightline.Statement = function (options) {
    var root = document.getElementById("statement");
    var form = document.getElementById("statement-form");
    var summary = document.getElementById("statement-errors");
    var statusEl = root.querySelector("[data-statement-status]");
    var offsetEl = root.querySelector("[data-statement-offset]");
    var saveButton = document.getElementById("statement-save");
    var cameraBox = form.querySelector("[data-camera-choices]");
    var camerasFieldset = document.getElementById("statement-cameras");
    var cameraNoteLabel = form.querySelector('label[for="statement-cameras-note"]');
    var declarationLabel = form.querySelector("[data-declaration-text]");
    var clockSteps = form.querySelector("[data-clock-steps]");
    var clockTime = form.querySelector("[data-clock-time]");
    var clockDate = form.querySelector("[data-clock-date]");
    var clockZone = form.querySelector("[data-clock-zone]");
    var clockSync = form.querySelector("[data-clock-sync]");
    var syncAgain = document.getElementById("clock-sync-again");
    var noteButton = document.getElementById("clock-note");
    var notedEl = form.querySelector("[data-clock-noted]");
    var recorderBox = form.querySelector("[data-clock-recorder]");
    var recorderDate = document.getElementById("clock-recorder-date");
    var recorderTime = document.getElementById("clock-recorder-time");
    var cannot = document.getElementById("clock-cannot");

    var saved = null; // the statement as the server stored it
    var dirty = false;
    var saving = false;
    var stopped = false;
    var cameras = [];
    var zone = DEFAULT_ZONE;
    var format = formatters(zone);
    var clock = null; // {offsetMs, rttMs} once measured
    var noted = null; // {observed_at, uncertainty_ms} when the owner noted the time
    var tickTimer = null;
    var syncing = null;

    function field(name) {
      return form.elements[name];
    }

    function value(name) {
      var control = field(name);
      return control ? String(control.value || "").trim() : "";
    }

    function setRadio(name, v) {
      var radios = form.querySelectorAll('input[name="' + name + '"]');
      for (var i = 0; i < radios.length; i++) radios[i].checked = radios[i].value === v;
    }

    /** Show the questions that follow from an answer ("Who runs it?" → the agent's name ...). */
    function reveal() {
      var op = value("operator");
      conditional("operator").hidden = !op || op === "me";
      conditional("source").hidden = value("source") !== "re_recording";
      conditional("gaps_or_edits").hidden = value("gaps_or_edits") !== "yes";
      conditional("clock_cannot").hidden = !cannot.checked;
      clockSteps.hidden = cannot.checked;
    }

    function conditional(name) {
      return form.querySelector('[data-when="' + name + '"]');
    }

    form.addEventListener("change", function () {
      reveal();
      changed();
    });
    form.addEventListener("input", changed);

    function changed() {
      if (!saved || dirty || stopped) return;
      dirty = true;
      showStatus();
    }

    function showStatus() {
      statusEl.classList.remove("statement-status--saved");
      if (!saved) {
        statusEl.textContent = "You have not saved these details yet.";
      } else if (dirty) {
        statusEl.textContent = "You have changed these details. Select 'Save these details' to keep the changes.";
      } else {
        statusEl.classList.add("statement-status--saved");
        statusEl.textContent = "Saved. You can change these details until you tell us you have finished.";
      }
      var sentence = saved ? offsetSentence(saved.clock) : "";
      offsetEl.textContent = sentence;
      offsetEl.hidden = !sentence;
    }

    // -------------------------------------------------------------- filling in from the request

    function render(request) {
      stopped = false;
      zone = (request && request.force_timezone) || DEFAULT_ZONE;
      format = formatters(zone);
      var zoneName = partsOf(format.zoneName, new Date()).timeZoneName;
      clockZone.textContent = zoneName ? " (" + zoneName + ")" : "";
      if (request && typeof request.declaration_text === "string" && request.declaration_text.trim()) {
        declarationLabel.textContent = request.declaration_text.trim();
      }
      renderCameras(Array.isArray(request && request.cameras) ? request.cameras : []);
      if (request && request.statement && typeof request.statement === "object") {
        fill(request.statement);
        saved = request.statement;
        dirty = false;
      }
      reveal();
      showStatus();
      startClock();
    }

    function renderCameras(list) {
      cameras = list.filter(function (camera) {
        return camera && typeof camera.number === "number";
      });
      ui.clear(cameraBox);
      cameras.forEach(function (camera) {
        var id = "statement-camera-" + camera.number;
        cameraBox.appendChild(
          ui.el("div", { className: "checkbox" }, [
            ui.el("input", { type: "checkbox", id: id, name: "cameras", value: String(camera.number) }),
            ui.el("label", { for: id, text: cameraLabel(camera) })
          ])
        );
      });
      // No registered cameras to choose from (the registration is gone): a description only.
      camerasFieldset.hidden = !cameras.length;
      cameraNoteLabel.textContent = cameras.length ? "Anything else about the cameras (optional)" : "Which cameras recorded the footage?";
    }

    function fill(statement) {
      field("name").value = statement.name || "";
      setRadio("operator", statement.operator || "");
      field("operator_name").value = statement.operator_name || "";
      field("system").value = statement.system || "";
      var chosen = Array.isArray(statement.cameras) ? statement.cameras.map(Number) : [];
      var boxes = form.querySelectorAll('input[name="cameras"]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = chosen.indexOf(Number(boxes[i].value)) !== -1;
      field("cameras_note").value = statement.cameras_note || "";
      setRadio("source", statement.source || "");
      field("source_note").value = statement.source_note || "";
      setRadio("gaps_or_edits", statement.gaps_or_edits === true ? "yes" : statement.gaps_or_edits === false ? "no" : "");
      field("gaps_note").value = statement.gaps_note || "";
      setRadio("witness_statement", statement.witness_statement || "");
      field("declaration").checked = statement.declaration === true;
      var c = statement.clock || {};
      cannot.checked = c.checked === false;
      field("clock_reason").value = c.checked === false ? c.reason || "" : "";
      if (c.checked === true && c.observed_at && c.recorder_shows) {
        noted = { observed_at: c.observed_at, uncertainty_ms: Number(c.uncertainty_ms) || 0 };
        var shows = String(c.recorder_shows).split("T");
        recorderDate.value = shows[0] || "";
        recorderTime.value = (shows[1] || "").slice(0, 8);
        showNoted(new Date(c.observed_at), true);
      }
    }

    // -------------------------------------------------------------- the ticking true time

    function trueNow() {
      return Date.now() + (clock ? clock.offsetMs : 0);
    }

    function tick() {
      window.clearTimeout(tickTimer);
      if (stopped || !clock) return;
      var now = new Date(trueNow());
      clockTime.textContent = format.time.format(now);
      clockDate.textContent = format.date.format(now);
      tickTimer = window.setTimeout(tick, 1000 - (now.getTime() % 1000) + 10);
    }

    function startClock() {
      if (clock) return tick();
      if (syncing) return;
      clockSync.textContent = "Getting the true time…";
      syncAgain.hidden = true;
      syncing = measureClock().then(
        function (measured) {
          syncing = null;
          clock = measured;
          clockSync.textContent = "Correct to within " + uncertaintyWords(measured.rttMs / 2) + ".";
          tick();
        },
        function () {
          syncing = null;
          clockSync.textContent = "We could not get the true time. Check your internet connection, then try again.";
          syncAgain.hidden = false;
        }
      );
    }

    function uncertaintyWords(ms) {
      if (ms < 1000) return "a second";
      var s = Math.ceil(ms / 1000);
      return s + " seconds";
    }

    syncAgain.addEventListener("click", startClock);

    noteButton.addEventListener("click", function () {
      if (!clock) {
        Sightline.errors.show(form, summary, {
          clock: "Wait until the true time shows, then select 'Note the time now'."
        });
        return;
      }
      var at = new Date(trueNow());
      noted = { observed_at: at.toISOString(), uncertainty_ms: Math.round(clock.rttMs / 2) };
      showNoted(at, false);
      changed();
    });

    function showNoted(at, fromSaved) {
      var wall = wallClock(format.iso, at);
      notedEl.textContent =
        (fromSaved ? "You noted the true time at " : "Noted: the true time was ") +
        format.time.format(at) + " on " + format.date.format(at) + ". Enter what the recorder showed at that moment.";
      notedEl.hidden = false;
      notedEl.setAttribute("data-observed-at", at.toISOString()); // the instant kept, for checking
      recorderBox.hidden = false;
      noteButton.textContent = "Note the time again";
      if (!fromSaved) {
        recorderDate.value = wall.date; // usually the same day: one field less to fill in
        recorderTime.value = "";
        recorderTime.focus();
      }
    }

    // -------------------------------------------------------------- checking and saving

    function tooLong(text, most) {
      return text.length > most;
    }

    /** {statement, errors}: what would be sent, and what the owner must correct first. */
    function collect() {
      var errors = {};
      var body = {};
      var name = value("name");
      if (!name) errors.name = "Enter your full name";
      else if (name.length < LIMITS.name[0]) errors.name = "Your name must be 2 characters or more";
      else if (tooLong(name, LIMITS.name[1])) errors.name = "Your name must be 100 characters or fewer";
      body.name = name;

      var operator = value("operator");
      if (!operator) errors.operator = "Select who runs the camera system";
      body.operator = operator;
      if (operator && operator !== "me") {
        var operatorName = value("operator_name");
        if (!operatorName) errors.operator_name = "Enter the name of the business or agent that runs the cameras";
        else if (tooLong(operatorName, LIMITS.operator_name)) errors.operator_name = "The name must be 200 characters or fewer";
        body.operator_name = operatorName;
      }

      var system = value("system");
      if (!system) errors.system = "Enter the make and model of the recorder, or the name of the app";
      else if (tooLong(system, LIMITS.system)) errors.system = "This must be 200 characters or fewer";
      body.system = system;

      var chosen = [];
      var boxes = form.querySelectorAll('input[name="cameras"]');
      for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) chosen.push(Number(boxes[i].value));
      body.cameras = chosen;
      var camerasNote = value("cameras_note");
      if (camerasNote) body.cameras_note = camerasNote;
      if (tooLong(camerasNote, LIMITS.cameras_note)) errors.cameras_note = "This must be 500 characters or fewer";
      else if (!chosen.length && !camerasNote) {
        if (cameras.length) errors.cameras = "Select the cameras the footage came from, or describe them under 'Anything else about the cameras'";
        else errors.cameras_note = "Describe the cameras the footage came from";
      }

      var source = value("source");
      if (!source) errors.source = "Select how you saved the files";
      body.source = source;
      if (source === "re_recording") {
        var sourceNote = value("source_note");
        if (!sourceNote) errors.source_note = "Describe how you recorded the files";
        else if (tooLong(sourceNote, LIMITS.source_note)) errors.source_note = "This must be 500 characters or fewer";
        body.source_note = sourceNote;
      }

      var gaps = value("gaps_or_edits");
      if (!gaps) errors.gaps_or_edits = "Select whether anything is missing from the footage or has been changed";
      body.gaps_or_edits = gaps === "yes";
      if (gaps === "yes") {
        var gapsNote = value("gaps_note");
        if (!gapsNote) errors.gaps_note = "Describe what is missing or has changed";
        else if (tooLong(gapsNote, LIMITS.gaps_note)) errors.gaps_note = "This must be 1,000 characters or fewer";
        body.gaps_note = gapsNote;
      }

      if (cannot.checked) {
        var reason = value("clock_reason");
        if (!reason) errors["clock.reason"] = "Tell us why you cannot check the recorder's clock";
        else if (tooLong(reason, LIMITS.reason)) errors["clock.reason"] = "This must be 500 characters or fewer";
        body.clock = { checked: false, reason: reason };
      } else if (!noted) {
        errors.clock = "Select 'Note the time now' while you look at the recorder's clock, or select 'I can't check the recorder's clock'";
      } else {
        var date = recorderDate.value;
        var time = recorderTime.value;
        if (/^\d\d:\d\d$/.test(time)) time += ":00"; // a time with no seconds is on the minute
        if (!/^\d{4}-\d\d-\d\d$/.test(date) || !/^\d\d:\d\d:\d\d$/.test(time)) {
          errors["clock.recorder_shows"] = !date && !time
            ? "Enter the date and time the recorder showed"
            : "Enter a real date and a time, like 18:05:30";
        }
        body.clock = {
          checked: true,
          recorder_shows: date + "T" + time,
          observed_at: noted.observed_at,
          uncertainty_ms: noted.uncertainty_ms
        };
      }

      var witness = value("witness_statement");
      if (!witness) errors.witness_statement = "Select whether you would be willing to make a witness statement";
      body.witness_statement = witness;

      body.declaration = field("declaration").checked;
      if (!body.declaration) errors.declaration = "Select the box to confirm the declaration";
      return { statement: body, errors: errors };
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (saving || stopped) return;
      var result = collect();
      if (Object.keys(result.errors).length) {
        Sightline.errors.show(form, summary, result.errors);
        return;
      }
      Sightline.errors.clear(form, summary);
      saving = true;
      saveButton.setAttribute("aria-disabled", "true");
      statusEl.textContent = "Saving…";
      options
        .authed("PUT", options.requestPath("/statement"), result.statement)
        .then(function (answer) {
          saved = answer && typeof answer === "object" ? answer : result.statement;
          dirty = false;
          showStatus();
          if (options.onSaved) options.onSaved(saved);
          statusEl.focus({ preventScroll: true });
          statusEl.scrollIntoView({ block: "center" });
        })
        .catch(function (error) {
          showStatus();
          if (options.handleCommonErrors(error)) return;
          Sightline.errors.showApiError(form, summary, error);
        })
        .finally(function () {
          saving = false;
          saveButton.removeAttribute("aria-disabled");
        });
    });

    return {
      render: render,
      isSaved: function () {
        return !!saved;
      },
      hasUnsavedChanges: function () {
        return !!saved && dirty;
      },
      stop: function () {
        stopped = true;
        window.clearTimeout(tickTimer);
      }
    };
  };

  Sightline.Statement.offsetWords = offsetWords;
})();
