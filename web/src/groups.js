// A class-wide lab's views, for everyone in it: the connectivity matrix
// (every group's host pings every other's) and a router's looking glass.
// Symbols say what colours say.
import { api, el } from "./api.js";

const MARK = { good: "✓", invalid: "!", unknown: "?", unreachable: "✗" };
const markOf = (p) => (!p.reachable ? MARK.unreachable : p.verdict === "valid" ? MARK.good : p.verdict === "invalid" ? MARK.invalid : MARK.unknown);
const classOf = (p) => (!p.reachable ? "fail" : p.verdict === "valid" ? "pass" : "warn");

export function matrixView(base) {
  const out = el("div", { id: "matrix", role: "status" });
  const run = el("button", { id: "matrix-run", onclick: async () => {
    run.disabled = true;
    out.replaceChildren(el("p", {}, "… pinging every pair"));
    try { out.replaceChildren(...drawMatrix(await api("GET", base + "/matrix"))); } catch (e) { out.replaceChildren(el("p", { class: "error" }, e.message)); }
    run.disabled = false;
  } }, "Run the matrix");
  return el("section", {}, el("h2", {}, "Connectivity matrix"),
    el("p", { class: "legend" }, "✓ reachable, valid path   ! reachable against the business relations   ? path not judged   ✗ unreachable"),
    run, out);
}

function drawMatrix(m) {
  const groups = [...new Set(m.pairs.flatMap((p) => [p.from, p.to]))].sort((a, b) => (Number(a) - Number(b)) || a.localeCompare(b));
  const cell = {};
  for (const p of m.pairs) cell[p.from + "\n" + p.to] = p;
  const table = el("table", { class: "grid matrix" },
    el("tr", {}, el("th", {}, "from \\ to"), groups.map((g) => el("th", {}, g))),
    groups.map((from) => el("tr", { "data-from": from }, el("th", {}, from), groups.map((to) => {
      const p = cell[from + "\n" + to];
      if (!p) return el("td", { class: "none" }, "·");
      return el("td", { class: classOf(p), "data-to": to, title: `${p.from_host} → ${p.to_host}: ${p.verdict}${p.as_path && p.as_path.length ? " via AS " + p.as_path.join(" ") : ""}${p.detail ? " — " + p.detail : ""}` }, markOf(p));
    }))));
  const bad = m.pairs.filter((p) => !(p.reachable && p.verdict === "valid"));
  return [el("p", { id: "matrix-summary" }, m.summary), table,
    bad.length ? el("ul", {}, bad.map((p) => el("li", {}, `${markOf(p)} ${p.from} → ${p.to}: ${p.reachable ? p.verdict : "unreachable"}${p.detail ? " — " + p.detail : ""}`))) : null];
}

export function glassView(base, routers) {
  const router = el("select", { id: "lg-router" }, routers.map((r) => el("option", { value: r }, r)));
  const prefix = el("input", { id: "lg-prefix", placeholder: "prefix (optional), e.g. 1.0.0.0/8", size: 22 });
  const out = el("div", { id: "lg-out" });
  const form = el("form", { onsubmit: async (e) => {
    e.preventDefault();
    out.replaceChildren(el("p", {}, "…"));
    const q = prefix.value ? `?prefix=${encodeURIComponent(prefix.value)}` : "";
    try { out.replaceChildren(...drawGlass(await api("GET", `${base}/lg/${encodeURIComponent(router.value)}${q}`))); } catch (err) { out.replaceChildren(el("p", { class: "error" }, err.message)); }
  } }, el("label", {}, "Router ", router), " ", prefix, " ", el("button", { id: "lg-look" }, "Look"));
  return el("section", {}, el("h2", {}, "Looking glass"), form, out);
}

function drawGlass(g) {
  return [
    el("h3", {}, `BGP of ${g.router}${g.prefix ? " for " + g.prefix : ""}`),
    g.bgp.length ? el("table", { class: "lg-bgp" }, el("tr", {}, el("th", {}, ""), el("th", {}, "Prefix"), el("th", {}, "Next hop"), el("th", {}, "AS path"), el("th", {}, "From")),
      g.bgp.map((p) => el("tr", {}, el("td", {}, p.best ? ">" : p.valid ? "*" : " "), el("td", {}, p.prefix), el("td", {}, p.next_hop || "—"),
        el("td", {}, p.as_path.length ? p.as_path.join(" ") : "(own AS)"), el("td", {}, p.peer || "self")))) : el("p", {}, "No BGP paths."),
    el("h3", {}, "Routes"),
    g.routes.length ? el("table", { class: "lg-routes" }, el("tr", {}, el("th", {}, "Prefix"), el("th", {}, "Protocol"), el("th", {}, "Via")),
      g.routes.map((r) => el("tr", {}, el("td", {}, (r.selected ? "> " : "  ") + r.prefix), el("td", {}, r.protocol), el("td", {}, r.next_hops.join(", "))))) : el("p", {}, "No routes."),
    el("p", { class: "legend" }, "> best (BGP) or selected (routes); * valid"),
  ];
}
