// Offline outbox for visit forms (走访离线草稿).
// A submitted visit is first kept on the device (localStorage), then sent. If the network
// is down it stays there and is sent when the connection returns. The server saves each
// form token once, so retries and double taps never make a second visit.
(() => {
  const KEY = "tonghu-visit-outbox";
  const SAVED_HEADER = "X-Tonghu-Visit";
  const sending = new Set(); // tokens on the wire: a double tap or a flush never sends twice

  const load = () => {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch { return []; }
  };
  const store = (drafts) => localStorage.setItem(KEY, JSON.stringify(drafts));
  const upsert = (draft) => store([...load().filter((d) => d.token !== draft.token), draft]);
  const drop = (token) => store(load().filter((d) => d.token !== token));
  const mark = (token, state) =>
    store(load().map((d) => (d.token === token ? { ...d, state } : d)));

  const say = (text, kind) => {
    const box = document.getElementById("outbox-status");
    if (!box) return;
    box.textContent = text;
    box.className = `outbox outbox-${kind}`;
    box.hidden = false;
  };

  // "offline" | {saved: url} | {attention: status}
  const send = async (draft) => {
    let response;
    try {
      response = await fetch(draft.action, {
        method: "POST",
        body: new URLSearchParams(draft.fields),
        credentials: "same-origin",
      });
    } catch {
      return "offline";
    }
    if (response.ok && response.headers.get(SAVED_HEADER) === draft.token) {
      return { saved: response.url };
    }
    return { attention: response.status };
  };

  let flushing = false;
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      let sent = 0;
      for (const draft of load().filter((d) => d.state === "pending")) {
        if (sending.has(draft.token)) continue;
        sending.add(draft.token);
        const result = await send(draft).finally(() => sending.delete(draft.token));
        if (result === "offline") break;
        if (result.saved) { drop(draft.token); sent += 1; } else { mark(draft.token, "attention"); }
      }
      const waiting = load();
      if (waiting.some((d) => d.state === "attention")) {
        const first = waiting.find((d) => d.state === "attention");
        say("有离线走访记录需要处理（档案已被修改或内容有误），请打开核对后重新提交。", "attention");
        const box = document.getElementById("outbox-status");
        if (box) {
          const link = document.createElement("a");
          link.href = `${first.action}?draft=${first.token}`;
          link.textContent = " 打开";
          box.append(link);
        }
      } else if (waiting.length) {
        say(`网络不可用：${waiting.length} 条走访记录已保存在本机，恢复联网后自动发送。`, "pending");
      } else if (sent) {
        say(`已发送 ${sent} 条离线保存的走访记录。`, "sent");
      }
    } finally {
      flushing = false;
    }
  };

  const restore = (form) => {
    const wanted = new URLSearchParams(location.search).get("draft");
    const draft = wanted && load().find((d) => d.token === wanted);
    if (!draft) return;
    for (const [name, value] of draft.fields) {
      const field = form.elements.namedItem(name);
      if (!field || name === "resolution") continue;
      if (field instanceof RadioNodeList) field.value = value;
      else if (field.type === "checkbox") field.checked = true;
      else field.value = value;
    }
  };

  const wire = (form) => {
    restore(form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const current = form.elements.namedItem("token").value;
      if (sending.has(current)) return;
      sending.add(current);
      try {
        await submitDraft(form, event.submitter);
      } finally {
        sending.delete(current);
      }
    });
  };

  const submitDraft = async (form, submitter) => {
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach((b) => { b.disabled = true; });
    const fields = [...new FormData(form, submitter).entries()];
    const token = form.elements.namedItem("token").value;
    const draft = { token, action: form.action, fields, state: "pending", at: Date.now() };
    upsert(draft);
    const result = await send(draft);
    if (result === "offline") {
      say("网络不可用：本次走访已保存在本机，恢复联网后自动发送（只发送一次）。", "pending");
      buttons.forEach((b) => { b.disabled = false; });
      return;
    }
    if (result.saved) {
      drop(token);
      location.assign(result.saved);
      return;
    }
    // The server answered with a conflict or errors: let it show them as a page.
    mark(token, "attention");
    HTMLFormElement.prototype.submit.call(form);
  };

  document.addEventListener("DOMContentLoaded", () => {
    const saved = document.querySelector("[data-saved-token]");
    if (saved) drop(saved.dataset.savedToken);
    document.querySelectorAll("form[data-outbox]").forEach(wire);
    if (load().length) flush();
  });
  window.addEventListener("online", flush);
})();
