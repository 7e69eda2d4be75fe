/* Sightline: shared helpers for every page.
 *
 *  - Sightline.config      the deployment's settings (from config.js), with safe defaults
 *  - Sightline.api         fetch() wrapper for the JSON API; failures become Sightline.ApiError
 *  - Sightline.errors      GOV.UK-style error summary plus messages next to each field
 *  - Sightline.ui          small DOM helpers (no innerHTML with data, ever)
 *
 * Everything the server returns is shown with textContent.
 */
(function () {
  "use strict";

  var Sightline = (window.Sightline = window.Sightline || {});

  // ------------------------------------------------------------------ configuration

  var defaults = {
    apiUrl: "",
    tileUrl: "",
    tileAttribution: "",
    forceName: "your local police force",
    mapCenter: [52.4862, -1.8904],
    mapZoom: 13
  };
  var given = window.SIGHTLINE_CONFIG || {};
  var config = {};
  Object.keys(defaults).forEach(function (key) {
    var value = given[key];
    config[key] = value === undefined || value === null || value === "" ? defaults[key] : value;
  });
  if (typeof given.tileUrl === "string") config.tileUrl = given.tileUrl;
  config.apiUrl = String(config.apiUrl).replace(/\/+$/, "");
  if (!Array.isArray(config.mapCenter) || config.mapCenter.length !== 2) config.mapCenter = defaults.mapCenter;
  if (typeof config.mapZoom !== "number") config.mapZoom = defaults.mapZoom;
  config.configured = !!window.SIGHTLINE_CONFIG;
  Sightline.config = config;

  // ------------------------------------------------------------------ DOM helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === undefined || value === null || value === false) return;
        if (name === "text") node.textContent = value;
        else if (name === "className") node.className = value;
        else node.setAttribute(name, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /** Show one element and focus its first heading (or the element), for view changes. */
  function focusHeading(container) {
    var target = container.querySelector("[data-focus]") || container.querySelector("h1, h2") || container;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    var top = container.getBoundingClientRect().top + window.pageYOffset - 16;
    window.scrollTo(0, Math.max(0, top));
  }

  function addDescribedBy(control, id) {
    var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
    if (ids.indexOf(id) === -1) ids.push(id);
    control.setAttribute("aria-describedby", ids.join(" "));
  }

  function removeDescribedBy(control, id) {
    var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (x) {
      return x && x !== id;
    });
    if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function fillForceName() {
    var nodes = document.querySelectorAll("[data-force-name]");
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = config.forceName;
  }

  Sightline.ui = {
    el: el,
    clear: clear,
    focusHeading: focusHeading,
    addDescribedBy: addDescribedBy,
    removeDescribedBy: removeDescribedBy,
    fillForceName: fillForceName
  };

  // ------------------------------------------------------------------ API

  /** An answer from the API that was not a success, or no answer at all (status 0). */
  function ApiError(status, code, message, fields) {
    this.name = "ApiError";
    this.status = status;
    this.code = code || "error";
    this.message = message || "Something went wrong.";
    this.fields = fields || {};
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;
  Sightline.ApiError = ApiError;

  var NETWORK_MESSAGE =
    "We could not reach Sightline. Check your internet connection and try again. " +
    "Nothing has been saved.";
  var SERVER_MESSAGE = "Something went wrong on our side. Please try again in a few minutes.";

  /**
   * request("POST", "/registrations", {body: {...}, session: "..."})
   * Resolves with the parsed JSON body (or null for an empty answer); rejects with ApiError.
   */
  function request(method, path, options) {
    options = options || {};
    var headers = { "Content-Type": "application/json", Accept: "application/json" };
    if (options.session) headers.Authorization = "Bearer " + options.session;
    var init = {
      method: method,
      headers: headers,
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    };
    if (options.body !== undefined) init.body = JSON.stringify(options.body);
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = null;
    if (controller) {
      init.signal = controller.signal;
      timer = window.setTimeout(function () {
        controller.abort();
      }, options.timeoutMs || 30000);
    }
    return fetch(config.apiUrl + path, init)
      .then(
        function (response) {
          return response.text().then(function (text) {
            var data = null;
            if (text) {
              try {
                data = JSON.parse(text);
              } catch (e) {
                data = null;
              }
            }
            if (response.ok) return data;
            var error = data && typeof data === "object" && data.error ? data.error : {};
            var message = typeof error.message === "string" && error.message ? error.message : null;
            if (!message) message = response.status >= 500 ? SERVER_MESSAGE : "Something went wrong. Please try again.";
            var fields = error.fields && typeof error.fields === "object" ? error.fields : {};
            var failure = new ApiError(response.status, error.code, message, fields);
            // Seconds to wait, when a busy API says (readable cross-origin only if exposed).
            var retryAfter = Number(response.headers.get("Retry-After"));
            if (retryAfter > 0) failure.retryAfterS = retryAfter;
            throw failure;
          });
        },
        function () {
          throw new ApiError(0, "network_error", NETWORK_MESSAGE);
        }
      )
      .finally(function () {
        if (timer) window.clearTimeout(timer);
      });
  }

  Sightline.api = { request: request };

  /**
   * The token an emailed link carries in its fragment (#token=...). The fragment is removed from
   * the address bar and history at once, so the token is not left behind on a shared device.
   */
  Sightline.takeLinkToken = function () {
    var hash = window.location.hash.replace(/^#/, "");
    var token = null;
    if (hash) {
      try {
        token = new URLSearchParams(hash).get("token");
      } catch (e) {
        token = null;
      }
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", window.location.pathname + window.location.search);
      }
    }
    return token ? token.trim() : null;
  };

  // ------------------------------------------------------------------ errors on forms

  /**
   * Each form field lives in an element with data-field="dotted.path" (a "group") holding:
   *   - .error-message[data-error] (hidden until needed)
   *   - the control (input/select/textarea), or [data-focus-target] for widgets like the map
   *   - data-label: the words used for it in the error summary
   * Server paths that have no group of their own fall back to the nearest parent group
   * ("location.lat" shows on "location", "cameras.0.location" on "cameras.0").
   */
  function findGroup(form, path) {
    var parts = String(path).split(".");
    while (parts.length) {
      var group = form.querySelector('[data-field="' + parts.join(".").replace(/"/g, "") + '"]');
      if (group && !isHiddenGroup(group)) return group;
      parts.pop();
    }
    return null;
  }

  function isHiddenGroup(group) {
    for (var node = group; node && node !== document.body; node = node.parentElement) {
      if (node.hidden) return true;
    }
    return false;
  }

  function controlsOf(group) {
    var own = group.querySelector("[data-control]");
    if (own) return [own];
    return Array.prototype.slice.call(group.querySelectorAll("input, select, textarea")).filter(function (c) {
      return c.type !== "hidden";
    });
  }

  function focusTargetOf(group) {
    return group.querySelector("[data-focus-target]") || controlsOf(group)[0] || group;
  }

  function clearErrors(form, summary) {
    var groups = form.querySelectorAll(".form-group--error");
    for (var i = 0; i < groups.length; i++) groups[i].classList.remove("form-group--error");
    var messages = form.querySelectorAll("[data-error]");
    for (var j = 0; j < messages.length; j++) {
      var message = messages[j];
      message.hidden = true;
      clear(message);
      var owner = message.closest("[data-field]");
      if (owner) {
        controlsOf(owner).forEach(function (control) {
          control.removeAttribute("aria-invalid");
          removeDescribedBy(control, message.id);
        });
        var described = owner.matches("fieldset") ? owner : owner.querySelector("fieldset[data-describe]");
        if (described) removeDescribedBy(described, message.id);
      }
    }
    if (summary) {
      summary.hidden = true;
      var list = summary.querySelector("ul");
      if (list) clear(list);
      var intro = summary.querySelector("[data-summary-intro]");
      if (intro) {
        intro.hidden = true;
        intro.textContent = "";
      }
    }
    if (document.title.indexOf("Error: ") === 0) document.title = document.title.slice(7);
  }

  function openAncestors(node) {
    for (var n = node; n; n = n.parentElement) {
      if (n.tagName === "DETAILS") n.open = true;
    }
  }

  function focusField(target) {
    openAncestors(target);
    var group = target.closest("[data-field]");
    target.focus({ preventScroll: true });
    var anchor = (group && (group.querySelector("legend, label") || group)) || target;
    anchor.scrollIntoView({ block: "start" });
    window.scrollBy(0, -16);
  }

  /**
   * showErrors(form, summary, {"name": "Enter your full name", ...}, options)
   * options.message: a line above the list (for server-wide messages)
   * options.prefixLabels: put the field's label in front of each summary entry (server messages
   *   like "This is required." need it)
   * The summary is focused (so screen readers read it) and the page title starts with "Error: ".
   */
  function showErrors(form, summary, fields, options) {
    options = options || {};
    clearErrors(form, summary);
    var list = summary.querySelector("ul");
    var seen = [];
    var entries = [];
    Object.keys(fields || {}).forEach(function (path) {
      var message = String(fields[path]);
      var group = findGroup(form, path);
      entries.push({ path: path, message: message, group: group, order: group ? order(form, group) : 1e9 });
    });
    entries.sort(function (a, b) {
      return a.order - b.order;
    });
    entries.forEach(function (entry) {
      var group = entry.group;
      var label = group ? group.getAttribute("data-label") || "" : "";
      var text = options.prefixLabels && label ? label + ": " + entry.message : entry.message;
      if (group) {
        group.classList.add("form-group--error");
        var box = group.querySelector("[data-error]");
        if (box) {
          if (seen.indexOf(box) === -1) {
            seen.push(box);
            clear(box);
          } else {
            box.appendChild(el("br"));
          }
          if (!box.firstChild) box.appendChild(el("span", { className: "visually-hidden", text: "Error: " }));
          box.appendChild(document.createTextNode(entry.message));
          box.hidden = false;
          controlsOf(group).forEach(function (control) {
            if (/^(INPUT|SELECT|TEXTAREA)$/.test(control.tagName)) control.setAttribute("aria-invalid", "true");
            addDescribedBy(control, box.id);
          });
          var described = group.matches("fieldset") ? group : group.querySelector("fieldset[data-describe]");
          if (described) addDescribedBy(described, box.id);
        }
        var target = focusTargetOf(group);
        if (!target.id) target.id = "field-" + entry.path.replace(/[^a-z0-9]+/gi, "-");
        var link = el("a", { href: "#" + target.id, text: text });
        link.addEventListener("click", function (event) {
          event.preventDefault();
          focusField(target);
        });
        list.appendChild(el("li", null, [link]));
      } else {
        list.appendChild(el("li", { text: text }));
      }
    });
    var intro = summary.querySelector("[data-summary-intro]");
    if (intro && options.message) {
      intro.textContent = options.message;
      intro.hidden = false;
    }
    summary.hidden = false;
    if (document.title.indexOf("Error: ") !== 0) document.title = "Error: " + document.title;
    summary.focus({ preventScroll: true });
    summary.scrollIntoView({ block: "start" });
  }

  function order(form, group) {
    var all = form.querySelectorAll("[data-field]");
    for (var i = 0; i < all.length; i++) if (all[i] === group) return i;
    return 1e9;
  }

  /** Show an ApiError on a form: field messages if it has any, else its message alone. */
  function showApiError(form, summary, error) {
    var fields = error.fields || {};
    if (Object.keys(fields).length) {
      var message = error.message && error.message !== "Some of the details need correcting." ? error.message : null;
      showErrors(form, summary, fields, { prefixLabels: true, message: message });
    } else {
      showErrors(form, summary, {}, { message: error.message });
    }
  }

  Sightline.errors = {
    clear: clearErrors,
    show: showErrors,
    showApiError: showApiError,
    focusField: focusField
  };

  // ------------------------------------------------------------------ page setup

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }
  Sightline.ready = ready;

  ready(fillForceName);
})();
