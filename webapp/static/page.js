// What the pages' inline handlers used to do (the Content-Security-Policy allows no inline script):
//   <button data-print>            prints the page
//   <select data-autosubmit>       submits its form when changed
// A module (for the phone's text rule, ui.js takeOutControls), deferred like any module.
import { takeOutControls } from "./inspect/ui.js";

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) window.print();
});
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.requestSubmit ? select.form.requestSubmit() : select.form.submit();
});

// Characters the server refuses in any text field (webapp/guard.py): text pasted from Word or a PDF often holds
// some (a vertical tab, a form feed); sent, the whole page was refused and what was typed was gone. They are
// taken out as typed, by the phone's own rule.
document.addEventListener(
  "input",
  (event) => {
    const field = event.target;
    if (!takeOutControls(field)) return;
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
