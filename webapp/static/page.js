// What the pages' inline handlers used to do (the Content-Security-Policy allows no inline script):
//   <button data-print>            prints the page
//   <select data-autosubmit>       submits its form when changed
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) window.print();
});
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
});

// What the server refuses in any text field (webapp/guard.py FORBIDDEN, as the phone's ui.js): C0 controls but
// tab, LF and CR, DEL, C1 controls, lone surrogates. Text pasted from Word or a PDF often holds some (a vertical
// tab, a form feed); sent, the whole page was refused and what was typed was gone. They are taken out as typed.
const CONTROL =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_ALL = new RegExp(CONTROL.source, "g");
document.addEventListener(
  "input",
  (event) => {
    const field = event.target;
    const isText =
      field instanceof HTMLTextAreaElement || (field instanceof HTMLInputElement && ["text", "search"].includes(field.type));
    if (!isText || !CONTROL.test(field.value)) return;
    field.value = field.value.replace(CONTROL_ALL, "");
    let note = field.nextElementSibling;
    if (!note || !note.classList.contains("control-note")) {
      note = document.createElement("p");
      note.className = "meta control-note";
      note.setAttribute("role", "status");
      field.after(note);
    }
    note.textContent = "已去掉粘贴内容中不可见的控制字符。";
  },
  true,
);
