// Login page: logs in through the logbook API (which sets the session cookie),
// then opens /landing, which goes back to the page that sent the person here.
(function () {
  "use strict";
  const root = document.getElementById("login");
  const message = document.getElementById("login-message");
  const next = root.dataset.next || "";

  function show(mode) {
    document.querySelectorAll(".login-form").forEach((f) => {
      f.hidden = f.dataset.mode !== mode;
    });
    document.querySelectorAll(".login-modes .seg").forEach((b) => {
      b.classList.toggle("seg-on", b.dataset.mode === mode);
      b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    });
    message.textContent = "";
    const first = document.querySelector(`.login-form[data-mode="${mode}"] input`);
    if (first) first.focus();
  }
  document.querySelectorAll(".login-modes .seg").forEach((b) => {
    b.addEventListener("click", () => show(b.dataset.mode));
  });

  function refusal(response, body) {
    const detail = body && typeof body.detail === "string" ? body.detail : "";
    if (response.status === 429) {
      const wait = Number(response.headers.get("Retry-After") || 0);
      const minutes = Math.max(1, Math.ceil(wait / 60));
      return `Too many failed logins. Wait ${minutes} min and try again.`;
    }
    if (response.status === 401) return "Wrong user name, password or PIN.";
    if (response.status === 403) return detail || "PIN login is not allowed here.";
    if (response.status === 422) return "Fill in every field.";
    return detail || `Login failed (${response.status}).`;
  }

  document.querySelectorAll(".login-form").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(form).entries());
      data.username = String(data.username || "").trim().toLowerCase();
      // Said here in words, not left to the browser's "Please fill out this field".
      const missing = !data.username ? ["username", "Enter your user name."]
        : form.dataset.mode === "pin" && !/^[0-9]{4,8}$/.test(data.pin || "")
          ? ["pin", "Your PIN is 4 to 8 digits."]
          : form.dataset.mode === "password" && !data.password ? ["password", "Enter your password."] : null;
      if (missing) {
        message.className = "login-message login-bad";
        message.textContent = missing[1];
        form.querySelector("[name=" + missing[0] + "]").focus();
        return;
      }
      const path = form.dataset.mode === "pin" ? "/api/auth/pin-login" : "/api/auth/login";
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      message.className = "login-message";
      message.textContent = "Logging in…";
      try {
        const response = await fetch(path, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(data),
          credentials: "same-origin",
        });
        if (response.ok) {
          message.textContent = "";
          window.location.assign("/landing" + (next ? "?next=" + encodeURIComponent(next) : ""));
          return;
        }
        let body = null;
        try { body = await response.json(); } catch (_) { /* not JSON */ }
        message.className = "login-message login-bad";
        message.textContent = refusal(response, body);
        form.querySelectorAll("input[type=password]").forEach((i) => { i.value = ""; });
      } catch (_) {
        message.className = "login-message login-bad";
        message.textContent = "No connection to the server. Try again.";
      } finally {
        button.disabled = false;
      }
    });
  });
})();
