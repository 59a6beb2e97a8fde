// Feedback for slow actions, without inline handlers (the CSP forbids them):
// form[data-busy]: the submit button says what is happening and cannot be pressed twice.
// (下载 PDF has its own progress through the report job queue: bureau/report-pdf.js.)

for (const form of document.querySelectorAll("form[data-busy]")) {
  form.addEventListener("submit", () => {
    const button = form.querySelector("button[type=submit], button:not([type])");
    if (!button) return;
    setTimeout(() => {
      button.disabled = true; // after the submit has started, so the button's own value is still sent
      button.textContent = form.dataset.busy;
    }, 0);
  });
}
