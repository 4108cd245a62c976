// Starts a prerendered page's scripts once the page has been painted (storefront/page_boot.py says why).
// The modules are the ones React Router's own boot script imported, read from the page's JSON element. They are
// evaluated one per task, each after the modules it imports, so that no single task holds the main thread for
// the whole graph; then the route table is set and the client entry, which hydrates, comes last.
const modules = JSON.parse(document.getElementById("page-modules").textContent);

function afterFirstPaint() {
  // A hidden tab paints nothing and runs no animation frame: start at once rather than never.
  if (document.visibilityState === "hidden") return Promise.resolve();
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

function nextTask() {
  return globalThis.scheduler?.yield ? globalThis.scheduler.yield() : new Promise((resolve) => setTimeout(resolve, 0));
}

function preload(href) {
  const link = document.createElement("link");
  link.rel = "modulepreload";
  link.href = href;
  const loaded = new Promise((resolve) => {
    link.onload = link.onerror = resolve;
  });
  document.head.appendChild(link);
  return loaded;
}

await afterFirstPaint();
// Fetched and compiled off the main thread first: an import of a module still compiling waits on the main thread.
await Promise.all(modules.preload.map(preload));
for (const url of modules.steps ?? []) {
  await import(url);
  await nextTask();
}
for (const url of modules.first) await import(url);
const routeModules = {};
for (const [id, url] of modules.routes) routeModules[id] = await import(url);
window.__reactRouterRouteModules = routeModules;
import(modules.entry);
