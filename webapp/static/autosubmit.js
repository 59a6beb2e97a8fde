// A <select data-autosubmit> sends its form as soon as it changes (no inline handlers: the CSP forbids them).
// The form's own submit button stays for keyboards and for pages without scripts.
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => select.form && select.form.requestSubmit());
}
