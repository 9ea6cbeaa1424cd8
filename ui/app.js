// The inspector: the store's objects, their history and runs, the requests clients sent, and
// the test controls, live. Every read and every change goes through the store's API with the
// user's session (the JSESSIONID cookie and the X-XSRF-TOKEN header), as any client's
// requests do; each carries a request id starting with "ui-", so that the request journal
// can tell the page's own requests from its clients'.
"use strict";

const API = "/policy/api/v1";
const PAGE = 50;
// The most rows the requests table keeps; older ones are a click away.
const JOURNAL_ROWS = 500;
// The fields the server sets: shown apart from the client's.
const SERVER_FIELDS = new Set(["resource_type", "id", "path", "relative_path", "parent_path",
  "unique_id", "marked_for_delete", "overridden", "_create_user", "_create_time",
  "_last_modified_user", "_last_modified_time", "_system_owned", "_protection", "_revision"]);

const state = {
  xsrf: sessionStorage.getItem("xsrf"),
  me: null,
  // The object in the object pane.
  open: null,
  // What the tree shows open: collection paths and object paths, and how many objects of
  // each open collection are shown (the paging position). Live updates read the tree anew
  // from these, so nothing the user opened closes.
  expanded: new Set(),
  shown: new Map(),
  // The list element of each node on the page, by its object's path ("" for the roots).
  nodes: new Map(),
  streams: [],
  journal: { filter: null, cursor: null, rows: 0 },
};
const $ = (selector) => document.querySelector(selector);

function element(tag, properties = {}, ...children) {
  const made = Object.assign(document.createElement(tag), properties);
  for (const child of children) made.append(child);
  return made;
}

/// One time format everywhere: ISO-8601, UTC, to the millisecond.
function when(millis) {
  return typeof millis === "number" ? new Date(millis).toISOString() : "";
}

/// A request id for the page's own requests.
function requestId() {
  return `ui-${Math.random().toString(36).slice(2, 12)}`;
}

/// A request with the session; answers the parsed JSON body (null for an empty one), or
/// throws an Error carrying the ApiError's message and status.
async function call(method, path, body) {
  const headers = { "X-XSRF-TOKEN": state.xsrf || "", "X-Request-Id": requestId() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) {
    if (response.status === 403 && parsed && parsed.error_code === 403) return loggedOut();
    const failure = new Error(parsed && parsed.error_message ? parsed.error_message : `${response.status}`);
    failure.status = response.status;
    throw failure;
  }
  return parsed;
}

// ---- Session ------------------------------------------------------------------------

async function logIn(event) {
  event.preventDefault();
  const form = new URLSearchParams({ j_username: $("#user").value, j_password: $("#password").value });
  const response = await fetch("/api/session/create", {
    method: "POST", body: form, credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Request-Id": requestId() },
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
    headers: { "X-XSRF-TOKEN": state.xsrf || "", "X-Request-Id": requestId() } });
  sessionStorage.removeItem("xsrf");
  // A fresh page: the next user's role decides its controls anew.
  window.location.reload();
}

function loggedOut() {
  sessionStorage.removeItem("xsrf");
  state.xsrf = null;
  for (const stream of state.streams) stream.abort();
  state.streams = [];
  for (const hidden of ["#tabs", "#logout", "#objects", "#requests", "#environment"]) $(hidden).hidden = true;
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
  await renderNode("", $("#tree"));
  follow("/store/v1/events", onEvent, true);
  follow("/store/v1/requests/stream", onRequest, false);
  loadJournal().catch(report);
}

function showTab(name) {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-pressed", String(button.dataset.tab === name));
  }
  for (const tab of ["objects", "requests", "environment"]) $(`#${tab}`).hidden = tab !== name;
  if (name === "environment") loadEnvironment().catch(report);
}

// ---- The tree: a node's collections, pages of a collection's objects ------------------
//
// Everything shown comes from `state.expanded` and `state.shown`: a node is drawn again
// whole, with whatever the user opened below it, off the page, then put in place of the old
// one in one step, keeping the pane's scroll and the focus.

/// Draws what hangs from `parent` ("" for the roots) into `list`.
async function renderNode(parent, list) {
  const node = await call("GET", `/store/v1/tree?parent=${encodeURIComponent(parent)}`);
  const items = [];
  if (node.collections.length === 0) items.push(element("li", { className: "hint", textContent: "nothing below" }));
  const singletons = await branches(node.collections.filter((c) => c.object).map((c) => c.object));
  for (const collection of node.collections) {
    const count = element("span", { className: "count", textContent: ` ${collection.count}${node.at_least ? "+" : ""}` });
    items.push(collection.object
      // A singleton: the object itself.
      ? await objectItem({ path: collection.object, id: collection.resource_type }, singletons.has(collection.object), count)
      : await collectionItem(collection, count));
  }
  swap(list, items);
  state.nodes.set(parent, list);
}

/// A collection: a line with its type and count, opening to its objects.
async function collectionItem(collection, count) {
  const key = collection.collection;
  const open = state.expanded.has(key);
  const group = element("ul", { role: "group", hidden: !open });
  const item = treeItem(key, open, element("button", { type: "button", className: "collection",
    tabIndex: -1, textContent: `${collection.resource_type} ` }), count, group);
  item.dataset.collection = key;
  item.classList.add("collection-line");
  if (open) await renderCollection(key, group);
  return item;
}

/// Draws the objects of `collection` shown so far (a page, or as many as the user paged to).
async function renderCollection(collection, group) {
  const wanted = state.shown.get(collection) || PAGE;
  const objects = [];
  let cursor = null;
  let total = 0;
  do {
    const size = Math.min(1000, wanted - objects.length);
    const query = `page_size=${size}&sort_by=id${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = await call("GET", `${API}${collection}?${query}`);
    objects.push(...page.results);
    cursor = page.cursor;
    total = page.result_count;
  } while (cursor && objects.length < wanted);
  const items = await objectItems(objects);
  if (cursor) items.push(moreItem(collection, group, objects.length, total));
  swap(group, items);
}

/// The tree's lines for `objects`: a toggle on those that have anything below.
async function objectItems(objects) {
  const below = await branches(objects.map((object) => object.path));
  const items = [];
  for (const object of objects) items.push(await objectItem(object, below.has(object.path)));
  return items;
}

/// Which of the objects at `paths` have anything below them.
async function branches(paths) {
  const found = new Set();
  for (let at = 0; at < paths.length; at += 200) {
    const query = paths.slice(at, at + 200).map((path) => `path=${encodeURIComponent(path)}`).join("&");
    (await call("GET", `/store/v1/tree/branches?${query}`)).branches.forEach((path) => found.add(path));
  }
  return found;
}

/// "more…": the next page, added below the rows shown.
function moreItem(collection, group, shown, total) {
  const more = element("button", { type: "button", className: "more", tabIndex: -1,
    textContent: `more (${shown} of ${total})…` });
  const item = element("li", { role: "treeitem", tabIndex: -1 }, element("div", { className: "line" }, element("span", { className: "leaf" }), more));
  item.dataset.key = `more:${collection}`;
  const load = () => {
    state.shown.set(collection, shown + PAGE);
    refreshPart(collection, () => renderCollection(collection, group), item);
  };
  more.addEventListener("click", load);
  item.activate = load;
  return item;
}

/// An object: it opens in the object pane, and, where anything hangs from it, its own node
/// opens below it.
async function objectItem(object, branch, ...after) {
  const name = object.display_name && object.display_name !== object.id ? ` — ${object.display_name}` : "";
  const label = element("button", { type: "button", className: "open-object", tabIndex: -1, textContent: `${object.id}${name}` });
  label.dataset.path = object.path;
  label.addEventListener("click", () => showObject(object.path).catch(report));
  const open = branch && state.expanded.has(object.path);
  const group = branch ? element("ul", { role: "group", hidden: !open }) : null;
  const item = treeItem(object.path, branch ? open : null, label, ...after, ...(group ? [group] : []));
  item.dataset.path = object.path;
  item.activate = () => showObject(object.path).catch(report);
  item.setAttribute("aria-selected", String(object.path === state.open));
  if (open) await renderNode(object.path, group);
  return item;
}

/// A tree item: its line (a toggle where it opens, then `label` and what follows it) and,
/// for one that opens, its group of children. `open` is null for a leaf.
function treeItem(key, open, label, ...rest) {
  const group = rest.find((part) => part instanceof HTMLUListElement);
  const trailing = rest.filter((part) => part !== group);
  const toggle = open === null
    ? element("span", { className: "leaf", ariaHidden: "true" })
    : element("span", { className: "toggle", ariaHidden: "true", textContent: open ? "▾" : "▸" });
  const item = element("li", { role: "treeitem", tabIndex: -1 },
    element("div", { className: "line" }, toggle, label, ...trailing), ...(group ? [group] : []));
  item.dataset.key = key;
  if (open !== null) {
    item.setAttribute("aria-expanded", String(open));
    const flip = () => setExpanded(item, group, item.getAttribute("aria-expanded") !== "true").catch(report);
    toggle.addEventListener("click", flip);
    if (label.classList.contains("collection")) label.addEventListener("click", flip);
    item.toggle = flip;
    if (!item.activate) item.activate = flip;
  }
  return item;
}

/// Opens or closes a tree item, drawing what it opens to.
async function setExpanded(item, group, open) {
  const key = item.dataset.key;
  item.setAttribute("aria-expanded", String(open));
  item.querySelector(":scope > .line > .toggle").textContent = open ? "▾" : "▸";
  group.hidden = !open;
  if (!open) {
    state.expanded.delete(key);
    if (!item.dataset.collection) state.nodes.delete(key);
    return;
  }
  state.expanded.add(key);
  if (item.dataset.collection) await renderCollection(key, group);
  else await renderNode(key, group);
}

/// Puts `items` in place of `list`'s children in one step, keeping the pane's scroll and
/// the focused item.
function swap(list, items) {
  const pane = $("#tree-pane");
  const scroll = pane.scrollTop;
  const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  list.replaceChildren(...items);
  pane.scrollTop = scroll;
  if (focused) {
    const again = [...list.querySelectorAll("[role=treeitem]")].find((item) => item.dataset.key === focused);
    if (again) again.focus({ preventScroll: true });
  }
  rovingFocus();
}

/// One item of the tree takes Tab; arrow keys move between the visible ones.
function rovingFocus() {
  const items = visibleItems();
  if (items.length && !items.some((item) => item.tabIndex === 0)) items[0].tabIndex = 0;
}

function visibleItems() {
  return [...$("#tree").querySelectorAll("[role=treeitem]")].filter((item) => item.offsetParent !== null);
}

/// The tree's keys, as WAI-ARIA's tree pattern has them.
function treeKeys(event) {
  const item = event.target.closest("[role=treeitem]");
  if (!item) return;
  const items = visibleItems();
  const at = items.indexOf(item);
  const expanded = item.getAttribute("aria-expanded");
  const move = (to) => {
    if (!to) return;
    for (const other of items) other.tabIndex = -1;
    to.tabIndex = 0;
    to.focus();
  };
  switch (event.key) {
    case "ArrowDown": move(items[at + 1]); break;
    case "ArrowUp": move(items[at - 1]); break;
    case "Home": move(items[0]); break;
    case "End": move(items[items.length - 1]); break;
    case "ArrowRight":
      if (expanded === "false") item.toggle();
      else if (expanded === "true") move(item.querySelector("[role=group] [role=treeitem]"));
      break;
    case "ArrowLeft":
      if (expanded === "true") item.toggle();
      else move(item.parentElement.closest("[role=treeitem]"));
      break;
    case "Enter":
    case " ":
      if (item.activate) item.activate();
      break;
    default:
      return;
  }
  event.preventDefault();
}

/// Marks the open object in the tree.
function markOpen() {
  for (const item of $("#tree").querySelectorAll("[role=treeitem][data-path]")) {
    item.setAttribute("aria-selected", String(item.dataset.path === state.open));
  }
}

// ---- Find --------------------------------------------------------------------------------

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
  if (terms.length === 0) return clearFilter();
  found.hidden = false;
  $("#tree").hidden = true;
  const page = await call("GET", `${API}/search/query?page_size=${PAGE}&query=${encodeURIComponent(terms.join(" AND "))}`);
  found.append(element("li", { className: "hint", textContent: `${page.result_count} found` }));
  for (const object of page.results) {
    const button = element("button", { type: "button", className: "open-object", textContent: object.path });
    button.addEventListener("click", () => showObject(object.path).catch(report));
    found.append(element("li", {}, button));
  }
}

function clearFilter() {
  $("#found").hidden = true;
  $("#tree").hidden = false;
  $("#filter-text").value = "";
  $("#filter-type").value = "";
}

// ---- One object: a traceflow's run, its fields, its revisions and their diff ----------

async function showObject(path) {
  state.open = path;
  markOpen();
  const pane = $("#object");
  let object;
  try {
    object = await call("GET", `${API}${path}`);
  } catch (error) {
    if (state.open !== path) return;
    const gone = error.status === 404 ? "Not stored (any more)." : error.message;
    pane.replaceChildren(element("h2", { id: "object-path", textContent: path }),
      element("p", { id: "object-gone", className: "hint", textContent: gone }));
    return;
  }
  const client = {}, server = {};
  for (const [key, value] of Object.entries(object)) (SERVER_FIELDS.has(key) ? server : client)[key] = value;
  const parts = [element("h2", { id: "object-path", textContent: path })];
  if (state.me.may_write) parts.push(deleteControl(path));
  if (object.resource_type === "AntreaTraceflowConfig") parts.push(await runSection(object));
  parts.push(element("h3", { textContent: "Fields" }), element("pre", { id: "client-fields", textContent: JSON.stringify(client, null, 2) }),
    element("h3", { textContent: "Set by the server" }), element("pre", { id: "server-fields", textContent: JSON.stringify(server, null, 2) }),
    await revisionsSection(path));
  if (state.open === path) pane.replaceChildren(...parts);
}

function deleteControl(path) {
  const remove = element("button", { type: "button", className: "danger", id: "object-delete", textContent: "Delete…" });
  remove.addEventListener("click", () => {
    if (!window.confirm(`Delete ${path}?`)) return;
    call("DELETE", `${API}${path}`).catch(report);
  });
  return element("div", { className: "actions" }, remove);
}

/// A traceflow's current run, then the runs it replaced.
async function runSection(object) {
  const id = encodeURIComponent(object.id);
  const base = `${API}/infra/antrea/traceflows/${id}`;
  const [status, observations, runs] = await Promise.all([
    call("GET", `${base}/status`), call("GET", `${base}/observations`), call("GET", `/store/v1/traceflows/${id}/runs`)]);
  const current = runs.current;
  const source = current && current.scripted ? "scripted" : "simulated";
  const section = element("section", { id: "run" }, element("h3", { textContent: `Current run (${source})` }));
  if (current) section.append(element("p", { className: "hint", textContent: `Run ${current.run}, started ${when(current.started_at)}` }));
  section.append(element("p", { id: "run-phase", className: status.phase ? `phase-${status.phase}` : "hint",
    textContent: status.phase ? `${status.phase}${status.reason ? `: ${status.reason}` : ""}` : "no result yet" }));
  section.append(observationTable(observations.results));
  section.append(element("h3", { textContent: `Earlier runs (${runs.result_count})` }));
  const earlier = element("table", { id: "earlier-runs" });
  earlier.append(row("th", "Run", "Started", "Result", "Observations"));
  for (const run of runs.results) {
    const phase = run.status.phase ? `${run.status.phase}${run.status.reason ? `: ${run.status.reason}` : ""}` : "no result";
    earlier.append(row("td", run.run, when(run.started_at), phase, run.observations.length));
  }
  section.append(earlier);
  return section;
}

/// The observations of a run, a row each, in order.
function observationTable(observations) {
  const table = element("table", { id: "observations" });
  table.append(row("th", "#", "Component", "Observation", "Node", "Time"));
  observations.forEach((seen, index) => table.append(row("td", index + 1, seen.component_type || "UNKNOWN",
    (seen.observation_type || "").replace("AntreaTraceflowObservation", ""), seen.container_node_id || "", when(seen.timestamp))));
  if (observations.length === 0) table.append(element("tr", {}, element("td", { colSpan: 5, className: "hint", textContent: "none yet" })));
  return table;
}

function row(cell, ...values) {
  return element("tr", {}, ...values.map((value) => element(cell, { textContent: String(value) })));
}

async function revisionsSection(path) {
  const page = await call("GET", `/store/v1/revisions?path=${encodeURIComponent(path)}&page_size=100`);
  const section = element("section", { id: "revisions" }, element("h3", { textContent: "Revisions, newest first" }));
  const table = element("table");
  table.append(row("th", "", "Revision", "Operation", "By", "At"));
  page.results.forEach((revision, index) => {
    const pick = element("input", { type: "checkbox", checked: index < 2, ariaLabel: `compare revision ${revision.revision}` });
    pick.dataset.index = index;
    table.append(element("tr", {}, element("td", {}, pick), element("td", { textContent: revision.revision }),
      element("td", { textContent: revision.operation }), element("td", { textContent: revision.change_user }),
      element("td", { textContent: when(revision.change_time) })));
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

// ---- Live: the events stream and the request journal's -------------------------------

/// Reads an event stream with the session (an EventSource cannot send the XSRF header),
/// going on from the last event seen after a break; `onEvent(name, data)` for each.
async function follow(path, onEvent, showsLive) {
  let position = null;
  const live = $("#live");
  const controller = { aborted: false, current: null, abort() { this.aborted = true; if (this.current) this.current.abort(); } };
  state.streams.push(controller);
  while (state.xsrf && !controller.aborted) {
    controller.current = new AbortController();
    try {
      const response = await fetch(`${path}${position === null ? "" : `?after=${position}`}`, {
        credentials: "same-origin", signal: controller.current.signal,
        headers: { "X-XSRF-TOKEN": state.xsrf, "X-Request-Id": requestId() } });
      if (!response.ok) throw new Error(`${response.status}`);
      if (showsLive) { live.textContent = "live"; live.classList.add("on"); }
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
          const field = (name) => (block.split("\n").find((line) => line.startsWith(`${name}: `)) || "").slice(name.length + 2);
          if (!field("data")) continue;
          position = Number(field("id"));
          onEvent(field("event"), JSON.parse(field("data")));
        }
      }
    } catch (error) {
      if (controller.aborted) return;
    }
    if (showsLive) { live.textContent = "offline"; live.classList.remove("on"); }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const refreshing = new Map();

/// One event of the store: a change shows where it happened; a reset, restore or import
/// may have changed anything, so everything shown is read anew.
function onEvent(name, event) {
  const log = $("#changes");
  const what = name === "change" ? `${event.operation} ${event.path} r${event.revision}` : `${name} of the whole store`;
  log.prepend(element("li", { textContent: `${when(event.time)} ${what} by ${event.user}` }));
  // A reset is followed by the creates of NSX's shipped objects (some seventy): the list
  // keeps enough to show the reset above them.
  while (log.children.length > 200) log.lastChild.remove();
  if (name !== "change") {
    refresh("whole", async () => {
      state.nodes = new Map([["", $("#tree")]]);
      await renderNode("", $("#tree"));
      if (state.open) await showObject(state.open);
      if (!$("#environment").hidden) await loadEnvironment();
    });
    return;
  }
  // The nearest node on the page above the object reads its collections again.
  let parent = event.path;
  do {
    parent = parent.slice(0, parent.lastIndexOf("/"));
    if (parent.endsWith("/infra") && !state.nodes.has(parent)) parent = parent.slice(0, -"/infra".length);
  } while (parent && !state.nodes.has(parent));
  const list = state.nodes.get(parent);
  if (list) refreshPart(`node ${parent}`, () => renderNode(parent, list), list);
  if (event.path === state.open) refresh(`object ${event.path}`, () => showObject(event.path));
}

/// Redraws part of the tree once for a burst of events, if it is still on the page.
function refreshPart(key, work, part) {
  refresh(key, async () => {
    if (part.isConnected) await work();
  });
}

/// Runs `work` once for a burst of events touching the same part of the page.
function refresh(key, work) {
  clearTimeout(refreshing.get(key));
  refreshing.set(key, setTimeout(() => { refreshing.delete(key); work().catch(report); }, 150));
}

// ---- Requests: the journal ----------------------------------------------------------

/// The filter the form says, as the journal's query parameters.
function journalFilter() {
  const filter = {};
  for (const [name, input] of [["path", "#request-path"], ["method", "#request-method"], ["status", "#request-status"], ["user", "#request-user"]]) {
    const value = $(input).value.trim();
    if (value) filter[name] = value;
  }
  return filter;
}

/// The first page of the journal under the form's filter.
async function loadJournal(event) {
  if (event) event.preventDefault();
  state.journal = { filter: journalFilter(), cursor: null, rows: 0 };
  $("#journal tbody").replaceChildren();
  $("#request-detail").replaceChildren();
  await olderRequests();
}

/// The next page of older requests.
async function olderRequests() {
  const query = new URLSearchParams({ ...state.journal.filter, page_size: "100" });
  if (state.journal.cursor) query.set("cursor", state.journal.cursor);
  const page = await call("GET", `/store/v1/requests?${query}`);
  for (const entry of page.results) if (shownRequest(entry)) addRequest(entry, "append");
  state.journal.cursor = page.cursor || null;
  $("#journal-older").hidden = !page.cursor;
  $("#request-count").textContent = `${page.result_count} kept that match`;
}

/// Whether the table shows `entry`: the page's own requests only when asked.
function shownRequest(entry) {
  return $("#request-own").checked || !entry.request_id.startsWith("ui-");
}

/// An entry the stream told: shown when it matches the filter (the glob as the journal
/// reads it: `*` within a segment, `**` across them, `?` one character).
function onRequest(name, entry) {
  if (entry.fault_rule && !$("#environment").hidden) refresh("faults", loadFaults);
  const filter = state.journal.filter;
  if (!filter || !shownRequest(entry)) return;
  if (filter.method && filter.method.toUpperCase() !== entry.method) return;
  if (filter.user && filter.user !== entry.user) return;
  if (filter.status && !(filter.status.endsWith("xx") ? String(entry.status)[0] === filter.status[0] : String(entry.status) === filter.status)) return;
  if (filter.path && !globRegex(filter.path).test(entry.path)) return;
  addRequest(entry, "prepend");
}

function globRegex(glob) {
  const source = glob.replace(/\*\*|[*?]|[.+^${}()|[\]\\]/g, (part) =>
    ({ "**": ".*", "*": "[^/]*", "?": "[^/]" })[part] || `\\${part}`);
  return new RegExp(`^${source}$`);
}

function addRequest(entry, where) {
  const body = $("#journal tbody");
  const path = entry.query ? `${entry.path}?${entry.query}` : entry.path;
  const line = element("tr", { tabIndex: 0 },
    ...[when(entry.time), entry.method, path, entry.user || "", entry.status, entry.error_code ?? "", entry.duration_ms, entry.fault_rule || ""]
      .map((value) => element("td", { textContent: String(value) })));
  line.children[4].className = `status-${String(entry.status)[0]}`;
  line.dataset.id = entry.id;
  const open = () => showRequest(entry, line);
  line.addEventListener("click", open);
  line.addEventListener("keydown", (event) => { if (event.key === "Enter") open(); });
  body[where](line);
  while (body.children.length > JOURNAL_ROWS) body.lastChild.remove();
}

/// One request's details: its id and, where the journal kept them, its bodies.
function showRequest(entry, line) {
  for (const other of $("#journal tbody").children) other.removeAttribute("aria-selected");
  line.setAttribute("aria-selected", "true");
  const detail = $("#request-detail");
  const parts = [element("h3", { textContent: `${entry.method} ${entry.path}` }),
    element("p", { textContent: `Request id ${entry.request_id}; answered ${entry.status}${entry.error_code ? ` (error_code ${entry.error_code})` : ""} in ${entry.duration_ms} ms${entry.fault_rule ? ` by fault rule ${entry.fault_rule}${entry.connection_dropped ? ", connection dropped" : ""}` : ""}.` })];
  for (const [title, kept] of [["Sent", entry.request_body], ["Answered", entry.response_body]]) {
    if (!kept) continue;
    let text = kept.text;
    try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (notJson) { /* shown as it is */ }
    parts.push(element("h4", { textContent: `${title} (${kept.size} bytes${kept.truncated ? ", cut" : ""})` }), element("pre", { className: "request-body", textContent: text }));
  }
  if (!entry.request_body && !entry.response_body) parts.push(element("p", { className: "hint", textContent: "No body kept (journal.bodies, for enterprise_admin)." }));
  detail.replaceChildren(...parts);
}

// ---- The test environment: snapshots, reset, faults, deterministic mode ---------------

async function loadEnvironment() {
  const [snapshots, determinism] = await Promise.all([call("GET", "/store/v1/snapshots"), call("GET", "/store/v1/determinism"), loadFaults()]);
  const rows = $("#snapshots tbody");
  rows.replaceChildren();
  for (const snapshot of snapshots.results) {
    const actions = element("td");
    if (state.me.may_write) {
      const name = encodeURIComponent(snapshot.name);
      actions.append(button("Restore", `restore ${snapshot.name}`, `Restore snapshot ${snapshot.name}? Everything stored now is replaced.`,
        () => act("POST", `/store/v1/snapshots/${name}?action=restore`)),
      " ", button("Delete", `delete ${snapshot.name}`, `Delete snapshot ${snapshot.name}?`, () => act("DELETE", `/store/v1/snapshots/${name}`)));
    }
    rows.append(element("tr", {}, element("td", { textContent: snapshot.name }),
      element("td", { textContent: when(snapshot.created) }), element("td", { textContent: snapshot.objects }), actions));
  }
  $("#determinism").textContent = JSON.stringify(determinism, null, 2);
}

async function loadFaults() {
  const faults = await call("GET", "/store/v1/faults");
  const ruleRows = $("#faults tbody");
  ruleRows.replaceChildren();
  for (const rule of faults.results) {
    const { id, hits, ...shape } = rule;
    const actions = element("td");
    if (state.me.may_write) actions.append(button("Delete", `delete rule ${id}`, null, () => act("DELETE", `/store/v1/faults/${id}`)));
    ruleRows.append(element("tr", {}, element("td", { textContent: id }), element("td", {}, element("code", { textContent: JSON.stringify(shape) })),
      element("td", { className: "hits", textContent: hits }), actions));
  }
}

/// A button that does `action`, after `question` is confirmed where there is one.
function button(label, name, question, action) {
  const made = element("button", { type: "button", textContent: label, ariaLabel: name });
  made.addEventListener("click", () => {
    if (question && !window.confirm(question)) return;
    action().catch(report);
  });
  return made;
}

/// A change through the extension API, then the environment read again (the tree follows
/// the events stream).
async function act(method, path, body) {
  await call(method, path, body);
  await loadEnvironment();
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
  $("#tree").addEventListener("keydown", treeKeys);
  $("#tree").addEventListener("focusin", (event) => {
    const item = event.target.closest("[role=treeitem]");
    if (!item) return;
    for (const other of $("#tree").querySelectorAll("[role=treeitem]")) other.tabIndex = other === item ? 0 : -1;
  });
  $("#request-filter").addEventListener("submit", (event) => loadJournal(event).catch(report));
  $("#request-own").addEventListener("change", () => loadJournal().catch(report));
  $("#request-clear").addEventListener("click", () => { $("#request-filter").reset(); loadJournal().catch(report); });
  $("#journal-older").addEventListener("click", () => olderRequests().catch(report));
  for (const tab of document.querySelectorAll("#tabs button")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
  const save = $("#snapshot-save"); if (save) save.addEventListener("submit", (event) => saveSnapshot(event).catch(report));
  const resetButton = $("#reset"); if (resetButton) resetButton.addEventListener("click", () => reset().catch(report));
  const add = $("#fault-add"); if (add) add.addEventListener("submit", (event) => addFault(event).catch(report));
  if (state.xsrf) start().catch(report); else loggedOut();
});
