// The floor terminal's alarms: ACK on an alarm of the bar, or on its tag's tile, opens the
// acknowledgement form for that event. The bar and the tiles are server-rendered, and one
// htmx poll of the tiles refreshes both (the bar comes as an out-of-band swap).
(function () {
  "use strict";
  const F = window.ClearwellFloor;

  document.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target || !target.dataset.ack) return;
    F.openForm("alarm_ack", { event_id: Number(target.dataset.ack), label: target.dataset.ackLabel });
  });
})();
