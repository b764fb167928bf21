// The floor terminal's lock: after the page's lock_after_s without a touch, on Lock, or
// when the server says the session is gone (401), nothing of the shift stays on screen,
// the session ends and the login page opens.
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $, $$, data, site } = F;
  let locked = false;
  let idleTimer = null;

  // `byHand`: Lock was pressed (the login page then does not say "after inactivity").
  F.lock = function (byHand) {
    if (locked) return;
    locked = true;
    // Nothing of the shift stays on screen, even before the login page loads.
    $$("dialog").forEach((d) => { try { d.close(); } catch (_) { /* closed */ } });
    const floor = $("#floor");
    if (floor) floor.remove();
    document.body.classList.add("floor-locked");
    window.fetch("/api/auth/logout", { method: "POST", credentials: "same-origin", keepalive: true })
      .catch(() => null)
      .finally(() => {
        window.location.replace("/login?" + (byHand === true ? "" : "locked=1&") + "next=" +
          encodeURIComponent("/floor/" + site));
      });
  };

  // A touch starts the count again.
  F.touched = function () {
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(F.lock, data.lock_after_s * 1000);
  };
  ["pointerdown", "keydown", "touchstart", "input"].forEach((name) =>
    document.addEventListener(name, F.touched, { passive: true, capture: true }));

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (target && target.id === "lock-now") F.lock(true);
  });
  document.body.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr && event.detail.xhr.status === 401) F.lock();
  });
})();
