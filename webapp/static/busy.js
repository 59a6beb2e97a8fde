// Feedback for slow actions, without inline handlers (the CSP forbids them):
// form[data-busy]: the submit button says what is happening and cannot be pressed twice.
// (下载 PDF has its own progress through the report job queue: bureau/report-pdf.js.)

for (const form of document.querySelectorAll("form[data-busy]")) {
  form.addEventListener("submit", (event) => {
    const buttons = [...form.querySelectorAll("button[type=submit], button:not([type])")];
    const pressed = event.submitter || buttons[0];
    if (!pressed) return;
    setTimeout(() => {
      // After the submit has started, so the pressed button's own value is still sent; every button of the
      // form waits (a second press on a slow network sent the photos twice).
      for (const button of buttons) button.disabled = true;
      pressed.textContent = form.dataset.busy;
    }, 0);
  });
}
