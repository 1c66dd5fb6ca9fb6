/*! Real-estate assistant chat widget (source: frontend_widget/src/widget.js) */
// Plain JS, no dependencies. It mounts from configs queued by the loader (/embed/<slug>.js) or
// from the JSON config of the full-page chat (#rea-chat-config). Frames follow CONTRACTS.md,
// "Live chat". Server and visitor text only ever goes through textContent: never innerHTML.
(function (window, document) {
  "use strict";

  var api = window.RealEstateChat;
  if (api && api.mount) {
    // Loaded twice (two loaders on one page): the first copy mounts everything.
    api.drain();
    return;
  }

  var DEFAULT_COLOR = "#2563eb";
  var MAX_BACKOFF_MS = 30000;
  // No delta for this long: no AI reply is coming (a person has taken the conversation over).
  var REPLY_TIMEOUT_MS = 20000;
  var CLOSE_UNKNOWN_ORG = 4404;
  var CLOSE_ORIGIN = 4403;
  var ERRORS = {
    rate_limited: "You're sending messages a little quickly. Please wait a moment, then try again.",
    plan_limit: "Our assistant can't take more questions right now. Please try again later or contact the agency directly.",
    unavailable: "Sorry, the assistant is unavailable at the moment. Please try again in a little while.",
    invalid: "Sorry, that message couldn't be sent. Please try again."
  };

  var CSS = [
    ":host{all:initial}",
    "*,*::before,*::after{box-sizing:border-box}",
    ".root{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2933;",
    "-webkit-font-smoothing:antialiased;text-align:left}",
    ".sr{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);",
    "white-space:nowrap;border:0}",
    "button{font:inherit;cursor:pointer;margin:0}",
    "[hidden]{display:none!important}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;",
    "border:0;padding:0;background:var(--p);color:var(--on);box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;",
    "align-items:center;justify-content:center;transition:transform .15s}",
    ".launcher:hover{transform:scale(1.06)}",
    ".launcher svg{width:28px;height:28px}",
    ".launcher:focus-visible{outline:none;box-shadow:0 0 0 3px #fff,0 0 0 6px var(--p)}",
    ".badge{position:absolute;top:-3px;right:-3px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;",
    "background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center}",
    ".panel{position:fixed;right:20px;bottom:92px;z-index:2147483001;width:380px;max-width:calc(100vw - 40px);",
    "height:600px;max-height:calc(100vh - 112px);display:flex;flex-direction:column;background:#fff;",
    "border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.25);overflow:hidden}",
    ".page .panel{position:relative;right:auto;bottom:auto;z-index:auto;width:100%;max-width:none;height:100%;",
    "max-height:none;border-radius:0;box-shadow:none}",
    ".head{display:flex;align-items:center;gap:10px;padding:12px 12px 12px 14px;background:var(--p);color:var(--on)}",
    ".avatar{flex:none;width:38px;height:38px;border-radius:50%;background:#fff;color:var(--p);display:flex;",
    "align-items:center;justify-content:center;font-weight:700;font-size:17px;overflow:hidden}",
    ".avatar img{width:100%;height:100%;object-fit:contain}",
    ".who{flex:1;min-width:0}",
    ".title{margin:0;font-size:16px;font-weight:700;line-height:1.25;color:inherit}",
    ".sub{margin:0;font-size:12px;opacity:.85;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}",
    ".close{flex:none;border:0;background:transparent;color:inherit;width:38px;height:38px;border-radius:10px;",
    "display:flex;align-items:center;justify-content:center;padding:0}",
    ".close:hover{background:rgba(0,0,0,.14)}",
    ".close svg{width:20px;height:20px}",
    ".close:focus-visible{outline:2px solid var(--on);outline-offset:-2px}",
    ".status{margin:0;font-size:13px;padding:6px 14px;background:#fff7ed;color:#9a3412;border-bottom:1px solid #fed7aa}",
    ".status:empty{display:none}",
    ".log{flex:1;overflow-y:auto;padding:14px;display:flex;flex-direction:column;gap:10px;background:#f6f7f9;",
    "overscroll-behavior:contain}",
    ".log:focus-visible{outline:2px solid var(--p);outline-offset:-2px}",
    ".msg{display:flex;flex-direction:column;align-items:flex-start;max-width:88%}",
    ".msg.visitor{align-self:flex-end;align-items:flex-end}",
    ".bubble{padding:9px 12px;border-radius:16px;border-bottom-left-radius:4px;white-space:pre-wrap;",
    "overflow-wrap:anywhere;background:#fff;border:1px solid #e4e7eb;color:#1f2933}",
    ".visitor .bubble{background:var(--p);color:var(--on);border-color:transparent;border-radius:16px;",
    "border-bottom-right-radius:4px}",
    ".agent .bubble{border-color:var(--p)}",
    ".label{font-size:11px;color:#616e7c;margin:0 4px 3px}",
    ".interrupted .bubble{border-style:dashed}",
    ".note{align-self:center;max-width:92%;text-align:center;font-size:13px;color:#3e4c59;background:#e9ecf0;",
    "padding:6px 12px;border-radius:12px;margin:0}",
    ".dots{display:inline-flex;gap:4px;padding:13px 14px;background:#fff;border:1px solid #e4e7eb;border-radius:16px;",
    "border-bottom-left-radius:4px}",
    ".dots i{width:7px;height:7px;border-radius:50%;background:#9aa5b1;animation:rea-b 1.2s infinite ease-in-out}",
    ".dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}",
    "@keyframes rea-b{0%,80%,100%{transform:translateY(0);opacity:.45}40%{transform:translateY(-4px);opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.dots i{animation:none}.launcher{transition:none}}",
    ".cards{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-direction:column;gap:8px;width:100%;",
    "max-width:440px}",
    ".card{display:flex;gap:10px;text-decoration:none;color:#1f2933;background:#fff;border:1px solid #e4e7eb;",
    "border-radius:12px;overflow:hidden;width:100%;min-width:230px}",
    "a.card:hover{border-color:var(--p)}",
    "a.card:focus-visible{outline:2px solid var(--p);outline-offset:1px}",
    ".photo{flex:none;width:92px;min-height:84px;background:#e4e7eb;display:flex;align-items:center;",
    "justify-content:center;color:#9aa5b1}",
    ".photo img{width:100%;height:100%;object-fit:cover;display:block}",
    ".photo svg{width:30px;height:30px}",
    ".info{display:flex;flex-direction:column;justify-content:center;gap:1px;padding:8px 10px 8px 0;min-width:0}",
    ".price{font-weight:700;color:#111827}",
    ".ctitle{font-size:13px;line-height:1.3;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;",
    "overflow:hidden}",
    ".meta{font-size:12px;color:#616e7c}",
    ".tag{align-self:flex-start;font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.03em;",
    "color:var(--p)}",
    ".composer{display:flex;gap:8px;align-items:flex-end;margin:0;padding:10px;border-top:1px solid #e4e7eb;",
    "background:#fff}",
    ".composer textarea{flex:1;resize:none;border:1px solid #cbd2d9;border-radius:14px;padding:9px 12px;",
    "font:inherit;font-size:16px;line-height:1.35;height:42px;max-height:130px;color:#1f2933;background:#fff;",
    "margin:0}",
    ".composer textarea:focus{outline:2px solid var(--p);outline-offset:-1px;border-color:transparent}",
    ".send{flex:none;width:42px;height:42px;border:0;border-radius:50%;background:var(--p);color:var(--on);",
    "display:flex;align-items:center;justify-content:center;padding:0}",
    ".send svg{width:20px;height:20px}",
    ".send:focus-visible{outline:none;box-shadow:0 0 0 2px #fff,0 0 0 4px var(--p)}",
    "@media (max-width:480px){.bubble-mode .panel{top:0;left:0;right:0;bottom:0;width:auto;height:auto;",
    "max-width:none;max-height:none;border-radius:0}.bubble-mode.open .launcher{display:none}}"
  ].join("");

  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    send: "M4 12l16-8-6 16-2.5-6.5z",
    home: "M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z"
  };

  // ---- small helpers -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key) || attrs[key] === null || attrs[key] === undefined) {
        continue;
      }
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function icon(name, filled) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    var path = document.createElementNS(ns, "path");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", filled ? "currentColor" : "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  // Storage can throw (Safari private mode, sandboxed iframes, blocked cookies): the chat
  // still works, it just cannot resume after a reload.
  function load(kind, key) {
    try {
      return window[kind].getItem(key);
    } catch (e) {
      return null;
    }
  }

  function save(kind, key, value) {
    try {
      if (value === null) window[kind].removeItem(key);
      else window[kind].setItem(key, value);
    } catch (e) {
      /* storage unavailable: nothing to keep */
    }
  }

  function validColor(value) {
    return typeof value === "string" && /^#[0-9a-fA-F]{6}$/.test(value) ? value : DEFAULT_COLOR;
  }

  // Text on the brand color: dark on light brands, white on dark ones (WCAG relative luminance).
  function onColor(hex) {
    var lum = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2] > 0.36 ? "#111827" : "#ffffff";
  }

  function randomId() {
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function formatPrice(price, currency, listingType) {
    if (price === null || price === undefined || price === "") return "";
    var amount = Number(price);
    if (!isFinite(amount)) return "";
    var text;
    try {
      text = currency
        ? new Intl.NumberFormat(undefined, { style: "currency", currency: currency, maximumFractionDigits: 0 }).format(amount)
        : new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }).format(amount);
    } catch (e) {
      // An unknown currency code: still show the amount and the code.
      text = Math.round(amount).toLocaleString() + (currency ? " " + currency : "");
    }
    return listingType === "rent" ? text + " / month" : text;
  }

  function bedsText(bedrooms) {
    if (bedrooms === null || bedrooms === undefined || bedrooms === "") return "";
    var n = Number(bedrooms);
    if (!isFinite(n)) return "";
    if (n === 0) return "Studio";
    return n + (n === 1 ? " bed" : " beds");
  }

  // ---- one widget per organization ----------------------------------------------------------

  function Widget(config) {
    this.cfg = config;
    this.slug = String(config.slug || "");
    this.page = config.mode === "page";
    this.persona = config.personaName || "Assistant";
    this.tokenKey = "rea-chat:" + this.slug + ":conversation";
    this.visitorKey = "rea-chat:" + this.slug + ":visitor";
    this.openKey = "rea-chat:" + this.slug + ":open";
    this.ws = null;
    this.ready = false;
    this.fatal = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.replyTimer = null;
    this.busy = false;
    this.streams = {};
    this.seen = {};
    this.outbox = [];
    this.unread = 0;
    this.isOpen = false;
    this.build();
    if (this.page) {
      this.connect();
    } else if (load("sessionStorage", this.openKey)) {
      // The visitor had the chat open on the previous page of the site: keep it open.
      this.open(false);
    } else if (load("localStorage", this.tokenKey)) {
      // A returning visitor: reconnect so that an agent's replies reach the closed launcher.
      this.connect();
    }
  }

  Widget.prototype.build = function () {
    var self = this;
    var cfg = this.cfg;
    var color = validColor(cfg.primaryColor);
    var container = (cfg.containerId && document.getElementById(cfg.containerId)) || document.body;

    this.host = document.createElement("rea-chat-widget");
    this.host.setAttribute("data-org", this.slug);
    // Open mode: the host page still cannot style it, but tests and assistive tools can reach it.
    var shadow = this.host.attachShadow({ mode: "open" });
    try {
      // A constructed stylesheet is not an inline <style>, so a host page's CSP style-src allows it.
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      shadow.adoptedStyleSheets = [sheet];
    } catch (e) {
      shadow.appendChild(el("style", { text: CSS }));
    }

    this.root = el("div", { class: "root " + (this.page ? "page" : "bubble-mode") });
    this.root.style.setProperty("--p", color);
    this.root.style.setProperty("--on", onColor(color));
    this.root.style.height = this.page ? "100%" : "";
    if (this.page) this.host.style.cssText = "display:block;height:100%";

    // Header: logo (or the persona's initial), persona name, organization name, close.
    var avatar = el("div", { class: "avatar", "aria-hidden": "true", text: this.persona.charAt(0).toUpperCase() });
    var logo = this.safeUrl(cfg.logoUrl);
    if (logo) {
      var img = el("img", { src: logo, alt: "" });
      img.addEventListener("error", function () {
        avatar.textContent = self.persona.charAt(0).toUpperCase();
      });
      avatar.textContent = "";
      avatar.appendChild(img);
    }
    this.closeButton = this.page
      ? null
      : el("button", { type: "button", class: "close", "aria-label": "Close chat" }, [icon("close")]);
    var head = el("div", { class: "head" }, [
      avatar,
      el("div", { class: "who" }, [
        el("h2", { class: "title", id: "rea-title", text: this.persona }),
        el("p", { class: "sub", text: cfg.name || "" })
      ]),
      this.closeButton
    ]);

    this.status = el("p", { class: "status", role: "status" });
    this.log = el("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation with " + this.persona,
      tabindex: "0"
    });
    this.input = el("textarea", {
      id: "rea-input",
      rows: "1",
      maxlength: "2000",
      placeholder: "Type your message…",
      autocomplete: "off",
      enterkeyhint: "send"
    });
    this.form = el("form", { class: "composer" }, [
      el("label", { class: "sr", for: "rea-input", text: "Message " + this.persona }),
      this.input,
      el("button", { type: "submit", class: "send", "aria-label": "Send message" }, [icon("send", true)])
    ]);

    this.panel = el(
      "div",
      { class: "panel", id: "rea-panel", role: this.page ? "region" : "dialog", "aria-labelledby": "rea-title" },
      [head, this.status, this.log, this.form]
    );

    if (!this.page) {
      this.badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" });
      this.launcher = el(
        "button",
        { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "rea-panel" },
        [icon("chat"), this.badge]
      );
      this.labelLauncher();
      this.panel.hidden = true;
      this.root.appendChild(this.launcher);
      this.launcher.addEventListener("click", function () {
        if (self.isOpen) self.close();
        else self.open(true);
      });
      this.closeButton.addEventListener("click", function () {
        self.close();
      });
      this.panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape") {
          event.preventDefault();
          self.close();
        }
      });
    }
    this.root.appendChild(this.panel);
    shadow.appendChild(this.root);

    this.form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    this.input.addEventListener("keydown", function (event) {
      // Enter sends, Shift+Enter is a new line; never while an IME is composing a character.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        self.submit();
      }
    });
    this.input.addEventListener("input", function () {
      self.fitInput();
    });
    window.addEventListener("online", function () {
      if (!self.ws && !self.fatal && self.retryTimer) self.connect();
    });

    this.showGreeting(cfg.greeting);
    container.appendChild(this.host);
  };

  Widget.prototype.safeUrl = function (value) {
    if (!value || typeof value !== "string") return null;
    try {
      // Relative links are the platform's (the embedding page is someone else's site).
      var url = new URL(value, this.cfg.baseUrl || window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  };

  Widget.prototype.labelLauncher = function () {
    var label = (this.isOpen ? "Close chat with " : "Open chat with ") + this.persona;
    if (this.unread && !this.isOpen) label += " (" + this.unread + " new)";
    this.launcher.setAttribute("aria-label", label);
    this.badge.textContent = String(this.unread);
    this.badge.hidden = !this.unread || this.isOpen;
  };

  Widget.prototype.open = function (focus) {
    this.isOpen = true;
    this.unread = 0;
    this.panel.hidden = false;
    this.root.classList.add("open");
    this.launcher.setAttribute("aria-expanded", "true");
    this.labelLauncher();
    save("sessionStorage", this.openKey, "1");
    this.connect();
    this.scrollDown(true);
    if (focus) this.input.focus();
  };

  Widget.prototype.close = function () {
    this.isOpen = false;
    this.panel.hidden = true;
    this.root.classList.remove("open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.labelLauncher();
    save("sessionStorage", this.openKey, null);
    this.launcher.focus();
  };

  Widget.prototype.fitInput = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight + 2, 130) + "px";
  };

  // ---- the log -------------------------------------------------------------------------------

  Widget.prototype.nearBottom = function () {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
  };

  Widget.prototype.scrollDown = function (force) {
    if (force || this.stick) this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.append = function (node) {
    this.stick = this.nearBottom();
    if (this.typing && this.typing.parentNode === this.log && node !== this.typing) {
      this.log.insertBefore(node, this.typing);
    } else {
      this.log.appendChild(node);
    }
    this.scrollDown(false);
    return node;
  };

  Widget.prototype.whoLabel = function (role, message) {
    if (role === "visitor") return "You";
    if (role === "agent") return (message && (message.author_name || message.author)) || "Agent";
    return this.persona;
  };

  Widget.prototype.bubble = function (role, text, message) {
    var body = el("div", { class: "bubble", text: text || "" });
    var who = this.whoLabel(role, message);
    var node = el("div", { class: "msg " + (role === "visitor" ? "visitor" : role === "agent" ? "agent" : "assistant") }, [
      role === "agent" ? el("p", { class: "label", "aria-hidden": "true", text: who }) : null,
      el("span", { class: "sr", text: who + ": " }),
      body
    ]);
    node.body = body;
    return node;
  };

  Widget.prototype.showGreeting = function (greeting) {
    if (greeting) this.append(this.bubble("assistant", greeting));
  };

  Widget.prototype.note = function (text) {
    this.append(el("p", { class: "note", text: text }));
  };

  Widget.prototype.cards = function (citations) {
    var self = this;
    var list = el("ul", { class: "cards", "aria-label": "Listings" });
    (citations || []).forEach(function (c) {
      if (!c || typeof c !== "object") return;
      var url = self.safeUrl(c.url);
      var image = self.safeUrl(c.image);
      var photo = el("div", { class: "photo" });
      var placeholder = function () {
        photo.textContent = "";
        photo.appendChild(icon("home"));
      };
      if (image) {
        var img = el("img", { src: image, alt: "", loading: "lazy", decoding: "async" });
        img.addEventListener("error", placeholder);
        photo.appendChild(img);
      } else {
        placeholder();
      }
      var meta = [bedsText(c.bedrooms), c.city ? String(c.city) : ""].filter(Boolean).join(" · ");
      var price = formatPrice(c.price, c.currency, c.listing_type);
      var tag = c.listing_type === "rent" ? "For rent" : c.listing_type === "sale" ? "For sale" : "";
      var info = el("div", { class: "info" }, [
        tag ? el("span", { class: "tag", text: tag }) : null,
        price ? el("span", { class: "price", text: price }) : null,
        el("span", { class: "ctitle", text: c.title ? String(c.title) : "Listing" }),
        meta ? el("span", { class: "meta", text: meta }) : null,
        url ? el("span", { class: "sr", text: " (opens in a new tab)" }) : null
      ]);
      var card = url
        ? el("a", { class: "card", href: url, target: "_blank", rel: "noopener noreferrer" }, [photo, info])
        : el("div", { class: "card" }, [photo, info]);
      if (c.property_id !== undefined && c.property_id !== null) card.setAttribute("data-property-id", String(c.property_id));
      list.appendChild(el("li", {}, [card]));
    });
    return list.childNodes.length ? list : null;
  };

  Widget.prototype.addMessage = function (message) {
    if (!message || typeof message !== "object") return null;
    if (message.id !== undefined && message.id !== null) {
      if (this.seen[message.id]) return null;
      this.seen[message.id] = true;
    }
    var node = this.bubble(message.role, String(message.text || ""), message);
    var cards = message.role === "visitor" ? null : this.cards(message.citations);
    if (cards) node.appendChild(cards);
    return this.append(node);
  };

  Widget.prototype.setTyping = function (on) {
    if (!on) {
      if (this.typing && this.typing.parentNode) this.typing.parentNode.removeChild(this.typing);
      return;
    }
    if (!this.typing) {
      this.typing = el("div", { class: "msg assistant" }, [
        el("span", { class: "sr", text: this.persona + " is typing…" }),
        el("span", { class: "dots", "aria-hidden": "true" }, [el("i"), el("i"), el("i")])
      ]);
    }
    this.stick = this.nearBottom();
    this.log.appendChild(this.typing);
    this.scrollDown(false);
  };

  Widget.prototype.endStreams = function (interrupted) {
    var id;
    for (id in this.streams) {
      if (Object.prototype.hasOwnProperty.call(this.streams, id) && interrupted) {
        this.streams[id].classList.add("interrupted");
      }
    }
    this.streams = {};
    this.log.setAttribute("aria-busy", "false");
  };

  // ---- the websocket -------------------------------------------------------------------------

  Widget.prototype.connect = function () {
    var self = this;
    if (this.ws || this.fatal) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    var url = this.cfg.wsUrl;
    var token = load("localStorage", this.tokenKey);
    var visitor = load("localStorage", this.visitorKey);
    if (!visitor) {
      visitor = randomId();
      save("localStorage", this.visitorKey, visitor);
    }
    var query = [];
    if (token) query.push("conversation=" + encodeURIComponent(token));
    query.push("visitor=" + encodeURIComponent(visitor));
    url += (url.indexOf("?") < 0 ? "?" : "&") + query.join("&");
    var ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onmessage = function (event) {
      if (self.ws !== ws) return;
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame === "object") self.onFrame(frame);
    };
    ws.onclose = function (event) {
      if (self.ws !== ws) return;
      self.ws = null;
      self.onClosed(event.code);
    };
  };

  Widget.prototype.onClosed = function (code) {
    var wasWaiting = this.busy;
    this.ready = false;
    this.busy = false;
    clearTimeout(this.replyTimer);
    this.setTyping(false);
    this.endStreams(true);
    if (code === CLOSE_UNKNOWN_ORG || code === CLOSE_ORIGIN) {
      // Retrying cannot help: the organization is unknown or this site is not allowed.
      this.fatal = true;
      this.status.textContent = "Chat is not available on this site.";
      return;
    }
    if (wasWaiting && !this.outbox.length) this.note("The connection dropped before the reply arrived. Please ask again.");
    this.status.textContent = "Connection lost. Reconnecting…";
    this.retry();
  };

  Widget.prototype.retry = function () {
    var self = this;
    if (this.retryTimer || this.fatal) return;
    // Exponential backoff with jitter (1 s, 2 s, 4 s … 30 s) so a restarted server is not stampeded.
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, this.attempt)) * (0.75 + Math.random() * 0.5);
    this.attempt += 1;
    this.retryTimer = setTimeout(function () {
      self.retryTimer = null;
      self.connect();
    }, delay);
  };

  // The server takes one message at a time (it answers "invalid" while a reply is streaming), so
  // messages typed meanwhile wait here, already shown in the log, and go out one per reply.
  Widget.prototype.flush = function () {
    if (this.busy || !this.outbox.length) return;
    if (!this.ready || !this.ws || this.ws.readyState !== 1) {
      this.connect();
      return;
    }
    var item = this.outbox.shift();
    this.ws.send(JSON.stringify({ type: "message", text: item.text, client_id: item.clientId }));
    this.busy = true;
    this.setTyping(true);
    this.waitReply();
  };

  Widget.prototype.waitReply = function () {
    var self = this;
    clearTimeout(this.replyTimer);
    this.replyTimer = setTimeout(function () {
      self.replyEnded();
    }, REPLY_TIMEOUT_MS);
  };

  Widget.prototype.replyEnded = function () {
    clearTimeout(this.replyTimer);
    this.busy = false;
    this.setTyping(false);
    this.flush();
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) return;
    var item = { text: text, clientId: randomId() };
    item.node = this.bubble("visitor", text);
    this.stick = true;
    this.append(item.node);
    this.scrollDown(true);
    this.input.value = "";
    this.fitInput();
    this.outbox.push(item);
    this.flush();
  };

  Widget.prototype.onFrame = function (frame) {
    var handler = this["on_" + frame.type];
    if (typeof handler === "function" && Object.prototype.hasOwnProperty.call(Widget.prototype, "on_" + frame.type)) {
      handler.call(this, frame);
    }
  };

  Widget.prototype.on_conversation = function (frame) {
    var self = this;
    if (typeof frame.conversation === "string" && frame.conversation) save("localStorage", this.tokenKey, frame.conversation);
    this.ready = true;
    this.attempt = 0;
    this.status.textContent = "";
    // The server's history is the truth: redraw it (after a reconnect it may hold replies we missed).
    this.setTyping(false);
    this.log.textContent = "";
    this.seen = {};
    this.showGreeting(frame.greeting || this.cfg.greeting);
    (Array.isArray(frame.messages) ? frame.messages : []).forEach(function (message) {
      self.addMessage(message);
    });
    // Then what the visitor wrote while offline, sent now.
    this.outbox.forEach(function (item) {
      self.append(item.node);
    });
    this.flush();
    this.scrollDown(true);
  };

  Widget.prototype.on_delta = function (frame) {
    var id = frame.message_id;
    var node = this.streams[id];
    this.waitReply();
    if (!node) {
      this.setTyping(false);
      node = this.streams[id] = this.append(this.bubble("assistant", ""));
      // Screen readers wait for the whole reply rather than reading every fragment.
      this.log.setAttribute("aria-busy", "true");
    }
    this.stick = this.nearBottom();
    node.body.appendChild(document.createTextNode(String(frame.text || "")));
    this.scrollDown(false);
  };

  Widget.prototype.on_done = function (frame) {
    var id = frame.message_id;
    var node = this.streams[id];
    delete this.streams[id];
    if (id !== undefined && id !== null) this.seen[id] = true;
    if (!node) node = this.append(this.bubble("assistant", ""));
    this.stick = this.nearBottom();
    node.body.textContent = String(frame.text || "");
    var cards = this.cards(frame.citations);
    if (cards) node.appendChild(cards);
    if (!Object.keys(this.streams).length) this.log.setAttribute("aria-busy", "false");
    this.scrollDown(false);
    this.replyEnded();
  };

  Widget.prototype.on_message = function (frame) {
    var message = frame.message;
    if (this.addMessage(message) && !this.page && !this.isOpen) {
      this.unread += 1;
      this.labelLauncher();
    }
    // A person answered: whatever the AI would have said is not coming.
    if (this.busy && message && message.role === "agent") this.replyEnded();
  };

  Widget.prototype.on_error = function (frame) {
    this.endStreams(frame.code === "unavailable");
    this.note(ERRORS[frame.code] || String(frame.detail || "Sorry, something went wrong. Please try again."));
    this.replyEnded();
  };

  // ---- public API ----------------------------------------------------------------------------

  var instances = {};

  function mount(config) {
    if (!config || !config.slug || !config.wsUrl) return null;
    if (!instances[config.slug]) instances[config.slug] = new Widget(config);
    return instances[config.slug];
  }

  function drain() {
    var queue = window.RealEstateChatQueue || [];
    while (queue.length) mount(queue.shift());
  }

  window.RealEstateChat = { mount: mount, drain: drain, instances: instances, version: "1" };

  function start() {
    var node = document.getElementById("rea-chat-config");
    if (node) {
      try {
        mount(JSON.parse(node.textContent));
      } catch (e) {
        /* a broken page config: nothing to mount */
      }
    }
    drain();
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})(window, document);
