// The chief operator's page: countersigning a trainee's entry through the logbook's API
// (the server checks the role, the crew and the password; this only sends and reports).
(function () {
  "use strict";

  for (const form of document.querySelectorAll("form.countersign")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = form.querySelector(".cs-message");
      const button = form.querySelector("button");
      const password = form.elements.password.value;
      button.disabled = true;
      message.className = "cs-message";
      message.textContent = "Sending…";
      try {
        const res = await fetch(form.dataset.api, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ password: password }),
        });
        const body = await res.json().catch(() => ({}));
        if (res.ok) {
          message.classList.add("good");
          message.textContent = "Countersigned.";
          form.elements.password.value = "";
          form.elements.password.disabled = true;
          form.closest(".await").classList.add("done");
          return;
        }
        const detail = Array.isArray(body.detail)
          ? body.detail.map((d) => d.msg).join("; ")
          : body.detail || `error ${res.status}`;
        message.classList.add("bad");
        message.textContent = `Not countersigned: ${detail}`;
      } catch (e) {
        message.classList.add("bad");
        message.textContent = "No connection to the server; nothing was signed. Try again.";
      }
      button.disabled = false;
    });
  }
})();
