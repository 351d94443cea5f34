// The canvas' toolbar keeps undo, redo and reset; its pencil (which switches to moving
// strokes: dragging no longer draws) and its send arrow (the page reads every stroke anyway)
// are hidden. It only shows while a mouse hovers over the canvas: a finger has no hover, and
// its invisible box, slid over the canvas' top edge, swallows strokes begun there. This pins
// it, visible and with finger-sized buttons, just above the canvas. The canvas draws inside a
// shadow root that the page's CSS cannot reach, so the rule is adopted by the shadow root of
// each canvas element (keys "canvas-N") as it appears. Written for the toolbar of
// streamlit-drawable-canvas ui/read.py's CANVAS_VERSION (its .dc-toolbar and .dc-icon-button
// classes); another version gets no fix rather than a wrong one.
(() => {
  if (window.__canvasToolbarFix) return;
  window.__canvasToolbarFix = true;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(`
    .dc-toolbar { opacity: 1 !important; top: -3rem !important; padding: 0;
      pointer-events: none; }
    .dc-toolbar-card { pointer-events: auto; }
    .dc-icon-button { min-width: 2.25rem; min-height: 2.25rem; }
    .dc-icon-button svg { width: 1.15rem; height: 1.15rem; }
    .dc-icon-button[title="Update the app with this drawing"], .dc-icon-button[title="Edit"],
    .dc-toolbar-separator, .dc-toolbar-contextual { display: none !important; }`);
  const pin = () => document.querySelectorAll('[class*="st-key-canvas-"]').forEach(box => {
    box.querySelectorAll("*").forEach(host => {
      const root = host.shadowRoot;
      if (root && !root.adoptedStyleSheets.includes(sheet)) {
        root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
      }
    });
  });
  // A canvas' shadow root is attached just after its element appears, and a new canvas
  // comes with every Clear: look again whenever the page changes.
  new MutationObserver(() => requestAnimationFrame(pin))
    .observe(document.body, {childList: true, subtree: true});
  pin();
})();
