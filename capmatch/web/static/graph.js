// Graph interaction: pointing at a tool (or focusing it with the keyboard) highlights its matches.
(function () {
  "use strict";
  const svg = document.getElementById("graph");
  if (!svg) return;
  const nodes = Array.from(svg.querySelectorAll(".node"));
  const edges = Array.from(svg.querySelectorAll(".edges line"));

  function highlight(id) {
    const near = new Set([id]);
    nodes.forEach((n) => { if (n.dataset.id === id) n.dataset.neighbours.split(" ").forEach((x) => x && near.add(x)); });
    svg.classList.add("focused");
    nodes.forEach((n) => n.classList.toggle("lit", near.has(n.dataset.id)));
    edges.forEach((e) => e.classList.toggle("lit", e.dataset.a === id || e.dataset.b === id));
  }
  function clear() {
    svg.classList.remove("focused");
    nodes.forEach((n) => n.classList.remove("lit"));
    edges.forEach((e) => e.classList.remove("lit"));
  }
  nodes.forEach((n) => {
    n.addEventListener("mouseenter", () => highlight(n.dataset.id));
    n.addEventListener("focus", () => highlight(n.dataset.id));
    n.addEventListener("mouseleave", clear);
    n.addEventListener("blur", clear);
  });
})();
