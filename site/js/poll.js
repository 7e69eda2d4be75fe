/* Sightline: poll.js — when the footage-request page looks again at files the server checks.
 *
 * An appeal can send the same request to thousands of owners at once, each with this page
 * open. The page used to look every 2 s for a minute after each upload: 2,000 owners made
 * 1,000 requests a second. Now (docs/decisions.md, 2026-12-02 "Under a big appeal"):
 *   - it looks only while a file is being checked, and stops 5 minutes after the last upload;
 *   - the wait grows from 3 s by x1.6 to at most 60 s, each with +-20 % jitter so owners who
 *     uploaded together drift apart: at most 5 looks in the first minute, 11 in 5 minutes;
 *   - nothing while the tab is hidden; on its return, one look soon and the schedule afresh;
 *   - after 429, 503 or no answer at all (a WAF block has no CORS headers), at least 60 s or
 *     the Retry-After, doubling while it lasts, up to 5 minutes.
 * infrastructure/sightline_infra/capacity.py sizes the API's limits from these numbers.
 */
(function (root) {
  "use strict";

  var SCHEDULE = {
    firstMs: 3000,
    factor: 1.6,
    capMs: 60000,
    jitter: 0.2,
    windowMs: 300000,
    throttledMs: 60000
  };

  /** An answer that means "too many of you": wait much longer before the next look. */
  function isThrottled(error) {
    var status = error && error.status;
    return status === 0 || status === 429 || status === 502 || status === 503 || status === 504;
  }

  /**
   * new Poller({look, onGiveUp}) — look() resolves true while something is still being
   * checked (false: done), or rejects with an ApiError. Timers, clock, randomness and the
   * tab's visibility can be given (tests); they default to the page's.
   */
  function Poller(options) {
    this.look = options.look;
    this.onGiveUp = options.onGiveUp || function () {};
    this.schedule = options.schedule || SCHEDULE;
    this.random = options.random || Math.random;
    this.now = options.now || Date.now;
    this.setTimeout = options.setTimeout || root.setTimeout.bind(root);
    this.clearTimeout = options.clearTimeout || root.clearTimeout.bind(root);
    this.isHidden = options.isHidden || function () {
      return !!(root.document && root.document.hidden);
    };
    this.running = false;
    this.looking = false;
    this.timer = null;
    this.attempt = 0;
    this.throttled = 0;
    this.until = 0;
  }

  /** The wait before look number `attempt` (0: the first after an upload). */
  Poller.prototype.delay = function (attempt) {
    var s = this.schedule;
    var base = Math.min(s.capMs, s.firstMs * Math.pow(s.factor, attempt));
    return Math.round(base * (1 - s.jitter + 2 * s.jitter * this.random()));
  };

  /** The wait after the `count`-th refusal in a row, at least what Retry-After asked. */
  Poller.prototype.throttledDelay = function (count, retryAfterS) {
    var s = this.schedule;
    var base = Math.min(s.windowMs, s.throttledMs * Math.pow(2, count - 1));
    var asked = retryAfterS > 0 ? retryAfterS * 1000 : 0;
    return Math.round(Math.max(asked, base) * (1 + s.jitter * this.random()));
  };

  /** A file was uploaded (or the page found one being checked): look until it is checked. */
  Poller.prototype.start = function () {
    this.until = this.now() + this.schedule.windowMs;
    if (this.running && (this.timer || this.looking)) return; // already looking: keep the pace
    this.running = true;
    this.attempt = 0;
    this.throttled = 0;
    this.wait(this.delay(0));
  };

  Poller.prototype.stop = function () {
    this.running = false;
    if (this.timer) this.clearTimeout(this.timer);
    this.timer = null;
  };

  /** Call on the document's visibilitychange. */
  Poller.prototype.visibilityChanged = function () {
    if (!this.running) return;
    if (this.isHidden()) {
      if (this.timer) this.clearTimeout(this.timer);
      this.timer = null;
    } else if (!this.timer && !this.looking) {
      this.until = this.now() + this.schedule.windowMs;
      this.attempt = 0;
      this.wait(this.delay(0));
    }
  };

  Poller.prototype.wait = function (ms) {
    if (!this.running || this.isHidden()) return; // a hidden tab resumes on visibilitychange
    if (this.now() + ms > this.until) { // the last look falls inside the window
      this.running = false;
      this.onGiveUp();
      return;
    }
    var self = this;
    this.timer = this.setTimeout(function () {
      self.timer = null;
      self.lookNow();
    }, ms);
  };

  Poller.prototype.lookNow = function () {
    if (!this.running || this.isHidden()) return;
    var self = this;
    this.looking = true;
    Promise.resolve()
      .then(function () {
        return self.look();
      })
      .then(
        function (more) {
          self.looking = false;
          self.throttled = 0;
          if (!more) {
            self.running = false;
            return;
          }
          self.attempt++;
          self.wait(self.delay(self.attempt));
        },
        function (error) {
          self.looking = false;
          if (isThrottled(error)) {
            self.throttled++;
            self.wait(self.throttledDelay(self.throttled, error && error.retryAfterS));
          } else {
            self.attempt++; // a missed look is not a problem: try again on the schedule
            self.wait(self.delay(self.attempt));
          }
        }
      );
  };

  root.Sightline = root.Sightline || {};
  root.Sightline.Poller = Poller;
  root.Sightline.Poller.SCHEDULE = SCHEDULE;
})(this);
