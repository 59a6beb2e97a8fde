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
