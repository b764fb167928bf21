// The floor terminal's link to the server, and tiles that cannot lie: every current value
// carries how long it stays fresh (data-fresh-s, from the server), and goes stale here by
// itself when no newer tiles arrive in time, whatever the reason (the server lost, the
// collectors stopped). While the tiles cannot be fetched, a banner says since when; it
// goes when they come again.
(function () {
  "use strict";
  const F = window.ClearwellFloor;
  const { $, $$ } = F;
  const banner = $("#link-lost");
  let drawnAt = performance.now();
  let lostSince = null;

  function clock(ms) {
    const z = F.zoneParts(ms);
    return z.hour + ":" + z.minute;
  }

  // A tile whose value outlived its freshness: stale, its number gone, what it last said.
  function expire() {
    const elapsed = (performance.now() - drawnAt) / 1000;
    for (const tile of $$("#tiles .tile[data-fresh-s]")) {
      if (tile.dataset.state === "stale" || elapsed <= Number(tile.dataset.freshS)) continue;
      tile.dataset.state = "stale";
      tile.className = "tile tile-stale";
      const value = $(".tile-value", tile);
      if (value) value.innerHTML = '<span class="tile-number tile-nonumber">—</span>';
      const note = $(".tile-note", tile);
      if (note) note.textContent = "STALE · " + (tile.dataset.last ? tile.dataset.last + " · " : "") + "nothing newer came";
    }
  }
  window.setInterval(expire, 1000);

  function lost() {
    if (lostSince === null) lostSince = Date.now();
    banner.textContent = "No connection to the server since " + clock(lostSince) +
      ": nothing on this screen is live. Entries you save are kept on this terminal and sent when it is back.";
    banner.hidden = false;
    $("#floor").classList.add("floor-lost");
  }

  function back() {
    if (lostSince === null) return;
    lostSince = null;
    banner.hidden = true;
    $("#floor").classList.remove("floor-lost");
    F.say("Connection to the server is back");
  }

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "tiles") drawnAt = performance.now();
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    if (!xhr) return;
    if (event.detail.successful) back();
    else if (xhr.status === 0 || xhr.status >= 500) lost();
  });
  document.body.addEventListener("htmx:sendError", lost);
  document.body.addEventListener("htmx:timeout", lost);
  F.linkLost = () => lostSince !== null;
})();
