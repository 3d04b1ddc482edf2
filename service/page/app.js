// tokenbench's teaching page: login, silent refresh, logout, the token inspector and the attack panel.
//
// The access token lives in the variable `session.access` of this module and nowhere else; the refresh
// token is an HttpOnly cookie this script cannot read. Every request to a cookie route carries the header
// X-Requested-With, which the service requires (a page on another site cannot send it).

const CSRF = { "X-Requested-With": "fetch" };
const channel = "BroadcastChannel" in window ? new BroadcastChannel("tokenbench") : null;
const tab = Math.random().toString(36).slice(2, 6);

const session = { access: null, expiresAt: 0, user: null, format: null };
let refreshing = null; // the one refresh in flight in this tab

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ---------------------------------------------------------------- the request log

function log(entry) {
  const { method, path, status, code, note, kind } = entry;
  const item = el("li", { class: `entry ${kind || (status < 300 ? "ok" : "fail")}` });
  item.append(
    el("span", { class: "method", text: method }),
    el("span", { class: "path", text: path }),
    el("span", { class: "status", text: String(status) }),
  );
  if (code) item.append(el("code", { class: "code", text: code }));
  if (note) item.append(el("span", { class: "note", text: note }));
  const list = $("log");
  list.prepend(item);
  while (list.children.length > 12) list.lastChild.remove();
  return item;
}

async function errorCode(response) {
  try {
    const body = await response.clone().json();
    return typeof body.code === "string" ? body.code : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- tokens

function accept(body, how) {
  session.access = body.access_token;
  session.expiresAt = Date.now() + body.expires_in * 1000;
  session.format = body.format;
  $("running-format").textContent = body.format;
  document.body.dataset.signedIn = "true";
  if (how) document.body.dataset.lastRefresh = how;
}

function forget(reason) {
  session.access = null;
  session.user = null;
  session.expiresAt = 0;
  document.body.dataset.signedIn = "false";
  showUser(reason);
  renderInspector(null);
}

// POST /auth/refresh through the cookie; one at a time per tab. Returns true when signed in.
function refresh(reason) {
  if (!refreshing) {
    refreshing = (async () => {
      const response = await fetch("/auth/refresh", { method: "POST", headers: CSRF });
      const code = await errorCode(response);
      if (response.ok) {
        const how = response.headers.get("X-Refresh-Rotation") || "rotated";
        accept(await response.json(), how);
        const note = how === "grace-retry"
          ? `${reason}: grace retry, same successor as the tab that rotated`
          : `${reason}: this request rotated the family`;
        log({ method: "POST", path: "/auth/refresh", status: response.status, note, kind: how });
        return true;
      }
      log({ method: "POST", path: "/auth/refresh", status: response.status, code, note: reason });
      return false;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

// A call with the access token; on 401 token_expired, refresh silently and retry once.
async function call(path, options = {}, retried = false) {
  const headers = { ...(options.headers || {}) };
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  const response = await fetch(path, { ...options, headers });
  const code = await errorCode(response);
  if (response.status === 401 && code === "token_expired" && !retried) {
    log({ method: options.method || "GET", path, status: 401, code, note: "access token expired" });
    if (await refresh("silent refresh")) return call(path, options, true);
    forget("Signed out: the refresh session is gone");
    return response;
  }
  log({ method: options.method || "GET", path, status: response.status, code, note: retried ? "retried after refresh" : "" });
  return response;
}

// ---------------------------------------------------------------- what the page shows

function showUser(text) {
  $("who").textContent = text;
  const signedIn = Boolean(session.access);
  for (const id of ["call-me", "call-admin", "refresh", "refresh-all", "logout", "logout-all"]) {
    $(id).disabled = !signedIn;
  }
  $("signin").classList.toggle("done", signedIn);
}

function showStorage() {
  $("document-cookie").textContent = document.cookie === ""
    ? '"" (empty: the refresh cookie is HttpOnly)'
    : JSON.stringify(document.cookie);
  const stored = localStorage.length + sessionStorage.length;
  $("web-storage").textContent = stored === 0
    ? "localStorage and sessionStorage are empty"
    : `${stored} item(s): this page wrote none`;
  const left = Math.round((session.expiresAt - Date.now()) / 1000);
  $("expires").textContent = session.access
    ? (left > 0 ? `access token: ${left} s` : "access token: expired (the next call refreshes it)")
    : "-";
}

async function whoAmI() {
  const response = await call("/me");
  if (response.ok) {
    const me = await response.json();
    session.user = me;
    showUser(`Signed in as ${me.username} (${me.role}) · tab ${tab}`);
  }
  return response;
}

// ---------------------------------------------------------------- the inspector

function tokenView(view) {
  const wrap = el("p", { class: "token", "aria-label": `${view.format} token, coloured by part` });
  for (const span of view.spans) {
    const title = span.role === "separator" ? "" : `${span.part}: ${span.bytes} bytes`;
    wrap.append(el("span", { class: `part ${span.role}`, title, "data-part": span.part, text: span.text }));
  }
  return wrap;
}

// One claim per line, arrays kept on their line: easy to compare across the format cards.
function prettyClaims(claims) {
  const show = (value) => (Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(", ")}]` : JSON.stringify(value));
  const lines = Object.entries(claims).map(([name, value]) => `  ${JSON.stringify(name)}: ${show(value)}`);
  return `{\n${lines.join(",\n")}\n}`;
}

function claimsView(report) {
  if (!report) return el("p", { class: "error", text: "unreadable" });
  if (report.claims === "encrypted") {
    return el("p", { class: "encrypted", text: "encrypted, only the server can read this" });
  }
  return el("pre", { class: "claims", text: prettyClaims(report.claims) });
}

// The token's length as a bar of its parts, coloured like the token, scaled to the longest token.
function sizeBar(view, longest) {
  const bar = el("div", { class: "bar", role: "img", "aria-label": `${view.token.length} bytes` });
  for (const span of view.spans) {
    if (span.role === "separator") continue;
    const piece = el("span", { class: `part ${span.role}`, title: `${span.part}: ${span.text.length} chars` });
    piece.style.width = `${(span.text.length / longest) * 100}%`;
    bar.append(piece);
  }
  return bar;
}

function partsTable(report) {
  const table = el("table", { class: "parts" });
  table.append(el("thead", {}, el("tr", {}, el("th", { text: "part" }), el("th", { text: "bytes" }), el("th", { text: "on the wire" }))));
  const body = el("tbody");
  for (const part of report.parts) {
    body.append(el("tr", {},
      el("td", { text: part.name }),
      el("td", { text: String(part.decoded_bytes) }),
      el("td", { text: part.wire_bytes === null ? "inside the body" : `${part.wire_bytes} chars` })));
  }
  table.append(body);
  return table;
}

function envelopeOf(report) {
  if (!report) return "-";
  if (report.header) return JSON.stringify(report.header);
  if (report.footer) return JSON.stringify(report.footer);
  return "-";
}

function renderCurrent(view) {
  const box = $("current");
  box.replaceChildren();
  const report = view.report;
  box.append(
    el("h3", { text: `Your access token: ${view.format}, ${view.token.length} bytes` }),
    tokenView(view),
  );
  if (!report) {
    box.append(el("p", { class: "error", text: view.problem || "unreadable" }));
    return;
  }
  const facts = el("dl", { class: "facts" });
  const add = (term, value) => facts.append(el("dt", { text: term }), el("dd", {}, value));
  add("kind", report.kind || "bound by the implicit assertion (never sent)");
  add("key id", el("code", { text: report.key_id || "-" }));
  add(report.header ? "header" : "footer", el("code", { text: envelopeOf(report) }));
  add("claims", claimsView(report));
  add("sizes", partsTable(report));
  box.append(facts);
}

// What differs between formats, read from each report (no format is named here).
function differences(view) {
  const report = view.report;
  if (!report) return [];
  const kind = report.header && report.header.typ
    ? `header typ ${report.header.typ}`
    : "implicit assertion (not sent)";
  let times = "encrypted";
  if (report.claims !== "encrypted") {
    times = typeof report.claims.exp === "number" ? "NumericDate integers" : "RFC 3339 strings";
  }
  const proof = view.spans.filter((s) => s.role === "proof").map((s) => `${s.part} ${s.bytes} B`).join(", ");
  return [["kind", kind], ["times", times], ["proof", proof || "-"]];
}

function renderCompare(views) {
  const grid = $("compare");
  grid.replaceChildren();
  const longest = Math.max(...views.map((v) => v.token.length));
  for (const view of views) {
    const card = el("article", { class: `format-card${view.running ? " running" : ""}`, "data-format": view.format });
    card.append(
      el("h4", {}, el("span", { text: view.format }), el("span", { class: "size", text: `${view.token.length} B` })),
      sizeBar(view, longest),
      el("p", { class: "tag", text: view.running ? "running: this is your token" : "would carry the same claims" }),
      tokenView(view),
    );
    const facts = el("dl", { class: "diff" });
    for (const [term, value] of differences(view)) facts.append(el("dt", { text: term }), el("dd", { text: value }));
    card.append(
      facts,
      claimsView(view.report),
      el("p", { class: "kid", text: `key id ${view.report ? view.report.key_id || "-" : "-"}` }),
    );
    grid.append(card);
  }
}

function renderInspector(data) {
  $("inspector-body").hidden = !data;
  $("inspector-empty").hidden = Boolean(data);
  if (!data) return;
  renderCurrent(data.formats.find((v) => v.running));
  renderCompare(data.formats);
}

async function inspect() {
  const response = await call("/page/inspect");
  if (response.ok) renderInspector(await response.json());
}

// ---------------------------------------------------------------- attacks

const b64u = {
  encode(bytes) {
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  },
  decode(text) {
    const raw = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  },
};
const utf8 = { encode: (s) => new TextEncoder().encode(s), decode: (b) => new TextDecoder().decode(b) };
const isJwt = (token) => !token.startsWith("v");

function forgeNone(token) {
  if (isJwt(token)) {
    const [header, payload] = token.split(".");
    const h = JSON.parse(utf8.decode(b64u.decode(header)));
    const claims = JSON.parse(utf8.decode(b64u.decode(payload)));
    return [b64u.encode(utf8.encode(JSON.stringify({ ...h, alg: "none" }))),
      b64u.encode(utf8.encode(JSON.stringify({ ...claims, role: "admin" }))), ""].join(".");
  }
  // PASETO has no unsigned mode; the closest forgery is a made-up purpose with bare claims.
  return `v4.none.${b64u.encode(utf8.encode(JSON.stringify({ sub: session.user?.username, role: "admin" })))}`;
}

function tamper(token) {
  if (isJwt(token)) {
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(utf8.decode(b64u.decode(payload)));
    return [header, b64u.encode(utf8.encode(JSON.stringify({ ...claims, role: "admin" }))), signature].join(".");
  }
  const [version, purpose, body, footer] = token.split(".");
  const bytes = b64u.decode(body);
  if (purpose === "public") { // message || 64-byte signature: change the message, keep the signature
    const message = JSON.parse(utf8.decode(bytes.slice(0, -64)));
    const forged = utf8.encode(JSON.stringify({ ...message, role: "admin" }));
    const out = new Uint8Array(forged.length + 64);
    out.set(forged);
    out.set(bytes.slice(-64), forged.length);
    return [version, purpose, b64u.encode(out), footer].filter((s) => s !== undefined).join(".");
  }
  bytes[40] ^= 1; // v4.local: flip one bit of the ciphertext (claims are not readable to change)
  return [version, purpose, b64u.encode(bytes), footer].filter((s) => s !== undefined).join(".");
}

async function specimen(name) {
  const response = await call(`/page/lab/${name}`, { method: "POST" });
  return response.ok ? (await response.json()).token : null;
}

const ATTACKS = [
  {
    id: "JWT-ALG-NONE",
    name: "alg=none",
    sends: "your token re-written unsigned (alg none, role admin) to /admin/users",
    expect: "401",
    run: async () => bearer("/admin/users", forgeNone(session.access)),
  },
  {
    id: "JWT-SIG-NOT-VERIFIED",
    name: "tampered claim",
    sends: "your token with role admin (v4.local: one ciphertext bit flipped), signature kept",
    expect: "401 token_bad_signature",
    run: async () => bearer("/admin/users", tamper(session.access)),
  },
  {
    id: "CLAIM-EXP-PAST",
    name: "expired token",
    sends: "a token of yours, validly signed, that expired a day ago, to /me",
    expect: "401 token_expired",
    run: async () => bearer("/me", await specimen("expired")),
  },
  {
    id: "TOKEN-TYPE-CONFUSION",
    name: "refresh token as access token",
    sends: "a validly signed refresh token in Authorization: Bearer, to /me",
    expect: "401 token_wrong_kind",
    run: async () => bearer("/me", await specimen("wrong-kind")),
  },
  {
    id: "REFRESH-REPLAY-AFTER-ROTATION",
    name: "replayed refresh token",
    sends: "your refresh cookie again after it was rotated and the grace window closed",
    expect: "401 token_revoked",
    run: replay,
  },
];

async function bearer(path, token) {
  if (!token) return { status: 0, code: "no token to send" };
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  const code = await errorCode(response);
  log({ method: "GET", path, status: response.status, code, note: "attack", kind: "attack" });
  return { status: response.status, code };
}

async function replay(row) {
  // The server plays the thief: it rotates your refresh token and puts the used-up copy back in the cookie.
  const rewind = await fetch("/auth/lab/rewind", { method: "POST", headers: CSRF });
  if (!rewind.ok) return { status: rewind.status, code: await errorCode(rewind) };
  const { grace } = await rewind.json();
  const got = row.querySelector(".got");
  for (let left = grace + 1; left > 0; left -= 1) {
    got.textContent = `waiting out the grace window: ${left} s`;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const response = await fetch("/auth/refresh", { method: "POST", headers: CSRF });
  const code = await errorCode(response);
  log({ method: "POST", path: "/auth/refresh", status: response.status, code, note: "replayed after rotation", kind: "attack" });
  if (response.status === 401) {
    forget("Signed out: reuse detection revoked the whole family, your session included");
  }
  return { status: response.status, code };
}

function matrixLink(id) {
  return el("a", { href: `/page/failure-modes.md#:~:text=${encodeURIComponent("`" + id + "`")}`, target: "_blank", rel: "noopener", text: id });
}

function renderAttacks() {
  const rows = $("attack-rows");
  for (const attack of ATTACKS) {
    const button = el("button", { type: "button", class: "attack", text: attack.name, disabled: "" });
    const row = el("tr", { "data-attack": attack.id },
      el("td", {}, button),
      el("td", { text: attack.sends }),
      el("td", { class: "expect", text: attack.expect }),
      el("td", { class: "got", text: "-" }),
      el("td", {}, matrixLink(attack.id)));
    button.addEventListener("click", async () => {
      button.disabled = true;
      const outcome = await attack.run(row);
      const got = outcome.code ? `${outcome.status} ${outcome.code}` : String(outcome.status);
      row.querySelector(".got").textContent = got;
      const refused = outcome.status >= 400 && outcome.status < 500;
      row.dataset.outcome = refused ? "refused" : "accepted";
      button.disabled = !session.access;
    });
    rows.append(row);
  }
}

function enableAttacks() {
  for (const button of document.querySelectorAll("button.attack")) button.disabled = !session.access;
}

// ---------------------------------------------------------------- wiring

async function afterSignIn() {
  await whoAmI();
  await inspect();
  enableAttacks();
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const username = $("username").value;
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username, password: $("password").value }),
  });
  const code = await errorCode(response);
  log({ method: "POST", path: "/auth/login", status: response.status, code });
  $("password").value = "";
  if (!response.ok) {
    $("login-error").textContent = code === "invalid_credentials" ? "Wrong user name or password." : `Login failed: ${code}`;
    return;
  }
  accept(await response.json());
  await afterSignIn();
}

// Log out here (the cookie's family) or everywhere (every family of the user: needs the access token,
// refreshed silently first if it has expired). This tab forgets its access token either way.
async function logout(everywhere) {
  let response;
  if (everywhere) {
    response = await call("/auth/logout-all", { method: "POST", headers: CSRF });
  } else {
    response = await fetch("/auth/logout", { method: "POST", headers: CSRF });
    log({ method: "POST", path: "/auth/logout", status: response.status, code: await errorCode(response) });
  }
  const done = everywhere ? "Signed out everywhere" : "Signed out";
  forget(response.ok ? done : `Signed out here; the server answered ${response.status}`);
  enableAttacks();
  if (channel && response.ok) channel.postMessage({ type: "logout", everywhere, from: tab });
}

function wire() {
  $("login-form").addEventListener("submit", login);
  $("call-me").addEventListener("click", () => whoAmI());
  $("call-admin").addEventListener("click", () => call("/admin/users"));
  $("refresh").addEventListener("click", async () => {
    if (await refresh("refresh now")) await inspect();
  });
  $("refresh-all").addEventListener("click", () => {
    const at = Date.now() + 300;
    if (channel) channel.postMessage({ type: "refresh-at", at, from: tab });
    scheduleRefresh(at);
  });
  $("logout").addEventListener("click", () => logout(false));
  $("logout-all").addEventListener("click", () => logout(true));
  if (channel) {
    channel.addEventListener("message", ({ data }) => {
      if (data.type === "refresh-at") scheduleRefresh(data.at);
      if (data.type === "logout" && data.everywhere) {
        forget("Signed out everywhere (from another tab)");
        enableAttacks();
      }
    });
  }
  document.addEventListener("securitypolicyviolation", (e) => {
    console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
  });
  setInterval(showStorage, 1000);
}

function scheduleRefresh(at) {
  setTimeout(async () => {
    if (await refresh("every tab at once")) {
      await inspect();
      await whoAmI();
    }
  }, Math.max(0, at - Date.now()));
}

async function start() {
  renderAttacks();
  wire();
  showUser("Signed out");
  showStorage();
  const health = await fetch("/health");
  if (health.ok) $("running-format").textContent = (await health.json()).format;
  // A tab opened later signs in through the same cookie, if there is one.
  if (await refresh("page load")) await afterSignIn();
  else showUser("Signed out");
  showStorage();
  document.body.dataset.ready = "true";
}

start();
