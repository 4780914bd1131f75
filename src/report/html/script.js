
// Filters for a long report: severity toggles and a text filter over the
// incident cards, the low-incident rows and the timeline's incidents; and
// every collapsed section opened before printing. The page reads fully
// without this script.
(() => {
  const bar = document.getElementById("filters");
  const query = bar.querySelector("input");
  const items = document.querySelectorAll("[data-severity]");
  const shown = new Set();
  for (const button of bar.querySelectorAll("button")) {
    shown.add(button.dataset.sev);
    button.addEventListener("click", () => {
      const on = !shown.has(button.dataset.sev);
      button.setAttribute("aria-pressed", String(on));
      if (on) shown.add(button.dataset.sev); else shown.delete(button.dataset.sev);
      apply();
    });
  }
  function apply() {
    const words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const item of items) {
      const text = item.textContent.toLowerCase();
      const keep = shown.has(item.dataset.severity) && words.every((w) => text.includes(w));
      item.classList.toggle("filtered", !keep);
    }
  }
  query.addEventListener("input", apply);
  window.addEventListener("beforeprint", () => {
    for (const details of document.querySelectorAll("details")) details.open = true;
  });
  bar.hidden = false;
})();
