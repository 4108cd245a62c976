// Starts a prerendered page's scripts once the page has been painted (storefront/page_boot.py says why).
// The modules are the ones React Router's own boot script imported, read from the page's JSON element. They are
// evaluated one per task, each after the modules it imports, so that no single task holds the main thread for
// the whole graph; then the route table is set and the client entry, which hydrates, comes last.
const modules = JSON.parse(document.getElementById("page-modules").textContent);

// The page counts as painted when the browser reports its first contentful paint, which is the moment the frame
// was shown, not when it was drawn: on Lighthouse's phone the two were at times a second apart, and scripts
// started in between were counted as holding up the first paint.
const FIRST_PAINT_WAIT_MS = 4000; // should the report never come, the page still starts

function afterFirstPaint() {
  // A page with nothing to paint before its scripts (a dynamic route's shell) and a hidden tab, which paints
  // nothing, start at once rather than after the wait.
  if (!modules.paints || document.visibilityState === "hidden") return Promise.resolve();
  return new Promise((resolve) => {
    if (!globalThis.PerformanceObserver?.supportedEntryTypes?.includes("paint")) {
      requestAnimationFrame(() => setTimeout(resolve, 0));
      return;
    }
    const observer = new PerformanceObserver((list) => {
      if (list.getEntriesByName("first-contentful-paint").length) start();
    });
    const timer = setTimeout(start, FIRST_PAINT_WAIT_MS);
    function start() {
      observer.disconnect();
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", start);
      setTimeout(resolve, 0);
    }
    observer.observe({ type: "paint", buffered: true });
    document.addEventListener("visibilitychange", start);
  });
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
