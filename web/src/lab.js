// A lab's page: controls, the topology coloured live (server-sent
// events), nodes and interfaces with their controls, checks with hints,
// terminals and the packet view.
import { api, el } from "./api.js";
import { openTerminal } from "./terminal.js";
import { packetView } from "./packets.js";
import { matrixView, glassView } from "./groups.js";

// Symbols say what colours say, for those who do not see them.
const NODE = { running: "● running", absent: "○ not started", exited: "■ stopped", created: "◌ created" };
const nodeText = (s) => NODE[s] || "■ " + s;

export async function labPage(app, id, me) {
  const d = await api("GET", `/api/labs/${id}`);
  const base = `/api/labs/${id}`;
  const closers = [];
  const progress = el("p", { id: "progress", class: "progress", role: "status" }, "");
  const stageSel = el("select", { id: "stage" }, el("option", { value: "" }, "all stages"),
    (d.stages || []).map((s) => el("option", { value: s.name, selected: s.name === d.class_stage }, `stage ${s.name}${s.title ? ": " + s.title : ""}`)));
  const op = (label, path, body) => async () => {
    progress.textContent = `${label}…`;
    try { await api("POST", base + path, body ? body() : {}); progress.textContent = `${label}: done`; } catch (e) { progress.textContent = `${label}: ${e.message}`; }
  };
  // In a class's shared lab a student reaches their group's nodes; the
  // teacher starts, stops and resets it.
  const mine = (n) => !d.restricted || (d.group !== "" && d.node_groups[n] === d.group);
  const whole = !(d.shared && me.role !== "teacher");
  const controls = el("div", { class: "controls" },
    whole ? el("button", { id: "btn-up", onclick: op("Start", "/up", () => ({ stage: stageSel.value })) }, "▶ Start") : null,
    whole ? el("button", { id: "btn-down", onclick: op("Stop", "/down") }, "■ Stop") : null,
    whole ? el("button", { id: "btn-reset", onclick: op("Reset", "/reset", () => ({ stage: stageSel.value })) }, "↺ Reset") : null,
    d.restricted ? el("span", { id: "my-group" }, `You reach the nodes of group ${d.group || "(none)"}. `) : null,
    " ", stageSel, " ",
    el("button", { id: "btn-check", onclick: () => runChecks() }, "✔ Run checks"));

  const svgBox = el("div", { id: "topology", class: "topology" });
  svgBox.innerHTML = await (await fetch(base + "/topology.svg")).text();

  const nodeRows = {};
  const nodes = el("table", { id: "nodes" }, el("tr", {}, el("th", {}, "Node"), el("th", {}, "State"), el("th", {}, "")),
    d.nodes.map((n) => {
      const state = el("td", { class: "state" }, nodeText("absent"));
      nodeRows[n] = state;
      const group = d.node_groups[n] ? ` (group ${d.node_groups[n]})` : "";
      return el("tr", { "data-node": n, "data-mine": mine(n) ? "yes" : "no" }, el("td", {}, n + group), state, el("td", {}, mine(n) ? [
        el("button", { "data-term": n, onclick: () => closers.push(openTerminal(terms, base, n)) }, "Terminal"),
        el("button", { onclick: op(`Stop ${n}`, `/nodes/${n}/stop`) }, "Stop"),
        el("button", { onclick: op(`Start ${n}`, `/nodes/${n}/start`) }, "Start"),
        el("button", { onclick: op(`Restart ${n}`, `/nodes/${n}/restart`) }, "Restart")] : "another group's"));
    }));

  const ifaceRows = el("tbody");
  const ifaces = el("table", { id: "interfaces" },
    el("thead", {}, el("tr", {}, el("th", {}, "Interface"), el("th", {}, "State"), el("th", {}, ""))), ifaceRows);
  const links = el("ul", { class: "links" }, d.links.map((k) => el("li", {}, `${k[0]} ══ ${k[1]}`)),
    d.networks.map((n) => el("li", {}, `${n.name}: ${n.members.join(", ")}`)));

  const checkRows = {};
  const checks = el("table", { id: "checks" }, el("tr", {}, el("th", {}, ""), el("th", {}, "Check"), el("th", {}, "Result")),
    d.checks.map((c) => {
      const status = el("td", { class: "status" }, "–");
      const detail = el("td", { class: "detail" }, c.stage ? `stage ${c.stage}` : "");
      checkRows[c.name] = { status, detail, row: null };
      const row = el("tr", { "data-check": c.name }, status, el("td", {}, c.name), detail);
      checkRows[c.name].row = row;
      return row;
    }));
  const showResult = (r) => {
    const c = checkRows[r.name];
    if (!c) return;
    c.status.textContent = r.passed ? "✔ pass" : "✘ fail";
    c.row.className = r.passed ? "pass" : "fail";
    c.detail.textContent = r.detail + (r.tries > 1 ? ` (${r.tries} tries)` : "") + (!r.passed && r.hint ? ` — hint: ${r.hint}` : "");
  };
  for (const r of await api("GET", base + "/results")) showResult(r);
  const chart = el("img", { id: "progress-chart", alt: "checks passing over time", src: base + "/progress.svg" });
  async function runChecks() {
    for (const c of Object.values(checkRows)) { c.status.textContent = "… running"; c.row.className = "running"; }
    progress.textContent = "Checking…";
    try {
      const r = await api("POST", base + "/check", { stage: stageSel.value });
      progress.textContent = `Checks: ${r.passed} passed, ${r.failed} failed`;
      chart.src = `${base}/progress.svg?t=${Date.now()}`;
    } catch (e) { progress.textContent = "Checks: " + e.message; }
  }

  const terms = el("div", { id: "terminals", class: "terminals" });
  const applyState = (st) => {
    if (!st.nodes) return;
    const seen = {};
    for (const n of st.nodes) seen[n.node] = n;
    for (const n of d.nodes) {
      const s = seen[n] ? seen[n].state : "absent";
      nodeRows[n].textContent = nodeText(s) + (seen[n] && s === "running" && !seen[n].ready ? " (wiring)" : "");
      const g = svgBox.querySelector(`#node-${CSS.escape(n)}`);
      if (g) g.setAttribute("class", g.getAttribute("class").replace(/ st-\S+/g, "") + " st-" + s);
    }
    // An edge of the picture is down when an interface it joins is, and
    // impaired when one runs through a relay.
    const ifState = {};
    for (const i of st.interfaces) ifState[`${i.node}:${i.iface}`] = i.missing || !i.up || !i.carrier ? "down" : i.impair ? "impaired" : "up";
    for (const e of svgBox.querySelectorAll(".edge[data-ends]")) {
      const states = e.dataset.ends.split(" ").map((x) => ifState[x] || "absent");
      const s = states.includes("down") ? "down" : states.includes("impaired") ? "impaired" : states.includes("absent") ? "absent" : "up";
      e.setAttribute("class", "edge st-" + s);
    }
    ifaceRows.replaceChildren(...st.interfaces.map((i) => {
      const name = `${i.node}:${i.iface}`;
      const state = i.missing ? "✘ missing" : !i.up ? "▼ down" : !i.carrier ? "▽ no carrier" : i.impair ? `≈ ${i.impair}` : "▲ up";
      return el("tr", { "data-iface": name, class: i.up && i.carrier ? (i.impair ? "impaired" : "up") : "down" },
        el("td", {}, name), el("td", { class: "state" }, state), el("td", {}, !mine(i.node) ? "" : [
          el("button", { onclick: op(`${name} down`, `/nodes/${i.node}/interfaces/${i.iface}/down`) }, "Down"),
          el("button", { onclick: op(`${name} up`, `/nodes/${i.node}/interfaces/${i.iface}/up`) }, "Up"),
          el("button", { onclick: () => impair(i.node, i.iface) }, "Impair…")]));
    }));
  };
  const impair = (node, iface) => {
    const v = prompt(`Impair ${node}:${iface}: delay, jitter, loss, rate (e.g. "100ms,,5%,"; empty clears)`, "100ms,,,");
    if (v === null) return;
    const [delay, jitter, loss, rate] = v.split(",").map((x) => (x || "").trim());
    op(`Impair ${node}:${iface}`, `/nodes/${node}/interfaces/${iface}/impair`, () => ({ delay, jitter, loss, rate }))();
  };
  applyState(d.state);

  const events = new EventSource(base + "/events");
  events.addEventListener("state", (e) => applyState(JSON.parse(e.data)));
  events.addEventListener("check", (e) => showResult(JSON.parse(e.data)));
  events.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    progress.textContent = p.total ? `${p.n}/${p.total} ${p.step} ${p.outcome || ""}` : p.message;
  });
  events.addEventListener("op", (e) => {
    const p = JSON.parse(e.data);
    if (p.state !== "started") progress.textContent = `${p.op}: ${p.state}${p.error ? " — " + p.error : ""}`;
  });
  closers.push(() => events.close());

  const packetTargets = [];
  for (const n of d.nodes) for (const k of d.links) for (const end of k) if (end.startsWith(n + ":") && mine(n)) packetTargets.push(end);
  for (const n of d.networks) {
    if (!d.restricted) packetTargets.push(n.name);
    for (const m of n.members) if (mine(m.split(":")[0])) packetTargets.push(m);
  }
  const grouped = Object.keys(d.node_groups || {}).length > 0;
  const packets = packetView(base, [...new Set(packetTargets)], closers);

  app.replaceChildren(...[
    el("p", {}, el("a", { href: "#/" }, "← labs")),
    el("h1", {}, d.name, el("small", {}, ` ${d.owner}, class ${d.class}${d.class_stage ? ", at stage " + d.class_stage : ""}`)),
    controls, progress,
    el("div", { class: "columns" },
      el("section", {}, el("h2", {}, "Topology"), svgBox,
        el("p", { class: "legend-topology" }, "Boxes: green running, grey dashed not started, red dotted stopped. Lines: green up, red dotted down, orange dashed impaired."),
        el("h3", {}, "Links"), links),
      el("section", {}, el("h2", {}, "Nodes"), nodes, el("h2", {}, "Interfaces"), ifaces)),
    el("section", {}, el("h2", {}, "Checks"), checks, chart),
    el("section", {}, el("h2", {}, "Terminals"), terms),
    packets,
    grouped ? matrixView(base) : null,
    grouped ? glassView(base, d.nodes) : null,
    d.readme ? el("section", {}, el("h2", {}, "About this lab"), el("pre", { class: "readme" }, d.readme)) : null].filter(Boolean)); // replaceChildren would write a null as "null"
  return () => closers.forEach((c) => c());
}
