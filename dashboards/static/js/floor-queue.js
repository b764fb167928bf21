// The floor terminal's outbox: every record the terminal sends goes through it.
// Items live in localStorage until the server has answered, so a network drop,
// a reload or a lock loses nothing typed. Each item carries an idempotency key
// made when it was typed; the logbook answers a resend with the first record
// (Idempotent-Replay), so an item whose answer was lost is sent again safely.
// Items belong to the person who typed them and are only sent in their session.
(function () {
  "use strict";
  const KEY = "clearwell.floor.outbox.v1";

  function load() {
    try {
      const items = JSON.parse(window.localStorage.getItem(KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (_) {
      return [];
    }
  }

  function save(items) {
    window.localStorage.setItem(KEY, JSON.stringify(items));
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return "floor-" + window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "floor-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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

    // Stores the item, then tries to send everything waiting. Resolves with this
    // item's outcome: {state: "sent" | "queued" | "refused", status, body}.
    async add(path, body, label) {
      const item = { key: newKey(), user: this.userId, path, body, label, queued_at: Date.now() };
      const items = load();
      items.push(item);
      save(items);
      this.awaited.add(item.key);
      this.handlers.changed(this);
      try {
        await this.flush();
        if (this.running) await this.running;
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
        if (response.status >= 500 || response.status === 408 || response.status === 429) {
          return; // the server is in trouble: keep the item, try again later
        }
        let body = null;
        try {
          body = await response.json();
        } catch (_) {
          body = null;
        }
        this.remove(item.key);
        const outcome = { state: response.ok ? "sent" : "refused", status: response.status, body };
        if (this.awaited.has(item.key)) this.outcomes.set(item.key, outcome);
        else if (response.ok) this.handlers.sent(item, body);
        else this.handlers.refused(item, response.status, body);
      }
    }
  }

  window.ClearwellOutbox = Outbox;
})();
