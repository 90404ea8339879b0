// The teacher's pages: classes (and making one), every lab, and a
// class's grid of results, live.
import { api, el } from "./api.js";
import { labList } from "./app.js";
import { watchTerminal } from "./terminal.js";
import { limitFields, limitsForm } from "./limits.js";

export async function teacherHome(app) {
  const [classes, labs, bundled] = await Promise.all([api("GET", "/api/classes"), api("GET", "/api/labs"), api("GET", "/api/bundled")]);
  app.replaceChildren(
    el("h1", {}, "Classes"),
    classes.length ? el("ul", { id: "classes" }, classes.map((c) => el("li", {},
      el("a", { href: `#/class/${c.id}`, "data-class": c.name }, c.name), ` — ${c.source}, ${c.shared ? "one lab shared by its groups" : "a lab per " + c.per}${c.stage ? ", stage " + c.stage : ""}`))) : el("p", {}, "No classes yet."),
    createForm(bundled),
    el("h1", {}, "All labs"), labList(labs));
}

// brief is a lab's description cut to its first sentence, at most 80
// characters: an option of a list, the whole of it in the option's title.
function brief(about) {
  const first = about.split(/(?<=[.:;])\s/)[0];
  return first.length <= 80 ? first : first.slice(0, 79).replace(/\s+\S*$/, "") + "…";
}

function createForm(bundled) {
  const name = el("input", { id: "class-name", required: true, pattern: "[A-Za-z0-9]([A-Za-z0-9-]{0,22}[A-Za-z0-9])?" });
  const labSel = el("select", { id: "class-lab" }, bundled.map((b) => el("option", { value: b.name, title: b.about }, `${b.name} (${b.nodes} nodes) — ${brief(b.about)}`)),
    el("option", { value: "" }, "a lab file (paste it below)"));
  const file = el("textarea", { id: "class-lab-file", rows: 4, placeholder: "lab file (YAML), if not a bundled lab" });
  const per = el("select", { id: "class-per" }, el("option", { value: "student" }, "a lab per student"), el("option", { value: "group" }, "a lab per group"),
    el("option", { value: "class" }, "one lab shared by the class: each group reaches its nodes (group: in the lab file)"));
  const roster = el("textarea", { id: "class-roster", rows: 5, required: true }, "name,group,email\n");
  const allow = el("input", { id: "class-allow-host", type: "checkbox" });
  const limits = limitFields();
  const out = el("div", { id: "class-created", role: "status" });
  const form = el("form", { class: "create", onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api("POST", "/api/classes", { name: name.value, lab: labSel.value, lab_file: labSel.value ? "" : file.value,
        roster: roster.value, per: per.value, allow_host: allow.checked, limits: limits.value() });
      out.replaceChildren(el("p", {}, `Class ${r.class.name} made (`, el("a", { href: `#/class/${r.class.id}` }, "its grid"),
        "). Give each student their one-time login link:"),
        el("table", { id: "logins" }, el("tr", {}, el("th", {}, "Student"), el("th", {}, "Lab"), el("th", {}, "Login link")),
          r.logins.map((l) => el("tr", { "data-student": l.name }, el("td", {}, l.name), el("td", {}, l.lab),
            el("td", {}, el("code", { class: "login-link" }, l.link))))));
    } catch (err) { out.replaceChildren(el("pre", { class: "error", role: "alert" }, err.message)); }
  } },
  el("h2", {}, "Make a class"),
  el("label", {}, "Name ", name), el("label", {}, "Lab ", labSel), file, el("label", {}, per),
  el("label", {}, "Roster (CSV: name, optionally group and email) ", roster),
  el("label", {}, allow, " Allow what the lab asks of the host (only for lab files you trust)"),
  limits.fieldset,
  el("button", { id: "class-create", type: "submit" }, "Make the class"), out);
  return form;
}

// The grid: a row per lab (student or group), a column per check; each
// cell a symbol as well as a colour.
export async function classPage(app, id) {
  const g = await api("GET", `/api/classes/${id}/grid`);
  const cells = {};
  const cell = (r) => {
    const c = el("td", { class: r ? (r.passed ? "pass" : "fail") : "none", title: r ? `${r.detail} (${new Date(r.at).toLocaleString()})` : "not run" },
      r ? (r.passed ? "✔" : "✘") : "–");
    return c;
  };
  // The students' open terminals, a cell per lab: watch or take over.
  const termCells = {};
  const charts = {};
  const watched = el("div", { id: "watched", class: "terminals" });
  const closers = [];
  const showTerminals = async () => {
    const list = await api("GET", `/api/classes/${id}/terminals`);
    for (const [labID, td] of Object.entries(termCells)) {
      td.replaceChildren(...list.filter((t) => t.lab === labID).map((t) => el("div", { "data-term-id": t.id, "data-term-node": t.node },
        `${t.node} (${t.user})${t.taken_by ? " — taken over by " + t.taken_by : t.watchers.length ? " — watched" : ""} `,
        el("button", { class: "watch", onclick: () => closers.push(watchTerminal(watched, t, "watch")) }, "Watch"),
        el("button", { class: "take", onclick: () => closers.push(watchTerminal(watched, t, "take")) }, "Take over"))));
    }
  };
  const table = el("table", { id: "grid", class: "grid" },
    el("tr", {}, el("th", {}, "Owner"), g.checks.map((c) => el("th", { class: "check" }, c)), el("th", {}, "Progress over time"), el("th", {}, "Open terminals")),
    g.rows.map((row) => el("tr", { "data-owner": row.lab.owner },
      el("td", {}, el("a", { href: `#/lab/${row.lab.id}` }, row.lab.owner)),
      g.checks.map((c) => (cells[row.lab.id + "\n" + c] = cell(row.results[c]))),
      el("td", { class: "progress-cell" }, (charts[row.lab.id] = el("img", { class: "progress-chart", "data-lab": row.lab.id, width: 180, alt: `${row.lab.owner}: checks passing over time`, src: `/api/labs/${row.lab.id}/progress.svg` }))),
      (termCells[row.lab.id] = el("td", { class: "terminals" })))));
  await showTerminals();
  const stage = el("input", { id: "class-stage", value: g.class.stage, size: 6 });
  const msg = el("span", { role: "status" });
  // A lab's chart is drawn again once a run of its checks settles.
  const redrawTimers = {};
  const redraw = (labID) => {
    clearTimeout(redrawTimers[labID]);
    redrawTimers[labID] = setTimeout(() => { if (charts[labID]) charts[labID].src = `/api/labs/${labID}/progress.svg?t=${Date.now()}`; }, 500);
  };
  const events = new EventSource(`/api/classes/${id}/events`);
  events.addEventListener("check", (e) => {
    const r = JSON.parse(e.data);
    const old = cells[r.lab + "\n" + r.name];
    if (old) { const c = cell(r); old.replaceWith(c); cells[r.lab + "\n" + r.name] = c; }
    redraw(r.lab);
  });
  events.addEventListener("terminal", () => { showTerminals().catch(() => {}); });
  // Events sent while the page was not connected (before its first
  // connection, or while the server restarted or the network dropped)
  // are lost: on every connection the grid and the open terminals are
  // read again.
  events.addEventListener("open", () => {
    showTerminals().catch(() => {});
    api("GET", `/api/classes/${id}/grid`).then((now) => {
      for (const row of now.rows) {
        for (const c of now.checks) {
          const old = cells[row.lab.id + "\n" + c];
          if (old) { const n = cell(row.results[c]); old.replaceWith(n); cells[row.lab.id + "\n" + c] = n; }
        }
        redraw(row.lab.id);
      }
    }).catch(() => {});
  });
  events.addEventListener("stage", (e) => { msg.textContent = `class at stage ${JSON.parse(e.data).stage}`; stageRows.replaceChildren(); for (const k in stageLine) delete stageLine[k]; });
  // Each lab's part in the move, in words and symbols.
  const stageRows = el("ul", { id: "stage-progress" });
  const stageLine = {};
  const STAGE = { resetting: "↺ resetting", done: "✔ at the stage", failed: "✘ failed", refused: "✘ refused: over the limits", "at next start": "○ not running: gets the stage when it starts" };
  events.addEventListener("stage-progress", (e) => {
    const p = JSON.parse(e.data);
    const line = el("li", { "data-lab": p.lab_name, "data-state": p.state, class: p.state === "done" ? "pass" : p.state === "failed" || p.state === "refused" ? "fail" : "" },
      `${p.owner}: ${STAGE[p.state] || p.state}${p.error ? " — " + p.error : ""}${p.total ? ` (${p.done} of ${p.total} reset)` : ""}`);
    if (stageLine[p.lab]) stageLine[p.lab].replaceWith(line); else stageRows.append(line);
    stageLine[p.lab] = line;
  });
  app.replaceChildren(el("p", {}, el("a", { href: "#/" }, "← classes")),
    el("h1", {}, `Class ${g.class.name}`, el("small", {}, ` ${g.class.source}, a lab per ${g.class.per}`)),
    el("p", { class: "legend" }, el("span", { class: "pass" }, "✔ passed"), " ", el("span", { class: "fail" }, "✘ failed"), " ", el("span", { class: "none" }, "– not run")),
    table,
    el("p", {}, el("a", { href: `/api/classes/${id}/results.csv`, download: "" }, "Export results (CSV)")),
    el("form", { onsubmit: async (e) => {
      e.preventDefault();
      try {
        const r = await api("POST", `/api/classes/${id}/stage`, { stage: stage.value });
        msg.textContent = `moving to ${r.stage ? "stage " + r.stage : "no stage (the whole lab)"}: ${r.reset.length} running labs to reset, ${r.at_next_start.length} at their next start`;
      } catch (err) { msg.textContent = err.message; }
    } }, el("label", {}, "Move the class to stage ", stage), el("button", { id: "stage-move" }, "Move"), " ", msg,
      el("p", { class: "note" }, "Running labs are reset to the stage; the others get it when they start."), stageRows),
    el("h2", {}, "Watched terminals"), watched,
    await limitsForm(id));
  return () => { events.close(); closers.forEach((c) => c()); };
}
