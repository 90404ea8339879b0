// A terminal on a node: xterm.js over a websocket to the node's shell.
// Binary messages carry the terminal's bytes; a text message carries its
// size ({"cols":C,"rows":R}) whenever the window changes.
import { Terminal } from "@xterm/xterm";
import { FitAddon } from "@xterm/addon-fit";
import "@xterm/xterm/css/xterm.css";
import { el, wsURL } from "./api.js";

export function openTerminal(container, base, node) {
  const body = el("div", { class: "term-body" });
  const title = el("span", {}, `${node} `);
  const pane = el("div", { class: "term", "data-terminal": node }, el("div", { class: "term-title" }, title,
    el("button", { onclick: () => close() }, "Close")), body);
  container.prepend(pane);
  const term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 2000, convertEol: false });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(body);
  pane.xterm = term; // for tests and the console: the pane's terminal
  fit.fit();
  const ws = new WebSocket(wsURL(`${base}/nodes/${encodeURIComponent(node)}/terminal`));
  ws.binaryType = "arraybuffer";
  const enc = new TextEncoder();
  const sendSize = () => {
    if (ws.readyState !== 1) return;
    ws.send(JSON.stringify({ cols: term.cols, rows: term.rows }));
    pane.dataset.size = `${term.rows} ${term.cols}`; // as stty size prints it
  };
  pane.dataset.state = "connecting";
  title.textContent = `${node} (connecting) `;
  ws.onopen = () => { pane.dataset.state = "open"; title.textContent = `${node} `; sendSize(); term.focus(); };
  ws.onmessage = (e) => term.write(new Uint8Array(e.data));
  ws.onclose = (e) => { pane.dataset.state = "closed"; title.textContent = `${node} (${e.reason || "closed"}) `; term.write(`\r\n[${e.reason || "closed"}]\r\n`); };
  term.onData((d) => { if (ws.readyState === 1) ws.send(enc.encode(d)); });
  term.onResize(sendSize);
  const onWindow = () => fit.fit();
  window.addEventListener("resize", onWindow);
  const close = () => {
    window.removeEventListener("resize", onWindow);
    ws.close();
    term.dispose();
    pane.remove();
  };
  return close;
}
