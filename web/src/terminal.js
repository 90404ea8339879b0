// A terminal on a node: xterm.js over a websocket to the node's shell.
// Binary messages carry the terminal's bytes; a text message carries its
// size ({"cols":C,"rows":R}) whenever the window changes. The server
// tells the terminal's owner who watches it and who has the keys
// ({"watchers":[...],"taken_by":NAME}), and tells a watcher the owner's
// size, which its terminal takes.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { el, wsURL } from "./api.js";

// openTerminal opens the lab's (base) node's shell in a pane of container.
export function openTerminal(container, base, node) {
  return terminalPane(container, `${base}/nodes/${encodeURIComponent(node)}/terminal`, node, "own");
}

// watchTerminal opens a teacher's view of a student's terminal: mode
// "watch" (read only) or "take" (the teacher's keys go in).
export function watchTerminal(container, t, mode) {
  const verb = mode === "take" ? "taken over" : "watching";
  return terminalPane(container, `/api/labs/${t.lab}/terminals/${t.id}/${mode}`, `${t.owner}: ${t.node} of ${t.user} (${verb})`, mode, t.id);
}

function terminalPane(container, path, name, mode, watched) {
  const body = el("div", { class: "term-body" });
  const title = el("span", {}, `${name} `);
  const status = el("span", { class: "term-status", role: "status" }, "");
  const pane = el("div", { class: `term term-${mode}`, "data-terminal": mode === "own" ? name : null, "data-watched": watched || null, "data-mode": mode },
    el("div", { class: "term-title" }, title, status, el("button", { onclick: () => close() }, "Close")), body);
  container.prepend(pane);
  const term = new Terminal({ cursorBlink: mode !== "watch", disableStdin: mode === "watch", fontSize: 13, scrollback: 2000, convertEol: false });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(body);
  pane.xterm = term; // for tests and the console: the pane's terminal
  if (mode === "own") fit.fit();
  // The shell starts with the pane's size (a size message alone races its start).
  const ws = new WebSocket(wsURL(mode === "own" ? `${path}?cols=${term.cols}&rows=${term.rows}` : path));
  ws.binaryType = "arraybuffer";
  const enc = new TextEncoder();
  const sendSize = () => {
    if (ws.readyState !== 1 || mode !== "own") return;
    ws.send(JSON.stringify({ cols: term.cols, rows: term.rows }));
    pane.dataset.size = `${term.rows} ${term.cols}`; // as stty size prints it
  };
  pane.dataset.state = "connecting";
  title.textContent = `${name} (connecting) `;
  ws.onopen = () => { pane.dataset.state = "open"; title.textContent = `${name} `; sendSize(); term.focus(); };
  ws.onmessage = (e) => {
    if (typeof e.data !== "string") { term.write(new Uint8Array(e.data)); return; }
    const m = JSON.parse(e.data);
    if (m.id) pane.dataset.termId = m.id;
    if (m.cols && m.rows) term.resize(m.cols, m.rows); // a watcher takes the owner's size
    if (m.watchers) {
      // Said in words, not only by colour: who watches, who types.
      pane.dataset.takenBy = m.taken_by || "";
      pane.classList.toggle("taken", !!m.taken_by);
      status.textContent = m.taken_by ? `⚠ ${m.taken_by} has taken over: your keys wait `
        : m.watchers.length ? `◉ watched by ${m.watchers.join(", ")} ` : "";
    }
  };
  ws.onclose = (e) => { pane.dataset.state = "closed"; title.textContent = `${name} (${e.reason || "closed"}) `; term.write(`\r\n[${e.reason || "closed"}]\r\n`); };
  term.onData((d) => { if (ws.readyState === 1 && mode !== "watch") ws.send(enc.encode(d)); });
  term.onResize(sendSize);
  const onWindow = () => { if (mode === "own") fit.fit(); };
  window.addEventListener("resize", onWindow);
  const close = () => {
    window.removeEventListener("resize", onWindow);
    ws.close();
    term.dispose();
    pane.remove();
  };
  return close;
}
