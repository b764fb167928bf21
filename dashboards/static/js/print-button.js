// A button marked data-print prints the page: the pages' Content-Security-Policy runs no
// inline handler (onclick="window.print()"), so this does.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) {
    window.print();
  }
});
