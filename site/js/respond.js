/* Sightline: respond.html — a camera owner answers a police request for footage.
 *
 * The emailed link carries #token=...; it is taken out of the address bar (and history) at once
 * and exchanged for a session scoped to one request, kept in sessionStorage (this tab only),
 * keyed by the request's id, so a reload works without the token.
 *
 * Files go straight to the evidence store with presigned targets the API hands out:
 *   - "post":      one multipart/form-data POST (the policy's fields first, the file last)
 *   - "multipart": the file in parts, each PUT to its own URL (3 at a time, each retried up to
 *                  3 times).
 * Meanwhile hashing.js works out the file's SHA-256 from its own sequential reads; when both are
 * done the API is told the upload is complete, with that fingerprint (for both methods), and
 * the page shows it beside the server's own, the file's exhibit reference and whether they match.
 * "About your footage" (statement.js) must be saved before the owner can finish.
 * XMLHttpRequest is used for the uploads because fetch() reports no upload progress.
 * The server then checks each file; the page looks at the request again to show each file's
 * result, on the schedule in poll.js (backing off, paused while the tab is hidden).
 *
 * Everything the server returns is shown with textContent.
 */
(function () {
  "use strict";

  var Sightline = window.Sightline;
  var ui = Sightline.ui;
  var api = Sightline.api;
  var ApiError = Sightline.ApiError;

  var SESSION_PREFIX = "sightline.requestSession.";
  var LAST_KEY = "sightline.requestSession.last";
  var PART_CONCURRENCY = 3;
  var PART_RETRIES = 3;
  var REASON_MAX = 500;
  var OPEN_STATUSES = { sent: true, uploading: true };
  // Recorders export in their own formats; browsers rarely know these types, so also accept by name.
  var EXTENSIONS = [".dav", ".264", ".h264", ".mp4", ".avi", ".mkv", ".mov", ".webm", ".jpg", ".jpeg", ".png"];

  // ------------------------------------------------------------------ session storage

  function store() {
    try {
      return window.sessionStorage;
    } catch (e) {
      return null; // storage refused (private mode): the session lives for this page only
    }
  }

  /** {session, expires_at, request_id}, {expired: true} if it has run out, or null. */
  function loadSession(requestId) {
    var s = store();
    if (!s || !requestId) return null;
    try {
      var saved = JSON.parse(s.getItem(SESSION_PREFIX + requestId) || "null");
      if (!saved || typeof saved.session !== "string") return null;
      if (saved.expires_at && Date.parse(saved.expires_at) <= Date.now()) {
        forgetSession(requestId);
        return { expired: true };
      }
      return saved;
    } catch (e) {
      return null;
    }
  }

  function lastRequestId() {
    var s = store();
    try {
      return (s && s.getItem(LAST_KEY)) || null;
    } catch (e) {
      return null;
    }
  }

  function saveSession(answer) {
    var saved = { session: answer.session, expires_at: answer.expires_at || null, request_id: answer.request_id };
    var s = store();
    if (s) {
      try {
        s.setItem(SESSION_PREFIX + answer.request_id, JSON.stringify(saved));
        s.setItem(LAST_KEY, answer.request_id);
      } catch (e) {
        /* storage full or refused: carry on without it */
      }
    }
    return saved;
  }

  function forgetSession(requestId) {
    var s = store();
    if (!s || !requestId) return;
    try {
      s.removeItem(SESSION_PREFIX + requestId);
    } catch (e) {
      /* nothing to clear */
    }
  }


  // ------------------------------------------------------------------ formatting (local time)

  var DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  var MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December"
  ];

  function parseDate(iso) {
    if (!iso) return null;
    var date = new Date(iso);
    return isNaN(date.getTime()) ? null : date;
  }

  function dayText(d) {
    return DAYS[d.getDay()] + " " + d.getDate() + " " + MONTHS[d.getMonth()] + " " + d.getFullYear();
  }

  /** "9:00pm"; an end time of exactly 00:00 is "midnight". */
  function timeText(d, isEnd) {
    var h = d.getHours();
    var m = d.getMinutes();
    if (isEnd && h === 0 && m === 0) return "midnight";
    return (h % 12 || 12) + ":" + (m < 10 ? "0" : "") + m + (h < 12 ? "am" : "pm");
  }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  /** Whether `to` falls on the same day as `from` (an end at midnight counts as the day before). */
  function endsSameDay(from, to) {
    if (sameDay(from, to)) return true;
    return to.getHours() === 0 && to.getMinutes() === 0 && sameDay(new Date(to.getTime() - 1), from);
  }

  /** "Friday 20 November 2026, 9:00pm to 10:00pm" */
  function windowText(incident) {
    var from = parseDate(incident && incident.from);
    var to = parseDate(incident && incident.to);
    if (!from) return "Not given";
    if (!to) return dayText(from) + ", from " + timeText(from);
    if (endsSameDay(from, to)) return dayText(from) + ", " + timeText(from) + " to " + timeText(to, true);
    return dayText(from) + ", " + timeText(from) + " to " + dayText(to) + ", " + timeText(to, true);
  }

  /** "9:00pm to 10:00pm on Friday 20 November 2026", for use inside a sentence. */
  function windowInline(incident) {
    var from = parseDate(incident && incident.from);
    var to = parseDate(incident && incident.to);
    if (!from) return "the time of the incident";
    if (!to) return timeText(from) + " on " + dayText(from);
    if (endsSameDay(from, to)) return timeText(from) + " to " + timeText(to, true) + " on " + dayText(from);
    return timeText(from) + " on " + dayText(from) + " to " + timeText(to, true) + " on " + dayText(to);
  }

  function deadlineText(iso) {
    var d = parseDate(iso);
    if (!d) return "Please reply as soon as you can. Recorders overwrite old footage after a while.";
    return (
      "Please reply by " + timeText(d) + " on " + dayText(d) +
      ". After that, your recorder may have overwritten the footage."
    );
  }

  /** 1234 → "1.2 KB", 53687091200 → "50 GB" (1 KB = 1024 bytes, as file managers show). */
  function sizeText(bytes) {
    var n = Number(bytes) || 0;
    if (n < 1024) return n + (n === 1 ? " byte" : " bytes");
    var units = ["KB", "MB", "GB", "TB"];
    var i = -1;
    do {
      n /= 1024;
      i++;
    } while (n >= 1024 && i < units.length - 1);
    var shown = n >= 100 || Math.round(n * 10) % 10 === 0 ? String(Math.round(n)) : n.toFixed(1);
    return shown + " " + units[i];
  }

  function problemText(problem) {
    if (typeof problem === "string" && problem.trim()) return problem.trim();
    if (problem && typeof problem === "object" && typeof problem.message === "string") return problem.message;
    return "it is not a video or photo we can use.";
  }

  /** The most useful words in an API error: a field's message if it has one, else its message. */
  function apiMessage(error) {
    var fields = (error && error.fields) || {};
    var keys = Object.keys(fields);
    if (keys.length && fields[keys[0]]) return String(fields[keys[0]]);
    return (error && error.message) || "Something went wrong. Please try again.";
  }

  function wait(ms) {
    return new Promise(function (resolve) {
      window.setTimeout(resolve, ms);
    });
  }

  /** An upload stopped on purpose (request closed, session ended): not shown as a failure. */
  function Stopped() {
    this.stopped = true;
  }

  /** A failure talking to the evidence store (not the API). */
  function StoreError(status) {
    this.status = status;
    if (status === 0) this.message = "The connection was lost. Check your internet connection and try again.";
    else if (status === 403) this.message = "The upload link ran out before the file finished. Please try again.";
    else this.message = "The upload did not finish. Please try again.";
  }

  // ------------------------------------------------------------------ page

  Sightline.ready(function () {
    var session = null; // {session, expires_at, request_id}
    var request = null; // the request as the API last described it
    var stopped = false; // the request closed or the session ended: no more uploads or polls
    var finishing = false;
    var rows = []; // every file row on the page
    var queue = []; // rows waiting to upload (one file at a time)
    var active = null; // the row uploading now
    var poller = new Sightline.Poller({ look: lookAgain, onGiveUp: checkingIsSlow });
    var rowCount = 0;
    var statement = Sightline.Statement({
      authed: authed,
      requestPath: requestPath,
      handleCommonErrors: handleCommonErrors,
      // Files accepted before the statement get their exhibit references (the producer's
      // initials) when it is saved: look at them again.
      onSaved: function () {
        lookAgain().catch(function () {
          /* the next look, or a reload, shows them */
        });
      }
    });

    var title = document.getElementById("respond-title");
    var views = {
      loading: document.getElementById("view-loading"),
      request: document.getElementById("view-request"),
      done: document.getElementById("view-done"),
      closed: document.getElementById("view-closed"),
      problem: document.getElementById("view-problem")
    };
    var errorsEl = document.getElementById("respond-errors");
    var uploadForm = document.getElementById("upload-form");
    var fileInput = document.getElementById("files");
    var uploadsBox = document.getElementById("uploads");
    var listEl = uploadsBox.querySelector("[data-upload-list]");
    var announcer = document.getElementById("upload-announcer");
    var finishButton = document.getElementById("finish");
    var declineToggle = document.getElementById("decline-toggle");
    var declinePanel = document.getElementById("decline-panel");
    var declineForm = document.getElementById("decline-form");
    var reasonInput = document.getElementById("reason");
    var reloadButton = document.getElementById("reload");
    var reloadAction = null;

    // -------------------------------------------------------------- views

    function show(name, pageTitle, options) {
      options = options || {};
      Object.keys(views).forEach(function (key) {
        views[key].hidden = key !== name;
      });
      document.title = (pageTitle ? pageTitle + " – " : "") + "Footage request – Sightline";
      if (options.focusTitle) {
        title.focus({ preventScroll: true });
        window.scrollTo(0, 0);
      } else if (name !== "loading") {
        ui.focusHeading(views[name]);
      }
    }

    function setText(node, text) {
      node.textContent = text || "";
      node.hidden = !text;
    }

    function showProblem(heading, text, more, retry) {
      views.problem.querySelector("[data-problem-title]").textContent = heading;
      setText(views.problem.querySelector("[data-problem-text]"), text);
      setText(views.problem.querySelector("[data-problem-more]"), more);
      reloadAction = retry || null;
      reloadButton.hidden = !retry;
      show("problem", heading);
    }

    function forceName() {
      return (request && request.force_name) || Sightline.config.forceName;
    }

    /** Stop everything: abort uploads, forget the queue and stop polling. */
    function stopAll() {
      stopped = true;
      queue = [];
      rows.forEach(abortRow);
      poller.stop();
      statement.stop();
    }

    function sessionEnded() {
      stopAll();
      if (session) forgetSession(session.request_id);
      session = null;
      showProblem(
        "Open your link again",
        "Your session has ended. Open the link in your email again.",
        "The link keeps working until the date you were asked to reply by."
      );
    }

    function linkDoesNotWork() {
      showProblem(
        "This link does not work",
        "It may not be complete. Open the link from your email again. If you copied it, make sure you copied all of it."
      );
    }

    /** 410 from anywhere: the request no longer takes answers. */
    function requestClosed(message) {
      stopAll();
      showClosed({
        title: "This request has closed",
        text: message || "This request is no longer taking replies.",
        more: "You do not need to do anything else. Thank you for your help.",
        problem: true
      });
    }

    function showClosed(options) {
      var panel = views.closed.querySelector("[data-closed-panel]");
      panel.className = options.problem ? "panel panel--problem" : "panel";
      views.closed.querySelector("[data-closed-title]").textContent = options.title;
      setText(views.closed.querySelector("[data-closed-text]"), options.text);
      setText(views.closed.querySelector("[data-closed-more]"), options.more);
      var box = views.closed.querySelector("[data-closed-uploads]");
      var list = box.querySelector("[data-closed-upload-list]");
      ui.clear(list);
      (options.uploads || []).forEach(function (evidence) {
        list.appendChild(makeRow(null, evidence, { readOnly: true }).node);
      });
      box.hidden = !(options.uploads && options.uploads.length);
      show("closed", options.title);
    }

    /** The request is answered, declined or past its deadline. */
    function showClosedForStatus(data) {
      var ref = data.case_ref ? " and quote the case reference " + data.case_ref : "";
      if (data.status === "responded") {
        showClosed({
          title: "You have already replied",
          text: "You told the officer your footage is ready. Thank you.",
          more: "This request is now closed, so you cannot add more files here. If you have more footage, contact " +
            forceName() + ref + ".",
          uploads: Array.isArray(data.uploads) ? data.uploads : []
        });
      } else if (data.status === "declined") {
        showClosed({
          title: "You have already replied",
          text: "You told us you have no footage to share. The request is closed.",
          more: "Thank you for letting us know."
        });
      } else {
        showClosed({
          title: "This request has closed",
          text: "The date for replying has passed, so you cannot send footage here any more.",
          more: "You do not need to do anything else. Thank you for your help.",
          problem: true
        });
      }
    }

    /** Common handling for API failures once signed in. Returns true if it dealt with the error. */
    function handleCommonErrors(error) {
      if (stopped) return true;
      if (error && error.status === 401) {
        sessionEnded();
        return true;
      }
      if (error && error.status === 410) {
        requestClosed(error.message);
        return true;
      }
      return false;
    }

    function authed(method, path, body) {
      return api.request(method, path, { session: session && session.session, body: body });
    }

    function requestPath(suffix) {
      return "/owner/requests/" + encodeURIComponent(session.request_id) + (suffix || "");
    }

    // -------------------------------------------------------------- sign in and load

    function signIn(token) {
      show("loading");
      api
        .request("POST", "/owner/sessions", { body: { token: token } })
        .then(function (answer) {
          if (!answer || typeof answer.session !== "string" || !answer.request_id ||
              (answer.scope && answer.scope !== "request")) {
            throw new ApiError(400, "bad_link", "This link does not work.");
          }
          session = saveSession(answer);
          loadRequest();
        })
        .catch(function (error) {
          var status = error && error.status;
          if (status === 410) requestClosed(error.message);
          else if (status === 400 || status === 401 || status === 403 || status === 404) linkDoesNotWork();
          else {
            showProblem("We could not open the request", apiMessage(error), null, function () {
              signIn(token);
            });
          }
        });
    }

    function loadRequest() {
      show("loading");
      authed("GET", requestPath())
        .then(function (data) {
          if (!data || typeof data !== "object") throw new ApiError(0, "error", "Something went wrong. Please try again.");
          request = data;
          if (OPEN_STATUSES[data.status]) {
            renderRequest(data);
            show("request", null, { focusTitle: true });
          } else {
            stopAll();
            showClosedForStatus(data);
          }
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          if (error && error.status === 404) return linkDoesNotWork();
          showProblem("We could not open the request", apiMessage(error), null, loadRequest);
        });
    }

    reloadButton.addEventListener("click", function () {
      if (reloadAction) reloadAction();
    });

    function renderRequest(data) {
      var force = data.force_name || Sightline.config.forceName;
      var nodes = views.request.querySelectorAll("[data-request-force]");
      for (var i = 0; i < nodes.length; i++) nodes[i].textContent = force;
      var incident = data.incident || {};
      views.request.querySelector("[data-request-case-ref]").textContent = data.case_ref || "Not given";
      views.request.querySelector("[data-request-window]").textContent = windowText(incident);
      views.request.querySelector("[data-request-window-inline]").textContent = windowInline(incident);
      views.request.querySelector("[data-request-area]").textContent = incident.area || "Not given";
      views.request.querySelector("[data-request-summary]").textContent = incident.summary || "Not given";
      views.request.querySelector("[data-request-deadline-text]").textContent = deadlineText(data.deadline);
      if (data.max_file_bytes) views.request.querySelector("[data-max-size]").textContent = sizeText(data.max_file_bytes);
      if (Array.isArray(data.allowed_content_types) && data.allowed_content_types.length) {
        var accept = data.allowed_content_types.filter(function (type) {
          // application/octet-stream would let a picker offer every file: the names below cover it.
          return typeof type === "string" && type !== "application/octet-stream";
        });
        fileInput.setAttribute("accept", accept.concat(EXTENSIONS).join(","));
      }
      applyUploads(Array.isArray(data.uploads) ? data.uploads : []);
      if (rows.some(function (row) {
        return row.state === "checking";
      })) startPolling();
      statement.render(data);
    }

    // -------------------------------------------------------------- announcements

    var spoken = [];
    var speakTimer = null;

    /** Polite, batched: messages within 400 ms are read together, so none is cut off. */
    function announce(text) {
      spoken.push(text);
      if (speakTimer) return;
      announcer.textContent = "";
      speakTimer = window.setTimeout(function () {
        announcer.textContent = spoken.join(" ");
        spoken = [];
        speakTimer = null;
      }, 400);
    }

    // -------------------------------------------------------------- file rows

    /**
     * A row for a file: from this page (file) or already on the server (evidence).
     * States: queued, uploading, checking, accepted, quarantined, failed, stopped.
     */
    function makeRow(file, evidence, options) {
      var n = ++rowCount;
      var name = file ? file.name : String(evidence.filename || "File");
      var size = file ? file.size : Number(evidence.size) || 0;
      var row = {
        file: file,
        name: name,
        size: size,
        state: "queued",
        evidenceId: evidence ? evidence.evidence_id : null,
        pendingEvidence: null,
        pct: -1,
        announced: 0,
        xhrs: [],
        cancelled: false,
        run: 0,
        sha256: null, // worked out here (hashing.js) from row.hashedFile
        hashedFile: null,
        hashState: "none", // none, working, done, failed
        evidence: evidence || null, // the server's view of the file, once it has it
        readOnly: !!(options && options.readOnly) // the request is closed: no more uploads
      };
      var nameId = "upload-" + n + "-name";
      var statusId = "upload-" + n + "-status";
      row.nameEl = ui.el("span", { className: "upload__filename", id: nameId, text: name });
      row.progressEl = ui.el("progress", { max: "100", value: "0", "aria-label": "Uploading " + name, hidden: true });
      row.statusEl = ui.el("p", { className: "upload__status", id: statusId, "data-upload-status": true, tabindex: "-1" });
      row.helpEl = ui.el("p", { className: "upload__help", hidden: true });
      row.retryEl = ui.el("button", {
        type: "button",
        className: "button button--secondary upload__retry",
        "aria-describedby": nameId + " " + statusId,
        text: "Try again",
        hidden: true
      });
      row.retryEl.addEventListener("click", function () {
        retry(row);
      });
      row.factsEl = ui.el("dl", { className: "upload__facts", "data-upload-facts": true, hidden: true });
      row.againEl = ui.el("button", {
        type: "button",
        className: "button button--secondary upload__retry",
        "aria-describedby": nameId + " " + statusId,
        text: "Upload this file again",
        hidden: true
      });
      row.againEl.addEventListener("click", function () {
        uploadAgain(row);
      });
      row.node = ui.el("li", { className: "upload", "data-filename": name }, [
        ui.el("p", { className: "upload__name" }, [row.nameEl, " ", ui.el("span", { className: "upload__size", text: "(" + sizeText(size) + ")" })]),
        row.progressEl,
        row.statusEl,
        row.factsEl,
        row.helpEl,
        row.retryEl,
        row.againEl
      ]);
      if (evidence) applyEvidence(row, evidence, false);
      return row;
    }

    function setState(row, state, text, options) {
      options = options || {};
      row.state = state;
      row.node.setAttribute("data-state", state);
      row.node.className =
        "upload" +
        (state === "accepted" ? " upload--accepted" : "") +
        (state === "quarantined" || state === "failed" ? " upload--problem" : "");
      row.statusEl.textContent = text;
      setText(row.helpEl, options.help || "");
      row.retryEl.hidden = !options.retry;
      row.againEl.hidden = !options.again;
      row.progressEl.hidden = !(row.file && (state === "uploading" || state === "checking"));
    }

    function applyEvidence(row, evidence, speak) {
      row.evidenceId = evidence.evidence_id || row.evidenceId;
      row.evidence = evidence;
      var before = row.state;
      if (evidence.status === "accepted") {
        setState(row, "accepted", "Received and checked");
        if (speak && before !== "accepted") {
          announce(row.name + ": received and checked" + (evidence.exhibit_ref ? ", exhibit " + evidence.exhibit_ref : "") + ".");
        }
      } else if (evidence.status === "quarantined") {
        var text = "We could not accept this file: " + problemText(evidence.problem);
        var canAgain = !row.readOnly && !!row.file && !row.sentAgain && evidence.hash_check === "mismatch";
        setState(row, "quarantined", text, {
          help: row.readOnly
            ? "The officer did not receive this file."
            : canAgain
              ? "The officer will not receive this copy. Upload the file again."
              : "The officer will not receive it. Try saving the footage from your recorder again and upload the new file, or choose a different file.",
          again: canAgain
        });
        if (speak && before !== "quarantined") announce(row.name + ": " + text);
      } else {
        setState(row, "checking", "Uploaded. Checking the file…");
        row.progressEl.value = 100;
      }
      renderFacts(row);
    }

    /** A copy that arrived changed (the fingerprints differ): send the same file again, as a new row. */
    function uploadAgain(row) {
      if (stopped || !row.file || row.sentAgain) return;
      row.sentAgain = true;
      row.againEl.hidden = true;
      addFile(row.file);
      pump();
    }

    /** What the owner can keep: the fingerprint worked out here, and once the server has the
     * file, its size, the server's fingerprint (or that it matches) and the exhibit reference. */
    function renderFacts(row) {
      var evidence = row.evidence || {};
      var ours = row.sha256 || (typeof evidence.owner_sha256 === "string" ? evidence.owner_sha256 : null);
      var theirs = typeof evidence.sha256 === "string" && evidence.sha256 ? evidence.sha256 : null;
      var facts = [];
      if (ours) facts.push(["Fingerprint (SHA-256)", ours, "fingerprint", "sha256"]);
      else if (row.hashState === "working") facts.push(["Fingerprint (SHA-256)", "Working it out…", "", "sha256"]);
      else if (row.hashState === "failed") facts.push(["Fingerprint (SHA-256)", "This browser could not work it out. We check the file ourselves.", "", "sha256"]);
      else if (theirs && !ours) facts.push(["Fingerprint (SHA-256)", theirs, "fingerprint", "sha256"]);
      if (theirs && row.state !== "uploading") {
        facts.push(["Size", sizeText(row.size) + " (" + Number(row.size).toLocaleString("en-GB") + " bytes)", "", "size"]);
        if (ours && theirs !== ours) facts.push(["Fingerprint of the file we received", theirs, "fingerprint", "server-sha256"]);
        if (evidence.hash_check === "matched" || (ours && !evidence.hash_check && theirs === ours)) {
          facts.push(["Fingerprint check", "It matches the file we received: it arrived unchanged.", "", "hash-check"]);
        } else if (evidence.hash_check === "mismatch" || (ours && theirs !== ours)) {
          facts.push(["Fingerprint check", "It does not match the file we received: the file changed on the way.", "", "hash-check"]);
        }
        if (evidence.exhibit_ref) facts.push(["Exhibit reference", String(evidence.exhibit_ref), "", "exhibit-ref"]);
      }
      ui.clear(row.factsEl);
      facts.forEach(function (fact) {
        row.factsEl.appendChild(
          ui.el("div", { "data-fact": fact[3] }, [
            ui.el("dt", { text: fact[0] }),
            ui.el("dd", { className: fact[2] || null, text: fact[1] })
          ])
        );
      });
      row.factsEl.hidden = !facts.length;
    }

    function addRow(row) {
      rows.push(row);
      listEl.appendChild(row.node);
      uploadsBox.hidden = false;
    }

    function abortRow(row) {
      row.cancelled = true;
      row.xhrs.forEach(function (xhr) {
        try {
          xhr.abort();
        } catch (e) {
          /* already finished */
        }
      });
      row.xhrs = [];
    }

    /** Match what the server has to the rows on the page (by evidence id, else name and size). */
    function applyUploads(list) {
      list.forEach(function (evidence) {
        if (!evidence || typeof evidence !== "object") return;
        var row = null;
        var i;
        for (i = 0; i < rows.length && !row; i++) {
          if (evidence.evidence_id && rows[i].evidenceId === evidence.evidence_id) row = rows[i];
        }
        // An answer can arrive before the upload's own; and a file that seemed to fail may have
        // arrived after all (the connection dropped after the last byte).
        var states = ["checking", "uploading", "failed"];
        for (var s = 0; s < states.length && !row; s++) {
          for (i = 0; i < rows.length && !row; i++) {
            var r = rows[i];
            if (!r.evidenceId && r.state === states[s] && r.name === evidence.filename && r.size === Number(evidence.size)) row = r;
          }
        }
        if (!row) {
          addRow(makeRow(null, evidence));
        } else if (row.state === "uploading") {
          row.evidenceId = evidence.evidence_id || null;
          row.pendingEvidence = evidence;
        } else {
          applyEvidence(row, evidence, true);
        }
      });
    }

    // -------------------------------------------------------------- choosing files

    uploadForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (stopped) return;
      var files = Array.prototype.slice.call(fileInput.files || []);
      if (!files.length) {
        Sightline.errors.show(views.request, errorsEl, { files: "Choose at least one video or photo file to upload" });
        return;
      }
      Sightline.errors.clear(views.request, errorsEl);
      files.forEach(addFile);
      fileInput.value = "";
      pump();
    });

    function addFile(file) {
      for (var i = 0; i < rows.length; i++) {
        var existing = rows[i];
        if (existing.file && existing.name === file.name && existing.size === file.size) {
          if (existing.state === "failed") {
            existing.file = file;
            queueRow(existing);
          } else if (existing.state !== "quarantined") {
            announce(file.name + " is already in your list of files.");
          } else {
            continue; // a file the check refused may be sent again, as a new row
          }
          return;
        }
      }
      var row = makeRow(file, null);
      addRow(row);
      var max = request && Number(request.max_file_bytes);
      if (max && file.size > max) {
        failRow(row, "This file is too big. Each file must be " + sizeText(max) + " or smaller.", false);
      } else if (file.size === 0) {
        failRow(row, "This file is empty. Choose a different file.", false);
      } else {
        queueRow(row);
      }
    }

    function queueRow(row) {
      row.cancelled = false;
      row.pct = -1;
      row.announced = 0;
      row.evidenceId = null;
      row.pendingEvidence = null;
      row.evidence = null;
      row.progressEl.value = 0;
      setState(row, "queued", "Waiting to upload");
      queue.push(row);
    }

    function retry(row) {
      if (stopped || row.state !== "failed") return;
      queueRow(row);
      row.statusEl.focus();
      pump();
    }

    function failRow(row, reason, canRetry) {
      setState(row, "failed", "This file was not uploaded. " + reason, { retry: canRetry });
      announce(row.name + " was not uploaded. " + reason);
    }

    // -------------------------------------------------------------- uploading, one file at a time

    function pump() {
      if (active || stopped) return;
      var next = queue.shift();
      if (!next) return;
      active = next;
      upload(next).then(function () {
        active = null;
        pump();
      });
    }

    /** Upload one row's file. Always resolves; the row shows what happened. */
    function upload(row) {
      var run = ++row.run;
      row.cancelled = false;
      setState(row, "uploading", "Starting upload…");
      row.progressEl.value = 0;
      announce("Uploading " + row.name + ".");
      var file = row.file;
      var hashing = hashRow(row, run);
      return authed("POST", requestPath("/uploads"), {
        filename: file.name,
        content_type: file.type || "application/octet-stream",
        size: file.size
      })
        .then(function (target) {
          if (stopped || row.cancelled) throw new Stopped();
          if (!target || typeof target !== "object") throw new StoreError(-1);
          var sent;
          if (target.method === "multipart") sent = sendMultipart(row, target);
          else if (target.method === "post" && target.url) sent = sendPost(row, target);
          else throw new StoreError(-1);
          return sent.then(function () {
            return finishUpload(row, target, hashing);
          });
        })
        .then(function () {
          if (run !== row.run) return;
          uploaded(row);
        })
        .catch(function (error) {
          if (run !== row.run) return;
          abortRow(row);
          if (error instanceof Stopped || stopped) {
            if (!stopped) return;
            setState(row, "stopped", "This file was not uploaded.");
            return;
          }
          if (error instanceof ApiError) {
            if (handleCommonErrors(error)) return;
            var status = error.status;
            var canRetry = status === 0 || status >= 500 || status === 408 || status === 409 || status === 429;
            failRow(row, apiMessage(error), canRetry);
            return;
          }
          failRow(row, (error && error.message) || "The upload did not finish. Please try again.", true);
        });
    }

    /** The file's SHA-256, read in slices beside the upload: resolves the hex, or null if this
     * browser cannot (the upload goes on without it) or the upload stopped. Never rejects. */
    function hashRow(row, run) {
      if (row.sha256 && row.hashedFile === row.file) return Promise.resolve(row.sha256); // a retry
      row.sha256 = null;
      if (!Sightline.hashing || !Sightline.hashing.available()) {
        row.hashState = "failed";
        renderFacts(row);
        return Promise.resolve(null);
      }
      var file = row.file;
      row.hashState = "working";
      renderFacts(row);
      return Sightline.hashing
        .sha256(file, {
          cancelled: function () {
            return stopped || row.cancelled || run !== row.run;
          }
        })
        .then(
          function (hex) {
            if (run !== row.run) return null;
            row.sha256 = hex;
            row.hashedFile = file;
            row.hashState = "done";
            renderFacts(row);
            return hex;
          },
          function (error) {
            if (run !== row.run || (error && error.cancelled)) return null;
            row.hashState = "failed";
            renderFacts(row);
            return null;
          }
        );
    }

    /** Both sent and hashed: tell the API, with the fingerprint. A multipart upload is only
     * finished by this call; a POSTed file is already stored, so a fingerprint the API could
     * not take does not fail the upload (the server still hashes and checks the file itself). */
    function finishUpload(row, target, hashing) {
      row.statusEl.textContent = row.hashState === "working" ? "Uploaded. Finishing the fingerprint…" : "Finishing upload…";
      return hashing.then(function (hex) {
        if (stopped || row.cancelled) throw new Stopped();
        row.statusEl.textContent = "Finishing upload…";
        var body = hex ? { sha256: hex } : {};
        var path = target.complete_url_path ||
          (target.upload_id ? requestPath("/uploads/" + encodeURIComponent(target.upload_id) + "/complete") : null);
        if (target.method === "multipart") return authed("POST", path, body);
        if (!path) return null;
        return authed("POST", path, body).catch(function (error) {
          if (error && (error.status === 401 || error.status === 410)) throw error;
          return null;
        });
      });
    }

    function progress(row, bytes) {
      if (row.cancelled) return;
      var pct = row.size ? Math.max(0, Math.min(100, Math.floor((bytes / row.size) * 100))) : 100;
      if (pct === row.pct) return;
      row.pct = pct;
      row.progressEl.value = pct;
      var text = "Uploading: " + pct + "%";
      if (row.size >= 100 * 1024 * 1024) text += " (" + sizeText(Math.min(bytes, row.size)) + " of " + sizeText(row.size) + ")";
      row.statusEl.textContent = text;
      var quarter = Math.floor(pct / 25) * 25;
      if (quarter > row.announced && quarter < 100) {
        row.announced = quarter;
        announce(row.name + ": " + quarter + "% uploaded.");
      }
    }

    function uploaded(row) {
      row.progressEl.value = 100;
      setState(row, "checking", "Uploaded. Checking the file…");
      row.progressEl.value = 100;
      announce(row.name + " uploaded. We are checking it.");
      if (row.pendingEvidence) {
        var evidence = row.pendingEvidence;
        row.pendingEvidence = null;
        applyEvidence(row, evidence, true);
      }
      startPolling();
    }

    /** One POST with the policy's fields first, in order, and the file last (as S3 requires). */
    function sendPost(row, target) {
      return new Promise(function (resolve, reject) {
        var form = new FormData();
        var fields = target.fields && typeof target.fields === "object" ? target.fields : {};
        Object.keys(fields).forEach(function (name) {
          form.append(name, String(fields[name]));
        });
        form.append("file", row.file);
        var xhr = new XMLHttpRequest();
        row.xhrs.push(xhr);
        xhr.open("POST", target.url, true);
        xhr.withCredentials = false;
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable && event.total) progress(row, (event.loaded / event.total) * row.size);
        });
        xhr.addEventListener("load", function () {
          if (xhr.status >= 200 && xhr.status < 300) resolve();
          else reject(new StoreError(xhr.status));
        });
        xhr.addEventListener("error", function () {
          reject(new StoreError(0));
        });
        xhr.addEventListener("abort", function () {
          reject(new Stopped());
        });
        xhr.send(form);
      });
    }

    /** PUT one piece of a file; resolves when the store answers 2xx. */
    function putPart(row, url, blob, onLoaded) {
      return new Promise(function (resolve, reject) {
        if (row.cancelled) return reject(new Stopped());
        var xhr = new XMLHttpRequest();
        row.xhrs.push(xhr);
        var forget = function () {
          var at = row.xhrs.indexOf(xhr);
          if (at !== -1) row.xhrs.splice(at, 1);
        };
        xhr.open("PUT", url, true);
        xhr.withCredentials = false;
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) onLoaded(Math.min(event.loaded, blob.size));
        });
        xhr.addEventListener("load", function () {
          forget();
          if (xhr.status >= 200 && xhr.status < 300) {
            onLoaded(blob.size);
            resolve();
          } else reject(new StoreError(xhr.status));
        });
        xhr.addEventListener("error", function () {
          forget();
          reject(new StoreError(0));
        });
        xhr.addEventListener("abort", function () {
          forget();
          reject(new Stopped());
        });
        xhr.send(blob);
      });
    }

    function sendPart(row, part, partSize, onLoaded) {
      var start = (Number(part.part_number) - 1) * partSize;
      var blob = row.file.slice(start, Math.min(start + partSize, row.size));
      var retries = 0;
      function attempt() {
        return putPart(row, part.url, blob, onLoaded).catch(function (error) {
          if (error instanceof Stopped || row.cancelled || retries >= PART_RETRIES) throw error;
          retries++;
          onLoaded(0);
          return wait(1000 * Math.pow(2, retries - 1)).then(function () {
            if (row.cancelled) throw new Stopped();
            return attempt();
          });
        });
      }
      return attempt();
    }

    /** The file in parts: 3 at a time, progress summed (finishUpload then completes it). */
    function sendMultipart(row, target) {
      var partSize = Number(target.part_size);
      var parts = Array.isArray(target.parts) ? target.parts.slice() : [];
      if (!partSize || !parts.length || !target.complete_url_path) return Promise.reject(new StoreError(-1));
      var loaded = {};
      function report() {
        var sum = 0;
        Object.keys(loaded).forEach(function (key) {
          sum += loaded[key];
        });
        progress(row, sum);
      }
      return new Promise(function (resolve, reject) {
        var next = 0;
        var running = 0;
        var finished = 0;
        var failed = false;
        function fill() {
          if (failed) return;
          if (finished === parts.length) return resolve();
          while (running < PART_CONCURRENCY && next < parts.length) start(parts[next++]);
        }
        function start(part) {
          running++;
          sendPart(row, part, partSize, function (bytes) {
            loaded[part.part_number] = bytes;
            report();
          }).then(
            function () {
              running--;
              finished++;
              fill();
            },
            function (error) {
              running--;
              if (failed) return;
              failed = true;
              abortRow(row); // the other parts are of no use now
              reject(error);
            }
          );
        }
        fill();
      });
    }

    // -------------------------------------------------------------- the server's checks

    function startPolling() {
      if (!stopped) poller.start();
    }

    function checking() {
      return rows.filter(function (row) {
        return row.state === "checking";
      });
    }

    /** One look at the request: resolves true while a file is still being checked. */
    function lookAgain() {
      if (stopped || !session) return Promise.resolve(false);
      return authed("GET", requestPath()).then(
        function (data) {
          if (stopped || !data) return false;
          request = data;
          if (!OPEN_STATUSES[data.status]) {
            stopAll();
            showClosedForStatus(data);
            return false;
          }
          applyUploads(Array.isArray(data.uploads) ? data.uploads : []);
          return checking().length > 0 && !stopped;
        },
        function (error) {
          if (handleCommonErrors(error)) return false;
          throw error; // the poller waits (longer if the API is busy) and looks again
        }
      );
    }

    function checkingIsSlow() {
      checking().forEach(function (row) {
        if (!row.slow) {
          row.slow = true;
          row.statusEl.textContent = "Uploaded. Checking is taking longer than usual. You can carry on.";
        }
      });
    }

    document.addEventListener("visibilitychange", function () {
      poller.visibilityChanged();
    });

    // -------------------------------------------------------------- finishing

    function uploadsRunning() {
      return !!active || queue.length > 0;
    }

    /** Files the server has (or is checking): the statement must be saved before finishing. */
    function filesSent() {
      return rows.some(function (row) {
        return row.state === "checking" || row.state === "accepted" || row.state === "quarantined";
      });
    }

    finishButton.addEventListener("click", function () {
      if (finishing || stopped) return;
      if (uploadsRunning()) {
        Sightline.errors.show(views.request, errorsEl, {}, {
          message: "Wait until your files have finished uploading, then select 'I've finished uploading'."
        });
        return;
      }
      if (filesSent() && !statement.isSaved()) {
        Sightline.errors.show(views.request, errorsEl, {
          statement: "Answer the questions in 'About your footage' and select 'Save these details' before you finish"
        });
        return;
      }
      if (statement.hasUnsavedChanges()) {
        Sightline.errors.show(views.request, errorsEl, {
          statement: "You changed 'About your footage'. Select 'Save these details' before you finish"
        });
        return;
      }
      Sightline.errors.clear(views.request, errorsEl);
      finishing = true;
      finishButton.setAttribute("aria-disabled", "true");
      authed("POST", requestPath("/complete"), {})
        .then(function () {
          stopAll();
          setText(views.done.querySelector("[data-done-text]"), "The officer has been told your footage is ready.");
          var sent = filesSent();
          setText(
            views.done.querySelector("[data-done-more]"),
            (sent ? "We are emailing you a receipt: it lists each file we accepted, with its fingerprint and exhibit reference. " : "") +
              "The officer may contact you if they need anything else. You can close this page."
          );
          show("done", "Thank you");
          if (sent) showReceipt();
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          Sightline.errors.showApiError(views.request, errorsEl, error);
        })
        .finally(function () {
          finishing = false;
          finishButton.removeAttribute("aria-disabled");
        });
    });

    /** The files accepted, as the receipt lists them; looked up once more for the latest. */
    function showReceipt() {
      var fromRows = rows
        .map(function (row) {
          return row.evidence ? Object.assign({}, row.evidence, { filename: row.name, size: row.size }) : null;
        })
        .filter(Boolean);
      authed("GET", requestPath())
        .then(function (data) {
          renderReceipt(data && Array.isArray(data.uploads) ? data.uploads : fromRows);
        })
        .catch(function () {
          renderReceipt(fromRows);
        });
    }

    function renderReceipt(uploads) {
      var box = views.done.querySelector("[data-receipt]");
      var list = box.querySelector("[data-receipt-list]");
      var pending = box.querySelector("[data-receipt-pending]");
      ui.clear(list);
      var accepted = uploads.filter(function (evidence) {
        return evidence && evidence.status === "accepted";
      });
      var checking = uploads.filter(function (evidence) {
        return evidence && evidence.status !== "accepted" && evidence.status !== "quarantined";
      }).length;
      accepted.forEach(function (evidence) {
        var size = Number(evidence.size) || 0;
        var facts = [
          ["Size", sizeText(size) + " (" + size.toLocaleString("en-GB") + " bytes)", null, "size"],
          ["Fingerprint (SHA-256)", evidence.sha256 || "Not known yet", "fingerprint", "sha256"],
          ["Exhibit reference", evidence.exhibit_ref || "Not given yet", null, "exhibit-ref"]
        ];
        list.appendChild(
          ui.el("li", { "data-filename": evidence.filename || "" }, [
            ui.el("p", { className: "upload__filename", text: String(evidence.filename || "File") }),
            ui.el("dl", { className: "upload__facts" }, facts.map(function (fact) {
              return ui.el("div", { "data-fact": fact[3] }, [
                ui.el("dt", { text: fact[0] }),
                ui.el("dd", { className: fact[2], text: String(fact[1]) })
              ]);
            }))
          ])
        );
      });
      setText(
        pending,
        checking
          ? "We are still checking " + (checking === 1 ? "1 file" : checking + " files") +
            ". We will email you about " + (checking === 1 ? "it" : "them") + " once the check is done."
          : ""
      );
      box.hidden = !accepted.length && !checking;
      if (box.hidden) {
        // Nothing was accepted: no receipt to promise.
        setText(views.done.querySelector("[data-done-more]"), "The officer may contact you if they need anything else. You can close this page.");
      }
    }

    declineToggle.addEventListener("click", function () {
      var open = declinePanel.hidden;
      declinePanel.hidden = !open;
      declineToggle.setAttribute("aria-expanded", open ? "true" : "false");
    });

    declineForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (finishing || stopped) return;
      var reason = reasonInput.value.trim();
      if (reason.length > REASON_MAX) {
        Sightline.errors.show(views.request, errorsEl, {
          reason: "Reason must be " + REASON_MAX + " characters or fewer. You have written " + reason.length + "."
        });
        return;
      }
      Sightline.errors.clear(views.request, errorsEl);
      finishing = true;
      authed("POST", requestPath("/decline"), reason ? { reason: reason } : {})
        .then(function () {
          stopAll();
          setText(views.done.querySelector("[data-done-text]"), "Thank you for letting us know. The request is closed.");
          setText(views.done.querySelector("[data-done-more]"), "");
          show("done", "Thank you");
        })
        .catch(function (error) {
          if (handleCommonErrors(error)) return;
          Sightline.errors.showApiError(views.request, errorsEl, error);
        })
        .finally(function () {
          finishing = false;
        });
    });

    // Leaving while a file is uploading would lose it: ask first.
    window.addEventListener("beforeunload", function (event) {
      if (active && !stopped) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    // -------------------------------------------------------------- start

    function start(token) {
      stopAll();
      stopped = false;
      rows = [];
      ui.clear(listEl);
      uploadsBox.hidden = true;
      if (token) return signIn(token);
      var last = lastRequestId();
      var saved = loadSession(last);
      if (saved && saved.session) {
        session = saved;
        loadRequest();
      } else if (last) {
        // This tab had a session for a request, but it has run out or ended.
        session = null;
        sessionEnded();
      } else {
        linkDoesNotWork();
      }
    }

    // A link pasted into this tab only changes the fragment: no page load happens.
    window.addEventListener("hashchange", function () {
      var next = Sightline.takeLinkToken();
      if (next) start(next);
    });

    start(Sightline.takeLinkToken());
  });
})();
