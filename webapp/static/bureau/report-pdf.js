// 下载 PDF without a blocking request: ask the server for the PDF, show progress, download when it is ready.
// Links carry data-pdf-start (the job URL); their href (the direct PDF) stays as the no-script fallback.

const POLL_MS = 1000;

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

function statusFor(link) {
  let box = link.parentElement.querySelector('.pdf-status');
  if (!box) {
    box = document.createElement('span');
    box.className = 'pdf-status';
    box.setAttribute('role', 'status');
    box.setAttribute('aria-live', 'polite');
    link.after(box);
  }
  return box;
}

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function follow(link) {
  const box = statusFor(link);
  const started = Date.now();
  link.setAttribute('aria-disabled', 'true');
  box.textContent = '正在生成 PDF……';
  try {
    const response = await fetch(link.dataset.pdfStart, {
      method: 'POST',
      headers: { 'X-CSRFToken': csrfToken(), Accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (!response.ok) throw new Error(String(response.status));
    let state = await response.json();
    while (state.state === 'pending') {
      await wait(POLL_MS);
      const seconds = Math.round((Date.now() - started) / 1000);
      box.textContent = `正在生成 PDF……已等待 ${seconds} 秒`;
      const poll = await fetch(state.status_url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!poll.ok) throw new Error(String(poll.status));
      state = await poll.json();
    }
    if (state.state === 'done') {
      box.textContent = 'PDF 已生成，正在下载。';
      const again = document.createElement('a');
      again.href = state.download_url;
      again.textContent = '若未自动下载，请点此下载';
      box.append(' ', again);
      window.location.assign(state.download_url);
    } else {
      box.textContent = state.message || '生成 PDF 失败，请稍后重试，或用浏览器打印。';
    }
  } catch (error) {
    box.textContent = '生成 PDF 失败，请稍后重试，或用浏览器打印。';
  } finally {
    link.removeAttribute('aria-disabled');
  }
}

for (const link of document.querySelectorAll('a[data-pdf-start]')) {
  link.addEventListener('click', (event) => {
    if (link.getAttribute('aria-disabled') === 'true') {
      event.preventDefault();
      return;
    }
    event.preventDefault();
    follow(link);
  });
}
