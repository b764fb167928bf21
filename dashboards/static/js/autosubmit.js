// A select or field marked data-autosubmit submits its form when it changes, and one
// marked data-autosubmit-settled when htmx has settled new content into it: the pages'
// Content-Security-Policy runs no inline handlers (onchange="...", hx-on), so this does.
function submitIfMarked(event, mark) {
  const field = event.target;
  if (field instanceof HTMLElement && field.matches(`[${mark}]`) && field.form) {
    field.form.submit();
  }
}
document.addEventListener("change", (event) => submitIfMarked(event, "data-autosubmit"));
document.addEventListener("htmx:afterSettle", (event) =>
  submitIfMarked(event, "data-autosubmit-settled"),
);
