// Installed before any page script (page.add_init_script): sums the page's layout shifts that
// were not caused by input, as Chromium reports them, and keeps the nodes that moved for the message.
window.__layoutShift = { cls: 0, shifts: [] };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__layoutShift.cls += entry.value;
    window.__layoutShift.shifts.push({
      value: Math.round(entry.value * 10000) / 10000,
      nodes: (entry.sources || []).map((s) => {
        const n = s.node;
        if (!n || !n.nodeName) return "?";
        const cls = typeof n.className === "string" ? n.className.split(" ").slice(0, 2).join(".") : "";
        return n.nodeName.toLowerCase() + (n.id ? "#" + n.id : "") + (cls ? "." + cls : "") +
          " " + JSON.stringify([s.previousRect.y, s.previousRect.height]) + "->" +
          JSON.stringify([s.currentRect.y, s.currentRect.height]);
      }),
    });
  }
}).observe({ type: "layout-shift", buffered: true });
