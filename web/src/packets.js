// The packet view: a line per captured frame of an interface or a
// network, live over a websocket, and a pcap download of the same.
import { el, wsURL } from "./api.js";

const MAX_LINES = 1000;

export function packetView(base, targets, closers) {
  const sel = el("select", { id: "capture-target" }, targets.map((t) => el("option", { value: t }, t)));
  const filter = el("input", { id: "capture-filter", placeholder: "filter (tcpdump syntax), e.g. icmp" });
  const out = el("pre", { id: "packets", class: "packets" });
  const status = el("span", { role: "status" });
  const pcap = el("a", { id: "capture-pcap", download: "" }, "Download pcap (100 packets or 10 s)");
  let ws = null;
  const stop = () => { if (ws) { ws.close(); ws = null; } };
  const start = () => {
    stop();
    out.textContent = "";
    const q = `?target=${encodeURIComponent(sel.value)}&filter=${encodeURIComponent(filter.value)}`;
    ws = new WebSocket(wsURL(`${base}/capture${q}`));
    status.textContent = `capturing on ${sel.value}`;
    ws.onmessage = (e) => {
      out.append(e.data + "\n");
      while (out.childNodes.length > MAX_LINES) out.firstChild.remove();
      out.scrollTop = out.scrollHeight;
    };
    ws.onclose = (e) => { status.textContent = e.reason || "capture ended"; };
  };
  const updateLink = () => { pcap.href = `${base}/capture.pcap?target=${encodeURIComponent(sel.value)}&filter=${encodeURIComponent(filter.value)}`; };
  sel.addEventListener("change", updateLink);
  filter.addEventListener("input", updateLink);
  updateLink();
  closers.push(stop);
  return el("section", {}, el("h2", {}, "Packets"),
    el("div", { class: "controls" }, sel, " ", filter, " ",
      el("button", { id: "capture-start", onclick: start }, "▶ Capture"), el("button", { onclick: stop }, "■ Stop"), " ", pcap, " ", status),
    out);
}
