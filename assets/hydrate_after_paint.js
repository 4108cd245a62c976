// Starts a prerendered page's scripts once the page has been painted (storefront/page_boot.py says why).
// The modules are the ones React Router's own boot script imported, read from the page's JSON element,
// evaluated in the same order: the manifest, then the route modules, then the client entry that hydrates.
const modules = JSON.parse(document.getElementById("page-modules").textContent);

function afterFirstPaint() {
  // A hidden tab paints nothing and runs no animation frame: start at once rather than never.
  if (document.visibilityState === "hidden") return Promise.resolve();
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

await afterFirstPaint();
for (const href of modules.preload) {
  const link = document.createElement("link");
  link.rel = "modulepreload";
  link.href = href;
  document.head.appendChild(link);
}
for (const url of modules.first) await import(url);
const routeModules = {};
for (const [id, url] of modules.routes) routeModules[id] = await import(url);
window.__reactRouterRouteModules = routeModules;
import(modules.entry);
