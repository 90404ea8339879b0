// netlab serve's pages: log in, a student's labs, a lab (topology,
// terminals, checks, packet view, controls), a teacher's classes and
// class grid. Hash routes: #/, #/lab/ID, #/class/ID.
import "./style.css";
import { api, setCSRF, el } from "./api.js";
import { labPage } from "./lab.js";
import { teacherHome, classPage } from "./teacher.js";

const app = document.getElementById("app");
let me = null;
let leave = null; // what the current page closes when the route changes

async function start() {
  const m = location.hash.match(/login=([A-Za-z0-9_-]+)/);
  if (m) {
    history.replaceState(null, "", location.pathname + "#/");
    try { await loggedIn(await retried(() => api("POST", "/api/login/token", { token: m[1] }))); } catch (e) { loginPage(e.message); return; }
  } else {
    try { await loggedIn(await retried(() => api("GET", "/api/me"))); } catch { loginPage(); return; }
  }
}

// retried runs a request again, twice at most, when it got no answer at
// all (the browser's "Failed to fetch": the connection failed or was
// cut); an answer, even an error, is final. A login link is used once:
// should the first request have reached the server after all, the second
// says the link is used.
async function retried(request) {
  for (let i = 0; ; i++) {
    try { return await request(); } catch (e) {
      if (e.status !== undefined || i === 2) throw e;
      await new Promise((r) => setTimeout(r, 500 * (i + 1)));
    }
  }
}

async function loggedIn(m) {
  me = m.user;
  setCSRF(m.csrf);
  const who = document.getElementById("who");
  who.replaceChildren(`${me.name} (${me.role}) `,
    el("button", { id: "logout", onclick: async () => { await api("POST", "/api/logout"); location.reload(); } }, "Log out"));
  window.addEventListener("hashchange", route);
  route();
}

function loginPage(message) {
  const name = el("input", { id: "login-name", autocomplete: "username", required: true });
  const pw = el("input", { id: "login-password", type: "password", autocomplete: "current-password", required: true });
  const msg = el("p", { class: "error", role: "alert" }, message || "");
  const form = el("form", { class: "login", onsubmit: async (e) => {
    e.preventDefault();
    try { await loggedIn(await api("POST", "/api/login", { name: name.value, password: pw.value })); } catch (err) { msg.textContent = err.message; }
  } }, el("h1", {}, "Log in"), el("label", {}, "Name ", name), el("label", {}, "Password ", pw),
  el("button", { id: "login-submit", type: "submit" }, "Log in"), msg,
  el("p", { class: "note" }, "Students: open the login link your teacher gave you."));
  app.replaceChildren(form);
}

async function route() {
  if (leave) { leave(); leave = null; }
  const h = location.hash;
  let m;
  try {
    if ((m = h.match(/^#\/lab\/([0-9a-f]+)/))) leave = await labPage(app, m[1], me);
    else if ((m = h.match(/^#\/class\/(\d+)/)) && me.role === "teacher") leave = await classPage(app, m[1]);
    else if (me.role === "teacher") await teacherHome(app);
    else await studentHome();
  } catch (e) {
    app.replaceChildren(el("p", { class: "error", role: "alert" }, e.status === 404 ? "Not found." : e.message),
      el("a", { href: "#/" }, "Back to your labs"));
  }
}

async function studentHome() {
  const labs = await api("GET", "/api/labs");
  app.replaceChildren(el("h1", {}, "Your labs"), labList(labs), passwordForm());
}

export function labList(labs) {
  if (!labs.length) return el("p", {}, "No labs yet.");
  return el("table", { class: "labs" },
    el("tr", {}, el("th", {}, "Lab"), el("th", {}, "Class"), el("th", {}, "Owner"), el("th", {}, "Nodes running")),
    labs.map((l) => el("tr", {},
      el("td", {}, el("a", { href: `#/lab/${l.id}`, class: "lab-link", "data-lab": l.name }, l.name)),
      el("td", {}, l.class), el("td", {}, l.owner),
      el("td", {}, l.unknown ? "? not known (the runtime is busy)" : l.nodes ? `${l.running ? "●" : "○"} ${l.running} of ${l.nodes}` : "○ not started"))));
}

function passwordForm() {
  const pw = el("input", { type: "password", minlength: 10, autocomplete: "new-password" });
  const msg = el("span", { role: "status" });
  return el("form", { class: "password", onsubmit: async (e) => {
    e.preventDefault();
    try { await api("POST", "/api/password", { password: pw.value }); msg.textContent = "Password set."; pw.value = ""; } catch (err) { msg.textContent = err.message; }
  } }, el("h2", {}, "Your password"), el("label", {}, "New password (10 characters or more) ", pw), el("button", {}, "Set"), " ", msg);
}

start();
