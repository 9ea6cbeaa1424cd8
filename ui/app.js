// The inspector: the store's objects, their history and runs, and its test controls, live.
// Every read and every change goes through the store's API with the user's session (the
// JSESSIONID cookie and the X-XSRF-TOKEN header), as any client's requests do.
"use strict";

const API = "/policy/api/v1";
const PAGE = 50;
// The fields the server sets: shown apart from the client's.
const SERVER_FIELDS = new Set(["resource_type", "id", "path", "relative_path", "parent_path",
  "unique_id", "marked_for_delete", "overridden", "_create_user", "_create_time",
  "_last_modified_user", "_last_modified_time", "_system_owned", "_protection", "_revision"]);

const state = { xsrf: sessionStorage.getItem("xsrf"), me: null, open: null, nodes: new Map(), stream: null };
const $ = (selector) => document.querySelector(selector);

function element(tag, properties = {}, ...children) {
  const made = Object.assign(document.createElement(tag), properties);
  for (const child of children) made.append(child);
  return made;
}

/// A request with the session; answers the parsed JSON body (null for an empty one), or
/// throws an Error carrying the ApiError's message.
async function call(method, path, body) {
  const headers = { "X-XSRF-TOKEN": state.xsrf || "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 403 && parsed && parsed.error_code === 403) return loggedOut();
    throw new Error(parsed && parsed.error_message ? parsed.error_message : `${response.status}`);
  }
  return parsed;
}

// ---- Session ------------------------------------------------------------------------

async function logIn(event) {
  event.preventDefault();
  const form = new URLSearchParams({ j_username: $("#user").value, j_password: $("#password").value });
  const response = await fetch("/api/session/create", {
    method: "POST", body: form, credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (!response.ok) {
    $("#login-error").textContent = "The credentials were incorrect.";
    return;
  }
  state.xsrf = response.headers.get("X-XSRF-TOKEN");
  sessionStorage.setItem("xsrf", state.xsrf);
  $("#password").value = "";
  await start();
}

async function logOut() {
  await fetch("/api/session/destroy", { method: "POST", credentials: "same-origin",
    headers: { "X-XSRF-TOKEN": state.xsrf || "" } });
  sessionStorage.removeItem("xsrf");
  // A fresh page: the next user's role decides its controls anew.
  window.location.reload();
}

function loggedOut() {
  sessionStorage.removeItem("xsrf");
  state.xsrf = null;
  if (state.stream) state.stream.abort();
  for (const hidden of ["#tabs", "#logout", "#objects", "#environment"]) $(hidden).hidden = true;
  $("#who").textContent = "";
  $("#login").hidden = false;
  $("#user").focus();
  return null;
}

async function start() {
  try {
    state.me = await call("GET", "/store/v1/whoami");
  } catch (error) {
    state.me = null;
  }
  if (!state.me) return loggedOut();
  $("#login").hidden = true;
  $("#login-error").textContent = "";
  $("#tabs").hidden = false;
  $("#logout").hidden = false;
  $("#who").textContent = `${state.me.name} (${state.me.role})`;
  // An auditor gets no control that writes.
  document.body.classList.toggle("read-only", !state.me.may_write);
  for (const control of document.querySelectorAll(".writes")) {
    if (!state.me.may_write) control.remove();
  }
  showTab("objects");
  await openNode("", $("#tree"));
  follow();
}

function showTab(name) {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === name));
  }
  $("#objects").hidden = name !== "objects";
  $("#environment").hidden = name !== "environment";
  if (name === "environment") loadEnvironment().catch(report);
}

// ---- The tree: a node's collections, one page of a collection at a time ---------------

/// Shows what hangs from `parent` ("" for the roots) in `list`: a line per type, with its
/// count, each opening to its first page.
async function openNode(parent, list) {
  const node = await call("GET", `/store/v1/tree?parent=${encodeURIComponent(parent)}`);
  state.nodes.set(parent, list);
  list.replaceChildren();
  if (node.collections.length === 0) list.append(element("li", { className: "hint", textContent: "nothing below" }));
  for (const collection of node.collections) {
    const count = element("span", { className: "count", textContent: ` ${collection.count}${node.at_least ? "+" : ""}` });
    if (collection.object) {
      list.append(element("li", {}, objectButton(collection.object, collection.resource_type), count));
      continue;
    }
    const items = element("ul", { hidden: true });
    const toggle = element("button", { type: "button", className: "toggle", textContent: "▸",
      ariaLabel: `open ${collection.resource_type}` });
    const label = element("button", { type: "button", className: "collection",
      textContent: `${collection.resource_type} ` });
    const line = element("li", { className: "collection-line" }, toggle, label, count, items);
    line.dataset.collection = collection.collection;
    const flip = async () => {
      items.hidden = !items.hidden;
      toggle.textContent = items.hidden ? "▸" : "▾";
      if (!items.hidden) await listPage(collection.collection, items, null);
    };
    toggle.addEventListener("click", () => flip().catch(report));
    label.addEventListener("click", () => flip().catch(report));
    list.append(line);
  }
}

/// One page of a collection, sorted by id, with a button for the next.
async function listPage(collection, items, cursor) {
  const query = `page_size=${PAGE}&sort_by=id${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
  const page = await call("GET", `${API}${collection}?${query}`);
  if (!cursor) items.replaceChildren();
  for (const object of page.results) items.append(objectLine(object));
  if (page.cursor) {
    const more = element("button", { type: "button", textContent: `more (${page.result_count} in all)…` });
    more.addEventListener("click", () => { more.parentElement.remove(); listPage(collection, items, page.cursor).catch(report); });
    items.append(element("li", {}, more));
  }
}

function objectButton(path, label) {
  const button = element("button", { type: "button", className: "open-object", textContent: label });
  button.dataset.path = path;
  button.addEventListener("click", () => showObject(path).catch(report));
  return button;
}

/// An object in the tree: it opens in the object pane, and its own node opens below it.
function objectLine(object) {
  const below = element("ul", { hidden: true });
  const toggle = element("button", { type: "button", className: "toggle", textContent: "▸", ariaLabel: `open below ${object.path}` });
  toggle.addEventListener("click", () => {
    below.hidden = !below.hidden;
    toggle.textContent = below.hidden ? "▸" : "▾";
    if (below.hidden) state.nodes.delete(object.path);
    else openNode(object.path, below).catch(report);
  });
  const name = object.display_name && object.display_name !== object.id ? ` — ${object.display_name}` : "";
  return element("li", {}, toggle, objectButton(object.path, `${object.id}${name}`), below);
}

async function find(event) {
  event.preventDefault();
  const text = $("#filter-text").value.trim();
  const type = $("#filter-type").value.trim();
  const escape = (value) => value.replace(/[\\+\-!(){}[\]^"~*?:/ ]/g, "\\$&");
  const terms = [];
  if (type) terms.push(`resource_type:${escape(type)}`);
  if (text) terms.push(`(id:*${escape(text)}* OR display_name:*${escape(text)}*)`);
  const found = $("#found");
  found.replaceChildren();
  found.hidden = false;
  $("#tree").hidden = true;
  if (terms.length === 0) return clearFilter();
  const page = await call("GET", `${API}/search/query?page_size=${PAGE}&query=${encodeURIComponent(terms.join(" AND "))}`);
  found.append(element("li", { className: "hint", textContent: `${page.result_count} found` }));
  for (const object of page.results) found.append(element("li", {}, objectButton(object.path, `${object.path}`)));
}

function clearFilter() {
  $("#found").hidden = true;
  $("#tree").hidden = false;
  $("#filter-text").value = "";
  $("#filter-type").value = "";
}

// ---- One object: its fields, its revisions and their diff, a traceflow's run ----------

async function showObject(path) {
  state.open = path;
  const pane = $("#object");
  let object;
  try {
    object = await call("GET", `${API}${path}`);
  } catch (error) {
    pane.replaceChildren(element("h2", { textContent: path }), element("p", { className: "hint", textContent: error.message }));
    return;
  }
  const client = {}, server = {};
  for (const [key, value] of Object.entries(object)) (SERVER_FIELDS.has(key) ? server : client)[key] = value;
  pane.replaceChildren(
    element("h2", { id: "object-path", textContent: path }),
    element("h3", { textContent: "Fields" }), element("pre", { id: "client-fields", textContent: JSON.stringify(client, null, 2) }),
    element("h3", { textContent: "Set by the server" }), element("pre", { id: "server-fields", textContent: JSON.stringify(server, null, 2) }));
  if (object.resource_type === "AntreaTraceflowConfig") pane.append(await runSection(object));
  pane.append(await revisionsSection(path));
}

/// A traceflow's current run, then the runs it replaced.
async function runSection(object) {
  const base = `${API}/infra/antrea/traceflows/${encodeURIComponent(object.id)}`;
  const [status, observations] = await Promise.all([call("GET", `${base}/status`), call("GET", `${base}/observations`)]);
  let source = "simulated";
  try {
    await call("GET", `/store/v1/traceflows/${encodeURIComponent(object.id)}/result`);
    source = "scripted";
  } catch (error) { /* no script: the run is simulated */ }
  const section = element("section", { id: "run" }, element("h3", { textContent: `Current run (${source})` }));
  section.append(element("p", { id: "run-phase", textContent: status.phase
    ? `${status.phase}${status.reason ? `: ${status.reason}` : ""}` : "no result yet" }));
  const list = element("ol", { id: "observations" });
  for (const seen of observations.results) {
    list.append(element("li", { textContent: `${seen.component_type || "UNKNOWN"} ${seen.observation_type} on ${seen.container_node_id || "?"} at ${seen.timestamp}` }));
  }
  section.append(list);
  const earlier = await call("GET", `/store/v1/traceflows/${encodeURIComponent(object.id)}/runs`);
  section.append(element("h3", { textContent: `Earlier runs (${earlier.result_count})` }));
  const runs = element("ol", { id: "earlier-runs", reversed: true });
  for (const run of earlier.results) {
    const phase = run.status.phase ? `${run.status.phase}${run.status.reason ? `: ${run.status.reason}` : ""}` : "no result";
    runs.append(element("li", { textContent: `run ${run.run}, started ${new Date(run.started_at).toISOString()}: ${phase}, ${run.observations.length} observations` }));
  }
  section.append(runs);
  return section;
}

async function revisionsSection(path) {
  const page = await call("GET", `/store/v1/revisions?path=${encodeURIComponent(path)}&page_size=100`);
  const section = element("section", { id: "revisions" }, element("h3", { textContent: "Revisions, newest first" }));
  const table = element("table");
  table.append(element("tr", {}, element("th", { textContent: "" }), element("th", { textContent: "Revision" }),
    element("th", { textContent: "Operation" }), element("th", { textContent: "By" }), element("th", { textContent: "At" })));
  page.results.forEach((revision, index) => {
    const pick = element("input", { type: "checkbox", checked: index < 2, ariaLabel: `compare revision ${revision.revision}` });
    pick.dataset.index = index;
    table.append(element("tr", {}, element("td", {}, pick), element("td", { textContent: revision.revision }),
      element("td", { textContent: revision.operation }), element("td", { textContent: revision.change_user }),
      element("td", { textContent: new Date(revision.change_time).toISOString() })));
  });
  const output = element("ul", { id: "diff", className: "diff" });
  const compare = element("button", { type: "button", id: "compare", textContent: "Compare the two chosen" });
  compare.addEventListener("click", () => {
    const chosen = [...table.querySelectorAll("input:checked")].map((box) => page.results[box.dataset.index]);
    output.replaceChildren();
    if (chosen.length !== 2) return output.append(element("li", { textContent: "Choose two revisions." }));
    const [newer, older] = chosen;
    const lines = diff(older.object, newer.object);
    if (lines.length === 0) output.append(element("li", { textContent: "No difference." }));
    for (const [kind, field, text] of lines) output.append(element("li", { className: kind, textContent: `${kind} ${field}: ${text}` }));
  });
  section.append(table, compare, output);
  if (page.results.length >= 2) compare.click();
  return section;
}

/// The differences from `a` to `b` by dotted path (list items by index): changed, added
/// and removed fields.
function diff(a, b, at = "", lines = []) {
  const isObject = (value) => value !== null && typeof value === "object";
  if (isObject(a) && isObject(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      const field = at ? `${at}.${key}` : key;
      if (!(key in a)) lines.push(["added", field, JSON.stringify(b[key])]);
      else if (!(key in b)) lines.push(["removed", field, JSON.stringify(a[key])]);
      else diff(a[key], b[key], field, lines);
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    lines.push(["changed", at, `${JSON.stringify(a)} → ${JSON.stringify(b)}`]);
  }
  return lines;
}

// ---- Live: the events stream ---------------------------------------------------------

/// Reads /store/v1/events with the session (an EventSource cannot send the XSRF header),
/// going on from the last position seen after a break.
async function follow() {
  let position = null;
  const live = $("#live");
  while (state.xsrf) {
    const controller = new AbortController();
    state.stream = controller;
    try {
      const response = await fetch(`/store/v1/events${position === null ? "" : `?after=${position}`}`, {
        credentials: "same-origin", headers: { "X-XSRF-TOKEN": state.xsrf }, signal: controller.signal });
      if (!response.ok) throw new Error(`${response.status}`);
      live.textContent = "live";
      live.classList.add("on");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((line) => line.startsWith("data: "));
          if (!data) continue;
          const change = JSON.parse(data.slice(6));
          position = change.position;
          changed(change);
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    live.textContent = "offline";
    live.classList.remove("on");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const refreshing = new Map();

/// One committed change: logged, and the parts of the page that show it read again.
function changed(change) {
  const log = $("#changes");
  log.prepend(element("li", { textContent: `${change.operation} ${change.path} r${change.revision} by ${change.user}` }));
  while (log.children.length > 50) log.lastChild.remove();
  // The nearest open node above the object reads its collections again.
  let parent = change.path;
  do {
    parent = parent.slice(0, parent.lastIndexOf("/"));
    if (parent.endsWith("/infra") && !state.nodes.has(parent)) parent = parent.slice(0, -"/infra".length);
  } while (parent && !state.nodes.has(parent));
  refresh(parent, async () => {
    const list = state.nodes.get(parent);
    if (!list || !list.isConnected) return state.nodes.delete(parent);
    const open = [...list.querySelectorAll(":scope > li.collection-line")].filter((line) => !line.querySelector("ul").hidden)
      .map((line) => line.dataset.collection);
    await openNode(parent, list);
    for (const line of list.querySelectorAll(":scope > li.collection-line")) {
      if (open.includes(line.dataset.collection)) line.querySelector(".toggle").click();
    }
  });
  if (change.path === state.open) refresh(`object ${change.path}`, () => showObject(change.path));
}

/// Runs `work` once for a burst of changes to the same part of the page.
function refresh(key, work) {
  clearTimeout(refreshing.get(key));
  refreshing.set(key, setTimeout(() => { refreshing.delete(key); work().catch(report); }, 150));
}

// ---- The test environment: snapshots, reset, faults, deterministic mode ---------------

async function loadEnvironment() {
  const [snapshots, faults, determinism] = await Promise.all([
    call("GET", "/store/v1/snapshots"), call("GET", "/store/v1/faults"), call("GET", "/store/v1/determinism")]);
  const rows = $("#snapshots tbody");
  rows.replaceChildren();
  for (const snapshot of snapshots.results) {
    const actions = element("td");
    if (state.me.may_write) {
      actions.append(button("Restore", () => act("POST", `/store/v1/snapshots/${encodeURIComponent(snapshot.name)}?action=restore`), `restore ${snapshot.name}`),
        " ", button("Delete", () => act("DELETE", `/store/v1/snapshots/${encodeURIComponent(snapshot.name)}`), `delete ${snapshot.name}`));
    }
    rows.append(element("tr", {}, element("td", { textContent: snapshot.name }),
      element("td", { textContent: new Date(snapshot.created).toISOString() }), element("td", { textContent: snapshot.objects }), actions));
  }
  const ruleRows = $("#faults tbody");
  ruleRows.replaceChildren();
  for (const rule of faults.results) {
    const { id, hits, ...shape } = rule;
    const actions = element("td");
    if (state.me.may_write) actions.append(button("Delete", () => act("DELETE", `/store/v1/faults/${id}`), `delete rule ${id}`));
    ruleRows.append(element("tr", {}, element("td", { textContent: id }), element("td", {}, element("code", { textContent: JSON.stringify(shape) })),
      element("td", { className: "hits", textContent: hits }), actions));
  }
  $("#determinism").textContent = JSON.stringify(determinism, null, 2);
}

function button(label, action, name) {
  const made = element("button", { type: "button", textContent: label, ariaLabel: name });
  made.addEventListener("click", () => action().catch(report));
  return made;
}

/// A change through the extension API, then the environment and the tree read again.
async function act(method, path, body) {
  await call(method, path, body);
  await loadEnvironment();
  await openNode("", $("#tree"));
}

async function saveSnapshot(event) {
  event.preventDefault();
  await act("PUT", `/store/v1/snapshots/${encodeURIComponent($("#snapshot-name").value)}`);
  $("#snapshot-name").value = "";
}

async function reset() {
  if (!window.confirm("Reset the store? Every object, revision, run and script is removed.")) return;
  await act("POST", "/store/v1/reset");
}

async function addFault(event) {
  event.preventDefault();
  const error = $("#fault-error");
  error.textContent = "";
  let rule;
  try {
    rule = JSON.parse($("#fault-rule").value);
  } catch (problem) {
    error.textContent = `Not JSON: ${problem.message}`;
    return;
  }
  try {
    await act("POST", "/store/v1/faults", rule);
  } catch (refused) {
    error.textContent = refused.message;
  }
}

/// An error the page did not expect: shown, never swallowed.
function report(error) {
  const shown = element("p", { className: "error", role: "alert", textContent: error.message });
  $("main").prepend(shown);
  setTimeout(() => shown.remove(), 8000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login").addEventListener("submit", (event) => logIn(event).catch(report));
  $("#logout").addEventListener("click", () => logOut().catch(report));
  $("#filter").addEventListener("submit", (event) => find(event).catch(report));
  $("#filter-clear").addEventListener("click", clearFilter);
  for (const tab of document.querySelectorAll("#tabs button")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  const save = $("#snapshot-save"); if (save) save.addEventListener("submit", (event) => saveSnapshot(event).catch(report));
  const resetButton = $("#reset"); if (resetButton) resetButton.addEventListener("click", () => reset().catch(report));
  const add = $("#fault-add"); if (add) add.addEventListener("submit", (event) => addFault(event).catch(report));
  if (state.xsrf) start().catch(report); else loggedOut();
});
