// The floor terminal's outbox: every record the terminal sends goes through it.
// Items live in localStorage until the server has answered, so a network drop,
// a reload or a lock loses nothing typed. Each item carries an idempotency key
// made when it was typed; the logbook answers a resend with the first record
// (Idempotent-Replay), so an item whose answer was lost is sent again safely.
// An item the server refuses later (a 4xx: the shift was closed meanwhile, the
// entry is now past the site's backdate limit) is not dropped: it moves to the
// "not saved" list with the server's answer, for its author to fix or discard.
// Items of both lists belong to the person who typed them and are only sent,
// shown or changed in their session.
(function () {
  "use strict";
  const KEY = "clearwell.floor.outbox.v1";
  const REFUSED_KEY = "clearwell.floor.notsaved.v1";

  function load(key) {
    try {
      const items = JSON.parse(window.localStorage.getItem(key || KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (_) {
      return [];
    }
  }

  function save(items, key) {
    window.localStorage.setItem(key || KEY, JSON.stringify(items));
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return "floor-" + window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "floor-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // Answers that say "not now" rather than "not this": the item stays in the outbox.
  function retryLater(status) {
    return status >= 500 || status === 408 || status === 429;
  }

  class Outbox {
    constructor(userId, handlers) {
      this.userId = userId;
      this.handlers = handlers;
      this.running = null;
      this.online = true;
      this.outcomes = new Map();
      this.awaited = new Set(); // keys whose form is still open, waiting for the answer
    }

    pending() {
      return load().filter((item) => item.user === this.userId);
    }

    remove(key) {
      save(load().filter((item) => item.key !== key));
    }

    // The refused items of this person, oldest first.
    notSaved() {
      return load(REFUSED_KEY).filter((item) => item.user === this.userId);
    }

    // Only this person's own items can be discarded from here.
    discard(key) {
      const mine = (item) => item.key === key && item.user === this.userId;
      const items = load(REFUSED_KEY);
      if (!items.some(mine)) return false;
      save(items.filter((item) => !mine(item)), REFUSED_KEY);
      this.handlers.changed(this);
      return true;
    }

    // Kept first, then taken out of the outbox: a crash in between leaves the item in
    // both lists (found again by its key), never in neither.
    _refuse(item, status, body) {
      const refused = Object.assign({}, item, { status, answer: body, refused_at: Date.now() });
      const items = load(REFUSED_KEY).filter((other) => other.key !== item.key);
      items.push(refused);
      save(items, REFUSED_KEY);
      this.remove(item.key);
      return refused;
    }

    // Stores the item, then tries to send everything waiting. Resolves with this
    // item's outcome: {state: "sent" | "queued" | "refused", status, body}. `form` is
    // what was typed ({kind, values, extra}), kept so a refused item can be reopened.
    // A refusal while the form is still open is answered to the form, which keeps
    // the values; one that comes later goes to the "not saved" list.
    async add(path, body, label, form) {
      const item = {
        key: newKey(), user: this.userId, path, body, label, form: form || null,
        queued_at: Date.now(),
      };
      const items = load();
      items.push(item);
      save(items);
      this.awaited.add(item.key);
      this.handlers.changed(this);
      // A flush already under way read its list before this item was saved.
      const joined = this.running !== null;
      try {
        await this.flush();
        if (this.running) await this.running;
        if (joined && this.online && !this.outcomes.has(item.key)) await this.flush();
      } finally {
        this.awaited.delete(item.key);
      }
      const outcome = this.outcomes.get(item.key);
      this.outcomes.delete(item.key);
      return outcome || { state: "queued" };
    }

    // One sender at a time, oldest first; stops at the first network failure.
    flush() {
      if (this.running) return this.running;
      this.running = this._send().finally(() => {
        this.running = null;
        this.handlers.changed(this);
      });
      return this.running;
    }

    async _send() {
      for (const item of this.pending()) {
        let response;
        try {
          response = await window.fetch(item.path, {
            method: "POST",
            headers: { "Content-Type": "application/json", "Idempotency-Key": item.key },
            body: JSON.stringify(item.body),
            credentials: "same-origin",
          });
        } catch (_) {
          this.online = false;
          return;
        }
        this.online = true;
        if (response.status === 401) {
          this.handlers.unauthorized();
          return;
        }
        if (retryLater(response.status)) return; // the server is in trouble: try again later
        let body = null;
        try {
          body = await response.json();
        } catch (_) {
          body = null;
        }
        const awaited = this.awaited.has(item.key);
        if (response.ok || awaited) this.remove(item.key);
        const outcome = { state: response.ok ? "sent" : "refused", status: response.status, body };
        if (awaited) this.outcomes.set(item.key, outcome);
        else if (response.ok) this.handlers.sent(item, body);
        else this.handlers.refused(this._refuse(item, response.status, body));
      }
    }
  }

  window.ClearwellOutbox = Outbox;
})();
