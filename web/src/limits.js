// A class's limits on the teacher's pages: per student (labs and nodes
// running at once) and per node of the class's labs (CPU, memory,
// processes). Empty fields are no limit.
import { api, el } from "./api.js";

// limitFields are the inputs of the limits, and value() reads them as
// the API takes them.
export function limitFields(current = {}) {
  const num = (id, attrs) => el("input", { id, type: "number", min: 0, size: 6, ...attrs });
  const f = {
    labs: num("limit-labs", { value: current.labs || "" }),
    nodes: num("limit-nodes", { value: current.nodes || "" }),
    cpus: num("limit-cpus", { step: 0.01, value: current.cpus || "" }),
    memory: el("input", { id: "limit-memory", size: 8, placeholder: "256MiB", value: current.memory || "" }),
    pids: num("limit-pids", { value: current.pids || "" }),
  };
  const fieldset = el("fieldset", { class: "limits" }, el("legend", {}, "Limits (empty: none)"),
    el("label", {}, "Labs per student at once ", f.labs), " ", el("label", {}, "nodes per student ", f.nodes), el("br"),
    el("label", {}, "Each node: CPUs ", f.cpus), " ", el("label", {}, "memory ", f.memory), " ", el("label", {}, "processes ", f.pids));
  const value = () => ({ labs: +f.labs.value || 0, nodes: +f.nodes.value || 0, cpus: +f.cpus.value || 0,
    memory: f.memory.value.trim(), pids: +f.pids.value || 0 });
  return { fieldset, value };
}

// limitsForm shows and sets a class's limits.
export async function limitsForm(id) {
  const fields = limitFields(await api("GET", `/api/classes/${id}/limits`));
  const msg = el("span", { id: "limits-status", role: "status" });
  return el("form", { id: "class-limits", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api("POST", `/api/classes/${id}/limits`, fields.value());
      msg.replaceChildren("Limits set: nodes take them when their lab starts again.");
    } catch (err) { msg.replaceChildren(el("span", { class: "error", role: "alert" }, err.message)); }
  } }, fields.fieldset, el("button", { id: "limits-set" }, "Set the limits"), " ", msg);
}
