// Renders Slack Block Kit JSON as accessible HTML. Everything user-provided goes through
// textContent or escapeHtml: cards carry function names and log text we do not control.
"use strict";

const BlockKit = (() => {
  function escapeHtml(text) {
    return String(text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  // How ids in mentions read; the page fills these in from the workspace's users and channels.
  const names = { user: (id) => id, channel: (id) => id };

  // The shortcodes tunebot's cards use, as Slack shows them; others stay as typed.
  const EMOJI = {
    white_check_mark: "\u2705", x: "\u274c", warning: "\u26a0\ufe0f", grey_question: "\u2754",
    tada: "\ud83c\udf89", stopwatch: "\u23f1\ufe0f", rotating_light: "\ud83d\udea8",
    money_with_wings: "\ud83d\udcb8", information_source: "\u2139\ufe0f",
    hourglass_flowing_sand: "\u23f3", hourglass: "\u231b", zzz: "\ud83d\udca4",
    no_entry: "\u26d4", mag: "\ud83d\udd0d", leftwards_arrow_with_hook: "\u21a9\ufe0f",
    bulb: "\ud83d\udca1", chart_with_downwards_trend: "\ud83d\udcc9", zap: "\u26a1",
  };

  function emoji(text) {
    return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  // <!date^epoch^format|fallback>: Slack shows the time in the reader's time zone.
  function dateToken(target, fallback) {
    const epoch = Number(target.split("^")[1]);
    if (!Number.isFinite(epoch)) return escapeHtml(fallback || "");
    const moment = new Date(epoch * 1000);
    const shown = moment.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    return `<time datetime="${moment.toISOString()}">${escapeHtml(shown)}</time>`;
  }

  // Slack's mrkdwn subset: *bold*, _italic_, ~strike~, `code`, ```blocks```, <url|label>,
  // > quotes and line breaks. Slack escapes &, < and > itself, so undo that first.
  function mrkdwnToHtml(source) {
    const raw = String(source).replace(/&lt;/g, "\u0001").replace(/&gt;/g, "\u0002").replace(/&amp;/g, "&");
    // Code is shown as written: no links, mentions or formatting inside it.
    const literal = (code) => escapeHtml(code.replace(/\u0001/g, "<").replace(/\u0002/g, ">"));
    const codeBlocks = [];
    let text = raw.replace(/```([\s\S]*?)```/g, (_, code) => {
      codeBlocks.push(code);
      return `\u0003${codeBlocks.length - 1}\u0003`;
    });
    const inlineCode = [];
    text = text.replace(/`([^`\n]+)`/g, (_, code) => {
      inlineCode.push(code);
      return `\u0005${inlineCode.length - 1}\u0005`;
    });
    const links = [];
    text = text.replace(/<([^<>|]+)(?:\|([^<>]+))?>/g, (_, target, label) => {
      links.push([target, label || target]);
      return `\u0004${links.length - 1}\u0004`;
    });
    text = emoji(escapeHtml(text)).replace(/\u0001/g, "&lt;").replace(/\u0002/g, "&gt;");
    text = text
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, "$1<strong>$2</strong>")
      .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, "$1<em>$2</em>")
      .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, "$1<del>$2</del>");
    text = text
      .split("\n")
      .map((line) => (line.startsWith("&gt; ") ? `<q class="quote">${line.slice(5)}</q>` : line))
      .join("<br>");
    text = text.replace(/\u0005(\d+)\u0005/g, (_, i) => `<code>${literal(inlineCode[+i])}</code>`);
    text = text.replace(/\u0004(\d+)\u0004/g, (_, i) => {
      const [target, label] = links[+i];
      if (target.startsWith("@")) return `<span class="mention">@${escapeHtml(names.user(target.slice(1)))}</span>`;
      if (target.startsWith("#")) return `<span class="mention">#${escapeHtml(label !== target ? label : names.channel(target.slice(1)))}</span>`;
      if (target.startsWith("!date^")) return dateToken(target, label);
      if (target.startsWith("!")) return `<span class="mention">@${escapeHtml(target.slice(1).split("^")[0])}</span>`;
      const safe = /^https?:\/\//.test(target) ? target : "#";
      return `<a href="${escapeHtml(safe)}" target="_blank" rel="noopener noreferrer">${escapeHtml(label)}</a>`;
    });
    return text.replace(/\u0003(\d+)\u0003/g, (_, i) => `<pre>${literal(codeBlocks[+i])}</pre>`);
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "html") node.innerHTML = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function textObject(object, tag = "span", extraClass = "") {
    if (!object) return el(tag);
    const cls = `text ${extraClass}`.trim();
    if (object.type === "mrkdwn") return el(tag, { class: cls, html: mrkdwnToHtml(object.text || "") });
    return el(tag, { class: cls, text: object.emoji === false ? object.text || "" : emoji(object.text || "") });
  }

  function plain(object) {
    if (!object) return "";
    const text = String(object.text || "");
    return object.type === "plain_text" && object.emoji !== false ? emoji(text) : text;
  }

  // ctx: { onAction(action, element), inputs: Map for modal input state, idPrefix }
  function button(element, blockId, ctx) {
    const style = element.style ? ` button-${element.style}` : "";
    const node = el("button", {
      type: "button",
      class: `block-button${style}`,
      "data-action-id": element.action_id,
      "aria-label": element.accessibility_label,
      text: plain(element.text),
    });
    if (element.url) {
      node.addEventListener("click", () => window.open(element.url, "_blank", "noopener"));
      return node;
    }
    node.addEventListener("click", () => {
      const action = {
        type: "button",
        action_id: element.action_id,
        block_id: blockId,
        text: element.text,
        value: element.value,
        style: element.style,
      };
      ctx.onAction(action, element, node);
    });
    return node;
  }

  function optionLabel(option) {
    return plain(option.text);
  }

  function select(element, blockId, ctx, labelText) {
    const id = `${ctx.idPrefix}-${blockId}-${element.action_id}`;
    const node = el("select", { id, class: "block-select", "aria-label": labelText || plain(element.placeholder) });
    node.append(el("option", { value: "", text: plain(element.placeholder) || "Choose…" }));
    const options = element.options || (element.option_groups || []).flatMap((g) => g.options);
    options.forEach((option, index) => {
      const selected = element.initial_option && element.initial_option.value === option.value;
      node.append(el("option", { value: String(index), selected, text: optionLabel(option) }));
    });
    const selectedOption = () => (node.value === "" ? null : options[+node.value]);
    if (ctx.inputs && ctx.inInput) {
      ctx.inputs.set(blockId, { action_id: element.action_id, read: () => ({ type: element.type, selected_option: selectedOption() }) });
    } else {
      node.addEventListener("change", () => {
        if (!selectedOption()) return;
        ctx.onAction({ type: element.type, action_id: element.action_id, block_id: blockId, selected_option: selectedOption() }, element, node);
      });
    }
    return node;
  }

  function overflow(element, blockId, ctx) {
    const wrapper = el("div", { class: "overflow" });
    const menuId = `${ctx.idPrefix}-${blockId}-menu`;
    const toggle = el("button", { type: "button", class: "block-button overflow-toggle", "aria-haspopup": "menu", "aria-expanded": "false", "aria-controls": menuId, "aria-label": "More actions", text: "⋯" });
    const menu = el("ul", { id: menuId, role: "menu", class: "overflow-menu", hidden: true });
    (element.options || []).forEach((option) => {
      const item = el("button", { type: "button", role: "menuitem", text: optionLabel(option) });
      item.addEventListener("click", () => {
        menu.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        ctx.onAction({ type: "overflow", action_id: element.action_id, block_id: blockId, selected_option: option }, element, item);
      });
      menu.append(el("li", { role: "none" }, item));
    });
    toggle.addEventListener("click", () => {
      menu.hidden = !menu.hidden;
      toggle.setAttribute("aria-expanded", String(!menu.hidden));
      if (!menu.hidden) menu.querySelector("button")?.focus();
    });
    menu.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        menu.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
    wrapper.append(toggle, menu);
    return wrapper;
  }

  function image(element, cls = "block-image") {
    return el("img", { class: cls, src: element.image_url, alt: element.alt_text || "" });
  }

  function interactive(element, blockId, ctx, labelText) {
    switch (element.type) {
      case "button":
        return button(element, blockId, ctx);
      case "static_select":
      case "external_select":
        return select(element, blockId, ctx, labelText);
      case "overflow":
        return overflow(element, blockId, ctx);
      case "image":
        return image(element, "accessory-image");
      default:
        return el("span", { class: "unsupported", text: `[${element.type}]` });
    }
  }

  function inputElement(block, blockId, ctx, labelId, errorId) {
    const element = block.element || {};
    const id = `${ctx.idPrefix}-${blockId}`;
    const described = errorId;
    if (element.type === "plain_text_input") {
      const field = element.multiline
        ? el("textarea", { id, rows: 3, "aria-describedby": described })
        : el("input", { id, type: "text", "aria-describedby": described });
      field.placeholder = plain(element.placeholder);
      if (element.initial_value) field.value = element.initial_value;
      if (!block.optional) field.required = true;
      ctx.inputs.set(blockId, { action_id: element.action_id, read: () => ({ type: "plain_text_input", value: field.value }) });
      return field;
    }
    if (element.type === "radio_buttons" || element.type === "checkboxes") {
      const multiple = element.type === "checkboxes";
      const group = el("div", { role: multiple ? "group" : "radiogroup", "aria-labelledby": labelId, class: "choice-group" });
      const boxes = (element.options || []).map((option, index) => {
        const choiceId = `${id}-${index}`;
        const initial = multiple
          ? (element.initial_options || []).some((o) => o.value === option.value)
          : element.initial_option && element.initial_option.value === option.value;
        const box = el("input", { id: choiceId, type: multiple ? "checkbox" : "radio", name: id, checked: initial });
        group.append(el("div", { class: "choice" }, box, el("label", { for: choiceId, text: optionLabel(option) })));
        return [box, option];
      });
      ctx.inputs.set(blockId, {
        action_id: element.action_id,
        read: () => {
          const chosen = boxes.filter(([box]) => box.checked).map(([, option]) => option);
          return multiple ? { type: "checkboxes", selected_options: chosen } : { type: "radio_buttons", selected_option: chosen[0] || null };
        },
      });
      return group;
    }
    const inner = { ...ctx, inInput: true };
    const node = interactive(element, blockId, inner, plain(block.label));
    node.id = id;
    return node;
  }

  function renderBlock(block, index, ctx) {
    const blockId = block.block_id || `b${index}`;
    switch (block.type) {
      case "header":
        return el("h3", { class: "block block-header", text: plain(block.text) });
      case "divider":
        return el("hr", { class: "block block-divider" });
      case "section": {
        const node = el("div", { class: "block block-section" });
        const body = el("div", { class: "section-body" });
        if (block.text) body.append(textObject(block.text, "div", "section-text"));
        if (block.fields && block.fields.length) {
          const fields = el("dl", { class: "section-fields" });
          for (const field of block.fields) fields.append(textObject(field, "div", "section-field"));
          body.append(fields);
        }
        node.append(body);
        if (block.accessory) node.append(el("div", { class: "section-accessory" }, interactive(block.accessory, blockId, ctx)));
        return node;
      }
      case "context": {
        const node = el("div", { class: "block block-context" });
        for (const element of block.elements || []) {
          node.append(element.type === "image" ? image(element, "context-image") : textObject(element, "span", "context-text"));
        }
        return node;
      }
      case "actions": {
        const node = el("div", { class: "block block-actions", role: "group", "aria-label": "Actions" });
        for (const element of block.elements || []) node.append(interactive(element, blockId, ctx));
        return node;
      }
      case "image":
        return el("figure", { class: "block block-image-wrap" }, image(block), block.title ? el("figcaption", { text: plain(block.title) }) : null);
      case "input": {
        if (!ctx.inputs) return el("div", { class: "unsupported", text: "[input outside a modal]" });
        const labelId = `${ctx.idPrefix}-${blockId}-label`;
        const errorId = `${ctx.idPrefix}-${blockId}-error`;
        const control = inputElement(block, blockId, ctx, labelId, errorId);
        const label = el("label", { id: labelId, class: "input-label", for: control.id, text: plain(block.label) });
        const node = el("div", { class: "block block-input", "data-block-id": blockId }, label);
        if (block.optional) label.append(el("span", { class: "optional", text: " (optional)" }));
        node.append(control);
        if (block.hint) node.append(el("p", { class: "input-hint", text: plain(block.hint) }));
        node.append(el("p", { id: errorId, class: "input-error", role: "alert" }));
        return node;
      }
      case "rich_text":
        return el("div", { class: "block", text: richTextPlain(block) });
      default:
        return el("div", { class: "block unsupported", text: `[${block.type} block]` });
    }
  }

  function richTextPlain(block) {
    const parts = [];
    const walk = (node) => {
      if (node.text) parts.push(node.text);
      for (const child of node.elements || []) walk(child);
    };
    walk(block);
    return parts.join("");
  }

  function render(blocks, ctx) {
    const container = el("div", { class: "blocks" });
    (blocks || []).forEach((block, index) => container.append(renderBlock(block, index, ctx)));
    return container;
  }

  return { render, mrkdwnToHtml, escapeHtml, el, plain, names, emoji };
})();
