// Feedback for slow actions, without inline handlers (the CSP forbids them):
// - a[data-download]: fetched here so the page can say 正在生成… and then save the file (PDFs take seconds);
// - form[data-busy]: the submit button says what is happening and cannot be pressed twice.

function say(el, text) {
  let status = el.parentElement.querySelector(".busy-status");
  if (!status) {
    status = document.createElement("span");
    status.className = "busy-status meta";
    status.setAttribute("role", "status");
    el.after(status);
  }
  status.textContent = text;
}

function filename(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(header);
  return encoded ? decodeURIComponent(encoded[1]) : fallback;
}

async function download(event) {
  const link = event.currentTarget;
  if (link.getAttribute("aria-busy") === "true") {
    event.preventDefault();
    return;
  }
  event.preventDefault();
  link.setAttribute("aria-busy", "true");
  say(link, link.dataset.download || "正在生成，请稍候…");
  try {
    const response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      say(link, (body && body.message) || "生成失败，请稍后重试。");
      return;
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const save = document.createElement("a");
    save.href = url;
    save.download = filename(response, "report.pdf");
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    say(link, "已生成。");
  } catch {
    say(link, "网络中断，请稍后重试。");
  } finally {
    link.removeAttribute("aria-busy");
  }
}

for (const link of document.querySelectorAll("a[data-download]")) link.addEventListener("click", download);
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
