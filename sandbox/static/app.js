// The sandbox page: shows the workspace as the selected user sees it and sends what they do
// to the sandbox server, which signs it and hands it to the real tunebot handlers.
"use strict";

(() => {
  const { el, render, mrkdwnToHtml } = BlockKit;
  const $ = (id) => document.getElementById(id);

  const state = {
    info: null,
    user: null,
    view: null, // a channel id, or "home"
    version: -1,
    snapshot: { messages: [], modal: null, home: null },
    rendered: new Map(), // message key -> [json, node]
    modalKey: null,
    homeKey: null,
    pollToken: 0,
    lost: false,
    openThreads: new Set(), // "channel/ts" of the threads the person opened
  };

  // -- talking to the server --------------------------------------------------------------

  async function post(path, body) {
    const response = await fetch(`/sandbox/${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const payload = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(payload.error || `The sandbox answered HTTP ${response.status}.`);
    if (payload.problem) throw new Error(payload.problem);
    return payload;
  }

  let toastTimer = null;
  function announce(text, isError = false) {
    const toast = $("status");
    toast.textContent = text;
    toast.classList.toggle("toast-error", isError);
    toast.classList.add("toast-visible");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => toast.classList.remove("toast-visible"), isError ? 8000 : 3500);
  }

  async function run(label, work) {
    document.body.classList.add("busy");
    try {
      return await work();
    } catch (error) {
      announce(`${label}: ${error.message}`, true);
      return null;
    } finally {
      document.body.classList.remove("busy");
    }
  }

  // -- long-polling the workspace ----------------------------------------------------------

  async function poll() {
    const token = ++state.pollToken;
    let since = null;
    while (token === state.pollToken) {
      const query = new URLSearchParams({ user: state.user });
      if (since !== null) query.set("since", String(since));
      try {
        const response = await fetch(`/sandbox/state?${query}`);
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const snapshot = await response.json();
        if (token !== state.pollToken) return;
        state.snapshot = snapshot;
        if (state.lost) {
          state.lost = false;
          $("view-topic").textContent = topicFor(state.view);
        }
        since = snapshot.version;
        state.version = snapshot.version;
        renderAll();
      } catch (error) {
        if (token !== state.pollToken) return;
        state.lost = true;
        $("view-topic").textContent = "Lost contact with the sandbox; retrying…";
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  // -- rendering ---------------------------------------------------------------------------

  function userById(id) {
    return state.info.users.find((user) => user.id === id);
  }

  function channelById(id) {
    return state.info.channels.find((channel) => channel.id === id);
  }

  function formatTime(ts) {
    const date = new Date(parseFloat(ts) * 1000);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const backdrop = $("confirm-backdrop");
      const previous = document.activeElement;
      $("confirm-title").textContent = BlockKit.plain(confirm.title) || "Are you sure?";
      const text = $("confirm-text");
      text.innerHTML = confirm.text?.type === "mrkdwn" ? mrkdwnToHtml(confirm.text.text) : "";
      if (confirm.text?.type !== "mrkdwn") text.textContent = BlockKit.plain(confirm.text);
      const ok = $("confirm-ok");
      ok.textContent = BlockKit.plain(confirm.confirm) || "Confirm";
      ok.className = `block-button ${confirm.style === "danger" ? "button-danger" : "button-primary"}`;
      $("confirm-deny").textContent = BlockKit.plain(confirm.deny) || "Cancel";
      backdrop.hidden = false;
      ok.focus();
      const finish = (answer) => {
        backdrop.hidden = true;
        ok.onclick = null;
        $("confirm-deny").onclick = null;
        backdrop.onkeydown = null;
        previous?.focus?.();
        resolve(answer);
      };
      ok.onclick = () => finish(true);
      $("confirm-deny").onclick = () => finish(false);
      backdrop.onkeydown = (event) => {
        if (event.key === "Escape") finish(false);
        trapFocus(event, backdrop);
      };
    });
  }

  function trapFocus(event, container) {
    if (event.key !== "Tab") return;
    const focusable = [...container.querySelectorAll("button, input, select, textarea, a[href]")].filter((node) => !node.disabled && node.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  async function withConfirm(element, node, send) {
    if (element.confirm && !(await confirmDialog(element.confirm))) return;
    node.disabled = true;
    node.setAttribute("aria-busy", "true");
    await run(`“${BlockKit.plain(element.text) || "Action"}” failed`, send);
    node.disabled = false;
    node.removeAttribute("aria-busy");
  }

  function messageContext(message) {
    return {
      idPrefix: `m${message.ts.replace(".", "")}`,
      onAction: (action, element, node) =>
        withConfirm(element, node, () =>
          post("action", { user: state.user, channel: message.channel, message_ts: message.ts, action })
        ),
    };
  }

  function threadNode(message, replies) {
    const key = `${message.channel}/${message.ts}`;
    const open = state.openThreads.has(key);
    const count = replies.length;
    const toggle = el("button", {
      type: "button",
      class: "thread-toggle",
      "aria-expanded": String(open),
      text: `${count} ${count === 1 ? "reply" : "replies"}`,
    });
    const list = el("ul", { class: "thread", "aria-label": "Thread", hidden: !open });
    for (const reply of replies) list.append(messageNode(reply, []));
    toggle.addEventListener("click", () => {
      const opening = list.hidden;
      if (opening) state.openThreads.add(key);
      else state.openThreads.delete(key);
      list.hidden = !opening;
      toggle.setAttribute("aria-expanded", String(opening));
    });
    return el("div", { class: "thread-holder" }, toggle, list);
  }

  function messageNode(message, replies = []) {
    if (message.kind === "error") {
      // What Slack itself says to the person (a late acknowledgement, for example).
      return el(
        "li",
        { class: "message message-error", role: "alert", "data-ts": message.ts },
        el("span", { class: "error-text", text: message.text }),
        el("span", { class: "only-you", text: " · Only visible to you" })
      );
    }
    if (message.kind === "command") {
      return el(
        "li",
        { class: "message message-command" },
        el("span", { class: "command-label", text: "You used " }),
        el("code", { text: message.text }),
        el("span", { class: "only-you", text: " · Only visible to you" })
      );
    }
    const author = message.user === state.info.bot.user_id ? null : userById(message.user);
    const name = author ? author.real_name : state.info.bot.name;
    const isReply = isThreadReply(message);
    const classes = ["message", message.ephemeral ? "message-ephemeral" : "", isReply ? "message-reply" : ""];
    const node = el("li", { class: classes.join(" ").trim(), "data-ts": message.ts });
    node.append(el("div", { class: `avatar${author ? "" : " avatar-bot"}`, "aria-hidden": "true", text: name.slice(0, 1).toUpperCase() }));
    const body = el("div", { class: "message-body" });
    const meta = el("div", { class: "message-meta" }, el("span", { class: "author", text: name }));
    if (!author) meta.append(el("span", { class: "app-badge", text: "App" }));
    meta.append(el("time", { datetime: new Date(parseFloat(message.ts) * 1000).toISOString(), text: formatTime(message.ts) }));
    if (message.edited) meta.append(el("span", { class: "edited", text: "(edited)" }));
    body.append(meta);
    // A reply shown on its own (its parent is gone or not visible) says what it is.
    if (isReply && !message.inThread) body.append(el("p", { class: "thread-note", text: "Thread reply" }));
    if (message.ephemeral) body.append(el("p", { class: "only-you", text: "Only visible to you" }));
    if (message.blocks && message.blocks.length) body.append(render(message.blocks, messageContext(message)));
    else body.append(el("div", { class: "text", html: mrkdwnToHtml(message.text || "") }));
    if (replies.length) body.append(threadNode(message, replies));
    node.append(body);
    return node;
  }

  function isThreadReply(message) {
    return Boolean(message.thread_ts) && message.thread_ts !== message.ts;
  }

  function renderMessages() {
    const list = $("messages");
    const inChannel = state.snapshot.messages.filter((m) => m.channel === state.view);
    // As in Slack, replies live in their parent's thread, not in the channel.
    const parents = new Set(inChannel.filter((m) => !isThreadReply(m)).map((m) => m.ts));
    const replies = new Map();
    for (const message of inChannel) {
      if (isThreadReply(message) && parents.has(message.thread_ts)) {
        if (!replies.has(message.thread_ts)) replies.set(message.thread_ts, []);
        replies.get(message.thread_ts).push({ ...message, inThread: true });
      }
    }
    const visible = inChannel.filter((m) => !isThreadReply(m) || !parents.has(m.thread_ts));
    const seen = new Set();
    let previous = null;
    for (const message of visible) {
      const key = `${message.channel}/${message.ts}`;
      seen.add(key);
      const thread = replies.get(message.ts) || [];
      const json = JSON.stringify([message, thread, state.openThreads.has(key)]);
      const existing = state.rendered.get(key);
      let node = existing?.[1];
      if (!existing || existing[0] !== json) {
        const fresh = messageNode(message, thread);
        if (node) node.replaceWith(fresh);
        node = fresh;
        state.rendered.set(key, [json, node]);
      }
      const expectedPosition = previous ? previous.nextSibling : list.firstChild;
      if (expectedPosition !== node) list.insertBefore(node, expectedPosition);
      previous = node;
    }
    for (const [key, [, node]] of state.rendered) {
      if (!seen.has(key)) {
        node.remove();
        state.rendered.delete(key);
      }
    }
    if (!visible.length && !list.querySelector(".empty")) {
      list.append(el("li", { class: "empty", text: "No messages yet. Try /tune checkout-api below." }));
    } else if (visible.length) {
      list.querySelector(".empty")?.remove();
    }
    const panel = $("message-panel");
    panel.scrollTop = panel.scrollHeight;
  }

  function renderHome() {
    const panel = $("home-panel");
    const home = state.snapshot.home;
    const key = home ? `${home.id}/${home.hash}` : "none";
    if (key === state.homeKey) return;
    state.homeKey = key;
    panel.replaceChildren();
    if (!home) {
      panel.append(el("p", { class: "empty", text: "Waiting for tunebot to publish your Home tab (it does when you open it)…" }));
      return;
    }
    panel.append(
      render(home.blocks, {
        idPrefix: "home",
        onAction: (action, element, node) => withConfirm(element, node, () => post("action", { user: state.user, view_id: home.id, action })),
      })
    );
  }

  let modalInputs = new Map();
  let modalReturnFocus = null;

  function renderModal() {
    const modal = state.snapshot.modal;
    const backdrop = $("modal-backdrop");
    const key = modal ? `${modal.id}/${modal.hash}` : null;
    if (key === state.modalKey) return;
    state.modalKey = key;
    if (!modal) {
      backdrop.hidden = true;
      // The button that opened the modal may have been re-rendered meanwhile.
      const target = modalReturnFocus?.isConnected ? modalReturnFocus : $("view-title");
      target.focus();
      return;
    }
    if (backdrop.hidden) modalReturnFocus = document.activeElement;
    modalInputs = new Map();
    $("modal-title").textContent = BlockKit.plain(modal.title);
    const body = $("modal-body");
    body.replaceChildren(
      render(modal.blocks, {
        idPrefix: `v${modal.id}`,
        inputs: modalInputs,
        onAction: (action, element, node) => withConfirm(element, node, () => post("action", { user: state.user, view_id: modal.id, action })),
      })
    );
    $("modal-submit").hidden = !modal.submit;
    $("modal-submit").textContent = BlockKit.plain(modal.submit) || "Submit";
    $("modal-close").textContent = BlockKit.plain(modal.close) || "Cancel";
    backdrop.hidden = false;
    (body.querySelector("input, select, textarea") || $("modal-close")).focus();
  }

  function renderAll() {
    if (state.view === "home") renderHome();
    else renderMessages();
    renderModal();
  }

  async function submitModal(event) {
    event.preventDefault();
    const modal = state.snapshot.modal;
    if (!modal) return;
    const values = {};
    for (const [blockId, input] of modalInputs) values[blockId] = { [input.action_id]: input.read() };
    document.querySelectorAll("#modal-body .input-error").forEach((node) => (node.textContent = ""));
    const result = await run("Submitting failed", () => post("submit", { user: state.user, view_id: modal.id, values }));
    if (result?.errors) {
      for (const [blockId, message] of Object.entries(result.errors)) {
        const holder = document.querySelector(`#modal-body [data-block-id="${CSS.escape(blockId)}"] .input-error`);
        if (holder) holder.textContent = message;
      }
      announce("Please fix the highlighted fields.", true);
    }
  }

  async function closeModal() {
    const modal = state.snapshot.modal;
    if (!modal) return;
    await run("Closing failed", () => post("close", { user: state.user, view_id: modal.id }));
  }

  // -- navigation --------------------------------------------------------------------------

  function topicFor(view) {
    if (view === "home") return "Home: pending approvals, recent changes and top savings";
    return channelById(view)?.topic || "";
  }

  function showView(view) {
    state.view = view;
    const isHome = view === "home";
    for (const link of document.querySelectorAll(".channel-link")) {
      const current = link.dataset.view === view;
      link.classList.toggle("active", current);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    $("home-tabs").hidden = !isHome;
    $("message-panel").hidden = isHome;
    $("home-panel").hidden = !isHome || $("tab-home").getAttribute("aria-selected") !== "true";
    $("about-panel").hidden = !isHome || $("tab-about").getAttribute("aria-selected") !== "true";
    $("composer").hidden = isHome;
    $("view-topic").textContent = topicFor(view);
    if (isHome) {
      $("view-title").textContent = "tunebot";
      state.homeKey = null;
      run("Opening the Home tab failed", () => post("home", { user: state.user }));
    } else {
      const channel = channelById(view);
      $("view-title").textContent = `#${channel.name}`;
      $("composer-label").textContent = `Message #${channel.name}`;
    }
    renderAll();
  }

  function selectTab(tab) {
    for (const candidate of [$("tab-home"), $("tab-about")]) {
      const selected = candidate === tab;
      candidate.setAttribute("aria-selected", String(selected));
      candidate.tabIndex = selected ? 0 : -1;
    }
    $("home-panel").hidden = tab !== $("tab-home");
    $("about-panel").hidden = tab !== $("tab-about");
  }

  function switchUser(userId) {
    state.user = userId;
    const user = userById(userId);
    $("user-role").textContent = user.role;
    state.rendered.forEach(([, node]) => node.remove());
    state.rendered.clear();
    state.modalKey = null;
    state.homeKey = null;
    if (state.view === "home") post("home", { user: userId }).catch((error) => announce(error.message, true));
    poll();
  }

  // -- wiring ------------------------------------------------------------------------------

  async function start() {
    // Listening from the first moment: a command typed while the page still starts is sent
    // once it knows who types and where, instead of the browser submitting the form itself.
    let markReady;
    const ready = new Promise((resolve) => { markReady = resolve; });
    $("composer").addEventListener("submit", async (event) => {
      event.preventDefault();
      await ready;
      const input = $("composer-input");
      const text = input.value.trim();
      if (!text) return;
      if (!text.startsWith("/")) {
        announce("tunebot only listens to slash commands here, for example /tune checkout-api.", true);
        return;
      }
      input.value = "";
      await run(`${text.split(" ")[0]} failed`, () => post("command", { user: state.user, channel: state.view, text }));
      input.focus();
    });

    const response = await fetch("/sandbox/info");
    state.info = await response.json();
    // Ephemeral messages live in the Slack client only: a reload drops them, as Slack's does.
    // Done before the page offers anything to click or type, so no command races it.
    await post("reload", {});
    BlockKit.names.user = (id) => {
      if (id === state.info.bot.user_id) return state.info.bot.name;
      return userById(id)?.name || id;
    };
    BlockKit.names.channel = (id) => channelById(id)?.name || id;

    const userSelect = $("user-select");
    for (const user of state.info.users) userSelect.append(el("option", { value: user.id, text: `${user.real_name} (@${user.name})` }));
    userSelect.addEventListener("change", () => switchUser(userSelect.value));

    const channels = $("channel-list");
    for (const channel of state.info.channels) {
      const link = el("button", { type: "button", class: "channel-link", "data-view": channel.id, text: `# ${channel.name}` });
      link.addEventListener("click", () => showView(channel.id));
      channels.append(el("li", {}, link));
    }
    $("home-link").addEventListener("click", () => showView("home"));

    const hints = $("command-hints");
    for (const hint of state.info.command_hints || []) hints.append(el("option", { value: hint }));

    const functionSelect = $("alert-function");
    for (const name of state.info.alert_functions || []) functionSelect.append(el("option", { value: name, text: name }));
    $("aws-note").textContent = state.info.aws_note || "";
    const fire = (path, label) => async () => {
      const result = await run(label, () => post(path, { function: functionSelect.value }));
      if (result) announce(result.message || `${label}: sent.`);
    };
    $("fire-alarm").addEventListener("click", fire("alarm", "Firing the alarm"));
    $("fire-anomaly").addEventListener("click", fire("cost-anomaly", "Firing the cost anomaly"));


    $("modal-form").addEventListener("submit", submitModal);
    $("modal-close").addEventListener("click", closeModal);
    $("modal-x").addEventListener("click", closeModal);
    $("modal-backdrop").addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeModal();
      trapFocus(event, $("modal"));
    });
    for (const tab of [$("tab-home"), $("tab-about")]) {
      tab.addEventListener("click", () => selectTab(tab));
      tab.addEventListener("keydown", (event) => {
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          const other = tab === $("tab-home") ? $("tab-about") : $("tab-home");
          selectTab(other);
          other.focus();
        }
      });
    }

    state.user = state.info.users[0].id;
    $("user-role").textContent = state.info.users[0].role;
    showView(state.info.channels[0].id);
    markReady();
    poll();
  }

  start().catch((error) => announce(`The sandbox did not start: ${error.message}`, true));
})();
